"""A shopping cart."""

from decimal import Decimal

from .discounts import CartPercentOff


class Cart:
    def __init__(self, catalog, rules=()):
        self.catalog = catalog
        self.rules = list(rules)
        self.quantities = {}  # sku -> units, in order of first addition

    def add(self, sku, quantity=1):
        """Add units of a product (quantity >= 1)."""
        if quantity < 1:
            raise ValueError("quantity must be at least 1")
        self.catalog.get(sku)
        self.quantities[sku] = self.quantities.get(sku, 0) + quantity

    def remove(self, sku, quantity=1):
        """Remove units of a product; the line disappears when none are left."""
        if self.quantities.get(sku, 0) < quantity:
            raise ValueError(f"not enough {sku} in the cart")
        self.quantities[sku] -= quantity
        if not self.quantities[sku]:
            del self.quantities[sku]

    def lines(self):
        """(product, quantity, line total) for every product in the cart."""
        result = []
        for sku, qty in self.quantities.items():
            product = self.catalog.get(sku)
            result.append((product, qty, product.price * qty))
        return result

    def subtotal(self):
        return sum((line[2] for line in self.lines()), Decimal("0.00"))

    def _amounts(self):
        """Each rule with its discount, in rule order; cart-wide rules see the running total."""
        amounts = {}
        total = self.subtotal()
        for i, rule in enumerate(self.rules):
            if not isinstance(rule, CartPercentOff):
                amounts[i] = rule.discount(self)
                total -= amounts[i]
        for i, rule in enumerate(self.rules):
            if isinstance(rule, CartPercentOff):
                amounts[i] = rule.discount_on(total)
                total -= amounts[i]
        return [(rule, amounts[i]) for i, rule in enumerate(self.rules)], total

    def discounts(self):
        return [(str(rule), amount) for rule, amount in self._amounts()[0] if amount]

    def total(self):
        return self._amounts()[1]
