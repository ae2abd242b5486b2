"""Cron expressions: parsing and finding the next run time."""

from datetime import datetime, timedelta

_MACROS = {
    "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
}
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
_FIELDS = [(0, 59, None), (0, 23, None), (1, 31, None), (1, 12, _MONTHS), (0, 7, _DAYS)]


def _number(text, names, low):
    if names and text.lower() in names:
        return names.index(text.lower()) + low
    if not text.isdigit() or not text.isascii():
        raise ValueError(f"bad value {text!r}")
    return int(text)


def _field(text, low, high, names):
    values = set()
    for item in text.split(","):
        base, _, step_text = item.partition("/")
        step = 1
        if _:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"bad step in {item!r}")
            step = int(step_text)
        if base == "*":
            a, b = low, high
        elif "-" in base:
            left, right = base.split("-", 1)
            a, b = _number(left, names, low), _number(right, names, low)
        else:
            a = _number(base, names, low)
            b = high if _ else a
        if not low <= a <= b <= high:
            raise ValueError(f"bad range {item!r}")
        values.update(range(a, b + 1, step))
    return values


class Schedule:
    def __init__(self, fields, dom_star, dow_star):
        self.minutes, self.hours, self.days, self.months, weekdays = fields
        self.weekdays = {d % 7 for d in weekdays}
        self.dom_star, self.dow_star = dom_star, dow_star

    def _day_ok(self, dt):
        dom = dt.day in self.days
        dow = (dt.isoweekday() % 7) in self.weekdays
        if self.dom_star:
            return dow
        if self.dow_star:
            return dom
        return dom or dow

    def matches(self, dt):
        return (dt.minute in self.minutes and dt.hour in self.hours and dt.month in self.months
                and self._day_ok(dt))

    def next_after(self, dt):
        t = dt.replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = dt + timedelta(days=366 * 8)
        while t <= limit:
            if t.month not in self.months:
                year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
                t = datetime(year, month, 1)
                continue
            if not self._day_ok(t):
                t = datetime(t.year, t.month, t.day) + timedelta(days=1)
                continue
            if t.hour not in self.hours:
                t = datetime(t.year, t.month, t.day, t.hour) + timedelta(hours=1)
                continue
            if t.minute not in self.minutes:
                t += timedelta(minutes=1)
                continue
            return t
        raise ValueError("no matching time within 8 years")


def parse(expr):
    text = expr.strip()
    text = _MACROS.get(text.lower(), text)
    parts = text.split()
    if len(parts) != 5:
        raise ValueError("a cron expression has five fields")
    fields = [_field(p, low, high, names) for p, (low, high, names) in zip(parts, _FIELDS)]
    return Schedule(fields, parts[2] == "*", parts[4] == "*")
