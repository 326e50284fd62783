"""Passwordless sign-in for supporters: a signed, short-lived, single-use link sent by email.

Any supporter can host an event, and supporters have no password. They ask for a link, we
email it, and opening it signs them in as a volunteer account linked to their person (created
on first use, with an unusable password).

- Nothing on screen depends on whether the address is known: every valid address gets the
  same answer, and the same work is done for it (an unknown address gets a link too; its
  person is created only when the link is opened, which proves the address is theirs).
- The token is signed and expires after `LINK_MAX_AGE`. It is single-use without a table: it
  carries a fingerprint of the account's last login, and redeeming it moves the last login
  with a conditional update (a first sign-in creates the account, which the unique username
  allows only once). A second use, or a race of two, finds the fingerprint changed.
- Staff accounts are never signed in by a link: they hold more than a supporter's powers, so
  they keep their password (the email tells them so).
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from barnstorm.accounts.models import Role
from barnstorm.lib.ratelimit import rate_limit_exceeded
from barnstorm.people.models import Person
from barnstorm.people.normalize import normalize_email
from barnstorm.people.services import PersonInput, person_upsert

logger = logging.getLogger(__name__)

SALT = "barnstorm.accounts.magic-link"
LINK_MAX_AGE = 15 * 60  # seconds
# Per hour. An address gets few links (a mailbox must not be flooded); a network more (an office).
PER_ADDRESS_LIMIT = 5
PER_IP_LIMIT = 30
RATE_WINDOW = 3600


class Requested(enum.Enum):
    SENT = "sent"
    # Said to the visitor exactly as SENT: an address's limit must not tell anything about it.
    ADDRESS_LIMITED = "address_limited"
    IP_LIMITED = "ip_limited"


def _account_for(email: str):
    """The person owning `email` (or None) and the login that signs in for it (or None)."""
    User = get_user_model()
    person = Person.objects.filter(emails__address=email).first()
    user = User.objects.filter(person=person).first() if person else None
    if user is None:
        # An account staff made by hand, with this address and no person yet.
        user = User.objects.filter(email__iexact=email, person__isnull=True).order_by("pk").first()
    return person, user


def _is_staff_account(user) -> bool:
    return user is not None and (user.is_superuser or user.is_staff or user.role != Role.VOLUNTEER)


def _fingerprint(user) -> str:
    """Changes whenever the account signs in (or its password or activity changes)."""
    state = "new" if user is None else f"{user.pk}:{user.last_login and user.last_login.isoformat()}:{user.is_active}"
    return salted_hmac(SALT, state).hexdigest()[:20]


def magic_link_request(*, email: str, ip: str, next_url: str = "") -> Requested:
    """Email a sign-in link to `email` (which must be a valid address: ValidationError)."""
    address = normalize_email(email)
    if rate_limit_exceeded(scope="magic-ip", key=ip or "-", limit=PER_IP_LIMIT, window_seconds=RATE_WINDOW):
        return Requested.IP_LIMITED
    if rate_limit_exceeded(scope="magic-address", key=address, limit=PER_ADDRESS_LIMIT, window_seconds=RATE_WINDOW):
        return Requested.ADDRESS_LIMITED
    _person, user = _account_for(address)
    context = {"SITE_NAME": settings.SITE_NAME, "minutes": LINK_MAX_AGE // 60}
    if _is_staff_account(user):
        template = "accounts/magic_staff_email"
        context["login_url"] = settings.SITE_URL + reverse("accounts:login")
    else:
        template = "accounts/magic_email"
        token = signing.dumps(
            {"e": address, "u": user.pk if user else None, "f": _fingerprint(user), "n": next_url[:500]},
            salt=SALT,
            compress=True,
        )
        context["link"] = settings.SITE_URL + reverse("accounts:magic_open", args=[token])
    subject = render_to_string(f"{template}_subject.txt", context).strip()
    body = render_to_string(f"{template}.txt", context)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
    except Exception:  # the visitor sees the same page either way; the operator sees the log
        logger.exception("sign-in link to %s not sent", address)
    return Requested.SENT


class LinkInvalid(Exception):
    """Expired, already used, tampered with, or for an account that can't sign in this way."""


@dataclass
class Redeemed:
    user: object
    next_url: str
    created: bool


@dataclass
class LinkPreview:
    email: str
    next_url: str


def _load(token: str) -> dict:
    try:
        payload = signing.loads(token, salt=SALT, max_age=LINK_MAX_AGE)
    except signing.BadSignature as error:  # SignatureExpired is one
        raise LinkInvalid from error
    if not isinstance(payload, dict) or not isinstance(payload.get("e"), str):
        raise LinkInvalid
    return payload


def _current_account(payload: dict):
    person, user = _account_for(payload["e"])
    if (user.pk if user else None) != payload.get("u") or _fingerprint(user) != payload.get("f"):
        raise LinkInvalid  # used already (the account signed in since), or the address moved
    if user is not None and (_is_staff_account(user) or not user.is_active):
        raise LinkInvalid
    return person, user


def magic_link_check(*, token: str) -> LinkPreview:
    """Whether a link can still be used, without using it (what its page shows before the click)."""
    payload = _load(token)
    _current_account(payload)
    return LinkPreview(email=payload["e"], next_url=payload.get("n", ""))


def magic_link_redeem(*, token: str):
    """Use a link once: returns the volunteer account to sign in. Raises LinkInvalid."""
    payload = _load(token)
    person, user = _current_account(payload)
    now = timezone.now()
    User = get_user_model()
    created = False
    with transaction.atomic():
        if person is None:
            # The address is proven now: the person enters through the one intake service.
            person = person_upsert(data=PersonInput(email=payload["e"], source="sign-in link")).person
        if user is not None:
            # Compare-and-set on the last login: of two uses racing, one moves it, the other finds it moved.
            used = User.objects.filter(pk=user.pk, last_login=user.last_login, is_active=True).update(last_login=now)
            if not used:
                raise LinkInvalid
            if user.person_id is None and not User.objects.filter(person=person).exists():
                User.objects.filter(pk=user.pk, person__isnull=True).update(person=person)
            user.refresh_from_db()
        else:
            user = User(
                username=f"supporter-{person.pk}",
                email=payload["e"],
                role=Role.VOLUNTEER,
                person=person,
                last_login=now,
            )
            user.set_unusable_password()
            try:
                with transaction.atomic():
                    user.save()
            except IntegrityError as error:  # the same link (or another for this person) won the race
                raise LinkInvalid from error
            created = True
    return Redeemed(user=user, next_url=payload.get("n", ""), created=created)
