"""Splitting a list of items into numbered pages."""


class Paginator:
    """Pages are numbered from 1. An empty item list still has one (empty) page."""

    def __init__(self, items, per_page):
        """per_page must be an integer >= 1, else ValueError."""
        if per_page < 0:
            raise ValueError("per_page must be positive")
        self.items = list(items)
        self.per_page = per_page

    @property
    def page_count(self):
        """Number of pages (at least 1)."""
        return len(self.items) // self.per_page

    def page(self, number):
        """The items on page `number`; IndexError if the page does not exist."""
        if number < 0 or number > self.page_count:
            raise IndexError(f"no page {number}")
        start = number * self.per_page
        return self.items[start : start + self.per_page]

    def page_of(self, index):
        """The page number holding the item at position `index` (0-based); IndexError if out of range."""
        return index // self.per_page

    def window(self, current, radius=2):
        """Page numbers to show in a navigation bar around page `current`.

        Always shows page 1, the last page, and every page within `radius` of `current`, in increasing
        order without duplicates; where numbers are skipped, a single None stands for the gap. A gap of
        exactly one page is shown as that page instead of None. IndexError if `current` does not exist.
        Example with 20 pages: window(10) == [1, None, 8, 9, 10, 11, 12, None, 20];
        window(4) == [1, 2, 3, 4, 5, 6, None, 20].
        """
        pages = [1] + list(range(current - radius, current + radius)) + [self.page_count]
        result = []
        for p in pages:
            if result and p - result[-1] > 1:
                result.append(None)
            result.append(p)
        return result
