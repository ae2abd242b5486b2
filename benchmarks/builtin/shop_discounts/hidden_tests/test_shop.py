import unittest
from decimal import Decimal as D

from shop import receipt
from shop.cart import Cart
from shop.catalog import Catalog, Product
from shop.discounts import BundlePrice, BuyXGetY, CartPercentOff, PercentOff


def catalog():
    return Catalog([
        Product("apple", "Apple", D("0.40")),
        Product("pear", "Pear", D("0.65")),
        Product("wine", "Red wine", D("12.99")),
        Product("cheese", "Cheese", D("4.50")),
    ])


class RuleTest(unittest.TestCase):
    def test_percent_off(self):
        cart = Cart(catalog(), [PercentOff("wine", 15)])
        cart.add("wine", 3)
        self.assertEqual(cart.rules[0].discount(cart), D("5.85"))
        self.assertEqual(cart.total(), D("33.12"))
        self.assertEqual(str(cart.rules[0]), "15% off wine")
        self.assertEqual(str(PercentOff("apple", D("12.5"))), "12.5% off apple")

    def test_buy_x_get_y(self):
        rule = BuyXGetY("apple", 2, 1)
        cart = Cart(catalog(), [rule])
        cart.add("apple", 7)
        self.assertEqual(rule.discount(cart), D("0.80"))
        self.assertEqual(cart.total(), D("2.00"))
        cart.remove("apple", 6)
        self.assertEqual(rule.discount(cart), D("0.00"))
        self.assertEqual(str(rule), "buy 2 get 1 free: apple")

    def test_bundle(self):
        rule = BundlePrice(["wine", "cheese"], D("15.00"))
        cart = Cart(catalog(), [rule])
        cart.add("wine", 3)
        cart.add("cheese", 2)
        self.assertEqual(rule.discount(cart), D("4.98"))
        self.assertEqual(cart.total(), D("42.99"))
        self.assertEqual(str(rule), "bundle wine+cheese for 15.00")
        dear = BundlePrice(["apple", "pear"], D("2.00"))
        cart.add("apple")
        cart.add("pear")
        self.assertEqual(dear.discount(cart), D("0.00"))

    def test_cart_percent_and_order(self):
        rules = [
            PercentOff("wine", 10), CartPercentOff(5, D("30")), BuyXGetY("apple", 3, 1), CartPercentOff(10, D("25")),
        ]
        cart = Cart(catalog(), rules)
        cart.add("wine", 2)
        cart.add("apple", 8)
        cart.add("cheese")
        # subtotal 25.98 + 3.20 + 4.50 = 33.68; items: 2.60 + 0.80 -> 30.28; 5% -> 1.51 -> 28.77; 10% -> 2.88
        self.assertEqual(cart.discounts(), [
            ("10% off wine", D("2.60")),
            ("5% off orders from 30.00", D("1.51")),
            ("buy 3 get 1 free: apple", D("0.80")),
            ("10% off orders from 25.00", D("2.88")),
        ])
        self.assertEqual(cart.total(), D("25.89"))
        cart.remove("wine")
        self.assertEqual(cart.discounts(), [("10% off wine", D("1.30")), ("buy 3 get 1 free: apple", D("0.80"))])
        self.assertEqual(cart.total(), D("18.59"))

    def test_rounding_half_up(self):
        cart = Cart(catalog(), [PercentOff("pear", 10)])
        cart.add("pear", 1)
        self.assertEqual(cart.discounts(), [("10% off pear", D("0.07"))])


class ReceiptTest(unittest.TestCase):
    def test_without_rules_unchanged(self):
        cart = Cart(catalog())
        cart.add("apple", 3)
        cart.add("wine")
        expected = (
            "Apple x 3                     1.20\n"
            "Red wine x 1                 12.99\n"
            "----------------------------------\n"
            "TOTAL                        14.19\n"
        )
        self.assertEqual(receipt.render(cart), expected)

    def test_with_discounts(self):
        cart = Cart(catalog(), [BuyXGetY("apple", 2, 1), PercentOff("pear", 50)])
        cart.add("apple", 3)
        cart.add("wine")
        expected = (
            "Apple x 3                     1.20\n"
            "Red wine x 1                 12.99\n"
            "buy 2 get 1 free: apple      -0.40\n"
            "----------------------------------\n"
            "TOTAL                        13.79\n"
        )
        self.assertEqual(receipt.render(cart), expected)


if __name__ == "__main__":
    unittest.main()
