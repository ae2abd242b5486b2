"""A least-recently-used cache."""

from collections import OrderedDict


class LRUCache:
    def __init__(self, capacity):
        self._check(capacity)
        self.capacity = capacity
        self._data = OrderedDict()
        self._stats = {"hits": 0, "misses": 0, "evictions": 0}

    @staticmethod
    def _check(capacity):
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
            raise ValueError("capacity must be an integer >= 1")

    def get(self, key, default=None):
        if key in self._data:
            self._stats["hits"] += 1
            self._data.move_to_end(key)
            return self._data[key]
        self._stats["misses"] += 1
        return default

    def put(self, key, value):
        self._data[key] = value
        self._data.move_to_end(key)
        if len(self._data) > self.capacity:
            self._stats["evictions"] += 1
            return self._data.popitem(last=False)
        return None

    def __len__(self):
        return len(self._data)

    def __contains__(self, key):
        return key in self._data

    def keys(self):
        return list(self._data)

    def pop(self, key):
        return self._data.pop(key)

    def resize(self, capacity):
        self._check(capacity)
        self.capacity = capacity
        evicted = []
        while len(self._data) > capacity:
            evicted.append(self._data.popitem(last=False))
        self._stats["evictions"] += len(evicted)
        return evicted

    def stats(self):
        return dict(self._stats)
