"""A tiny bank: accounts, transfers and a ledger of every change."""
