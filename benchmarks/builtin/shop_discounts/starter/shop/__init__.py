"""A small shop: catalogue, cart, discounts and receipts."""
