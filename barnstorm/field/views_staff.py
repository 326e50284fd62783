"""Organizers' field pages: scripts, campaigns (settings, launch, pause, resume, close), who holds
which contacts (release, reassign), sending numbers, and each campaign's dashboard. Every write is
a call to services_staff or the core field services; every figure comes from selectors_staff."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from barnstorm.accounts.permissions import organizer_required
from barnstorm.field import selectors_staff as selectors
from barnstorm.field import services, services_staff
from barnstorm.field.forms_staff import (
    CampaignForm,
    NumberForm,
    ReassignForm,
    ScriptForm,
    canned_formset,
    step_formset,
    with_one_more_step,
)
from barnstorm.field.models import CampaignKind, CampaignStatus, FieldCampaign, Script
from barnstorm.lib.charts import Point, Series, bar_chart, line_chart

PAGE_SIZE = 50
TOP_VOLUNTEERS_CHARTED = 20


def _page_number(request) -> int:
    try:
        return max(int(request.GET.get("page", 1)), 1)
    except ValueError:
        return 1


def _ints(values) -> list[int]:
    return [int(v) for v in values if str(v).isdigit()]


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _campaign(pk: int) -> FieldCampaign:
    return get_object_or_404(selectors.campaigns_for_pages(), pk=pk)


# Scripts -------------------------------------------------------------------------------------------


@organizer_required
def script_list(request):
    return render(request, "field/staff/script_list.html", {"scripts": selectors.script_list_rows()})


@organizer_required
def script_edit(request, pk=None):
    """One page for the whole script. "Add a step" posts the page back with room for one more,
    saving nothing, so nothing typed is lost and no JavaScript is needed."""
    script = get_object_or_404(Script, pk=pk) if pk else None
    steps = selectors.script_steps(script=script) if script else []
    status = 200
    if request.method == "POST":
        adding = "add_step" in request.POST
        data = with_one_more_step(request.POST) if adding else request.POST
        form = ScriptForm(data)
        formset = step_formset(script=script, steps=steps, data=data)
        if not adding:
            status = 400
            if form.is_valid() and formset.is_valid():
                inputs, chosen = formset.step_inputs()
                try:
                    script = services_staff.script_save(
                        name=form.cleaned_data["name"], steps=inputs, actor=request.user, script=script
                    )
                except ValidationError as error:
                    formset.add_service_errors(error, chosen, form)
                else:
                    messages.success(request, _("Saved."))
                    return redirect("field:staff_script", pk=script.pk)
    else:
        form = ScriptForm(initial={"name": script.name if script else ""})
        formset = step_formset(script=script, steps=steps)
    running = selectors.script_running_campaign(script=script) if script else None
    context = {"script": script, "form": form, "formset": formset, "running": running}
    return render(request, "field/staff/script_edit.html", context, status=status)


# Campaigns ----------------------------------------------------------------------------------------


@organizer_required
def campaign_list(request):
    number = _page_number(request)
    rows = list(selectors.campaign_list_rows()[(number - 1) * PAGE_SIZE : number * PAGE_SIZE + 1])
    context = {
        "campaigns": rows[:PAGE_SIZE],
        "has_next": len(rows) > PAGE_SIZE,
        "page_number": number,
        "leaderboard": selectors.volunteer_leaderboard(),
    }
    return render(request, "field/staff/campaign_list.html", context)


@organizer_required
def campaign_edit(request, pk=None):
    campaign = _campaign(pk) if pk else None
    if campaign is not None and campaign.status == CampaignStatus.CLOSED:
        messages.error(request, _("This campaign is closed: it can no longer be changed."))
        return redirect("field:staff_campaign", pk=campaign.pk)
    initial = CampaignForm.initial_for(campaign)
    if request.method == "POST":
        form = CampaignForm(request.POST, initial=initial, campaign=campaign)
        canned = canned_formset(campaign=campaign, data=request.POST)
        if form.is_valid() and canned.is_valid():
            try:
                campaign = services_staff.campaign_save(
                    fields=form.service_fields(),
                    sending_numbers=list(form.cleaned_data["sending_numbers"]),
                    canned_responses=canned.canned_inputs(),
                    actor=request.user,
                    campaign=campaign,
                )
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, _("Saved."))
                return redirect("field:staff_campaign", pk=campaign.pk)
    else:
        form = CampaignForm(initial=initial, campaign=campaign)
        canned = canned_formset(campaign=campaign)
    return render(
        request,
        "field/staff/campaign_edit.html",
        {"form": form, "canned": canned, "campaign": campaign},
        status=400 if request.method == "POST" else 200,
    )


def _charts(dashboard: selectors.Dashboard) -> dict:
    per_day = dashboard.days
    if len(per_day) == 1:  # one point draws no line: start from the (empty) day before
        per_day = [selectors.DayCount(per_day[0].day - timedelta(days=1), 0, 0), *per_day]
    days = line_chart(
        [
            Series(_("Attempts"), [d.attempts for d in per_day]),
            Series(_("Reached"), [d.reached for d in per_day]),
        ],
        labels=[formats.date_format(d.day, "M j") for d in per_day],
        title=_("Attempts and people reached each day"),
    )
    dispositions = bar_chart(
        [Point(d.label, d.count) for d in dashboard.dispositions if d.count],
        title=_("What happened on each attempt"),
        counts=True,
    )
    volunteers = bar_chart(
        [Point(v.name[:12], v.attempts, v.name) for v in dashboard.volunteers[:TOP_VOLUNTEERS_CHARTED]],
        title=_("Attempts per volunteer"),
        counts=True,
    )
    questions = [
        (
            question,
            bar_chart(
                [Point(r.label[:14], r.count, r.label) for r in question.responses],
                title=_("Answers to “%(question)s”") % {"question": question.step},
                counts=True,
            )
            if question.responses
            else None,
        )
        for question in dashboard.questions
    ]
    return {
        "days_chart": days,
        "dispositions_chart": dispositions,
        "volunteers_chart": volunteers,
        "questions": questions,
    }


@organizer_required
def campaign_detail(request, pk):
    campaign = _campaign(pk)
    dashboard = selectors.campaign_dashboard(campaign=campaign)
    context = {
        "campaign": campaign,
        "dashboard": dashboard,
        "launched_at": selectors.campaign_launched_at(campaign=campaign),
        "sending_numbers": list(campaign.sending_numbers.all()) if campaign.kind == CampaignKind.TEXT else [],
        "canned_responses": list(campaign.canned_responses.all()) if campaign.kind == CampaignKind.TEXT else [],
        "number_form": NumberForm(),
        **_charts(dashboard),
    }
    return render(request, "field/staff/campaign_detail.html", context)


def _change(request, pk, service, done):
    """Call a status-changing service and say how it went; always back to the campaign."""
    campaign = get_object_or_404(FieldCampaign, pk=pk)
    try:
        result = service(campaign=campaign, actor=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, done(result) if callable(done) else done)
    return redirect("field:staff_campaign", pk=campaign.pk)


@organizer_required
@require_POST
def campaign_launch(request, pk):
    def launched(campaign: FieldCampaign) -> str:
        count = campaign.contacts.count()
        return ngettext("Launched with %(count)s contact.", "Launched with %(count)s contacts.", count) % {
            "count": f"{count:,}"
        }

    return _change(request, pk, services_staff.campaign_start, launched)


@organizer_required
@require_POST
def campaign_pause(request, pk):
    return _change(
        request, pk, services_staff.campaign_pause, _("Paused: no new batches. Volunteers can finish what they hold.")
    )


@organizer_required
@require_POST
def campaign_resume(request, pk):
    return _change(request, pk, services_staff.campaign_resume, _("Running again."))


@organizer_required
@require_POST
def campaign_close(request, pk):
    def closed(released: int) -> str:
        return ngettext(
            "Closed. %(count)s contact held by a volunteer went back.",
            "Closed. %(count)s contacts held by volunteers went back.",
            released,
        ) % {"count": released}

    return _change(request, pk, services_staff.campaign_close, closed)


# Who holds what -------------------------------------------------------------------------------------


def _holders_page(request, campaign: FieldCampaign, form: ReassignForm, status: int = 200):
    context = {"campaign": campaign, "holders": selectors.campaign_holders(campaign=campaign), "form": form}
    return render(request, "field/staff/holders.html", context, status=status)


@organizer_required
def campaign_holders(request, pk):
    return _holders_page(request, _campaign(pk), ReassignForm())


@organizer_required
@require_POST
def campaign_release(request, pk):
    """Everything one volunteer holds goes back to the pool at once."""
    campaign = get_object_or_404(FieldCampaign, pk=pk)
    volunteer_ids = _ints([request.POST.get("volunteer", "")])
    volunteer = get_object_or_404(get_user_model(), pk=volunteer_ids[0] if volunteer_ids else None)
    released = services.contacts_release(campaign=campaign, volunteer=volunteer)
    messages.success(
        request,
        ngettext(
            "%(count)s contact held by %(name)s went back to the pool.",
            "%(count)s contacts held by %(name)s went back to the pool.",
            released,
        )
        % {"count": released, "name": volunteer.get_username()},
    )
    return redirect("field:staff_holders", pk=campaign.pk)


@organizer_required
@require_POST
def campaign_reassign(request, pk):
    """The contacts ticked, and everything held by the volunteers ticked, to another volunteer."""
    campaign = _campaign(pk)
    form = ReassignForm(request.POST)
    if not form.is_valid():
        return _holders_page(request, campaign, form, status=400)
    matches = selectors.volunteer_matches(who=form.cleaned_data["who"])
    if len(matches) != 1:
        form.add_error(
            "who",
            _("Several accounts have that email address: use the username.")
            if matches
            else _("Nobody has that username or email address."),
        )
        return _holders_page(request, campaign, form, status=400)
    to = matches[0]
    contact_ids = set(_ints(request.POST.getlist("contact")))
    contact_ids |= set(
        selectors.held_contact_ids(campaign=campaign, volunteer_ids=_ints(request.POST.getlist("holder")))
    )
    try:
        moved = services_staff.campaign_contacts_reassign(
            campaign=campaign, contact_ids=contact_ids, to=to, actor=request.user
        )
    except ValidationError as error:
        form.add_error(None, error)
        return _holders_page(request, campaign, form, status=400)
    messages.success(
        request,
        ngettext("%(count)s contact is now with %(name)s.", "%(count)s contacts are now with %(name)s.", moved)
        % {"count": moved, "name": to.get_username()},
    )
    return redirect("field:staff_holders", pk=campaign.pk)


# Sending numbers -------------------------------------------------------------------------------------


@organizer_required
def number_list(request):
    """The numbers texts go out from; the form adds one (to a campaign's pool too, from its page)."""
    form = NumberForm(request.POST or None)
    campaign = None
    if request.method == "POST":
        campaign_ids = _ints([request.POST.get("campaign", "")])
        campaign = get_object_or_404(FieldCampaign, pk=campaign_ids[0]) if campaign_ids else None
        if form.is_valid():
            try:
                number = services_staff.sending_number_add(
                    number=form.cleaned_data["number"],
                    daily_cap=form.cleaned_data["daily_cap"],
                    campaign=campaign,
                    actor=request.user,
                )
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, _("%(number)s added.") % {"number": number.number})
                if campaign is not None:
                    return redirect("field:staff_campaign", pk=campaign.pk)
                return redirect("field:staff_numbers")
    context = {"form": form, "numbers": selectors.sending_numbers_with_campaigns(), "campaign": campaign}
    return render(request, "field/staff/numbers.html", context, status=400 if request.method == "POST" else 200)
