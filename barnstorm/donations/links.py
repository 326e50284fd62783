"""Signed links a donor can use without logging in: manage a recurring gift, give with one click.

They are signed with SECRET_KEY (django.core.signing), each kind with its own salt, so a link for
one purpose can never be replayed for another.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.urls import reverse

MANAGE_SALT = "barnstorm.donations.recurring-manage"
EXPRESS_SALT = "barnstorm.donations.express"
EXPRESS_MAX_AGE = 60 * 60 * 24 * 90  # an express link in an email works for 90 days


def recurring_manage_token(plan_id: int) -> str:
    return signing.dumps({"plan": plan_id}, salt=MANAGE_SALT, compress=True)


def recurring_manage_plan_id(token: str) -> int | None:
    try:
        return int(signing.loads(token, salt=MANAGE_SALT)["plan"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def recurring_manage_url(plan_id: int) -> str:
    return settings.SITE_URL + reverse("donations:recurring_manage", args=[recurring_manage_token(plan_id)])


def express_token(person_id: int) -> str:
    return signing.dumps({"person": person_id}, salt=EXPRESS_SALT, compress=True)


def express_person_id(token: str) -> int | None:
    try:
        return int(signing.loads(token, salt=EXPRESS_SALT, max_age=EXPRESS_MAX_AGE)["person"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def express_url(*, slug: str, person_id: int, amount_cents: int, refcode: str = "") -> str:
    query = {"amount": f"{amount_cents / 100:g}", "token": express_token(person_id)}
    if refcode:
        query["refcode"] = refcode
    return settings.SITE_URL + reverse("donations:express", args=[slug]) + "?" + urlencode(query)


THANKS_SALT = "barnstorm.donations.thanks"
THANKS_MAX_AGE = 60 * 60  # the thank-you page names the donor: its link works for an hour


def thanks_url(*, slug: str, contribution_id: int | None = None, attempt_id: int | None = None) -> str:
    """Where a donor lands after giving; it names the gift (the contribution, or the attempt while
    the worker records it) without a session row per gift."""
    target = {"c": contribution_id} if contribution_id is not None else {"a": attempt_id}
    token = signing.dumps(target, salt=THANKS_SALT, compress=True)
    return reverse("donations:thanks", args=[slug]) + "?" + urlencode({"r": token})


def thanks_target(token: str) -> tuple[str, int] | None:
    """("c", contribution id) or ("a", attempt id) from a thank-you link, or None."""
    try:
        target = signing.loads(token, salt=THANKS_SALT, max_age=THANKS_MAX_AGE)
        ((kind, pk),) = target.items()
        return (kind, int(pk)) if kind in ("c", "a") else None
    except (signing.BadSignature, AttributeError, TypeError, ValueError):
        return None
