"""Token-bucket and sliding-window rate limiters with an injectable clock."""

import time
from collections import deque


class TokenBucket:
    def __init__(self, rate, capacity, clock=time.monotonic):
        if rate <= 0 or capacity <= 0:
            raise ValueError("rate and capacity must be positive")
        self.rate, self.capacity, self.clock = rate, capacity, clock
        self._tokens = capacity
        self._stamp = clock()

    def _refill(self):
        now = self.clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def _check(self, n):
        if n <= 0 or n > self.capacity:
            raise ValueError(f"cannot take {n} tokens from a bucket of {self.capacity}")

    def try_acquire(self, n=1):
        self._check(n)
        self._refill()
        if self._tokens + 1e-9 >= n:
            self._tokens = max(0.0, self._tokens - n)
            return True
        return False

    def wait_time(self, n=1):
        self._check(n)
        self._refill()
        missing = n - self._tokens
        return 0.0 if missing <= 1e-9 else missing / self.rate


class SlidingWindow:
    def __init__(self, limit, window, clock=time.monotonic):
        if limit < 1 or window <= 0:
            raise ValueError("limit and window must be positive")
        self.limit, self.window, self.clock = limit, window, clock
        self._events = {}

    def _recent(self, key, now):
        events = self._events.get(key)
        if events is None:
            return deque()
        while events and events[0] <= now - self.window:
            events.popleft()
        if not events:
            del self._events[key]
        return events

    def _prune(self, now):
        for key in list(self._events):
            self._recent(key, now)

    def allow(self, key):
        now = self.clock()
        self._prune(now)
        events = self._recent(key, now)
        if len(events) >= self.limit:
            return False
        events.append(now)
        self._events[key] = events
        return True

    def retry_after(self, key):
        now = self.clock()
        events = self._recent(key, now)
        if len(events) < self.limit:
            return 0.0
        return events[len(events) - self.limit] + self.window - now

    def __len__(self):
        self._prune(self.clock())
        return len(self._events)
