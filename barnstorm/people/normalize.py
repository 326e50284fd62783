"""Normalising what people type: email addresses, phone numbers, ZIP codes.

Each function returns the canonical form or raises ValidationError with a message fit to
show the person who typed it (or to write in an import's report of rejected rows).
"""

import functools
import re
from dataclasses import dataclass

import phonenumbers
import zipcodes
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _


def email_key(raw: str) -> str:
    """The form an address is stored and looked up in (no validation: for lookups)."""
    return (raw or "").strip().lower()


def normalize_email(raw: str) -> str:
    address = email_key(raw)
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationError(_("%(value)s is not a valid email address"), params={"value": raw}) from None
    return address


# A North American number as people write it: optional +1, area code, exchange, line.
_NANP = re.compile(r"\s*(?:\+?1[\s.-]*)?\(?([2-9]\d\d)\)?[\s.-]*([2-9]\d\d)[\s.-]*(\d{4})\s*")


def normalize_phone(raw: str, region: str = "US") -> str:
    """E.164 form (+15155550123) of a phone number written in any common way."""
    match = _NANP.fullmatch(raw or "") if region == "US" else None
    if match:
        # The common case, without a full parse: imports bring millions of these.
        area_exchange = match.group(1) + match.group(2)
        if _nanp_exchange_is_valid(area_exchange):
            return f"+1{area_exchange}{match.group(3)}"
        raise ValidationError(_("%(value)s is not a valid phone number"), params={"value": raw})
    try:
        parsed = phonenumbers.parse((raw or "").strip(), region)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise ValidationError(_("%(value)s is not a valid phone number"), params={"value": raw})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_zip(raw: str) -> str:
    """The five-digit ZIP code (ZIP+4 is trimmed); an unknown ZIP is an error."""
    value = (raw or "").strip()
    if len(value) == 4 and value.isdigit():
        value = "0" + value  # spreadsheets drop the leading zero of New England ZIPs
    five = value[:5]
    if not (five.isdigit() and len(five) == 5 and len(value) in (5, 9, 10)):
        raise ValidationError(_("%(value)s is not a ZIP code"), params={"value": raw})
    if zip_info(five) is None:
        raise ValidationError(_("%(value)s is not a known ZIP code"), params={"value": raw})
    return five


@functools.lru_cache(maxsize=100_000)
def _nanp_exchange_is_valid(area_exchange: str) -> bool:
    """Whether numbers in this area code and exchange exist, as phonenumbers says.

    Its North American patterns decide on the first six digits, so one answer serves the whole
    exchange (tests/test_normalize.py compares the two paths on random numbers).
    """
    return phonenumbers.is_valid_number(phonenumbers.parse(f"+1{area_exchange}0000"))


@dataclass(frozen=True)
class ZipInfo:
    zip_code: str
    city: str
    state: str
    county: str
    timezone: str
    latitude: float
    longitude: float


@functools.cache
def _zip_table() -> dict[str, ZipInfo]:
    table = {}
    for row in zipcodes.list_all():
        table[row["zip_code"]] = ZipInfo(
            zip_code=row["zip_code"],
            city=row["city"],
            state=row["state"],
            county=row["county"] or "",
            timezone=row["timezone"] or "",
            latitude=float(row["lat"]),
            longitude=float(row["long"]),
        )
    return table


def zip_info(zip_code: str) -> ZipInfo | None:
    """Offline geocoding: the centroid and place names of a five-digit ZIP code."""
    return _zip_table().get(zip_code[:5])


def zips_in_state(state: str) -> list[ZipInfo]:
    return [z for z in _zip_table().values() if z.state == state]
