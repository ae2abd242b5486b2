"""Summarise a CSV of sales by region or another column."""


def main(argv=None):
    raise NotImplementedError


if __name__ == "__main__":
    main()
