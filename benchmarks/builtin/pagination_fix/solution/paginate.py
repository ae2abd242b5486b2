"""Splitting a list of items into numbered pages."""


class Paginator:
    """Pages are numbered from 1. An empty item list still has one (empty) page."""

    def __init__(self, items, per_page):
        """per_page must be an integer >= 1, else ValueError."""
        if not isinstance(per_page, int) or isinstance(per_page, bool) or per_page < 1:
            raise ValueError("per_page must be a positive integer")
        self.items = list(items)
        self.per_page = per_page

    @property
    def page_count(self):
        """Number of pages (at least 1)."""
        return max(1, -(-len(self.items) // self.per_page))

    def _check(self, number):
        if not isinstance(number, int) or not 1 <= number <= self.page_count:
            raise IndexError(f"no page {number}")

    def page(self, number):
        """The items on page `number`; IndexError if the page does not exist."""
        self._check(number)
        start = (number - 1) * self.per_page
        return self.items[start : start + self.per_page]

    def page_of(self, index):
        """The page number holding the item at position `index` (0-based); IndexError if out of range."""
        if not 0 <= index < len(self.items):
            raise IndexError(f"no item {index}")
        return index // self.per_page + 1

    def window(self, current, radius=2):
        """Page numbers to show in a navigation bar around page `current`.

        Always shows page 1, the last page, and every page within `radius` of `current`, in increasing
        order without duplicates; where numbers are skipped, a single None stands for the gap. A gap of
        exactly one page is shown as that page instead of None. IndexError if `current` does not exist.
        Example with 20 pages: window(10) == [1, None, 8, 9, 10, 11, 12, None, 20];
        window(4) == [1, 2, 3, 4, 5, 6, None, 20].
        """
        self._check(current)
        last = self.page_count
        pages = sorted({1, last} | {p for p in range(current - radius, current + radius + 1) if 1 <= p <= last})
        result = []
        for p in pages:
            if result and p - result[-1] == 2:
                result.append(p - 1)
            elif result and p - result[-1] > 2:
                result.append(None)
            result.append(p)
        return result
