"""FizzBuzz with configurable rules."""


def parse_rules(spec):
    if not spec.strip():
        return []
    rules = []
    for item in spec.split(","):
        divisor, sep, word = item.partition(":")
        divisor, word = divisor.strip(), word.strip()
        if not sep or not divisor.isdigit() or not divisor.isascii() or int(divisor) < 1 or not word or ":" in word:
            raise ValueError(f"malformed rule {item!r}")
        rules.append((int(divisor), word))
    return rules


def fizzbuzz(n, rules=((3, "Fizz"), (5, "Buzz"))):
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError("n must be a non-negative integer")
    rules = list(rules)
    for divisor, _ in rules:
        if not isinstance(divisor, int) or isinstance(divisor, bool) or divisor < 1:
            raise ValueError(f"bad divisor {divisor!r}")
    lines = []
    for i in range(1, n + 1):
        words = "".join(word for divisor, word in rules if i % divisor == 0)
        lines.append(words or str(i))
    return lines
