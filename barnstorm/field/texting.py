"""Peer-to-peer texting: a volunteer sends each contact's first text with one click, then carries
on the conversation by hand, and finishes it with `services.attempt_record`.

Every text is sent by a person, one click each, through the same checks at the moment it goes:
the volunteer holds the contact, the campaign is an active texting campaign, the number has
consent and has not opted out anywhere (an opt-out takes effect at once, for every campaign),
it is daytime where the recipient is (`texting_hours`), and one of the campaign's sending
numbers is still under its daily cap.

Exactly once. A contact's first text is claimed before it is sent by inserting a `DeliveryClaim`
row keyed "field:contact:<id>:initial" in the same transaction that checks the lease and takes a
slot on a sending number; a second click (or a second tab, or a retried request) fails on the
unique key and sends nothing. The key is also the SMS `reference`, so the sandbox refuses a
duplicate too. `TextMessage.provider_id` is not used for the claim because it has to hold the
provider's id, which only exists after the send, and is what delivery reports and inbound
webhooks are matched on. A worker that dies between the claim and the send leaves the claim
taken: at most once, never twice. A reply can carry a key of its own (the form's one-time
token) for the same protection against a double submit.

The provider call happens outside any transaction, so no lock is held while Twilio answers. If the
provider refuses the text, the number's slot is given back; if the refusal is temporary the
claim is released too, so the volunteer can click again; a permanent refusal (an invalid number)
is recorded as a failed text and the claim stays. No answer at all (SmsTimeout) counts as sent.

Sending numbers. Each text takes one slot of one number's day (`NumberUsage`, the day in the
site's TIME_ZONE) with a conditional UPDATE (`sent < daily_cap` → `sent + 1`), so two sends can
never both take a number's last slot; the number with the fewest texts today is tried first, so
texts spread over the pool.

Opt-out keywords. An incoming text opts its number out when it contains STOP, STOPALL,
UNSUBSCRIBE, CANCEL, END or QUIT as a whole word, in any case, anywhere in the text ("stop",
"Please STOP.", "stop texting me"). Carriers only act on a text that is the keyword alone, but
people write sentences, and texting someone who asked us to stop is a legal risk and a broken
promise, while losing a supporter who wrote "don't stop the campaign" costs one contact. So a
keyword anywhere counts; "stopping", "ending" or "cancelled" (other words) do not.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, F, IntegerField, Max, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from barnstorm.field.models import (
    CampaignKind,
    CampaignStatus,
    Contact,
    ContactStatus,
    FieldCampaign,
    NumberUsage,
    SendingNumber,
    TextDirection,
    TextMessage,
)
from barnstorm.field.permissions import holds, may_act_on
from barnstorm.field.personal import PersonalTextError, personal_context, personal_text
from barnstorm.field.texting_hours import TextingWindow, contact_zone, recipient_zones, texting_window
from barnstorm.lib.models import DeliveryClaim
from barnstorm.lib.sms import SmsError, SmsTimeout, sms_provider
from barnstorm.lib.sms.base import RECIPIENT_OPTED_OUT
from barnstorm.people.models import PhoneNumber

logger = logging.getLogger(__name__)

MAX_BODY = 1600  # Twilio's limit for one message (it splits it into segments)
OPT_OUT_KEYWORDS = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT")
_OPT_OUT = re.compile(r"\b(?:" + "|".join(OPT_OUT_KEYWORDS) + r")\b", re.IGNORECASE)
# Delivery reports may arrive out of order: a status only ever moves forward.
_STATUS_RANK = {"": 0, "unknown": 0, "accepted": 1, "queued": 1, "sending": 2, "sent": 3}
_FINAL_STATUSES = ("delivered", "undelivered", "failed", "read")


def initial_key(contact_id: int) -> str:
    """The claim on a contact's first text (and its SMS reference)."""
    return f"field:contact:{contact_id}:initial"


def is_opt_out(body: str) -> bool:
    return bool(_OPT_OUT.search(body or ""))


# Rendering -------------------------------------------------------------------------------------


def text_render(source: str, *, person, volunteer) -> str:
    """Fill `source` ({{ person.given_name }} …) for one person. Raises ValidationError on a mistake."""
    try:
        return personal_text(source, personal_context(person=person, volunteer=volunteer)).strip()
    except PersonalTextError as exc:
        raise ValidationError(f"The message has a mistake in it: {exc}") from exc


# Sending ---------------------------------------------------------------------------------------


CONVERSATION_HOLD = timedelta(days=7)


