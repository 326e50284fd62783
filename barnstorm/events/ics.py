"""iCalendar (RFC 5545) for one event or a feed of events: written by hand, it is a small format.

Times are written in UTC ("Z"), which every calendar converts to the reader's zone; the event's
own zone is named in the description so nobody is confused about local time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from django.conf import settings
from django.urls import reverse

from barnstorm.events.models import Event

PRODID = "-//Barnstorm//Events//EN"


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts, start = [], 0
    while start < len(encoded):
        end = min(start + (75 if not parts else 74), len(encoded))
        while end < len(encoded) and (encoded[end] & 0xC0) == 0x80:  # never split a UTF-8 character
            end -= 1
        parts.append(encoded[start:end].decode())
        start = end
    return "\r\n ".join(parts)


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _location(event: Event, *, full_address: bool) -> str:
    if event.is_virtual:
        return event.virtual_url if full_address else ""  # the join link only for people who RSVPed
    street = event.street if (full_address or not event.is_private_home) else ""
    return ", ".join(
        part for part in (event.venue, street, event.city, f"{event.state} {event.zip_code}".strip()) if part
    )


def event_lines(event: Event, *, full_address: bool = False) -> list[str]:
    url = settings.SITE_URL + reverse("events:detail", args=[event.pk])
    status = "CANCELLED" if event.status == "cancelled" else "CONFIRMED"
    return [
        "BEGIN:VEVENT",
        f"UID:event-{event.pk}@{settings.SITE_URL.split('//')[-1].split('/')[0]}",
        f"DTSTAMP:{_when(datetime.now(UTC))}",
        f"DTSTART:{_when(event.starts_at)}",
        f"DTEND:{_when(event.ends_at)}",
        f"SUMMARY:{_escape(event.title)}",
        f"DESCRIPTION:{_escape((event.description + chr(10) + chr(10) if event.description else '') + url)}",
        f"LOCATION:{_escape(_location(event, full_address=full_address))}",
        f"URL:{url}",
        f"STATUS:{status}",
        "END:VEVENT",
    ]


def calendar(events: Iterable[Event], *, name: str = "", full_address: bool = False) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    if name:
        lines.append(f"X-WR-CALNAME:{_escape(name)}")
    for event in events:
        lines.extend(event_lines(event, full_address=full_address))
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
