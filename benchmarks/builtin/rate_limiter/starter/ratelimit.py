"""Token-bucket and sliding-window rate limiters with an injectable clock."""

import time


class TokenBucket:
    def __init__(self, rate, capacity, clock=time.monotonic):
        raise NotImplementedError


class SlidingWindow:
    def __init__(self, limit, window, clock=time.monotonic):
        raise NotImplementedError
