"""The fundraising dashboard for staff, and its refcode table as CSV."""

from __future__ import annotations

import csv
from datetime import date, timedelta

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from barnstorm.accounts.permissions import organizer_required
from barnstorm.donations import dashboard as fundraising
from barnstorm.donations.models import Committee
from barnstorm.lib.charts import Point, bar_chart

MAX_DAYS = 366


class DashboardFilters(forms.Form):
    start = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    committee = forms.ModelChoiceField(
        label=gettext_lazy("Committee"),
        queryset=Committee.objects.only("id", "name"),
        required=False,
        empty_label=gettext_lazy("All committees"),
    )
    day = forms.DateField(
        label=gettext_lazy("Hours of"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Empty: the last 48 hours"),
    )

    def clean(self):
        data = super().clean()
        default = fundraising.default_span()
        end = data.get("end") or default.last_day
        start = data.get("start") or end - timedelta(days=fundraising.DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError(_("The first day must come before the last."))
        if (end - start).days >= MAX_DAYS:
            raise forms.ValidationError(_("Choose at most %(days)s days.") % {"days": MAX_DAYS})
        data["span"] = fundraising.span_of_days(first_day=start, last_day=end)
        return data


def _filters(request) -> tuple[DashboardFilters, fundraising.Span, Committee | None, date | None]:
    """The days, committee and hourly day asked for; the defaults when none (or nonsense) were."""
    default = fundraising.default_span()
    if not request.GET:
        return DashboardFilters(initial={"start": default.first_day, "end": default.last_day}), default, None, None
    form = DashboardFilters(request.GET)
    if form.is_valid():
        return form, form.cleaned_data["span"], form.cleaned_data["committee"], form.cleaned_data["day"]
    return form, default, None, None


@organizer_required
def dashboard(request):
    form, span, committee, day = _filters(request)
    figures = fundraising.fundraising_dashboard(span=span, committee=committee, hours_day=day)
    by_day_chart = bar_chart(
        [
            Point(formats.date_format(b.start, "M j"), b.net_cents, formats.date_format(b.start, "l, F j"))
            for b in figures.by_day
        ],
        title=_("Raised each day"),
    )
    by_hour_chart = bar_chart(
        [
            Point(formats.date_format(b.start, "P"), b.net_cents, formats.date_format(b.start, "D, M j, P"))
            for b in figures.by_hour
        ],
        title=_("Raised each hour"),
    )
    context = {
        "form": form,
        "figures": figures,
        "by_day_chart": by_day_chart,
        "by_hour_chart": by_hour_chart,
        "hours_label": formats.date_format(day, "l, F j, Y") if day else _("the last 48 hours"),
        "query": request.GET.urlencode(),
    }
    return render(request, "donations/staff/dashboard.html", context)


@organizer_required
def refcodes_csv(request):
    """The by-refcode table, every refcode, for the same days and committee as the page."""
    _form, span, committee, _day = _filters(request)
    rows = fundraising.totals_by_refcode(span=span, committee_id=committee.pk if committee else None, top=None)
    response = HttpResponse(content_type="text/csv")
    filename = f"refcodes-{span.first_day:%Y%m%d}-{span.last_day:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(["refcode", "contributions", "donors", "gross", "refunded", "net"])
    for row in rows:
        writer.writerow(
            [
                _cell(row.label),
                row.contributions,
                row.donors,
                _decimal_dollars(row.gross_cents),
                _decimal_dollars(row.gross_cents - row.net_cents),
                _decimal_dollars(row.net_cents),
            ]
        )
    return response


def _decimal_dollars(cents: int) -> str:
    """1234.50, as spreadsheets read it (the page shows $1,234.50)."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _cell(value: str) -> str:
    """Refcodes come from links anyone can craft: never let a spreadsheet read one as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
