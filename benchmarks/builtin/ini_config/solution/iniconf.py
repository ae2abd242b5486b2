"""Reading INI-style configuration files."""

import re


class ConfigError(ValueError):
    """Malformed configuration text or an unusable value."""


_TRUE = {"1", "yes", "true", "on"}
_FALSE = {"0", "no", "false", "off"}
_REF = re.compile(r"\$\{([^}:]*)(?::([^}]*))?\}")


class Config:
    def __init__(self, data):
        self._data = data

    def sections(self):
        return [s for s, keys in self._data.items() if s or keys]

    def _resolve(self, section, key, stack):
        if (section, key) in stack:
            raise ConfigError(f"reference cycle through {section}:{key}")
        if key not in self._data.get(section, {}):
            raise ConfigError(f"missing reference {section}:{key}")
        raw = self._data[section][key]

        def replace(match):
            if match.group(2) is None:
                ref_section, ref_key = section, match.group(1)
            else:
                ref_section, ref_key = match.group(1), match.group(2)
            return self._resolve(ref_section.strip(), ref_key.strip().lower(), stack | {(section, key)})

        return _REF.sub(replace, raw)

    def get(self, section, key, default=None):
        key = key.lower()
        if key not in self._data.get(section, {}):
            return default
        return self._resolve(section, key, frozenset())

    def _typed(self, section, key, default, convert):
        value = self.get(section, key)
        if value is None:
            return default
        try:
            return convert(value)
        except ValueError as e:
            raise ConfigError(f"bad value for {section}:{key}: {value!r}") from e

    def get_int(self, section, key, default=None):
        return self._typed(section, key, default, int)

    def get_float(self, section, key, default=None):
        return self._typed(section, key, default, float)

    def get_bool(self, section, key, default=None):
        def convert(value):
            low = value.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError(value)

        return self._typed(section, key, default, convert)

    def items(self, section):
        return {k: self.get(section, k) for k in self._data.get(section, {})}


def _value(raw, lineno):
    text = raw.strip()
    if text.startswith('"'):
        out, i = [], 1
        while i < len(text):
            ch = text[i]
            if ch == "\\" and i + 1 < len(text) and text[i + 1] in '"\\':
                out.append(text[i + 1])
                i += 2
                continue
            if ch == '"':
                rest = text[i + 1 :].strip()
                if rest and not rest.startswith(("#", ";")):
                    raise ConfigError(f"line {lineno}: text after closing quote")
                return "".join(out), True
            out.append(ch)
            i += 1
        raise ConfigError(f"line {lineno}: unterminated quote")
    match = re.search(r"\s[#;]", text)
    if match:
        text = text[: match.start()]
    return text.strip(), False


def load(text):
    data = {"": {}}
    section = ""
    last = None  # (section, key) open for continuation lines
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            last = None
            continue
        if stripped.startswith(("#", ";")):
            continue
        if line[0] in " \t":
            if last is None:
                raise ConfigError(f"line {lineno}: continuation line without a key")
            data[last[0]][last[1]] += "\n" + _value(line, lineno)[0]
            continue
        if stripped.startswith("["):
            if not stripped.endswith("]"):
                raise ConfigError(f"line {lineno}: unterminated section header")
            section = stripped[1:-1].strip()
            data.setdefault(section, {})
            last = None
            continue
        match = re.search(r"[=:]", line)
        if not match:
            raise ConfigError(f"line {lineno}: expected key = value")
        key = line[: match.start()].strip().lower()
        if not key:
            raise ConfigError(f"line {lineno}: empty key")
        value, quoted = _value(line[match.end() :], lineno)
        data[section][key] = value
        last = None if quoted else (section, key)
    return Config(data)
