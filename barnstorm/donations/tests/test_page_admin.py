"""Staff configure donation pages and committees; outsiders can't."""

import pytest
from django.urls import reverse

from barnstorm.donations.models import Committee, DonationPage

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name,kwargs", [("donations:pages", {}), ("donations:page_add", {}), ("donations:committee_add", {})]
)
def test_outsiders_are_refused(client, outsider, name, kwargs):
    url = reverse(name, kwargs=kwargs)
    assert client.get(url).status_code == 302
    client.force_login(outsider)
    assert client.get(url).status_code == 403
    assert client.post(url, {"title": "x"}).status_code == 403
    assert not DonationPage.objects.exists() and not Committee.objects.exists()


def page_post(committee, second_committee, **overrides):
    data = {
        "slug": "spring-push",
        "title": "Spring push",
        "body": "Help us.",
        "is_active": "on",
        "suggested": "10, 27, 50",
        "highlighted": "27",
        "minimum": "1",
        "maximum": "2900",
        "frequencies": ["one_time", "monthly"],
        "recipients-TOTAL_FORMS": "2",
        "recipients-INITIAL_FORMS": "0",
        "recipients-MIN_NUM_FORMS": "0",
        "recipients-MAX_NUM_FORMS": "1000",
        "recipients-0-committee": committee.pk,
        "recipients-0-percent": "60",
        "recipients-1-committee": second_committee.pk,
        "recipients-1-percent": "40",
    }
    data.update(overrides)
    return data


def test_an_organizer_creates_a_split_page_that_donors_can_use(staff_client, client, committee, second_committee):
    response = staff_client.post(reverse("donations:page_add"), page_post(committee, second_committee))
    page = DonationPage.objects.get()
    assert response.status_code == 302
    assert page.suggested_amounts_cents == [1000, 2700, 5000] and page.highlighted_amount_cents == 2700
    assert page.max_amount_cents == 290000 and page.frequencies == ["one_time", "monthly"]
    assert list(page.recipients.values_list("committee_id", "share_bp")) == [
        (committee.pk, 6000),
        (second_committee.pk, 4000),
    ]
    html = client.get("/donate/spring-push/").content.decode()
    assert "Spring push" in html and 'value="monthly"' in html and 'value="weekly"' not in html


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"recipients-1-percent": "30"}, "The shares must add up to 100%."),
        ({"highlighted": "35"}, "must be one of the suggested amounts"),
        ({"suggested": "1,2,3,4,5,6,7,8"}, "At most seven"),
        ({"minimum": "50", "maximum": "10"}, "at least the minimum"),
    ],
)
def test_a_page_with_mistakes_is_refused_with_the_reason(staff_client, committee, second_committee, overrides, message):
    response = staff_client.post(reverse("donations:page_add"), page_post(committee, second_committee, **overrides))
    assert response.status_code == 400 and message in response.content.decode()
    assert not DonationPage.objects.exists()


def test_editing_a_page_replaces_its_recipients(staff_client, page, committee, second_committee):
    data = page_post(committee, second_committee, slug=page.slug)
    data.update(
        {"recipients-0-committee": second_committee.pk, "recipients-0-percent": "100", "recipients-1-committee": ""}
    )
    data["recipients-1-percent"] = ""
    staff_client.post(reverse("donations:page_edit", args=[page.pk]), data)
    assert list(page.recipients.values_list("committee_id", "share_bp")) == [(second_committee.pk, 10000)]


def test_a_committee_needs_a_well_formed_fec_id(staff_client):
    data = {
        "name": "New PAC",
        "fec_id": "12345",
        "office": "H",
        "report_form": "F3",
        "election_year": "2026",
        "over_limit_policy": "refuse",
    }
    response = staff_client.post(reverse("donations:committee_add"), data)
    assert response.status_code == 400 and "C followed by 8 digits" in response.content.decode()
    staff_client.post(reverse("donations:committee_add"), {**data, "fec_id": "C00111222"})
    assert Committee.objects.get().fec_id == "C00111222"


def test_a_page_image_is_uploaded_and_shown(staff_client, client, committee, second_committee, tmp_path, settings):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (8, 4), "red").save(buffer, "PNG")
    upload = SimpleUploadedFile("crowd.png", buffer.getvalue(), content_type="image/png")
    staff_client.post(reverse("donations:page_add"), {**page_post(committee, second_committee), "image": upload})
    page = DonationPage.objects.get()
    assert page.image.name.startswith("donation-pages/crowd")
    assert f'src="{page.image.url}"' in client.get("/donate/spring-push/").content.decode()
    not_an_image = SimpleUploadedFile("x.png", b"not a picture", content_type="image/png")
    response = staff_client.post(
        reverse("donations:page_add"), {**page_post(committee, second_committee, slug="other"), "image": not_an_image}
    )
    assert response.status_code == 400 and DonationPage.objects.count() == 1
