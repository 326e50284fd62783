"""Staff pages for mailings: the list, compose, preview and test, schedule or send, watch it go
out, and see what it achieved. Every write is a call to services; every figure comes from
selectors."""

from __future__ import annotations

import smtplib

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from barnstorm.accounts.permissions import organizer_required
from barnstorm.lib.charts import Point, Series, bar_chart, line_chart
from barnstorm.mailings import selectors, services
from barnstorm.mailings.forms import SUBJECT_FIELDS, MailingForm, ScheduleForm, TestSendForm, TopicForm
from barnstorm.mailings.models import Mailing, MailingStatus

PAGE_SIZE = 50
POLL_WHILE = (MailingStatus.SENDING,)


def _page_number(request) -> int:
    try:
        return max(int(request.GET.get("page", 1)), 1)
    except ValueError:
        return 1


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


@organizer_required
def mailing_list(request):
    number = _page_number(request)
    rows = list(selectors.mailing_list_rows()[(number - 1) * PAGE_SIZE : number * PAGE_SIZE + 1])
    context = {"mailings": rows[:PAGE_SIZE], "has_next": len(rows) > PAGE_SIZE, "page_number": number}
    return render(request, "mailings/staff/list.html", context)


@organizer_required
def mailing_edit(request, pk=None):
    mailing = get_object_or_404(Mailing, pk=pk) if pk else None
    if mailing is not None and not mailing.is_editable:
        messages.error(request, _("This mailing has started sending: it can no longer be changed."))
        return redirect("mailings:detail", pk=mailing.pk)
    if request.method == "POST":
        form = MailingForm(request.POST)
        if form.is_valid():
            try:
                mailing = services.mailing_save(**form.service_arguments(), actor=request.user, mailing=mailing)
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, _("Saved."))
                return redirect("mailings:detail", pk=mailing.pk)
    else:
        form = MailingForm(initial=MailingForm.initial_for(mailing))
    return render(
        request,
        "mailings/staff/edit.html",
        {"form": form, "mailing": mailing, "subject_fields": [form[name] for name in SUBJECT_FIELDS]},
        status=400 if request.method == "POST" else 200,
    )


def _subject(variant: selectors.VariantResult) -> dict:
    return {"letter": variant.letter, "subject": variant.subject}


def _charts(results: selectors.Results) -> dict:
    hours = results.hours
    timeline = line_chart(
        [
            Series(_("Opens"), [h.opens for h in hours]),
            Series(_("Clicks"), [h.clicks for h in hours]),
        ],
        labels=[formats.date_format(timezone.localtime(h.start), "P") for h in hours],
        title=_("Opens and clicks each hour"),
    )
    variants = results.variants
    actions = bar_chart(
        [Point(v.letter, v.actions.total, _("Subject %(letter)s: %(subject)s") % _subject(v)) for v in variants],
        title=_("Actions per subject variant"),
        counts=True,
    )
    dollars = bar_chart(
        [
            Point(v.letter, v.actions.dollars_cents, _("Subject %(letter)s: %(subject)s") % _subject(v))
            for v in variants
        ],
        title=_("Dollars per subject variant"),
    )
    return {"timeline_chart": timeline, "actions_chart": actions, "dollars_chart": dollars}


def _detail(request, mailing: Mailing, *, schedule_form: ScheduleForm | None = None, status: int = 200):
    started = mailing.started_at is not None
    results = selectors.mailing_results(mailing=mailing) if started else None
    context = {
        "mailing": mailing,
        "variants": list(mailing.variants.all()),
        "exclusions": list(mailing.exclusions.all()),
        "schedule_form": schedule_form or ScheduleForm(initial={"send_at": mailing.send_at}),
        "test_form": TestSendForm(initial={"to": request.user.email}),
        "progress": selectors.mailing_progress(mailing=mailing) if started else None,
        "polling": mailing.status in POLL_WHILE,
        "results": results,
        **(_charts(results) if results else {}),
    }
    return render(request, "mailings/staff/detail.html", context, status=status)


def _mailing(pk: int) -> Mailing:
    return get_object_or_404(Mailing.objects.select_related("segment", "topic", "created_by"), pk=pk)


@organizer_required
def mailing_detail(request, pk):
    return _detail(request, _mailing(pk))


@organizer_required
def mailing_preview(request, pk):
    mailing = _mailing(pk)
    context = {
        "mailing": mailing,
        "previews": selectors.mailing_preview(mailing=mailing),
        "test_form": TestSendForm(initial={"to": request.user.email}),
    }
    return render(request, "mailings/staff/preview.html", context)


