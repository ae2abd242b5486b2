"""Plain-text receipts.

Layout: one line per item, `name x qty` left-aligned in 24 columns followed by the line total
right-aligned in 10 columns; then one line per discount (description left-aligned in 24 columns, the
amount as a negative number right-aligned in 10 columns); then a line of 34 dashes; then `TOTAL`
left-aligned in 24 columns and the total right-aligned in 10 columns. Lines end with a newline.
"""


def render(cart):
    lines = []
    for product, qty, amount in cart.lines():
        lines.append(f"{product.name + ' x ' + str(qty):<24}{amount:>10.2f}")
    for description, amount in cart.discounts():
        lines.append(f"{description:<24}{-amount:>10.2f}")
    lines.append("-" * 34)
    lines.append(f"{'TOTAL':<24}{cart.total():>10.2f}")
    return "\n".join(lines) + "\n"
