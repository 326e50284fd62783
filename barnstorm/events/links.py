"""Signed links for attendees: change or cancel an RSVP without logging in."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

RSVP_SALT = "barnstorm.events.rsvp-manage"


def rsvp_manage_token(rsvp_id: int) -> str:
    return signing.dumps({"rsvp": rsvp_id}, salt=RSVP_SALT, compress=True)


def rsvp_manage_id(token: str) -> int | None:
    try:
        return int(signing.loads(token, salt=RSVP_SALT)["rsvp"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def rsvp_manage_url(rsvp_id: int) -> str:
    return settings.SITE_URL + reverse("events:rsvp_manage", args=[rsvp_manage_token(rsvp_id)])
