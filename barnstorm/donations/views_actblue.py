"""Staff page for importing an ActBlue contribution export: upload it, watch it run, see what was rejected."""

from uuid import UUID

from django import forms
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from barnstorm.accounts.permissions import organizer_required
from barnstorm.donations import actblue

FINISHED = ("done", "failed")
STATUS_LABELS = {
    "queued": gettext_lazy("Waiting for a worker"),
    "running": gettext_lazy("Importing"),
    "done": gettext_lazy("Done"),
    "failed": gettext_lazy("Failed"),
}


def _labelled(job: dict) -> dict:
    return {**job, "status_label": STATUS_LABELS.get(job.get("status", ""), job.get("status", ""))}


class ActBlueUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("ActBlue contribution export (CSV)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv"}),
    )


@organizer_required
def actblue_import(request):
    form = ActBlueUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            token = actblue.job_create(chunks=upload.chunks(), original_name=upload.name, actor=request.user)
        except actblue.ActBlueFileError as e:
            form.add_error("file", str(e))
        else:
            return redirect("donations:actblue_import_result", token=token)
    context = {"form": form, "jobs": [_labelled(job) for job in actblue.recent_jobs()]}
    return render(request, "donations/staff/actblue_import.html", context, status=400 if form.errors else 200)


@organizer_required
def actblue_import_result(request, token: UUID):
    job = actblue.job_state(token)
    if job is None:
        raise Http404
    context = {
        "job": _labelled(job),
        "token": token,
        "finished": job.get("status") in FINISHED,
        "rejects": actblue.job_rejects(token) if job.get("rejected") else [],
    }
    return render(request, "donations/staff/actblue_import.html", context)


@organizer_required
def actblue_import_rejects(request, token: UUID):
    job = actblue.job_state(token)
    _upload, _state, report = actblue.job_paths(token)
    if job is None or not report.is_file():
        raise Http404(_("This import has no rejected rows."))
    stem = job.get("name", "").rsplit(".", 1)[0] or str(token)
    return FileResponse(report.open("rb"), as_attachment=True, filename=f"rejected-{stem}.csv", content_type="text/csv")
