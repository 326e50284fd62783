"""{{ amount_cents|dollars }} -> "$1,234.50"; whole amounts drop the cents ("$27")."""

from django import template

register = template.Library()


@register.filter
def dollars(cents) -> str:
    if cents is None or cents == "":
        return ""
    cents = int(cents)
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    if cents % 100 == 0:
        return f"{sign}${cents // 100:,}"
    return f"{sign}${cents / 100:,.2f}"
