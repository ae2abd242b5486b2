"""A tiny Lisp interpreter with proper tail calls."""

import re

OUTPUT = []


class LispError(Exception):
    """An error in a Lisp program."""


class Symbol(str):
    pass


class Env:
    def __init__(self, names=(), values=(), outer=None):
        self.vars = dict(zip(names, values))
        self.outer = outer

    def find(self, name):
        env = self
        while env is not None:
            if name in env.vars:
                return env
            env = env.outer
        raise LispError(f"unbound symbol {name}")


class Lambda:
    def __init__(self, params, body, env):
        for p in params:
            if not isinstance(p, Symbol):
                raise LispError("parameters must be symbols")
        self.params, self.body, self.env = params, body, env


def _tokenize(source):
    source = re.sub(r";[^\n]*", " ", source)
    return source.replace("(", " ( ").replace(")", " ) ").split()


def _read(tokens, pos):
    if pos >= len(tokens):
        raise LispError("unexpected end of input")
    token = tokens[pos]
    if token == "(":
        items, pos = [], pos + 1
        while True:
            if pos >= len(tokens):
                raise LispError("missing )")
            if tokens[pos] == ")":
                return items, pos + 1
            item, pos = _read(tokens, pos)
            items.append(item)
    if token == ")":
        raise LispError("unexpected )")
    if re.fullmatch(r"[+-]?\d+", token):
        return int(token), pos + 1
    if token == "#t":
        return True, pos + 1
    if token == "#f":
        return False, pos + 1
    return Symbol(token), pos + 1


def _show(value):
    if value is True:
        return "#t"
    if value is False:
        return "#f"
    if isinstance(value, list):
        return "(" + " ".join(_show(v) for v in value) + ")"
    if isinstance(value, Lambda) or callable(value):
        return "#<procedure>"
    return str(value)


def _num(args):
    for a in args:
        if not isinstance(a, int) or isinstance(a, bool):
            raise LispError(f"not a number: {_show(a)}")
    return args


def _arity(name, args, n):
    if len(args) != n:
        raise LispError(f"{name} expects {n} argument(s), got {len(args)}")


def _minus(*args):
    _num(args)
    if not args:
        raise LispError("- needs arguments")
    return -args[0] if len(args) == 1 else args[0] - sum(args[1:])


def _times(*args):
    result = 1
    for a in _num(args):
        result *= a
    return result


def _divide(name, op):
    def f(*args):
        _arity(name, args, 2)
        a, b = _num(args)
        if b == 0:
            raise LispError("division by zero")
        q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
        return q if op == "q" else a - b * q
    return f


def _compare(name, test):
    def f(*args):
        if len(args) < 2:
            raise LispError(f"{name} needs two or more arguments")
        _num(args)
        return all(test(a, b) for a, b in zip(args, args[1:]))
    return f


def _pair(name):
    def f(*args):
        _arity(name, args, 1)
        (lst,) = args
        if not isinstance(lst, list) or not lst:
            raise LispError(f"{name} of an empty list or non-list")
        return lst[0] if name == "car" else lst[1:]
    return f


def _cons(*args):
    _arity("cons", args, 2)
    if not isinstance(args[1], list):
        raise LispError("cons needs a list as second argument")
    return [args[0]] + args[1]


def _one(name, fn):
    def f(*args):
        _arity(name, args, 1)
        return fn(args[0])
    return f


def _length(value):
    if not isinstance(value, list):
        raise LispError("length of a non-list")
    return len(value)


def _display(*args):
    _arity("display", args, 1)
    OUTPUT.append(_show(args[0]))


def _apply(*args):
    _arity("apply", args, 2)
    if not isinstance(args[1], list):
        raise LispError("apply needs a list")
    return _call(args[0], args[1])


