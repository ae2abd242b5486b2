"""Accounts that refuse to go below zero."""

from .money import to_money


class InsufficientFunds(Exception):
    """Raised when an account would go below zero."""


class Account:
    def __init__(self, account_id, owner, opening_balance="0"):
        self.id = account_id
        self.owner = owner
        self.balance = to_money(opening_balance)

    def deposit(self, amount):
        """Add a positive amount; return the new balance."""
        amount = to_money(amount)
        if amount <= 0:
            raise ValueError("amount must be positive")
        self.balance += amount
        return self.balance

    def withdraw(self, amount):
        """Remove a positive amount; raise InsufficientFunds (changing nothing) if it is not there."""
        amount = to_money(amount)
        if amount <= 0:
            raise ValueError("amount must be positive")
        self.balance -= amount
        if self.balance < 0:
            raise InsufficientFunds(f"account {self.id} has only {self.balance + amount}")
        return self.balance
