"""A small regular expression engine: parse to a tree, compile to a program, run a Pike VM."""

_DIGITS = set("0123456789")
_WORD = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_SPACE = set(" \t\n\r\f\v")
_CLASSES = {"d": _DIGITS, "w": _WORD, "s": _SPACE}


class _Parser:
    def __init__(self, pattern):
        self.p = pattern
        self.i = 0

    def error(self, why):
        raise ValueError(f"bad pattern {self.p!r} at {self.i}: {why}")

    def peek(self):
        return self.p[self.i] if self.i < len(self.p) else None

    def parse(self):
        node = self.alternation()
        if self.i != len(self.p):
            self.error("unbalanced )")
        return node

    def alternation(self):
        branches = [self.sequence()]
        while self.peek() == "|":
            self.i += 1
            branches.append(self.sequence())
        return branches[0] if len(branches) == 1 else ("alt", branches)

    def sequence(self):
        items = []
        while self.peek() not in (None, "|", ")"):
            atom = self.atom()
            ch = self.peek()
            if ch in ("*", "+", "?"):
                if atom[0] in ("bol", "eol"):
                    self.error("nothing to repeat")
                self.i += 1
                atom = (ch, atom)
                if self.peek() in ("*", "+", "?"):
                    self.error("multiple repeat")
            items.append(atom)
        return ("seq", items)

    def escape(self):
        self.i += 1
        if self.i >= len(self.p):
            self.error("trailing backslash")
        ch = self.p[self.i]
        self.i += 1
        if ch in _CLASSES:
            return ("set", _CLASSES[ch], False)
        return ("char", ch)

    def atom(self):
        ch = self.peek()
        if ch in ("*", "+", "?"):
            self.error("nothing to repeat")
        if ch == "(":
            self.i += 1
            node = self.alternation()
            if self.peek() != ")":
                self.error("missing )")
            self.i += 1
            return node
        if ch == "[":
            return self.char_class()
        if ch == "\\":
            return self.escape()
        self.i += 1
        if ch == ".":
            return ("set", {"\n"}, True)
        if ch == "^":
            return ("bol",)
        if ch == "$":
            return ("eol",)
        return ("char", ch)

    def class_char(self):
        if self.i >= len(self.p):
            self.error("unterminated class")
        if self.p[self.i] == "\\":
            node = self.escape()
            return node[1] if node[0] == "set" else node[1]
        ch = self.p[self.i]
        self.i += 1
        return ch

    def char_class(self):
        self.i += 1
        negate = self.peek() == "^"
        if negate:
            self.i += 1
        members = set()
        first = True
        while True:
            if self.i >= len(self.p):
                self.error("unterminated class")
            if self.p[self.i] == "]" and not first:
                self.i += 1
                break
            first = False
            low = self.class_char()
            if isinstance(low, set):
                members |= low
                continue
            if self.peek() == "-" and self.i + 1 < len(self.p) and self.p[self.i + 1] != "]":
                self.i += 1
                high = self.class_char()
                if isinstance(high, set) or ord(high) < ord(low):
                    self.error("bad range")
                members |= {chr(c) for c in range(ord(low), ord(high) + 1)}
            else:
                members.add(low)
        return ("set", members, negate)


def _compile(node, prog):
    kind = node[0]
    if kind == "char":
        prog.append(("char", node[1]))
    elif kind == "set":
        prog.append(("set", node[1], node[2]))
    elif kind in ("bol", "eol"):
        prog.append((kind,))
    elif kind == "seq":
        for item in node[1]:
            _compile(item, prog)
    elif kind == "alt":
        jumps = []
        for n, branch in enumerate(node[1]):
            if n < len(node[1]) - 1:
                split = len(prog)
                prog.append(None)
                _compile(branch, prog)
                jumps.append(len(prog))
                prog.append(None)
                prog[split] = ("split", split + 1, len(prog))
            else:
                _compile(branch, prog)
        for j in jumps:
            prog[j] = ("jmp", len(prog))
    elif kind == "*":
        split = len(prog)
        prog.append(None)
        _compile(node[1], prog)
        prog.append(("jmp", split))
        prog[split] = ("split", split + 1, len(prog))
    elif kind == "+":
        start = len(prog)
        _compile(node[1], prog)
        prog.append(("split", start, len(prog) + 1))
    elif kind == "?":
        split = len(prog)
        prog.append(None)
        _compile(node[1], prog)
        prog[split] = ("split", split + 1, len(prog))


def _program(pattern):
    prog = []
    _compile(_Parser(pattern).parse(), prog)
    prog.append(("match",))
    return prog


def _add(prog, threads, seen, pc, pos, text, start):
    # Depth-first in priority order, so the thread list keeps Python's preference order.
    stack = [pc]
    while stack:
        pc = stack.pop()
        if pc in seen:
            continue
        seen.add(pc)
        op = prog[pc]
        if op[0] == "jmp":
            stack.append(op[1])
        elif op[0] == "split":
            stack.append(op[2])
            stack.append(op[1])
        elif op[0] == "bol":
            if pos == 0:
                stack.append(pc + 1)
        elif op[0] == "eol":
            if pos == len(text):
                stack.append(pc + 1)
        else:
            threads.append((pc, start))


def _run(prog, text, start, anchored_end):
    """Leftmost-preferred match starting exactly at `start`; returns its end or None."""
    threads = []
    _add(prog, threads, set(), 0, start, text, start)
    best = None
    pos = start
    while threads:
        nxt, seen = [], set()
        for pc, _ in threads:
            op = prog[pc]
            if op[0] == "match":
                if not anchored_end or pos == len(text):
                    best = pos
                    break  # lower-priority threads are cut off
                continue
            if pos >= len(text):
                continue
            ch = text[pos]
            ok = (op[0] == "char" and ch == op[1]) or (op[0] == "set" and (ch in op[1]) != op[2])
            if ok:
                _add(prog, nxt, seen, pc + 1, pos + 1, text, start)
        threads = nxt
        pos += 1
    return best


def fullmatch(pattern, text):
    return _run(_program(pattern), text, 0, True) is not None


def search(pattern, text):
    prog = _program(pattern)
    for start in range(len(text) + 1):
        end = _run(prog, text, start, False)
        if end is not None:
            return (start, end)
    return None