def text_initial_send(*, contact: Contact, volunteer, now: datetime | None = None) -> TextMessage:
    """Send a contact the campaign's first text, once, on the volunteer's click.

    Raises PermissionDenied when the volunteer doesn't hold the contact, ValidationError (with a
    message to show them) when the text may not or cannot go.
    """
    now = now or timezone.now()
    contact = _contact_load(contact)
    campaign = contact.campaign
    _holder_check(contact, volunteer, now)
    _sendable_check(contact, now)
    body = text_render(campaign.initial_message, person=contact.person, volunteer=volunteer)
    if not body:
        raise ValidationError("This campaign has no first text yet.")
    key = initial_key(contact.pk)
    with transaction.atomic():
        _lease_refresh(contact, volunteer, now)
        if not _claim(key, now):
            raise ValidationError(f"{_name(contact)} has already been sent the first text.", code="already_sent")
        number = _number_reserve(campaign, now)
        # A conversation stays with the volunteer who started it: replies can come hours later.
        Contact.objects.filter(pk=contact.pk).update(
            leased_until=Greatest(F("leased_until"), Value(now + CONVERSATION_HOLD))
        )
    return _send(contact=contact, volunteer=volunteer, body=body, number=number, claim=key, now=now)


def text_reply_send(
    *, contact: Contact, volunteer, body: str, key: str = "", now: datetime | None = None
) -> TextMessage:
    """A volunteer's answer in a conversation: free text or a canned response, under the same checks.

    `key` (optional) makes a double submission of one form send once.
    """
    now = now or timezone.now()
    body = (body or "").strip()
    if not body:
        raise ValidationError("Write something to send.")
    if len(body) > MAX_BODY:
        raise ValidationError(f"That's too long for a text ({len(body)} characters; {MAX_BODY} at most).")
    contact = _contact_load(contact)
    _holder_check(contact, volunteer, now)
    _sendable_check(contact, now)
    if not contact.texts.filter(direction=TextDirection.OUT).exists():
        raise ValidationError("Send the first text before replying.")
    claim = f"field:contact:{contact.pk}:reply:{key[:100]}" if key else ""
    with transaction.atomic():
        _lease_refresh(contact, volunteer, now)
        if claim and not _claim(claim, now):
            raise ValidationError("That reply has already been sent.", code="already_sent")
        number = _number_reserve(contact.campaign, now, prefer=_last_line(contact))
    return _send(contact=contact, volunteer=volunteer, body=body, number=number, claim=claim, now=now)


def text_opt_out(*, contact: Contact, volunteer, now: datetime | None = None) -> int:
    """The volunteer (or an organizer) opts the contact's number out of texts, everywhere, at once."""
    contact = _contact_load(contact)
    if not may_act_on(contact, volunteer, now):
        raise PermissionDenied("This contact is not in your batch any more.")
    return _opt_out(contact.phone, actor=volunteer)


def _contact_load(contact: Contact) -> Contact:
    return Contact.objects.select_related("campaign", "person").get(pk=contact.pk)


def _name(contact: Contact) -> str:
    return contact.person.given_name or "This contact"


def _holder_check(contact: Contact, volunteer, now: datetime) -> None:
    """A quick look first, so that nobody else learns anything about the contact; the UPDATE in
    `_lease_refresh` is the check that counts."""
    if not holds(contact, volunteer, now):
        raise PermissionDenied("This contact is not in your batch any more.")


def _sendable_check(contact: Contact, now: datetime) -> None:
    """Everything that can refuse a text before anything is claimed, in the order a volunteer can fix."""
    campaign = contact.campaign
    if campaign.kind != CampaignKind.TEXT:
        raise ValidationError("This is not a texting campaign.")
    if campaign.status != CampaignStatus.ACTIVE:
        raise ValidationError("This campaign isn't sending texts right now.")
    if not contact.phone:
        raise ValidationError(f"{_name(contact)} has no number to text.")
    # Asked at send time, across every person with this number: an opt-out anywhere counts.
    rows = list(
        PhoneNumber.objects.filter(number=contact.phone).values_list("person_id", "sms_consent", "sms_opted_out_at")
    )
    if any(opted_out for _, _, opted_out in rows):
        raise ValidationError(f"{contact.phone} has opted out of texts: it can't be texted again.")
    if not any(person_id == contact.person_id and consent for person_id, consent, _ in rows):
        raise ValidationError(f"{_name(contact)} hasn't agreed to get texts at {contact.phone}.")
    window = texting_window(zone=contact_zone(contact), now=now)
    if not window.is_open:
        raise ValidationError(window.refusal())


