"""Summaries of web server access logs."""

import math
import re
from collections import Counter
from datetime import datetime, timezone

_LINE = re.compile(
    r'(?P<ip>\S+) - (?P<user>\S+) \[(?P<time>[^\]]+)\] "(?P<request>[^"]*)" '
    r"(?P<status>\d{3}) (?P<size>\d+|-) (?P<duration>\d+(?:\.\d+)?)"
)


def _parse(line):
    match = _LINE.fullmatch(line.rstrip("\r\n"))
    if not match:
        return None
    parts = match["request"].split(" ")
    if len(parts) != 3 or not all(parts):
        return None
    status = int(match["status"])
    if not 100 <= status <= 599:
        return None
    try:
        when = datetime.strptime(match["time"], "%d/%b/%Y:%H:%M:%S %z")
    except ValueError:
        return None
    return {
        "ip": match["ip"],
        "path": parts[1].split("?", 1)[0],
        "status": status,
        "size": 0 if match["size"] == "-" else int(match["size"]),
        "ms": float(match["duration"]) * 1000,
        "minute": when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M"),
    }


def analyze(lines):
    records, malformed = [], 0
    for line in lines:
        if not line.strip():
            continue
        record = _parse(line)
        if record is None:
            malformed += 1
        else:
            records.append(record)
    statuses = Counter(f"{r['status'] // 100}xx" for r in records)
    paths = Counter(r["path"] for r in records)
    minutes = Counter(r["minute"] for r in records)
    times = sorted(r["ms"] for r in records)
    return {
        "requests": len(records),
        "malformed": malformed,
        "status": dict(statuses),
        "top_paths": sorted(paths.items(), key=lambda item: (-item[1], item[0]))[:3],
        "bytes": sum(r["size"] for r in records),
        "unique_clients": len({r["ip"] for r in records}),
        "p95_ms": times[math.ceil(0.95 * len(times)) - 1] if times else None,
        "busiest_minute": min(minutes, key=lambda m: (-minutes[m], m)) if minutes else None,
    }
