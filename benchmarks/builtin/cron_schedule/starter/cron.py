"""Cron expressions: parsing and finding the next run time."""


class Schedule:
    def matches(self, dt):
        raise NotImplementedError

    def next_after(self, dt):
        raise NotImplementedError


def parse(expr):
    raise NotImplementedError
