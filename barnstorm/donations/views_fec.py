"""The staff page that downloads a committee's FEC report (.fec)."""

from __future__ import annotations

import tempfile

from django import forms
from django.http import FileResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from barnstorm.accounts.permissions import organizer_required
from barnstorm.donations.fec_export import REPORT_CODES, fec_export_write
from barnstorm.donations.models import Committee


class FecExportForm(forms.Form):
    committee = forms.ModelChoiceField(queryset=Committee.objects.order_by("name"), label=gettext_lazy("Committee"))
    date_from = forms.DateField(label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=gettext_lazy("Through"), widget=forms.DateInput(attrs={"type": "date"}))
    report_code = forms.ChoiceField(label=gettext_lazy("Report"), choices=list(REPORT_CODES.items()))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_from"] > cleaned["date_to"]:
            raise forms.ValidationError(_("The period ends before it starts."))
        return cleaned


@organizer_required
@require_GET
def fec_export(request):
    # A download changes nothing, so the form is a GET: its address can be bookmarked or shared.
    form = FecExportForm(request.GET if "committee" in request.GET else None)
    if not form.is_valid():
        return render(request, "donations/staff/fec_export.html", {"form": form}, status=400 if form.is_bound else 200)

    data = form.cleaned_data
    # Written to a temporary file before the first byte goes out, then streamed from it: a report
    # that cannot be written (a donor with no address on an itemized line…) is an error on this
    # page, never a truncated file that looks complete in the downloads folder. The rows are still
    # read from a database cursor, so the web process holds a chunk of them at a time.
    out = tempfile.TemporaryFile()
    try:
        fec_export_write(
            committee=data["committee"],
            date_from=data["date_from"],
            date_to=data["date_to"],
            report_code=data["report_code"],
            out=out,
        )
    except ValueError as e:
        out.close()
        form.add_error(None, _("The report could not be written: %(error)s") % {"error": e})
        return render(request, "donations/staff/fec_export.html", {"form": form}, status=400)
    out.seek(0)
    filename = f"{data['committee'].fec_id}-{data['report_code']}-{data['date_to']:%Y%m%d}.fec"
    return FileResponse(out, as_attachment=True, filename=filename, content_type="text/plain; charset=us-ascii")
