"""Signed addresses for one delivery: the open pixel, link clicks, unsubscribe and preferences.

A token is the delivery id and a MAC of it, so a link works without a lookup table and cannot be
forged or pointed at another person's delivery. It is computed once per message (not per link).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac

from django.conf import settings
from django.urls import reverse
from django.utils.encoding import force_bytes

SALT = b"barnstorm.mailings.delivery"


@functools.lru_cache(maxsize=4)
def _key(secret: str) -> bytes:
    return hashlib.sha256(SALT + force_bytes(secret)).digest()


def _mac(delivery_id: int) -> str:
    digest = hmac.new(_key(settings.SECRET_KEY), str(delivery_id).encode(), hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(digest).decode()


def delivery_token(delivery_id: int) -> str:
    return f"{delivery_id}-{_mac(delivery_id)}"


def delivery_id_from(token: str) -> int | None:
    """The delivery a token names, or None when it was not made by us."""
    # The URL lets any characters through. Non-ASCII ones must mean "not ours", not an error:
    # "²".isdigit() is true yet int() refuses it, and compare_digest raises on non-ASCII text.
    if not token.isascii():
        return None
    raw_id, _, mac = token.partition("-")
    if not raw_id.isdigit() or not hmac.compare_digest(mac, _mac(int(raw_id))):
        return None
    return int(raw_id)


@functools.cache
def _patterns() -> dict[str, str]:
    # Reversed once with a placeholder token: a million messages don't each walk the URL resolver.
    mark = "TOKEN-0"
    base = settings.SITE_URL
    return {
        name: base + reverse(f"mailings:{name}", args=[mark, *extra]).replace(mark, "{token}")
        for name, extra in (("open", []), ("click", [0]), ("unsubscribe", []), ("preferences", []))
    }


class Urls:
    """The absolute tracking addresses of one delivery."""

    def __init__(self, delivery_id: int):
        token = delivery_token(delivery_id)
        patterns = _patterns()
        self.open = patterns["open"].format(token=token)
        self.click_prefix = patterns["click"].format(token=token)[: -len("0/")]
        self.unsubscribe = patterns["unsubscribe"].format(token=token)
        self.preferences = patterns["preferences"].format(token=token)

    def click(self, index: int) -> str:
        return f"{self.click_prefix}{index}/"