def _globals():
    env = Env()
    env.vars.update({
        "+": lambda *a: sum(_num(a)), "-": _minus, "*": _times,
        "quotient": _divide("quotient", "q"), "remainder": _divide("remainder", "r"),
        "=": _compare("=", lambda a, b: a == b), "<": _compare("<", lambda a, b: a < b),
        ">": _compare(">", lambda a, b: a > b), "<=": _compare("<=", lambda a, b: a <= b),
        ">=": _compare(">=", lambda a, b: a >= b),
        "not": _one("not", lambda x: x is False), "list": lambda *a: list(a), "cons": _cons,
        "car": _pair("car"), "cdr": _pair("cdr"), "null?": _one("null?", lambda x: x == [] and isinstance(x, list)),
        "length": _one("length", _length),
        "apply": _apply, "display": _display,
    })
    return env


def _call(fn, args):
    if isinstance(fn, Lambda):
        if len(args) != len(fn.params):
            raise LispError(f"expected {len(fn.params)} argument(s), got {len(args)}")
        result = None
        env = Env(fn.params, args, fn.env)
        for expr in fn.body:
            result = _eval(expr, env)
        return result
    if callable(fn):
        try:
            return fn(*args)
        except TypeError as e:
            raise LispError(str(e)) from e
    raise LispError(f"not a function: {_show(fn)}")


def _eval(x, env):
    while True:
        if isinstance(x, Symbol):
            return env.find(x).vars[x]
        if not isinstance(x, list):
            return x
        if not x:
            raise LispError("cannot evaluate ()")
        head = x[0]
        if head == "quote":
            _arity("quote", x[1:], 1)
            return x[1]
        if head == "if":
            if len(x) not in (3, 4):
                raise LispError("bad if")
            if _eval(x[1], env) is not False:
                x = x[2]
            elif len(x) == 4:
                x = x[3]
            else:
                return None
            continue
        if head == "define":
            if len(x) < 3:
                raise LispError("bad define")
            if isinstance(x[1], list):
                if not x[1] or not isinstance(x[1][0], Symbol):
                    raise LispError("bad define")
                env.vars[x[1][0]] = Lambda(x[1][1:], x[2:], env)
            else:
                _arity("define", x[1:], 2)
                env.vars[x[1]] = _eval(x[2], env)
            return None
        if head == "set!":
            _arity("set!", x[1:], 2)
            env.find(x[1]).vars[x[1]] = _eval(x[2], env)
            return None
        if head == "lambda":
            if len(x) < 3 or not isinstance(x[1], list):
                raise LispError("bad lambda")
            return Lambda(x[1], x[2:], env)
        if head in ("begin", "let"):
            if head == "let":
                if len(x) < 3 or not isinstance(x[1], list):
                    raise LispError("bad let")
                names, values = [], []
                for binding in x[1]:
                    if not isinstance(binding, list) or len(binding) != 2 or not isinstance(binding[0], Symbol):
                        raise LispError("bad let binding")
                    names.append(binding[0])
                    values.append(_eval(binding[1], env))
                env, body = Env(names, values, env), x[2:]
            else:
                body = x[1:]
            if not body:
                return None
            for expr in body[:-1]:
                _eval(expr, env)
            x = body[-1]
            continue
        if head in ("and", "or"):
            if len(x) == 1:
                return head == "and"
            for expr in x[1:-1]:
                value = _eval(expr, env)
                if (value is False) == (head == "and"):
                    return value
            x = x[-1]
            continue
        if head == "cond":
            for clause in x[1:]:
                if not isinstance(clause, list) or not clause:
                    raise LispError("bad cond clause")
                if clause[0] == "else" or _eval(clause[0], env) is not False:
                    if len(clause) == 1:
                        return True
                    for expr in clause[1:-1]:
                        _eval(expr, env)
                    x = clause[-1]
                    break
            else:
                return None
            continue
        fn = _eval(head, env)
        args = [_eval(a, env) for a in x[1:]]
        if isinstance(fn, Lambda):
            if len(args) != len(fn.params):
                raise LispError(f"expected {len(fn.params)} argument(s), got {len(args)}")
            env = Env(fn.params, args, fn.env)
            for expr in fn.body[:-1]:
                _eval(expr, env)
            x = fn.body[-1]
            continue
        return _call(fn, args)


def run(source):
    tokens = _tokenize(source)
    env = _globals()
    pos, result = 0, None
    while pos < len(tokens):
        expr, pos = _read(tokens, pos)
        result = _eval(expr, env)
    return result
