"""A spreadsheet with formulas: parsed to trees, evaluated in dependency order without deep recursion."""

import re

_CELL = re.compile(r"([A-Za-z]{1,2})([1-9][0-9]*)")
_TOKEN = re.compile(r"\s*(?:(\d+\.?\d*|\.\d+)|([A-Za-z]+[0-9]+(?::[A-Za-z]+[0-9]+)?)|([A-Za-z]+)|(.))")
ERRORS = ("#DIV/0!", "#REF!", "#VALUE!", "#ERROR!")


class _Error(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


def _name(cell):
    m = _CELL.fullmatch(cell) if isinstance(cell, str) else None
    if not m:
        raise ValueError(f"invalid cell name {cell!r}")
    return m.group(1).upper() + m.group(2)


def _col(letters):
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _letters(n):
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _expand(a, b):
    ma, mb = _CELL.fullmatch(a), _CELL.fullmatch(b)
    c1, c2 = sorted((_col(ma.group(1)), _col(mb.group(1))))
    r1, r2 = sorted((int(ma.group(2)), int(mb.group(2))))
    return [f"{_letters(c)}{r}" for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]


class _Parser:
    def __init__(self, text):
        self.tokens = []
        for m in _TOKEN.finditer(text):
            num, ref, word, other = m.groups()
            if num:
                self.tokens.append(("num", float(num) if "." in num else int(num)))
            elif ref:
                parts = [_name(p) for p in ref.split(":")]
                self.tokens.append(("range", parts) if len(parts) == 2 else ("ref", parts[0]))
            elif word:
                self.tokens.append(("fn", word.upper()))
            elif other and not other.isspace():
                self.tokens.append(("op", other))
        self.tokens.append(("end", None))
        self.i = 0

    def take(self):
        self.i += 1
        return self.tokens[self.i - 1]

    def peek(self):
        return self.tokens[self.i]

    def parse(self):
        node = self.expr()
        if self.peek()[0] != "end":
            raise _Error("#ERROR!")
        return node

    def expr(self):
        node = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            node = (self.take()[1], node, self.term())
        return node

    def term(self):
        node = self.unary()
        while self.peek() in (("op", "*"), ("op", "/")):
            node = (self.take()[1], node, self.unary())
        return node

    def unary(self):
        if self.peek() == ("op", "-"):
            self.take()
            return ("neg", self.unary())
        return self.atom()

    def atom(self):
        kind, value = self.take()
        if kind == "num":
            return ("num", value)
        if kind == "ref":
            return ("ref", value)
        if (kind, value) == ("op", "("):
            node = self.expr()
            if self.take() != ("op", ")"):
                raise _Error("#ERROR!")
            return node
        if kind == "fn" and value in ("SUM", "MIN", "MAX", "AVG") and self.take() == ("op", "("):
            args = []
            if self.peek() != ("op", ")"):
                while True:
                    if self.peek()[0] == "range":
                        args.append(("range", self.take()[1]))
                    else:
                        args.append(self.expr())
                    if self.peek() != ("op", ","):
                        break
                    self.take()
            if self.take() != ("op", ")"):
                raise _Error("#ERROR!")
            return ("call", value, args)
        raise _Error("#ERROR!")


def _refs(node, out):
    stack = [node]
    while stack:
        n = stack.pop()
        if n[0] == "ref":
            out.add(n[1])
        elif n[0] == "range":
            out.update(_expand(*n[1]))
        elif n[0] == "call":
            stack.extend(n[2])
        elif n[0] == "neg":
            stack.append(n[1])
        elif n[0] in "+-*/":
            stack.extend(n[1:])
    return out


class Sheet:
    def __init__(self):
        self._raw = {}
        self._trees = {}  # cell -> parsed formula, or an _Error for unparsable ones

    def set(self, cell, content):
        cell = _name(cell)
        if content == "":
            self._raw.pop(cell, None)
            self._trees.pop(cell, None)
            return
        self._raw[cell] = content
        self._trees.pop(cell, None)
        if content.startswith("="):
            try:
                self._trees[cell] = _Parser(content[1:]).parse()
            except (_Error, ValueError):
                self._trees[cell] = _Error("#ERROR!")

    def raw(self, cell):
        return self._raw.get(_name(cell), "")

    def _constant(self, cell):
        text = self._raw.get(cell)
        if text is None:
            return 0
        for convert in (int, float):
            try:
                return convert(text)
            except ValueError:
                pass
        return text

    def get(self, cell):
        cell = _name(cell)
        values = {}
        # Iterative post-order over the dependencies; a cell met again while still open is on a cycle.
        state = {}
        stack = [cell]
        while stack:
            current = stack[-1]
            if state.get(current) == "done":
                stack.pop()
                continue
            tree = self._trees.get(current)
            if tree is None or isinstance(tree, _Error):
                values[current] = tree.code if tree is not None else self._constant(current)
                state[current] = "done"
                stack.pop()
                continue
            deps = _refs(tree, set())
            if state.get(current) is None:
                state[current] = "open"
                for dep in sorted(deps):
                    if state.get(dep) == "open":
                        for c in stack[stack.index(dep):]:
                            values[c] = "#REF!"
                            state[c] = "cycle"
                    elif state.get(dep) is None:
                        stack.append(dep)
                continue
            stack.pop()
            if state[current] == "cycle":
                state[current] = "done"
                continue
            state[current] = "done"
            try:
                values[current] = self._eval(tree, values)
            except _Error as e:
                values[current] = e.code
        return values[cell]

    def _value(self, cell, values):
        v = values[cell]
        if isinstance(v, str) and v in ERRORS:
            raise _Error(v)
        return v

    def _eval(self, node, values):
        kind = node[0]
        if kind == "num":
            return node[1]
        if kind == "ref":
            v = self._value(node[1], values)
            if isinstance(v, str):
                raise _Error("#VALUE!")
            return v
        if kind == "neg":
            return -self._eval(node[1], values)
        if kind == "call":
            items = []
            for arg in node[2]:
                if arg[0] == "range":
                    for c in _expand(*arg[1]):
                        if c not in self._raw:
                            continue
                        v = self._value(c, values)
                        if isinstance(v, str):
                            raise _Error("#VALUE!")
                        items.append(v)
                else:
                    items.append(self._eval(arg, values))
            name = node[1]
            if name == "SUM":
                return sum(items)
            if name == "AVG":
                if not items:
                    raise _Error("#DIV/0!")
                return sum(items) / len(items)
            if not items:
                return 0
            return min(items) if name == "MIN" else max(items)
        a, b = self._eval(node[1], values), self._eval(node[2], values)
        if kind == "+":
            return a + b
        if kind == "-":
            return a - b
        if kind == "*":
            return a * b
        if b == 0:
            raise _Error("#DIV/0!")
        return a / b
