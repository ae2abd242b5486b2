import unittest

from logstats import analyze

LOG = """\
203.0.113.9 - alice [10/Oct/2023:13:55:36 +0200] "GET /index.html?x=1 HTTP/1.1" 200 2326 0.042
203.0.113.9 - - [10/Oct/2023:13:55:59 +0200] "GET /index.html HTTP/1.1" 304 - 0.010
2001:db8::1 - - [10/Oct/2023:11:55:10 +0000] "POST /api/items HTTP/2" 201 120 0.250
198.51.100.4 - bob [10/Oct/2023:11:56:01 +0000] "GET /api/items?page=2 HTTP/1.1" 500 0 1.5

this is not a log line
198.51.100.4 - bob [31/Feb/2023:11:56:01 +0000] "GET /x HTTP/1.1" 200 10 0.1
198.51.100.4 - bob [10/Oct/2023:11:56:01 +0000] "GET /x HTTP/1.1" 999 10 0.1
198.51.100.4 - bob [10/Oct/2023:11:56:01 +0000] "GET /x" 200 10 0.1
198.51.100.4 - bob [10/Oct/2023:11:56:01 +0000] "GET /x HTTP/1.1" 200 10
198.51.100.5 - - [10/Oct/2023:07:56:30 -0400] "DELETE /api/items/7 HTTP/1.1" 404 52 0.003
"""


class AnalyzeTest(unittest.TestCase):
    def test_summary(self):
        result = analyze(LOG.splitlines(keepends=True))
        self.assertEqual(result["requests"], 5)
        self.assertEqual(result["malformed"], 5)
        self.assertEqual(result["status"], {"2xx": 2, "3xx": 1, "5xx": 1, "4xx": 1})
        self.assertEqual(result["top_paths"], [("/api/items", 2), ("/index.html", 2), ("/api/items/7", 1)])
        self.assertEqual(result["bytes"], 2326 + 120 + 52)
        self.assertEqual(result["unique_clients"], 4)
        self.assertAlmostEqual(result["p95_ms"], 1500.0)
        self.assertEqual(result["busiest_minute"], "2023-10-10T11:55")

    def test_empty(self):
        result = analyze(["", "\n"])
        self.assertEqual(
            result,
            {"requests": 0, "malformed": 0, "status": {}, "top_paths": [], "bytes": 0, "unique_clients": 0,
             "p95_ms": None, "busiest_minute": None},
        )

    def test_percentile_nearest_rank(self):
        lines = [f'10.0.0.1 - - [01/Jan/2024:00:00:00 +0000] "GET /p HTTP/1.1" 200 1 {i / 1000}' for i in range(1, 41)]
        result = analyze(iter(lines))
        self.assertAlmostEqual(result["p95_ms"], 38.0)
        self.assertEqual(result["top_paths"], [("/p", 40)])
        self.assertEqual(result["busiest_minute"], "2024-01-01T00:00")

    def test_busiest_minute_ties_earliest_and_utc(self):
        lines = [
            '1.1.1.1 - - [01/Jan/2024:01:00:10 +0100] "GET /a HTTP/1.1" 200 1 0.1',
            '1.1.1.1 - - [31/Dec/2023:23:59:10 +0000] "GET /b HTTP/1.1" 200 1 0.1',
            '1.1.1.1 - - [01/Jan/2024:00:00:50 +0000] "GET /c HTTP/1.1" 200 1 0.1',
            '1.1.1.1 - - [31/Dec/2023:23:59:59 +0000] "GET /d HTTP/1.1" 200 1 0.1',
        ]
        self.assertEqual(analyze(lines)["busiest_minute"], "2023-12-31T23:59")
        self.assertEqual(analyze(lines[:1] + lines[2:3])["busiest_minute"], "2024-01-01T00:00")


if __name__ == "__main__":
    unittest.main()
