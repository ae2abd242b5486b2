"""Money amounts as Decimals with two places."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def to_money(value):
    """A Decimal with two decimal places; accepts Decimal, int or str (floats are refused)."""
    if isinstance(value, float):
        raise TypeError("use Decimal or str for money, not float")
    return Decimal(value).quantize(CENT)


def interest(balance, yearly_rate):
    """One month of interest on balance at yearly_rate (e.g. Decimal('0.05')), rounded to the cent."""
    return (Decimal(balance) * Decimal(yearly_rate) / 12).quantize(CENT, rounding=ROUND_HALF_UP)
