import unittest

from iniconf import ConfigError, load

TEXT = """\
# global settings
name = demo
debug: on

[server]
Host = example.org   ; the public name
port = 8080
url = http://${host}:${port}/
motd = Welcome
  to the
    server

timeout = 2.5
[client]
server = ${server:url}api
quoted = "  keep # this \\"x\\" \\\\ "  # trailing comment
colon = a:b=c
port = 1
PORT = 2
empty =
"""


class LoadTest(unittest.TestCase):
    def setUp(self):
        self.cfg = load(TEXT)

    def test_sections_and_values(self):
        self.assertEqual(self.cfg.sections(), ["", "server", "client"])
        self.assertEqual(self.cfg.get("", "name"), "demo")
        self.assertEqual(self.cfg.get("server", "HOST"), "example.org")
        self.assertEqual(self.cfg.get("server", "motd"), "Welcome\nto the\nserver")
        self.assertEqual(self.cfg.get("client", "colon"), "a:b=c")
        self.assertEqual(self.cfg.get("client", "port"), "2")
        self.assertEqual(self.cfg.get("client", "empty"), "")
        self.assertIsNone(self.cfg.get("client", "missing"))
        self.assertEqual(self.cfg.get("nosuch", "x", "d"), "d")

    def test_quotes(self):
        self.assertEqual(self.cfg.get("client", "quoted"), '  keep # this "x" \\ ')

    def test_interpolation(self):
        self.assertEqual(self.cfg.get("server", "url"), "http://example.org:8080/")
        self.assertEqual(self.cfg.get("client", "server"), "http://example.org:8080/api")
        self.assertEqual(self.cfg.items("server")["url"], "http://example.org:8080/")
        self.assertEqual(list(self.cfg.items("client")), ["server", "quoted", "colon", "port", "empty"])

    def test_typed(self):
        self.assertIs(self.cfg.get_bool("", "debug"), True)
        self.assertEqual(self.cfg.get_int("server", "port"), 8080)
        self.assertEqual(self.cfg.get_float("server", "timeout"), 2.5)
        self.assertEqual(self.cfg.get_int("server", "nope", 7), 7)
        with self.assertRaises(ConfigError):
            self.cfg.get_bool("server", "host")
        with self.assertRaises(ConfigError):
            self.cfg.get_int("server", "host")
        self.assertIs(load("x = OFF").get_bool("", "x"), False)

    def test_no_global_section_when_unused(self):
        self.assertEqual(load("[a]\nk=v\n[b]\n").sections(), ["a", "b"])

    def test_reference_errors(self):
        cfg = load("[a]\nx = ${y}\ny = ${x}\nz = ${b:q}\nok = $notref {x}\n")
        with self.assertRaises(ConfigError):
            cfg.get("a", "x")
        with self.assertRaises(ConfigError):
            cfg.get("a", "z")
        self.assertEqual(cfg.get("a", "ok"), "$notref {x}")

    def test_syntax_errors_name_the_line(self):
        cases = {
            "a = 1\njust words\n": 2,
            "[open\n": 1,
            "k = 1\n\n  continued\n": 3,
            "  indented = 1\n": 1,
            "= value\n": 1,
            'q = "unterminated\n': 1,
            'q = "x" y\n': 1,
        }
        for text, line in cases.items():
            with self.assertRaises(ConfigError, msg=text) as ctx:
                load(text)
            self.assertIn(f"line {line}", str(ctx.exception))
            self.assertIsInstance(ctx.exception, ValueError)


if __name__ == "__main__":
    unittest.main()