def _lease_refresh(contact: Contact, volunteer, now: datetime) -> None:
    """Check the volunteer still holds the contact and keep it theirs a while longer, in one UPDATE.

    The lease is never shortened; it lasts the campaign's lease time after the latest text, so
    the conversation stays with the volunteer while it is going on.
    """
    held = Contact.objects.filter(
        pk=contact.pk, leased_to=volunteer, status=ContactStatus.LEASED, leased_until__gt=now
    ).update(leased_until=Greatest(F("leased_until"), Value(now + timedelta(minutes=contact.campaign.lease_minutes))))
    if not held:
        raise PermissionDenied("This contact is not in your batch any more.")


def _claim(key: str, now: datetime) -> bool:
    try:
        with transaction.atomic():
            DeliveryClaim.objects.create(key=key, claimed_at=now)
    except IntegrityError:
        return False
    return True


def _claim_release(key: str) -> None:
    if key:
        DeliveryClaim.objects.filter(key=key).delete()


def _last_line(contact: Contact) -> str:
    """The number the conversation has been using: replies keep to it while it has room."""
    last = contact.texts.filter(direction=TextDirection.OUT).order_by("-created_at", "-id").first()
    return last.from_number if last else ""


def _usage_day(now: datetime):
    return timezone.localdate(now)


def _number_reserve(campaign: FieldCampaign, now: datetime, prefer: str = "") -> SendingNumber:
    """Take one slot of today's cap on the least-used active number of the campaign's pool.

    Raises ValidationError when the pool is empty or every number has used its day.
    """
    day = _usage_day(now)
    used_today = NumberUsage.objects.filter(sending_number=OuterRef("pk"), day=day).values("sent")[:1]
    pool = list(
        campaign.sending_numbers.filter(is_active=True)
        .annotate(
            used=Coalesce(Subquery(used_today), 0),
            preferred=Case(When(number=prefer, then=0), default=1, output_field=IntegerField()),
        )
        .order_by("preferred", "used", "pk")
    )
    if not pool:
        raise ValidationError("This campaign has no number to text from yet: ask an organizer to add one.")
    for number in pool:
        if number.used >= number.daily_cap:
            continue
        NumberUsage.objects.bulk_create([NumberUsage(sending_number=number, day=day)], ignore_conflicts=True)
        # The cap is in the WHERE clause: of two sends racing for the last slot, one updates nothing.
        taken = NumberUsage.objects.filter(sending_number=number, day=day, sent__lt=number.daily_cap).update(
            sent=F("sent") + 1
        )
        if taken:
            return number
    caps = sum(number.daily_cap for number in pool)
    raise ValidationError(
        f"This campaign's sending numbers have all sent their texts for today ({caps} in all). "
        "Texting picks up again tomorrow, or an organizer can add a number."
    )


def _number_release(number: SendingNumber, now: datetime) -> None:
    NumberUsage.objects.filter(sending_number=number, day=_usage_day(now), sent__gt=0).update(sent=F("sent") - 1)


def _send(*, contact: Contact, volunteer, body: str, number: SendingNumber, claim: str, now: datetime) -> TextMessage:
    """The provider call, outside any transaction, and the record of what it did."""
    message = TextMessage(
        campaign=contact.campaign,
        contact=contact,
        person=contact.person,
        direction=TextDirection.OUT,
        body=body,
        from_number=number.number,
        to_number=contact.phone,
        sent_by=volunteer,
    )
    try:
        result = sms_provider().send(to=contact.phone, body=body, reference=claim, from_=number.number)
    except SmsTimeout as exc:
        # The text may have gone: the claim and the slot stay, and nobody sends it again.
        logger.warning("text to contact %s: no answer from the SMS provider; counted as sent", contact.pk)
        message.status, message.error = "unknown", str(exc)[:300]
        message.save()
        return message
    except SmsError as exc:
        _number_release(number, now)
        if exc.code == RECIPIENT_OPTED_OUT:
            _opt_out(contact.phone, actor=volunteer)
        if not exc.permanent:
            _claim_release(claim)
            raise ValidationError(f"The text didn't go ({exc}). Try again in a moment.") from exc
        message.status, message.error = "failed", str(exc)[:300]
        message.save()
        raise ValidationError(f"The text can't be sent to {contact.phone}: {exc}") from exc
    if result.duplicate:  # the sandbox had this reference: the first send's record stands
        existing = TextMessage.objects.filter(provider_id=result.message_id).first()
        if existing is not None:
            _number_release(number, now)
            return existing
    message.provider_id, message.status = result.message_id, result.status
    message.save()
    return message


# Incoming --------------------------------------------------------------------------------------


