"""Peer-to-peer texting pages: a volunteer's batch with one Send button per contact, a conversation
(polled by htmx for replies), and the webhook the SMS provider calls with replies and receipts.

Only the volunteer holding a contact (or an organizer) can open its conversation; anyone else
gets a 404, which tells them nothing about whether it exists.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from barnstorm.events.permissions import supporter_required
from barnstorm.field import texting
from barnstorm.field.models import (
    CampaignKind,
    CampaignStatus,
    CannedResponse,
    ContactStatus,
    Disposition,
    FieldCampaign,
)
from barnstorm.field.selectors_volunteer import answers_from_form, answers_posted
from barnstorm.field.services import attempt_record, contacts_held, contacts_lease
from barnstorm.field.texting_hours import contact_zone, texting_window
from barnstorm.lib.sms import InboundMessage, SmsError, WebhookSignatureError, sms_provider

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
# What can happen in a text conversation (a subset of the phone bank's dispositions).
TEXT_DISPOSITIONS = [
    (Disposition.REACHED, "Talked it through"),
    (Disposition.NO_ANSWER, "No reply"),
    (Disposition.REFUSED, "Not interested"),
    (Disposition.WRONG_NUMBER, "Wrong number"),
    (Disposition.MOVED, "Moved away"),
    (Disposition.DO_NOT_CONTACT, "Do not contact (opts the number out)"),
]


def _campaign(campaign_id: int) -> FieldCampaign:
    return get_object_or_404(FieldCampaign, pk=campaign_id, kind=CampaignKind.TEXT)


def _contact(request, campaign: FieldCampaign, contact_id: int):
    return get_object_or_404(texting.conversations_visible_to(request.user, campaign), pk=contact_id)


def _error(request, exc: Exception) -> None:
    text = exc.messages[0] if isinstance(exc, ValidationError) else (str(exc) or "That isn't yours to do.")
    messages.error(request, text)


# The batch -------------------------------------------------------------------------------------


@require_GET
@supporter_required
def texting_home(request, campaign_id: int):
    campaign = _campaign(campaign_id)
    now = timezone.now()
    contacts = contacts_held(campaign=campaign, volunteer=request.user, now=now)
    rows = texting.texting_batch_rows(contacts=contacts, campaign=campaign, volunteer=request.user, now=now)
    return render(
        request,
        "field/texting/home.html",
        {
            "campaign": campaign,
            "rows": rows,
            "is_active": campaign.status == CampaignStatus.ACTIVE,
            "waiting": sum(1 for row in rows if not row.sent),
        },
    )


@require_POST
@supporter_required
def texting_more(request, campaign_id: int):
    """Another batch on top of the conversations already going."""
    campaign = _campaign(campaign_id)
    held = contacts_held(campaign=campaign, volunteer=request.user).count()
    try:
        batch = contacts_lease(campaign=campaign, volunteer=request.user, count=held + campaign.batch_size)
    except ValidationError as exc:
        _error(request, exc)
    else:
        if batch.new:
            messages.success(request, f"{batch.new} more people to text.")
        elif batch.exhausted:
            messages.info(request, "Everyone has been texted: there's nobody left to give you.")
    return redirect("field:texting_home", campaign.pk)


@require_POST
@supporter_required
def texting_send(request, campaign_id: int, contact_id: int):
    """One click, one first text."""
    campaign = _campaign(campaign_id)
    contact = _contact(request, campaign, contact_id)
    error = ""
    try:
        texting.text_initial_send(contact=contact, volunteer=request.user)
    except ValidationError as exc:
        if getattr(exc, "code", None) != "already_sent":  # a double click: the first one went, the row will say so
            error = exc.messages[0]
    except PermissionDenied as exc:
        error = str(exc)
    if request.headers.get("HX-Request"):
        [row] = texting.texting_batch_rows(contacts=[contact], campaign=campaign, volunteer=request.user)
        return render(request, "field/texting/_row.html", {"campaign": campaign, "row": row, "error": error})
    if error:
        messages.error(request, error)
    return redirect("field:texting_home", campaign.pk)


# A conversation --------------------------------------------------------------------------------


@require_GET
@supporter_required
def texting_conversation(request, campaign_id: int, contact_id: int):
    campaign = _campaign(campaign_id)
    contact = _contact(request, campaign, contact_id)
    steps = [s for s in campaign.script.steps.prefetch_related("choices") if s.is_question]
    holds = contact.status == ContactStatus.LEASED and contact.leased_to_id == request.user.pk
    canned = [
        (response, _preview(response.body, contact, request.user)) for response in campaign.canned_responses.all()
    ]
    return render(
        request,
        "field/texting/conversation.html",
        {
            "campaign": campaign,
            "contact": contact,
            "texts": list(texting.conversation_texts(contact)),
            "holds": holds,
            "opted_out": texting.number_opted_out(contact.phone),
            "window": texting_window(zone=contact_zone(contact), now=timezone.now()),
            "canned": canned,
            "steps": steps,
            "dispositions": TEXT_DISPOSITIONS,
            # One token per form: a reply submitted twice is sent once.
            "reply_key": secrets.token_hex(12),
        },
    )


@require_GET
@supporter_required
def texting_thread(request, campaign_id: int, contact_id: int):
    """The messages alone, for htmx to poll."""
    campaign = _campaign(campaign_id)
    contact = _contact(request, campaign, contact_id)
    return render(
        request,
        "field/texting/_thread.html",
        {"campaign": campaign, "contact": contact, "texts": texting.conversation_texts(contact)},
    )


@require_POST
@supporter_required
def texting_reply(request, campaign_id: int, contact_id: int):
    campaign = _campaign(campaign_id)
    contact = _contact(request, campaign, contact_id)
    body = request.POST.get("body", "")
    canned_id = request.POST.get("canned", "")
    try:
        if canned_id:
            canned = get_object_or_404(CannedResponse, pk=_int(canned_id), campaign=campaign)
            body = texting.text_render(canned.body, person=contact.person, volunteer=request.user)
        texting.text_reply_send(contact=contact, volunteer=request.user, body=body, key=request.POST.get("key", ""))
    except (ValidationError, PermissionDenied) as exc:
        if getattr(exc, "code", None) != "already_sent":  # a double submit: the first one went
            _error(request, exc)
    return redirect("field:texting_conversation", campaign.pk, contact.pk)


@require_POST
@supporter_required
def texting_opt_out(request, campaign_id: int, contact_id: int):
    campaign = _campaign(campaign_id)
    contact = _contact(request, campaign, contact_id)
    texting.text_opt_out(contact=contact, volunteer=request.user)
    messages.success(request, f"{contact.phone} won't be texted again, by any campaign.")
    return redirect("field:texting_conversation", campaign.pk, contact.pk)


@require_POST
@supporter_required
def texting_record(request, campaign_id: int, contact_id: int):
    """The answers and how the conversation ended: the contact leaves the volunteer's batch."""
    campaign = _campaign(campaign_id)
    contact = _contact(request, campaign, contact_id)
    steps = list(campaign.script.steps.all())
    answers = answers_from_form(steps, *answers_posted(request.POST, steps, "q"))
    try:
        attempt_record(
            contact=contact,
            volunteer=request.user,
            disposition=request.POST.get("disposition", ""),
            answers=answers,
            notes=request.POST.get("notes", ""),
        )
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
        return redirect("field:texting_conversation", campaign.pk, contact.pk)
    messages.success(request, f"Saved. {contact.person.given_name or 'That conversation'} is done.")
    return redirect("field:texting_home", campaign.pk)


def _preview(source: str, contact, user) -> str:
    try:
        return texting.text_render(source, person=contact.person, volunteer=user)
    except ValidationError as exc:
        return exc.messages[0]


def _int(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0  # matches no row: the service refuses it with its own message


# The provider's webhook ------------------------------------------------------------------------


@csrf_exempt
@require_POST
def texting_inbound(request):
    """Incoming texts and delivery reports, signed by the provider (Twilio, or the sandbox).

    The signature covers the URL the provider called, which behind a TLS-terminating proxy is
    not the one Django sees: it is rebuilt from SITE_URL.
    """
    url = settings.SITE_URL.rstrip("/") + request.get_full_path()
    try:
        event = sms_provider().parse_webhook(url=url, params=request.POST, headers=dict(request.headers))
    except WebhookSignatureError:
        return HttpResponseForbidden("bad signature")
    except SmsError:
        return HttpResponseBadRequest("not a text or a delivery report")
    if isinstance(event, InboundMessage):
        texting.text_inbound_record(
            from_number=event.from_, to_number=event.to, body=event.body, provider_id=event.message_id
        )
    else:
        texting.text_delivery_record(provider_id=event.message_id, status=event.status, error_code=event.error_code)
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
