"""Summarise a CSV of sales by region or another column."""

import argparse
import csv
import json
import sys
from decimal import Decimal, InvalidOperation

REQUIRED = ("region", "product", "quantity", "unit_price")


class ReportError(Exception):
    pass


def positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def summarise(path, by):
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            return _read(csv.reader(handle), by, path)
    except OSError as e:
        raise ReportError(f"cannot read {path}: {e.strerror}") from e


def _read(reader, by, path):
    """Sum quantity and revenue per value of column `by`."""
    header = next(reader, None)
    if header is None:
        raise ReportError(f"{path} is empty")
    header = [h.strip() for h in header]
    for column in REQUIRED:
        if column not in header:
            raise ReportError(f"missing column {column!r}")
    if by not in header:
        raise ReportError(f"no column named {by!r}")
    index = {name: i for i, name in enumerate(header)}
    groups = {}
    for row in reader:
        if not row or all(not cell.strip() for cell in row):
            continue
        line = reader.line_num
        try:
            quantity = int(row[index["quantity"]].strip())
            price = Decimal(row[index["unit_price"]].strip())
            if not price.is_finite():
                raise InvalidOperation
            key = row[index[by]].strip()
        except (ValueError, InvalidOperation, IndexError) as e:
            raise ReportError(f"line {line}: malformed row") from e
        q, r = groups.get(key, (0, Decimal(0)))
        groups[key] = (q + quantity, r + quantity * price)
    return groups


def money(value):
    return str(value.quantize(Decimal("0.01")))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("csv_file")
    parser.add_argument("--by", default="region")
    parser.add_argument("--top", type=positive)
    parser.add_argument("--format", choices=["text", "json"], default="text")
    args = parser.parse_args(argv)
    try:
        groups = summarise(args.csv_file, args.by)
    except ReportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    ordered = sorted(groups.items(), key=lambda item: (-item[1][1], item[0]))
    if args.top:
        ordered = ordered[: args.top]
    total_q = sum(q for q, _ in groups.values())
    total_r = sum((r for _, r in groups.values()), Decimal(0))
    if args.format == "json":
        print(json.dumps({
            "groups": [{"name": n, "quantity": q, "revenue": money(r)} for n, (q, r) in ordered],
            "total": {"quantity": total_q, "revenue": money(total_r)},
        }))
    else:
        for name, (q, r) in ordered:
            print(f"{name}\t{q}\t{money(r)}")
        print(f"TOTAL\t{total_q}\t{money(total_r)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