def text_inbound_record(*, from_number: str, to_number: str, body: str, provider_id: str) -> TextMessage:
    """A text someone sent us: threaded into the latest conversation with that number, once.

    A webhook delivered twice (same provider id) is recorded once. An opt-out keyword opts the
    number out everywhere before this returns.
    """
    existing = TextMessage.objects.filter(provider_id=provider_id).first()
    if existing is not None:
        return existing
    # The conversation: the latest text we sent this number, from the line it wrote back to if any.
    thread = (
        TextMessage.objects.filter(direction=TextDirection.OUT, to_number=from_number)
        .annotate(same_line=Case(When(from_number=to_number, then=0), default=1, output_field=IntegerField()))
        .order_by("same_line", "-created_at", "-id")
        .first()
    )
    try:
        with transaction.atomic():
            message = TextMessage.objects.create(
                campaign_id=thread.campaign_id if thread else None,
                contact_id=thread.contact_id if thread else None,
                person_id=thread.person_id if thread else None,
                direction=TextDirection.IN,
                body=body,
                from_number=from_number,
                to_number=to_number,
                status="received",
                provider_id=provider_id,
            )
            if is_opt_out(body):
                _opt_out(from_number)
    except IntegrityError:  # the same webhook, recorded a moment ago by another request
        return TextMessage.objects.get(provider_id=provider_id)
    return message


def text_delivery_record(*, provider_id: str, status: str, error_code: str = "") -> int:
    """A delivery report for a text we sent. Returns how many texts it updated (0 if not ours)."""
    status = (status or "").lower()[:12]
    earlier = [s for s, rank in _STATUS_RANK.items() if rank < _STATUS_RANK.get(status, 99)]
    updated = TextMessage.objects.filter(
        provider_id=provider_id, direction=TextDirection.OUT, status__in=earlier
    ).update(status=status, error=error_code[:300])
    if error_code == RECIPIENT_OPTED_OUT:
        message = TextMessage.objects.filter(provider_id=provider_id).first()
        if message is not None:
            _opt_out(message.to_number)
    return updated


def _opt_out(number: str, actor=None) -> int:
    """Opt `number` out of texts everywhere (people.services does the marking and the logging)."""
    from barnstorm.people.services import phone_sms_opt_out

    if not number:
        return 0
    try:
        return phone_sms_opt_out(number=number, actor=actor)
    except ValidationError:  # not a phone number we could have stored (a short code): nobody to mark
        return 0


# Reading ---------------------------------------------------------------------------------------


def conversations_visible_to(user, campaign: FieldCampaign):
    """The contacts of `campaign` whose conversation `user` may open: their own, or all (organizers)."""
    contacts = Contact.objects.filter(campaign=campaign).select_related("person")
    if getattr(user, "is_organizer", False):
        return contacts
    return contacts.filter(leased_to=user, status=ContactStatus.LEASED)


def conversation_texts(contact: Contact):
    return TextMessage.objects.filter(contact=contact).select_related("sent_by").order_by("created_at", "id")


def number_opted_out(number: str) -> bool:
    return PhoneNumber.objects.filter(number=number, sms_opted_out_at__isnull=False).exists()


@dataclass
class BatchRow:
    contact: Contact
    message: str  # the first text as it will read
    sent: int  # texts sent to them in this campaign
    received: int  # texts they sent back
    last_at: datetime | None
    opted_out: bool
    window: TextingWindow


def texting_batch_rows(*, contacts, campaign: FieldCampaign, volunteer, now: datetime | None = None) -> list[BatchRow]:
    """The volunteer's batch as they see it, in a fixed number of queries whatever its size."""
    now = now or timezone.now()
    contacts = list(contacts)
    ids = [c.pk for c in contacts]
    counts = {
        row["contact_id"]: row
        for row in TextMessage.objects.filter(contact_id__in=ids)
        .values("contact_id")
        .annotate(
            sent=Count("id", filter=Q(direction=TextDirection.OUT)),
            received=Count("id", filter=Q(direction=TextDirection.IN)),
            last_at=Max("created_at"),
        )
    }
    opted_out = set(
        PhoneNumber.objects.filter(number__in={c.phone for c in contacts}, sms_opted_out_at__isnull=False).values_list(
            "number", flat=True
        )
    )
    zones = recipient_zones(contacts)
    rows = []
    for contact in contacts:
        count = counts.get(contact.pk, {})
        try:
            message = text_render(campaign.initial_message, person=contact.person, volunteer=volunteer)
        except ValidationError:
            message = ""  # sending will say what is wrong with it
        rows.append(
            BatchRow(
                contact=contact,
                message=message,
                sent=count.get("sent", 0),
                received=count.get("received", 0),
                last_at=count.get("last_at"),
                opted_out=contact.phone in opted_out,
                window=texting_window(zone=zones[contact.pk], now=now),
            )
        )
    return rows
