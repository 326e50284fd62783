import csv
import io
import re
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from barnstorm.activity.models import Activity
from barnstorm.people.imports import import_job_create, import_job_run
from barnstorm.people.models import ImportJob, ImportStatus, Person

pytestmark = pytest.mark.django_db

CSV = (
    "First Name,Last Name,E-mail,Cell,Shirt,Notes\n"
    "Ann,Lee,ann@example.com,515-555-0134,M,likes cats\n"
    "Bob,Ray,not-an-email,,L,\n"
    "Cy,Day,cy@example.com,,S,\n"
)


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path):
    settings.IMPORT_DIR = tmp_path / "imports"  # not there yet: the upload makes it
    return settings.IMPORT_DIR


def upload(client, content=CSV, name="iowa.csv"):
    data = content.encode() if isinstance(content, str) else content
    response = client.post(reverse("people:import"), {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 302
    return response["Location"]


def make_job(import_dir, organizer, content=CSV):
    import_dir.mkdir(parents=True, exist_ok=True)
    path = import_dir / "job.csv"
    path.write_text(content)
    return import_job_create(path=path, original_name="iowa.csv", mapping={}, actor=organizer)


def test_upload_map_run_and_download_the_report(staff_client, import_dir, django_capture_on_commit_callbacks):
    map_url = upload(staff_client)
    [stored] = import_dir.iterdir()
    assert stored.read_text() == CSV

    page = staff_client.get(map_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "iowa.csv" in html
    # Recognised headers are preselected; unknown ones are left out; first values are shown.
    assert re.search(r'name="column-0">.*?<option value="given_name" selected>', html, re.S)
    assert re.search(r'name="column-3">.*?<option value="phone" selected>', html, re.S)
    assert not re.search(r'name="column-4">.*?selected.*?</select>', html, re.S)
    assert "likes cats" in html

    form = {"column-0": "given_name", "column-1": "family_name", "column-2": "email", "column-3": "phone"}
    form.update({"column-4": "custom:Shirt", "column-5": "", "tags": "rally, iowa"})
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff_client.post(map_url, form)
    assert len(callbacks) == 1
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("people:import_job", args=[job.pk])

    assert job.status == ImportStatus.DONE
    assert (job.total_rows, job.processed_rows, job.imported, job.updated, job.rejected) == (3, 3, 2, 0, 1)
    assert job.mapping["Shirt"] == "custom:Shirt" and job.tags == ["rally", "iowa"]
    assert job.finished_at is not None and job.created_by.username == "olivia"
    assert not Path(job.file_path).exists()  # the upload, full of personal data, is gone
    ann = Person.objects.get(emails__address="ann@example.com")
    assert ann.custom_fields == {"Shirt": "M"}
    assert sorted(ann.tags.values_list("name", flat=True)) == ["iowa", "rally"]
    assert ann.source == "import: iowa.csv"
    assert Activity.objects.filter(kind="imported", data__import="iowa.csv").count() == 2

    page = staff_client.get(response["Location"])
    assert page.status_code == 200 and 'id="import-progress"' in page.content.decode()

    fragment = staff_client.get(reverse("people:import_progress", args=[job.pk])).content.decode()
    assert "hx-trigger" not in fragment  # done: the page stops polling
    assert "Done" in fragment
    assert re.search(r"Imported</div><div class=\"stat\">2<", fragment)
    assert re.search(r"Rejected</div><div class=\"stat\">1<", fragment)
    assert reverse("people:import_report", args=[job.pk]) in fragment

    report = staff_client.get(reverse("people:import_report", args=[job.pk]))
    assert report.status_code == 200
    assert "attachment" in report["Content-Disposition"] and "rejected-iowa.csv" in report["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(report.streaming_content).decode())))
    assert [(r["First Name"], r["line"]) for r in rows] == [("Bob", "3")]
    assert "not a valid email address" in rows[0]["reason"]


def test_the_map_page_refuses_a_mapping_without_email_or_phone(staff_client, django_capture_on_commit_callbacks):
    map_url = upload(staff_client)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(map_url, {"column-0": "given_name", "column-2": "", "column-3": ""})
    assert response.status_code == 400
    assert "email addresses or phone numbers" in response.content.decode()
    assert ImportJob.objects.count() == 0 and Person.objects.count() == 0


def test_an_empty_upload_is_refused(staff_client, import_dir):
    response = staff_client.post(reverse("people:import"), {"file": SimpleUploadedFile("x.csv", b"")})
    assert response.status_code == 200 and response.context["form"].errors["file"]
    assert not import_dir.exists() or not any(import_dir.iterdir())


def test_a_file_that_cannot_be_read_goes_back_with_the_reason(staff_client):
    map_url = upload(staff_client, content=CSV.encode("utf-16"))
    response = staff_client.get(map_url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("people:import")
    assert "header row cannot be read: wrong encoding" in response.content.decode()


def test_an_unknown_upload_is_not_found(staff_client):
    assert staff_client.get(reverse("people:import_map", args=[uuid.uuid4()])).status_code == 404


def test_the_progress_fragment_polls_until_the_job_is_done(staff_client, import_dir, organizer):
    job = make_job(import_dir, organizer)  # queued: on_commit never ran
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, total_rows=200, processed_rows=50)
    fragment = staff_client.get(reverse("people:import_progress", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in fragment
    assert reverse("people:import_progress", args=[job.pk]) in fragment
    assert 'aria-valuenow="25"' in fragment and "50 of 200 rows" in fragment


def test_a_job_that_is_done_is_not_run_again(import_dir, organizer):
    job = make_job(import_dir, organizer)
    import_job_run(job_id=job.pk)
    import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.imported, job.updated, job.rejected) == (ImportStatus.DONE, 2, 0, 1)
    assert Activity.objects.filter(kind="imported").count() == 2


def test_a_job_whose_file_is_gone_fails_with_the_reason(import_dir, organizer, staff_client):
    job = make_job(import_dir, organizer)
    (import_dir / "job.csv").unlink()
    import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and "cannot be read" in job.error
    fragment = staff_client.get(reverse("people:import_progress", args=[job.pk])).content.decode()
    assert "hx-trigger" not in fragment and "cannot be read" in fragment


def test_the_upload_page_lists_recent_imports_and_the_nav_links_to_it(staff_client, import_dir, organizer):
    job = make_job(import_dir, organizer)
    html = staff_client.get(reverse("people:import")).content.decode()
    assert reverse("people:import_job", args=[job.pk]) in html
    assert f'href="{reverse("people:import")}"' in html


def import_urls(job, token):
    return [
        ("get", reverse("people:import")),
        ("post", reverse("people:import")),
        ("get", reverse("people:import_map", args=[token])),
        ("post", reverse("people:import_map", args=[token])),
        ("get", reverse("people:import_job", args=[job.pk])),
        ("get", reverse("people:import_progress", args=[job.pk])),
        ("get", reverse("people:import_report", args=[job.pk])),
    ]


def test_outsiders_and_anonymous_visitors_are_refused_everywhere(
    client, outsider, organizer, import_dir, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = make_job(import_dir, organizer)
    assert ImportJob.objects.get().rejected == 1  # the report exists: refusals are about who asks
    token = uuid.uuid4()
    (import_dir / f"{token}.csv").write_text(CSV)
    form = {"column-2": "email", "file": SimpleUploadedFile("x.csv", CSV.encode())}
    urls = import_urls(job, token)

    for method, url in urls:
        response = getattr(client, method)(url, form if method == "post" else None)
        assert response.status_code == 302 and "/login/" in response["Location"], url
    client.force_login(outsider)
    for method, url in urls:
        response = getattr(client, method)(url, form if method == "post" else None)
        assert response.status_code == 403, url
    assert ImportJob.objects.count() == 1
    # Nothing new was stored (the job's own upload went when it finished).
    assert sorted(p.name for p in import_dir.iterdir()) == sorted(["job.rejects.csv", f"{token}.csv"])
