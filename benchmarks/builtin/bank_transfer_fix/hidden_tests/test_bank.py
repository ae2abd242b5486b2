import unittest
from decimal import Decimal as D

from bank.accounts import Account, InsufficientFunds
from bank.ledger import Ledger
from bank.money import interest, to_money


class MoneyTest(unittest.TestCase):
    def test_to_money(self):
        self.assertEqual(to_money("1.5"), D("1.50"))
        with self.assertRaises(TypeError):
            to_money(1.5)

    def test_interest_exact_half_up(self):
        self.assertEqual(interest(D("100.00"), D("0.06")), D("0.50"))
        self.assertEqual(interest(D("1.00"), D("0.06")), D("0.01"))
        self.assertEqual(interest(D("0.10"), D("0.60")), D("0.01"))
        self.assertEqual(interest(D("1234567.89"), D("0.05")), D("5144.03"))
        self.assertEqual(interest(D("10.05"), D("0.12")), D("0.10"))
        self.assertEqual(interest(D("1.50"), D("0.12")), D("0.02"))
        self.assertEqual(interest(D("5.00"), D("0.18")), D("0.08"))
        self.assertEqual(interest(D("3.00"), D("0.06")), D("0.02"))
        self.assertEqual(interest(D("1000000000000.01"), D("0.12")), D("10000000000.00"))


class AccountTest(unittest.TestCase):
    def test_withdraw_too_much_changes_nothing(self):
        acc = Account(1, "ann", "10")
        with self.assertRaises(InsufficientFunds):
            acc.withdraw("10.01")
        self.assertEqual(acc.balance, D("10.00"))
        self.assertEqual(acc.withdraw("10"), D("0.00"))

    def test_non_positive(self):
        acc = Account(1, "ann", "10")
        for bad in ("0", "-1"):
            with self.assertRaises(ValueError):
                acc.withdraw(bad)
            with self.assertRaises(ValueError):
                acc.deposit(bad)


class LedgerTest(unittest.TestCase):
    def setUp(self):
        self.bank = Ledger()
        self.bank.open("a", "ann", "100")
        self.bank.open("b", "bob", "5")

    def test_transfer(self):
        self.bank.transfer("a", "b", "30.25")
        self.assertEqual(self.bank.accounts["a"].balance, D("69.75"))
        self.assertEqual(self.bank.accounts["b"].balance, D("35.25"))

    def test_failed_transfer_is_all_or_nothing(self):
        with self.assertRaises(InsufficientFunds):
            self.bank.transfer("b", "a", "6")
        self.assertEqual(self.bank.accounts["b"].balance, D("5.00"))
        self.assertEqual(self.bank.accounts["a"].balance, D("100.00"))
        self.assertEqual(self.bank.balance_history("b"), [D("5.00")])

    def test_same_account_and_bad_amounts(self):
        with self.assertRaises(ValueError):
            self.bank.transfer("a", "a", "1")
        for bad in ("0", "-3"):
            with self.assertRaises(ValueError):
                self.bank.transfer("a", "b", bad)
        self.assertEqual(self.bank.accounts["a"].balance, D("100.00"))
        self.assertEqual(self.bank.balance_history("a"), [D("100.00")])

    def test_history_and_interest(self):
        self.bank.transfer("a", "b", "50")
        self.bank.transfer("b", "a", "10")
        self.bank.apply_interest(D("0.06"))
        self.assertEqual(self.bank.balance_history("a"), [D("100.00"), D("50.00"), D("60.00"), D("60.30")])
        self.assertEqual(self.bank.balance_history("b"), [D("5.00"), D("55.00"), D("45.00"), D("45.23")])
        self.assertEqual(self.bank.balance_history("zzz"), [])

    def test_interest_skips_empty_accounts(self):
        self.bank.open("c", "cy")
        self.bank.apply_interest(D("0.06"))
        self.assertEqual(self.bank.balance_history("c"), [D("0.00")])


if __name__ == "__main__":
    unittest.main()
