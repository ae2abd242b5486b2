"""A bank: accounts plus a ledger recording every balance change."""

from .accounts import Account
from .money import interest, to_money


class Ledger:
    def __init__(self):
        self.accounts = {}
        self.entries = []  # (account_id, change, balance after the change), oldest first

    def open(self, account_id, owner, opening_balance="0"):
        """Open an account; its opening balance is the first entry of its history."""
        if account_id in self.accounts:
            raise ValueError(f"account {account_id} exists")
        account = Account(account_id, owner, opening_balance)
        self.accounts[account_id] = account
        self.entries.append((account_id, account.balance, account.balance))
        return account

    def transfer(self, source, target, amount):
        """Move a positive amount between two different accounts; all or nothing."""
        amount = to_money(amount)
        if source == target:
            raise ValueError("cannot transfer to the same account")
        src, dst = self.accounts[source], self.accounts[target]
        src.withdraw(amount)
        dst.deposit(amount)
        self.entries.append((source, -amount, src.balance))
        self.entries.append((target, amount, dst.balance))

    def apply_interest(self, yearly_rate):
        """Credit one month of interest to every account with a positive balance."""
        for account in self.accounts.values():
            gain = interest(account.balance, yearly_rate)
            if gain > 0:
                account.deposit(gain)
                self.entries.append((account.id, gain, account.balance))

    def balance_history(self, account_id):
        """Balances of the account after each change, oldest first, starting with the opening balance."""
        return [balance for aid, _, balance in self.entries if aid == account_id]
