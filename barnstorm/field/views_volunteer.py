"""The volunteer's side of a phone bank, made for a phone: pick a phone bank, take a batch of
contacts, call them one by one from the script, record what happened, stop when you like.

Reads come from selectors_volunteer; every write goes through the services (`contacts_lease`,
`contacts_release`, `attempt_record`), and a call through the campaign line through
`calls.call_bridge_start`. A contact's page is found only among the contacts the
signed-in volunteer holds: anybody else's contact, or one whose lease ran out, is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from barnstorm.events.permissions import supporter_required
from barnstorm.field import calls, services
from barnstorm.field import selectors_volunteer as selectors
from barnstorm.field.models import Contact, Disposition, FieldCampaign

# What can happen on a call, in the order of the buttons ("Not home" is for doors).
PHONE_DISPOSITIONS = [
    (d.value, d.label)
    for d in (
        Disposition.REACHED,
        Disposition.NO_ANSWER,
        Disposition.LEFT_MESSAGE,
        Disposition.WRONG_NUMBER,
        Disposition.REFUSED,
        Disposition.MOVED,
        Disposition.DO_NOT_CONTACT,
    )
]


def _phone_bank(campaign_id: int) -> FieldCampaign:
    return get_object_or_404(selectors.phone_banks_visible().select_related("event"), pk=campaign_id)


@supporter_required
@require_GET
def home(request):
    """Every campaign open to volunteers, by kind: phone banks, texting, canvasses."""
    groups = selectors.campaigns_open_by_kind()
    context = {"groups": groups, "any_open": any(campaigns for _kind, campaigns in groups)}
    return render(request, "field/volunteer/home.html", context)


@supporter_required
@require_GET
def campaign(request, campaign_id: int):
    phone_bank = get_object_or_404(selectors.phone_bank_with_remaining(campaign_id))
    return _campaign_page(request, phone_bank)


def _campaign_page(request, phone_bank: FieldCampaign, *, exhausted: bool = False):
    held = list(services.contacts_held(campaign=phone_bank, volunteer=request.user))
    context = {"campaign": phone_bank, "held": held, "exhausted": exhausted}
    return render(request, "field/volunteer/campaign.html", context)


@supporter_required
@require_http_methods(["GET", "POST"])
def batch(request, campaign_id: int):
    """ "Give me 25": lease a batch, then go to its first contact.

    The page the redirect leads to (the call page) lists the whole batch, each contact as an
    element with `data-contact-id="<id>"`: that is what `bench field` reads after following the
    redirect. With nobody left to give and nothing held, this renders the "no more contacts"
    page itself (no ids on it).
    """
    phone_bank = _phone_bank(campaign_id)
    if request.method != "POST":  # e.g. back from signing in: the button is on the campaign page
        return redirect("field:campaign", campaign_id=phone_bank.pk)
    try:
        given = services.contacts_lease(campaign=phone_bank, volunteer=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("field:campaign", campaign_id=phone_bank.pk)
    if not given.contacts:
        return _campaign_page(request, phone_bank, exhausted=True)
    if given.exhausted:
        messages.info(request, _("These are the last contacts on the list for now."))
    return redirect("field:call", campaign_id=phone_bank.pk, contact_id=given.contacts[0].pk)


@supporter_required
@require_http_methods(["GET", "POST"])
def release(request, campaign_id: int):
    """ "Stop for now": the contacts the volunteer holds go back to the list, untouched."""
    phone_bank = _phone_bank(campaign_id)
    if request.method == "POST":
        returned = services.contacts_release(campaign=phone_bank, volunteer=request.user)
        if returned:
            messages.success(
                request,
                ngettext(
                    "%(n)d contact went back to the list. Thank you for calling!",
                    "%(n)d contacts went back to the list. Thank you for calling!",
                    returned,
                )
                % {"n": returned},
            )
    return redirect("field:campaign", campaign_id=phone_bank.pk)


@supporter_required
@require_http_methods(["GET", "POST"])
def call(request, campaign_id: int, contact_id: int):
    phone_bank = _phone_bank(campaign_id)
    held = list(services.contacts_held(campaign=phone_bank, volunteer=request.user))
    contact = next((c for c in held if c.pk == contact_id), None)
    if contact is None:
        raise Http404
    steps = selectors.script_steps(phone_bank.script_id)
    picked, texts, errors = {}, {}, []
    if request.method == "POST":
        picked, texts = selectors.answers_posted(request.POST, steps, "step-")
        try:
            services.attempt_record(
                contact=contact,
                volunteer=request.user,
                disposition=request.POST.get("disposition", ""),
                answers=selectors.answers_from_form(steps, picked, texts),
                notes=request.POST.get("notes", ""),
            )
        except PermissionDenied as error:  # the lease ran out between the page and the tap
            raise Http404 from error
        except ValidationError as error:
            errors = error.messages
        else:
            return _after_call(request, phone_bank, contact)
    lines = selectors.script_lines(steps, person=contact.person, volunteer=request.user, picked=picked, texts=texts)
    context = {
        "campaign": phone_bank,
        "contact": contact,
        "person": contact.person,
        "phone": selectors.phone_display(contact.phone),
        "held": held,
        "position": held.index(contact) + 1,
        "lines": lines,
        "dispositions": PHONE_DISPOSITIONS,
        "notes": request.POST.get("notes", ""),
        "errors": errors,
        "bridge": calls.call_bridge_available() and bool(contact.phone),
    }
    return render(request, "field/volunteer/call.html", context, status=400 if errors else 200)


@supporter_required
@require_POST
def call_bridge(request, campaign_id: int, contact_id: int):
    """ "Call through the campaign line": Twilio rings the volunteer, then connects the contact."""
    phone_bank = _phone_bank(campaign_id)
    contact = get_object_or_404(services.contacts_held(campaign=phone_bank, volunteer=request.user), pk=contact_id)
    try:
        calls.call_bridge_start(contact=contact, volunteer=request.user)
    except PermissionDenied as error:  # the lease ran out between the page and the tap
        raise Http404 from error
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        person = contact.person
        name = f"{person.given_name} {person.family_name}".strip() or selectors.phone_display(contact.phone)
        messages.success(request, _("Your phone will ring; answer it to be connected to %(name)s.") % {"name": name})
    return redirect("field:call", campaign_id=phone_bank.pk, contact_id=contact.pk)


def _after_call(request, phone_bank: FieldCampaign, done: Contact):
    """On to the next contact of the batch, or back to the campaign when the batch is done."""
    held = list(services.contacts_held(campaign=phone_bank, volunteer=request.user))
    following = next((c for c in held if c.pk > done.pk), held[0] if held else None)
    if following is None:
        messages.success(request, _("Saved. Batch done — get another?"))
        return redirect("field:campaign", campaign_id=phone_bank.pk)
    messages.success(request, _("Saved. On to the next call."))
    return redirect("field:call", campaign_id=phone_bank.pk, contact_id=following.pk)
