"""Discount rules; each computes the amount it takes off a cart."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def _cents(amount):
    return max(Decimal("0.00"), Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP))


def _text(number):
    return format(Decimal(number).normalize(), "f")


class PercentOff:
    def __init__(self, sku, percent):
        self.sku, self.percent = sku, Decimal(percent)

    def discount(self, cart):
        qty = cart.quantities.get(self.sku, 0)
        if not qty:
            return Decimal("0.00")
        return _cents(cart.catalog.get(self.sku).price * qty * self.percent / 100)

    def __str__(self):
        return f"{_text(self.percent)}% off {self.sku}"


class BuyXGetY:
    def __init__(self, sku, x, y):
        if x < 1 or y < 1:
            raise ValueError("x and y must be at least 1")
        self.sku, self.x, self.y = sku, x, y

    def discount(self, cart):
        qty = cart.quantities.get(self.sku, 0)
        free = qty // (self.x + self.y) * self.y
        if not free:
            return Decimal("0.00")
        return _cents(cart.catalog.get(self.sku).price * free)

    def __str__(self):
        return f"buy {self.x} get {self.y} free: {self.sku}"


class BundlePrice:
    def __init__(self, skus, price):
        self.skus, self.price = list(skus), Decimal(price)

    def discount(self, cart):
        sets = min((cart.quantities.get(sku, 0) for sku in self.skus), default=0)
        if not sets:
            return Decimal("0.00")
        parts = sum(cart.catalog.get(sku).price for sku in self.skus)
        return _cents((parts - self.price) * sets)

    def __str__(self):
        return f"bundle {'+'.join(self.skus)} for {self.price.quantize(CENT)}"


class CartPercentOff:
    def __init__(self, percent, minimum):
        self.percent, self.minimum = Decimal(percent), Decimal(minimum)

    def discount_on(self, total):
        if total < self.minimum:
            return Decimal("0.00")
        return _cents(total * self.percent / 100)

    def discount(self, cart):
        return dict(cart.discounts()).get(str(self), Decimal("0.00"))

    def __str__(self):
        return f"{_text(self.percent)}% off orders from {self.minimum.quantize(CENT)}"
