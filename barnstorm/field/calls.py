"""Click-to-call through the campaign line: Twilio rings the volunteer's own phone and, when they
answer, dials the contact with the campaign's number as caller id. The contact never sees the
volunteer's number, and the volunteer needs nothing but a phone.

Switched on by TWILIO_ACCOUNT_SID (with TWILIO_AUTH_TOKEN; TWILIO_API_BASE points at a local stub
in tests). The campaign line is TWILIO_FROM_NUMBER, or else the campaign's first active sending
number. The call carries its instructions inline (TwiML), so Twilio never has to reach back to us.

The same rules as a call from the volunteer's own phone, checked at the moment of the call: only
the volunteer holding the contact (or an organizer) may call them, and never a number marked
do-not-call, for anyone who has it. Nothing is recorded here: what happened on the call is
recorded afterwards with `services.attempt_record`, as for any other call.
"""

from __future__ import annotations

import logging

import requests
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from barnstorm.field.models import CampaignKind, Contact, SendingNumber
from barnstorm.field.permissions import may_act_on
from barnstorm.field.services import contacts_lease_renew
from barnstorm.people.models import PhoneNumber

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.twilio.com"
TIMEOUT_SECONDS = 15.0
RING_GUARD_SECONDS = 30


def call_bridge_available() -> bool:
    """Whether the caller page offers "Call through the campaign line"."""
    return bool(getattr(settings, "TWILIO_ACCOUNT_SID", ""))


def call_bridge_start(*, contact: Contact, volunteer) -> str:
    """Ring `volunteer`'s phone and connect them to `contact` from the campaign line.

    Returns the Twilio call SID. Raises PermissionDenied when the contact is not the volunteer's
    to call, and ValidationError (with a message for the volunteer) when the call can't be made:
    no number on either side, a do-not-call number, no campaign line, or Twilio refusing.
    """
    contact = Contact.objects.select_related("campaign", "person").get(pk=contact.pk)
    campaign = contact.campaign
    now = timezone.now()
    is_staff = getattr(volunteer, "is_organizer", False)
    if not may_act_on(contact, volunteer, now):
        raise PermissionDenied("This contact is not in your batch any more.")
    if campaign.kind != CampaignKind.PHONE:
        raise ValidationError("Only a phone bank's contacts can be called from here.")
    name = _name(contact)
    if not contact.phone:
        raise ValidationError(f"{name} has no phone number to call.")
    # Asked at call time, across every person with this number: do-not-call anywhere counts.
    if PhoneNumber.objects.filter(number=contact.phone, do_not_call=True).exists():
        raise ValidationError(f"{contact.phone} is on the do-not-call list: it can't be called.")
    if not call_bridge_available():
        raise ValidationError("Calling through the campaign line isn't set up.")
    own_phone = _volunteer_phone(volunteer)
    line = _campaign_line(campaign)

    # A double tap rings the volunteer once: one bridge per contact per RING_GUARD_SECONDS.
    if not cache.add(f"field-call-bridge:{contact.pk}", volunteer.pk, RING_GUARD_SECONDS):
        raise ValidationError("Your phone is already ringing for this call: answer it to be connected.")
    twiml = VoiceResponse()
    twiml.dial(caller_id=line).number(contact.phone)
    try:
        call = _client().api.v2010.account.calls.create(to=own_phone, from_=line, twiml=str(twiml))
    except TwilioRestException as exc:
        cache.delete(f"field-call-bridge:{contact.pk}")  # nothing rings: the volunteer may try again
        detail = str(exc.msg).removeprefix("Unable to create record: ")  # the SDK's preamble
        raise ValidationError(f"Twilio couldn't place the call: {detail} (error {exc.code or exc.status}).") from exc
    except requests.RequestException as exc:
        # Twilio may have placed the call before the answer got lost: say so, so that the
        # volunteer waits a moment instead of ringing themselves twice.
        raise ValidationError(
            "Twilio didn't answer. If your phone rings in a moment, answer it; otherwise try again."
        ) from exc
    except TwilioException as exc:
        cache.delete(f"field-call-bridge:{contact.pk}")
        raise ValidationError(f"Twilio's answer could not be read: {exc}") from exc
    if not is_staff:
        # The volunteer is at work: keep their batch while they talk, as recording a call does.
        contacts_lease_renew(campaign=campaign, volunteer=volunteer, now=now)
    logger.info("call bridge %s: user %s to contact %s (campaign %s)", call.sid, volunteer.pk, contact.pk, campaign.pk)
    return call.sid


def _name(contact: Contact) -> str:
    return f"{contact.person.given_name} {contact.person.family_name}".strip() or "This contact"


def _volunteer_phone(volunteer) -> str:
    """The volunteer's own number: their person's primary phone (or, with none marked, the first)."""
    number = None
    if getattr(volunteer, "person_id", None):
        number = (
            PhoneNumber.objects.filter(person_id=volunteer.person_id)
            .order_by("-is_primary", "id")
            .values_list("number", flat=True)
            .first()
        )
    if not number:
        raise ValidationError(
            "We don't have a phone number for you, so there is no phone to ring: "
            "call from your own phone, or ask an organizer to add your number."
        )
    return number


def _campaign_line(campaign) -> str:
    """The number the call comes from: the site's Twilio number, or the campaign's first one."""
    line = getattr(settings, "TWILIO_FROM_NUMBER", "") or (
        SendingNumber.objects.filter(campaigns=campaign, is_active=True)
        .order_by("pk")
        .values_list("number", flat=True)
        .first()
    )
    if not line:
        raise ValidationError("This campaign has no phone line to call from yet: ask an organizer to add one.")
    return line


def _client() -> Client:
    """A REST client built as barnstorm.lib.sms.twilio builds one: from settings only, never from
    the environment (the SDK would read TWILIO_REGION/EDGE and rewrite the host), no retries."""
    account_sid = settings.TWILIO_ACCOUNT_SID
    client = Client(
        account_sid,
        settings.TWILIO_AUTH_TOKEN,
        http_client=TwilioHttpClient(timeout=TIMEOUT_SECONDS),
        environment={"TWILIO_ACCOUNT_SID": account_sid},
    )
    client.api.base_url = (getattr(settings, "TWILIO_API_BASE", "") or DEFAULT_API_BASE).rstrip("/")
    return client
