"""Texting hours: a volunteer may text someone only during the day where that person is.

Where they are is guessed, in this order:

1. the phone number's area code (`phonenumbers`' time-zone data), when it names one zone;
2. when it names several (208: Boise or Los Angeles) or none, the person's primary ZIP code
   (the offline `zipcodes` data has each ZIP's zone);
3. otherwise the site's TIME_ZONE.

The area code comes first because it is known for everyone we text; people keep their number when
they move, but a ZIP is often missing or stale too, and the area code is what carriers and the
quiet-hours rules go by.

The hours come from the TEXTING_HOURS setting, "9-21" by default (9:00 a.m. until 9:00 p.m.
local time); minutes may be given ("9:30-20:30"), and "0-24" allows every hour (tests, demos).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import zipcodes
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from phonenumbers import timezone as phone_timezones

DEFAULT_TEXTING_HOURS = "9-21"
_HOURS = re.compile(r"\s*(\d{1,2})(?::(\d\d))?\s*-\s*(\d{1,2})(?::(\d\d))?\s*")
_UNKNOWN_ZONE = "Etc/Unknown"


def texting_hours() -> tuple[int, int]:
    """The allowed span of each local day, as (opens, closes) minutes after midnight."""
    raw = getattr(settings, "TEXTING_HOURS", "") or DEFAULT_TEXTING_HOURS
    return _parse_hours(raw)


@functools.lru_cache(maxsize=8)
def _parse_hours(raw: str) -> tuple[int, int]:
    match = _HOURS.fullmatch(raw)
    if not match:
        raise ImproperlyConfigured(f'TEXTING_HOURS must look like "9-21" or "9:30-20:30", not {raw!r}')
    opens = int(match[1]) * 60 + int(match[2] or 0)
    closes = int(match[3]) * 60 + int(match[4] or 0)
    if int(match[2] or 0) > 59 or int(match[4] or 0) > 59 or not 0 <= opens < closes <= 24 * 60:
        raise ImproperlyConfigured(f"TEXTING_HOURS {raw!r} must open before it closes, within one day")
    return opens, closes


# Where the recipient is -------------------------------------------------------------------------


def zone_from_number(number: str) -> str | None:
    """The number's time zone when its area code names exactly one; None when several or none."""
    try:
        parsed = phonenumbers.parse(number, "US")
    except phonenumbers.NumberParseException:
        return None
    zones = [zone for zone in phone_timezones.time_zones_for_number(parsed) if zone != _UNKNOWN_ZONE]
    return zones[0] if len(zones) == 1 else None


@functools.lru_cache(maxsize=4096)
def zone_from_zip(zip_code: str) -> str | None:
    zip_code = (zip_code or "").strip()[:5]
    if not re.fullmatch(r"\d{5}", zip_code):
        return None
    try:
        matches = zipcodes.matching(zip_code)
    except (ValueError, TypeError):
        return None
    return next((m["timezone"] for m in matches if m.get("timezone")), None)


def primary_zip_codes(person_ids: Iterable[int]) -> dict[int, str]:
    """Each person's primary ZIP code (or, without a primary address, their latest), in one query."""
    from barnstorm.people.models import PostalAddress

    zips: dict[int, str] = {}
    rows = (
        PostalAddress.objects.filter(person_id__in=set(person_ids))
        .exclude(zip_code="")
        .order_by("person_id", "-is_primary", "-id")
        .values_list("person_id", "zip_code")
    )
    for person_id, zip_code in rows:
        zips.setdefault(person_id, zip_code)
    return zips


def recipient_zone(*, number: str, zip_code: str = "") -> ZoneInfo:
    """The time zone of whoever has `number` (and, when known, lives at `zip_code`)."""
    name = zone_from_number(number) or zone_from_zip(zip_code) or settings.TIME_ZONE
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        return ZoneInfo(settings.TIME_ZONE)


def recipient_zones(contacts) -> dict[int, ZoneInfo]:
    """`recipient_zone` for many contacts (by id): one query for the ZIPs the area codes leave open."""
    unsure = [c.person_id for c in contacts if zone_from_number(c.phone) is None]
    zips = primary_zip_codes(unsure) if unsure else {}
    return {c.pk: recipient_zone(number=c.phone, zip_code=zips.get(c.person_id, "")) for c in contacts}


def contact_zone(contact) -> ZoneInfo:
    """One contact's zone; asks the database for their ZIP only when the area code can't tell."""
    if zone_from_number(contact.phone) is not None:
        return recipient_zone(number=contact.phone)
    return recipient_zone(
        number=contact.phone, zip_code=primary_zip_codes([contact.person_id]).get(contact.person_id, "")
    )


# Whether it is daytime there --------------------------------------------------------------------


@dataclass(frozen=True)
class TextingWindow:
    zone: ZoneInfo
    local_now: datetime
    opens: int  # minutes after local midnight
    closes: int

    @property
    def is_open(self) -> bool:
        minute = self.local_now.hour * 60 + self.local_now.minute
        return self.opens <= minute < self.closes

    @property
    def place(self) -> str:
        return zone_place(self.zone.key)

    def refusal(self) -> str:
        """Why a text can't go now, in the recipient's local time.

        No full stop of its own: every clock time ends with one ("9:00 a.m.").
        """
        minute = self.local_now.hour * 60 + self.local_now.minute
        now = f"It's {clock(minute)} in {self.place}'s time zone"
        if minute < self.opens:
            return f"{now}: texting opens at {clock(self.opens)}"
        return f"{now}: texting closed at {clock(self.closes)} and opens again at {clock(self.opens)}"


def texting_window(*, zone: ZoneInfo, now: datetime) -> TextingWindow:
    opens, closes = texting_hours()
    return TextingWindow(zone=zone, local_now=now.astimezone(zone), opens=opens, closes=closes)


def clock(minutes: int) -> str:
    """Minutes after midnight as a clock reads in American English: "9:00 a.m.", "8:12 p.m."."""
    hour, minute = divmod(minutes % (24 * 60), 60)
    return f"{(hour - 1) % 12 + 1}:{minute:02d} {'a.m.' if hour < 12 else 'p.m.'}"


def zone_place(key: str) -> str:
    """A zone's name as a place: "America/New_York" → "New York", "America/Indiana/Knox" → "Knox, Indiana"."""
    parts = [part.replace("_", " ") for part in key.split("/")]
    if len(parts) >= 3:
        return f"{parts[-1]}, {parts[-2]}"
    return parts[-1]
