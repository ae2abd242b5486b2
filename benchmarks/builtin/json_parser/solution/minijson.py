"""A JSON parser written from scratch: an explicit stack instead of recursion."""

import re


class JSONError(ValueError):
    def __init__(self, msg, pos):
        super().__init__(f"{msg} at position {pos}")
        self.msg = msg
        self.pos = pos


_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_PLAIN = re.compile(r'[^"\\\x00-\x1f]*')
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_HEX = re.compile(r"[0-9a-fA-F]{4}")


def _string(text, i):
    """Parse a string whose opening quote is at i-1; return (value, index after the closing quote)."""
    parts = []
    while True:
        m = _PLAIN.match(text, i)
        parts.append(m.group())
        i = m.end()
        if i >= len(text):
            raise JSONError("unterminated string", i)
        ch = text[i]
        if ch == '"':
            return "".join(parts), i + 1
        if ch != "\\":
            raise JSONError("control character in string", i)
        if i + 1 >= len(text):
            raise JSONError("unterminated string", i + 1)
        esc = text[i + 1]
        if esc in _ESCAPES:
            parts.append(_ESCAPES[esc])
            i += 2
            continue
        if esc != "u" or not _HEX.fullmatch(text, i + 2, i + 6):
            raise JSONError("invalid escape", i)
        code = int(text[i + 2 : i + 6], 16)
        i += 6
        if 0xD800 <= code < 0xDC00 and text.startswith("\\u", i) and _HEX.fullmatch(text, i + 2, i + 6):
            low = int(text[i + 2 : i + 6], 16)
            if 0xDC00 <= low < 0xE000:
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                i += 6
        parts.append(chr(code))


def _scalar(text, i):
    """Parse a non-container value at i; return (value, next index)."""
    ch = text[i] if i < len(text) else ""
    if ch == '"':
        return _string(text, i + 1)
    for word, value in (("true", True), ("false", False), ("null", None)):
        if text.startswith(word, i):
            return value, i + len(word)
    m = _NUMBER.match(text, i)
    if m and m.end() > i:
        if m.group(1) or m.group(2):
            return float(m.group()), m.end()
        return int(m.group()), m.end()
    raise JSONError("expected a value" if ch else "unexpected end of input", i)


def loads(text):
    stack = []  # containers being built: [container, pending key or None]
    i = _WS.match(text, 0).end()
    result = None
    while True:
        # Parse one value at i.
        ch = text[i] if i < len(text) else ""
        if ch == "{" or ch == "[":
            container = {} if ch == "{" else []
            i = _WS.match(text, i + 1).end()
            closing = "}" if ch == "{" else "]"
            if text.startswith(closing, i):
                value, i = container, i + 1
            else:
                stack.append([container, None])
                if ch == "{":
                    if not text.startswith('"', i):
                        raise JSONError("expected a string key", i)
                    key, i = _string(text, i + 1)
                    i = _WS.match(text, i).end()
                    if not text.startswith(":", i):
                        raise JSONError("expected ':'", i)
                    stack[-1][1] = key
                    i = _WS.match(text, i + 1).end()
                continue
        else:
            value, i = _scalar(text, i)
        # Attach the value and close finished containers.
        while True:
            i = _WS.match(text, i).end()
            if not stack:
                if i != len(text):
                    raise JSONError("extra data", i)
                return value
            container, key = stack[-1]
            if isinstance(container, dict):
                container[key] = value
            else:
                container.append(value)
            ch = text[i] if i < len(text) else ""
            if ch == ",":
                i = _WS.match(text, i + 1).end()
                if isinstance(container, dict):
                    if not text.startswith('"', i):
                        raise JSONError("expected a string key", i)
                    key, i = _string(text, i + 1)
                    i = _WS.match(text, i).end()
                    if not text.startswith(":", i):
                        raise JSONError("expected ':'", i)
                    stack[-1][1] = key
                    i = _WS.match(text, i + 1).end()
                break
            if ch == ("}" if isinstance(container, dict) else "]"):
                stack.pop()
                value, i = container, i + 1
                continue
            raise JSONError("expected ',' or a closing bracket" if ch else "unexpected end of input", i)
    return result
