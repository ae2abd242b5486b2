"""An editable text buffer with undo and redo; history entries are lists of primitive changes."""

import contextlib
from collections import deque


class Buffer:
    def __init__(self, text="", max_history=1000):
        self._text = text
        self._undo = deque(maxlen=max_history)  # each step: {"ops": [(kind, pos, s)], "merge": ...}
        self._redo = []
        self._group_depth = 0
        self._group = None
        self._mergeable = False

    @property
    def text(self):
        return self._text

    def _apply(self, kind, pos, s):
        if kind == "ins":
            self._text = self._text[:pos] + s + self._text[pos:]
        else:
            self._text = self._text[:pos] + self._text[pos + len(s) :]

    def _record(self, op, merge):
        self._redo.clear()
        if self._group is not None:
            self._group.append(op)
            return
        kind, pos, s = op
        last = self._undo[-1] if self._undo and self._mergeable else None
        if merge and last is not None and len(last) == 1 and last[0][0] == kind:
            lkind, lpos, ls = last[0]
            if kind == "ins" and lpos + len(ls) == pos:
                last[0] = ("ins", lpos, ls + s)
                return
            if kind == "del" and lpos == pos:
                last[0] = ("del", lpos, ls + s)
                return
            if kind == "del" and pos + len(s) == lpos:
                last[0] = ("del", pos, s + ls)
                return
        self._undo.append([op])
        self._mergeable = True

    def insert(self, pos, s, merge=False):
        if not 0 <= pos <= len(self._text):
            raise IndexError(pos)
        if not s:
            return
        self._apply("ins", pos, s)
        self._record(("ins", pos, s), merge)

    def delete(self, pos, n, merge=False):
        if not 0 <= pos <= len(self._text):
            raise IndexError(pos)
        if n < 0:
            raise ValueError("n must not be negative")
        removed = self._text[pos : pos + n]
        if removed:
            self._apply("del", pos, removed)
            self._record(("del", pos, removed), merge)
        return removed

    def replace_all(self, old, new):
        if not old:
            raise ValueError("old must not be empty")
        count = self._text.count(old)
        if count:
            with self.group():
                pos = self._text.find(old)
                while pos != -1:
                    self.delete(pos, len(old))
                    self.insert(pos, new)
                    pos = self._text.find(old, pos + len(new))
        return count

    @contextlib.contextmanager
    def group(self):
        if self._group_depth == 0:
            self._group = []
        self._group_depth += 1
        try:
            yield self
        finally:
            self._group_depth -= 1
            if self._group_depth == 0:
                ops, self._group = self._group, None
                if ops:
                    self._undo.append(ops)
                    self._mergeable = False

    def undo(self):
        if not self._undo:
            return False
        ops = self._undo.pop()
        for kind, pos, s in reversed(ops):
            self._apply("del" if kind == "ins" else "ins", pos, s)
        self._redo.append(ops)
        self._mergeable = False
        return True

    def redo(self):
        if not self._redo:
            return False
        ops = self._redo.pop()
        for kind, pos, s in ops:
            self._apply(kind, pos, s)
        self._undo.append(ops)
        self._mergeable = False
        return True

    def can_undo(self):
        return bool(self._undo)

    def can_redo(self):
        return bool(self._redo)

    def history_size(self):
        return len(self._undo)