@organizer_required
def mailing_test(request, pk):
    """A test of every subject variant to one address (the organizer's own, unless changed)."""
    mailing = _mailing(pk)
    form = TestSendForm(request.POST or None, initial={"to": request.user.email})
    if request.method == "POST" and form.is_valid():
        to = form.cleaned_data["to"]
        try:
            sent = services.mailing_test_send(mailing=mailing, to=to, actor=request.user)
        except (smtplib.SMTPException, OSError) as error:
            messages.error(request, _("The mail server did not take the test: %(error)s") % {"error": error})
        else:
            messages.success(
                request,
                ngettext(
                    "Sent %(count)s test message to %(to)s.",
                    "Sent %(count)s test messages, one per subject, to %(to)s.",
                    sent,
                )
                % {"count": sent, "to": to},
            )
        return redirect("mailings:preview", pk=mailing.pk)
    return render(
        request,
        "mailings/staff/test_send.html",
        {"mailing": mailing, "test_form": form},
        status=400 if request.method == "POST" else 200,
    )


@organizer_required
@require_POST
def mailing_schedule(request, pk):
    mailing = _mailing(pk)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        return _detail(request, mailing, schedule_form=form, status=400)
    try:
        mailing = services.mailing_schedule(mailing=mailing, send_at=form.cleaned_data["send_at"], actor=request.user)
    except ValidationError as error:
        if "send_at" in getattr(error, "error_dict", {}):
            form.add_error("send_at", error.error_dict["send_at"])
            return _detail(request, mailing, schedule_form=form, status=400)
        messages.error(request, _error_text(error))
    else:
        when = formats.date_format(timezone.localtime(mailing.send_at), "DATETIME_FORMAT")
        messages.success(request, _("Scheduled to send %(when)s.") % {"when": when})
    return redirect("mailings:detail", pk=mailing.pk)


def _change(request, pk, service, done: str):
    """Call a state-changing service on the mailing and say how it went; always back to the detail page."""
    mailing = _mailing(pk)
    try:
        service(mailing=mailing, actor=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, done)
    return redirect("mailings:detail", pk=mailing.pk)


@organizer_required
@require_POST
def mailing_unschedule(request, pk):
    return _change(request, pk, services.mailing_unschedule, _("No longer scheduled: it is a draft again."))


@organizer_required
@require_POST
def mailing_pause(request, pk):
    return _change(request, pk, services.mailing_pause, _("Paused. Messages being sent now finish; no more start."))


@organizer_required
@require_POST
def mailing_resume(request, pk):
    return _change(request, pk, services.mailing_resume, _("Sending again."))


@organizer_required
@require_POST
def mailing_stop(request, pk):
    return _change(request, pk, services.mailing_stop, _("Stopped. Nobody else will get it."))


@organizer_required
@require_POST
def mailing_send_now(request, pk):
    mailing = _mailing(pk)
    was = mailing.status
    try:
        mailing = services.mailing_start(mailing=mailing, actor=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        if was not in (MailingStatus.DRAFT, MailingStatus.SCHEDULED):
            messages.error(request, _("This mailing had already started."))
        else:
            messages.success(
                request,
                ngettext("Sending to %(count)s person.", "Sending to %(count)s people.", mailing.recipients)
                % {"count": f"{mailing.recipients:,}"},
            )
    return redirect("mailings:detail", pk=mailing.pk)


@organizer_required
def mailing_progress(request, pk):
    """htmx, every 2 s while sending: the progress bar and counts by status."""
    mailing = get_object_or_404(Mailing, pk=pk)
    context = {
        "mailing": mailing,
        "progress": selectors.mailing_progress(mailing=mailing),
        "polling": mailing.status in POLL_WHILE,
    }
    response = render(request, "mailings/staff/_progress.html", context)
    if request.headers.get("HX-Request") and mailing.status not in POLL_WHILE:
        # Finished, paused or stopped since the page was drawn: redraw it whole, so its buttons
        # and results match (the new page no longer polls).
        response["HX-Refresh"] = "true"
    return response


@organizer_required
def topic_list(request):
    form = TopicForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            data = form.cleaned_data
            topic = services.topic_create(name=data["name"], description=data["description"], actor=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Topic “%(name)s” added.") % {"name": topic.name})
            return redirect("mailings:topics")
    return render(
        request,
        "mailings/staff/topics.html",
        {"form": form, "topics": selectors.topic_list_rows()},
        status=400 if request.method == "POST" else 200,
    )
