"""Staff pages for importing people from CSV: upload, map the columns, watch the job run."""

from pathlib import Path
from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from barnstorm.accounts.permissions import organizer_required
from barnstorm.people import imports
from barnstorm.people.models import ImportJob

SAMPLE_ROWS = 3


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"), widget=forms.ClearableFileInput(attrs={"accept": ".csv"}))


def _session_key(token: UUID) -> str:
    return f"import-upload-{token}"


@organizer_required
def import_upload(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        token = imports.upload_store(chunks=upload.chunks())
        request.session[_session_key(token)] = upload.name
        return redirect("people:import_map", token=token)
    jobs = ImportJob.objects.select_related("created_by")[:10]
    return render(request, "people/import_upload.html", {"form": form, "jobs": jobs})


@organizer_required
def import_map(request, token: UUID):
    path = imports.upload_path(token)
    if not path.is_file():
        raise Http404
    original_name = request.session.get(_session_key(token), path.name)
    try:
        headers, samples = imports.read_preview(path=path, rows=SAMPLE_ROWS)
    except imports.ImportFileError as e:
        messages.error(request, str(e))
        return redirect("people:import")
    mapping = imports.guess_mapping(headers)
    tags, error = "", ""
    if request.method == "POST":
        mapping = {header: request.POST.get(f"column-{i}", "") for i, header in enumerate(headers)}
        tags = request.POST.get("tags", "")
        try:
            job = imports.import_job_create(
                path=path, original_name=original_name, mapping=mapping, tags=tags.split(","), actor=request.user
            )
        except imports.ImportFileError as e:
            error = str(e)
        else:
            return redirect("people:import_job", job_id=job.pk)
    columns = [
        {
            "index": i,
            "header": header,
            "selected": mapping.get(header, ""),
            "samples": [row[i] for row in samples if i < len(row)],
        }
        for i, header in enumerate(headers)
    ]
    context = {
        "original_name": original_name,
        "columns": columns,
        "targets": imports.target_choices(),
        "custom_prefix": imports.CUSTOM_PREFIX,
        "tags": tags,
        "error": error,
    }
    return render(request, "people/import_map.html", context, status=400 if error else 200)


@organizer_required
def import_job(request, job_id: int):
    job = get_object_or_404(ImportJob, pk=job_id)
    return render(request, "people/import_job.html", {"job": job})


@organizer_required
def import_progress(request, job_id: int):
    job = get_object_or_404(ImportJob, pk=job_id)
    return render(request, "people/import_progress.html", {"job": job})


@organizer_required
def import_report(request, job_id: int):
    job = get_object_or_404(ImportJob, pk=job_id)
    report = Path(job.report_path) if job.report_path else None
    if report is None or not report.is_file():
        raise Http404(_("This import has no report."))
    filename = f"rejected-{Path(job.original_name).stem or job.pk}.csv"
    return FileResponse(report.open("rb"), as_attachment=True, filename=filename, content_type="text/csv")
