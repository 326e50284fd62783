"""The staff mailing pages: only organizers get in; compose, preview, test, send and control a send."""

import datetime
import zoneinfo

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from barnstorm.mailings import services
from barnstorm.mailings.models import Delivery, DeliveryStatus, Mailing, MailingStatus, Topic

ROUTES_WITH_A_MAILING = [
    "detail", "edit", "preview", "test_send", "schedule", "unschedule", "send", "pause", "resume", "stop", "progress",
]  # fmt: skip
ROUTES = ["list", "new", "topics"]


def staff_urls(mailing):
    return [reverse(f"mailings:{name}") for name in ROUTES] + [
        reverse(f"mailings:{name}", args=[mailing.pk]) for name in ROUTES_WITH_A_MAILING
    ]


def compose_data(iowa, **overrides):
    data = {
        "name": "Spring appeal",
        "from_name": "Team Rivera",
        "from_address": "team@rivera.test",
        "reply_to": "",
        "subject_0": "{{ person.given_name|default:'Friend' }}, can you chip in?",
        "subject_1": "Before midnight",
        "subject_2": "",
        "subject_3": "",
        "html_body": '<p>Hi {{ person.given_name|default:"Friend" }},</p><p><a href="http://127.0.0.1:8000/donate/main/">Give</a></p>',
        "text_body": "",
        "segment": iowa.pk,
        "rate_limit": "0",
        "ab_sample_percent": "20",
        "ab_measure": "clicks",
        "ab_wait_minutes": "60",
    }
    data.update(overrides)
    return data


def start_without_sending(mailing, organizer):
    """Recipients taken and the status is sending; the batches (on_commit) don't run."""
    services.mailing_start(mailing=mailing, actor=organizer)
    mailing.refresh_from_db()
    return mailing


# Who may come in --------------------------------------------------------------------------------


def test_every_page_sends_anonymous_visitors_to_log_in(client, make_mailing):
    mailing = make_mailing()
    for url in staff_urls(mailing):
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("accounts:login")), url


def test_every_page_refuses_a_volunteer(outsider_client, make_mailing, supporters, django_capture_on_commit_callbacks):
    mailing = make_mailing()
    with django_capture_on_commit_callbacks(execute=True):
        for url in staff_urls(mailing):
            assert outsider_client.get(url).status_code == 403, url
            assert outsider_client.post(url, {"to": "victor@example.test"}).status_code == 403, url

    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.DRAFT
    assert mail.outbox == []
    assert not Topic.objects.exists()


# Compose ----------------------------------------------------------------------------------------


def test_the_compose_form_offers_the_personalisation_and_defaults(staff_client):
    response = staff_client.get(reverse("mailings:new"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "person.given_name|default:&quot;Friend&quot;" in page
    assert "suggested_amount" in page and "next_step.url" in page and "if event" in page
    assert response.context["form"]["from_address"].value() == "hello@barnstorm.localhost"


def test_saving_the_compose_form_creates_a_mailing_with_its_subject_variants(staff_client, iowa, organizer):
    response = staff_client.post(reverse("mailings:new"), compose_data(iowa))

    mailing = Mailing.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("mailings:detail", args=[mailing.pk])
    assert (mailing.name, mailing.segment, mailing.status, mailing.created_by) == (
        "Spring appeal",
        iowa,
        MailingStatus.DRAFT,
        organizer,
    )
    assert list(mailing.variants.values_list("subject", flat=True)) == [
        "{{ person.given_name|default:'Friend' }}, can you chip in?",
        "Before midnight",
    ]


def test_editing_changes_the_mailing_and_its_subjects(staff_client, make_mailing, iowa):
    mailing = make_mailing()
    url = reverse("mailings:edit", args=[mailing.pk])
    assert staff_client.get(url).context["form"]["subject_0"].value() == mailing.variants.get().subject

    staff_client.post(url, compose_data(iowa, name="Renamed", subject_0="Only one", subject_1=""))

    mailing.refresh_from_db()
    assert mailing.name == "Renamed"
    assert list(mailing.variants.values_list("subject", flat=True)) == ["Only one"]


def test_bad_template_syntax_is_shown_on_its_field(staff_client, iowa):
    response = staff_client.post(reverse("mailings:new"), compose_data(iowa, html_body="<p>{% if %}</p>"))

    assert response.status_code == 400
    assert response.context["form"].errors["html_body"]
    assert "html_body" in response.context["form"].errors
    assert "errorlist" in response.content.decode()
    assert not Mailing.objects.exists()


def test_a_bad_subject_after_a_blank_one_is_shown_on_the_field_it_was_written_in(staff_client, iowa):
    data = compose_data(iowa, subject_1="", subject_2="{% endif %}")

    errors = staff_client.post(reverse("mailings:new"), data).context["form"].errors

    assert list(errors) == ["subject_2"]


def test_no_subject_at_all_is_refused_on_the_first_subject(staff_client, iowa):
    errors = (
        staff_client.post(reverse("mailings:new"), compose_data(iowa, subject_0="", subject_1=""))
        .context["form"]
        .errors
    )

    assert "subject" in errors["subject_0"][0].lower()


@pytest.mark.parametrize(
    "percent, message",
    [
        ("0", "Ensure this value is greater than or equal to 1."),
        ("101", "Ensure this value is less than or equal to 100."),
    ],
)
def test_an_ab_sample_outside_1_to_100_percent_is_shown_on_its_field(staff_client, iowa, percent, message):
    response = staff_client.post(reverse("mailings:new"), compose_data(iowa, ab_sample_percent=percent))

    assert response.status_code == 400
    assert response.context["form"].errors["ab_sample_percent"] == [message]
    assert not Mailing.objects.exists()


def test_a_mailing_that_started_cannot_be_edited(staff_client, make_mailing, organizer, iowa):
    mailing = start_without_sending(make_mailing(), organizer)
    url = reverse("mailings:edit", args=[mailing.pk])

    assert staff_client.get(url)["Location"] == reverse("mailings:detail", args=[mailing.pk])
    staff_client.post(url, compose_data(iowa, name="Changed"))
    mailing.refresh_from_db()
    assert mailing.name == "Weekly update"


# Preview and test --------------------------------------------------------------------------------


def test_the_preview_shows_the_first_three_people_of_the_target(staff_client, make_mailing, supporters):
    mailing = make_mailing(subjects=("Hello {{ person.given_name }}", "Hi {{ person.full_name }}"))

    response = staff_client.get(reverse("mailings:preview", args=[mailing.pk]))

    page = response.content.decode()
    assert [p.name for p in response.context["previews"]] == ["Fan0 Lee", "Fan1 Lee", "Fan2 Lee"]
    assert "Hello Fan1" in page and "Hi Fan2 Lee" in page
    assert page.count('sandbox=""') == 6  # desktop and phone, for each of the three
    assert "width: 377px" in page
    assert "Hi Fan0!" in page  # the HTML, escaped inside srcdoc
    assert "Fan3" not in page
    assert "refcode=mail-" in page  # links keep their destination, with the refcode


def test_the_preview_keeps_the_message_html_inside_the_frame(staff_client, make_mailing, supporters):
    mailing = make_mailing(html_body='<p>"quoted"</p><script>alert(1)</script>')

    page = staff_client.get(reverse("mailings:preview", args=[mailing.pk])).content.decode()

    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)" in page


def test_the_preview_of_an_empty_target_uses_the_sample_person(staff_client, make_mailing, db):
    mailing = make_mailing()  # nobody is tagged iowa

    response = staff_client.get(reverse("mailings:preview", args=[mailing.pk]))

    assert [p.name for p in response.context["previews"]] == ["Alex Rivera"]
    assert "Hello Alex" in response.content.decode()


def test_a_test_send_mails_every_variant_marked_test_to_the_organizer(staff_client, make_mailing, organizer):
    mailing = make_mailing(subjects=("Hello {{ person.given_name }}", "Last chance"))
    form = staff_client.get(reverse("mailings:test_send", args=[mailing.pk])).context["test_form"]
    assert form["to"].value() == organizer.email

    response = staff_client.post(reverse("mailings:test_send", args=[mailing.pk]), {"to": organizer.email}, follow=True)

    assert sorted(m.subject for m in mail.outbox) == ["[Test A] Hello Alex", "[Test B] Last chance"]
    assert {m.to[0] for m in mail.outbox} == {organizer.email}
    assert "Sent 2 test messages" in response.content.decode()
    assert not Delivery.objects.exists()


def test_a_test_send_to_a_bad_address_says_so(staff_client, make_mailing):
    mailing = make_mailing()

    response = staff_client.post(reverse("mailings:test_send", args=[mailing.pk]), {"to": "not an address"})

    assert response.status_code == 400
    assert response.context["test_form"].errors["to"]
    assert mail.outbox == []


# Schedule, send, pause, resume, stop --------------------------------------------------------------


def test_scheduling_reads_the_time_in_the_sites_time_zone(staff_client, make_mailing, settings):
    mailing = make_mailing()
    local = datetime.datetime.now(zoneinfo.ZoneInfo(settings.TIME_ZONE)) + datetime.timedelta(days=2)
    field = local.strftime("%Y-%m-%dT%H:%M")

    staff_client.post(reverse("mailings:schedule", args=[mailing.pk]), {"send_at": field})

    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SCHEDULED
    assert mailing.send_at == local.replace(second=0, microsecond=0)
    page = staff_client.get(reverse("mailings:detail", args=[mailing.pk])).content.decode()
    assert f'value="{field}"' in page
    assert reverse("mailings:unschedule", args=[mailing.pk]) in page


def test_a_time_in_the_past_is_refused(staff_client, make_mailing):
    mailing = make_mailing()

    response = staff_client.post(reverse("mailings:schedule", args=[mailing.pk]), {"send_at": "2001-01-01T09:00"})

    assert response.status_code == 400
    assert response.context["schedule_form"].errors["send_at"] == ["Choose a time in the future, or send it now."]
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.DRAFT


def test_unscheduling_makes_it_a_draft_again(staff_client, make_mailing, organizer):
    mailing = make_mailing()
    services.mailing_schedule(mailing=mailing, send_at=timezone.now() + datetime.timedelta(hours=3), actor=organizer)

    staff_client.post(reverse("mailings:unschedule", args=[mailing.pk]))

    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.DRAFT


def test_send_now_sends_to_everyone_in_the_segment(
    staff_client, make_mailing, supporters, django_capture_on_commit_callbacks
):
    mailing = make_mailing()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("mailings:send", args=[mailing.pk]), follow=True)

    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENT
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"fan{i}@example.com" for i in range(12))
    assert "Sending to 12 people." in response.content.decode()


def test_send_now_without_a_target_says_so(staff_client, make_mailing):
    mailing = make_mailing(segment=None)

    response = staff_client.post(reverse("mailings:send", args=[mailing.pk]), follow=True)

    assert "Choose who to send to" in response.content.decode()
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.DRAFT


def test_get_does_not_send(staff_client, make_mailing, supporters):
    mailing = make_mailing()

    assert staff_client.get(reverse("mailings:send", args=[mailing.pk])).status_code == 405
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.DRAFT


def test_pause_then_resume_then_the_send_finishes(staff_client, make_mailing, supporters, organizer):
    mailing = start_without_sending(make_mailing(), organizer)

    staff_client.post(reverse("mailings:pause", args=[mailing.pk]))
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.PAUSED
    assert mail.outbox == []

    staff_client.post(reverse("mailings:resume", args=[mailing.pk]))
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENT  # resuming queued the batches, run inline in tests
    assert len(mail.outbox) == 12


def test_stop_cancels_everyone_not_yet_sent(staff_client, make_mailing, supporters, organizer):
    mailing = start_without_sending(make_mailing(), organizer)
    page = staff_client.get(reverse("mailings:detail", args=[mailing.pk])).content.decode()
    assert "return confirm(" in page and reverse("mailings:stop", args=[mailing.pk]) in page

    staff_client.post(reverse("mailings:stop", args=[mailing.pk]))

    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.STOPPED
    assert Delivery.objects.filter(mailing=mailing, status=DeliveryStatus.CANCELLED).count() == 12


def test_a_refused_change_is_explained(staff_client, make_mailing):
    mailing = make_mailing()

    response = staff_client.post(reverse("mailings:pause", args=[mailing.pk]), follow=True)

    assert "can&#x27;t be paused" in response.content.decode()
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.DRAFT


# Progress and results ------------------------------------------------------------------------------


def test_the_progress_view_shows_counts_and_polls_while_sending(staff_client, make_mailing, supporters, organizer):
    mailing = start_without_sending(make_mailing(), organizer)
    first = Delivery.objects.filter(mailing=mailing).order_by("id")[:3].values_list("pk", flat=True)
    Delivery.objects.filter(pk__in=list(first)).update(status=DeliveryStatus.SENT, sent_at=timezone.now())

    response = staff_client.get(reverse("mailings:progress", args=[mailing.pk]), HTTP_HX_REQUEST="true")

    page = response.content.decode()
    assert "Sent: <strong>3</strong>" in page
    assert "Queued: <strong>9</strong>" in page
    assert "3 of 12 done (25%)" in page
    assert 'hx-trigger="every 2s"' in page
    assert "HX-Refresh" not in response


def test_the_progress_view_stops_polling_when_done(
    staff_client, make_mailing, supporters, organizer, django_capture_on_commit_callbacks
):
    mailing = make_mailing()
    with django_capture_on_commit_callbacks(execute=True):
        services.mailing_start(mailing=mailing, actor=organizer)

    response = staff_client.get(reverse("mailings:progress", args=[mailing.pk]), HTTP_HX_REQUEST="true")

    page = response.content.decode()
    assert "12 of 12 done (100%)" in page
    assert "hx-trigger" not in page
    assert response["HX-Refresh"] == "true"  # the page redraws once, with its results


def test_the_detail_page_of_a_sent_mailing_shows_results_and_charts(
    staff_client, make_mailing, supporters, organizer, django_capture_on_commit_callbacks
):
    mailing = make_mailing(subjects=("One", "Two"), ab_sample_percent=100)
    with django_capture_on_commit_callbacks(execute=True):
        services.mailing_start(mailing=mailing, actor=organizer)

    response = staff_client.get(reverse("mailings:detail", args=[mailing.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["results"].counts.sent == 12
    assert "Opens and clicks each hour" in page and "Actions per subject variant" in page
    assert "https://news.example.org/story" in page
    assert "hx-trigger" not in page


# The list and topics --------------------------------------------------------------------------------


def test_the_list_costs_the_same_queries_however_many_mailings(staff_client, make_mailing, supporters, organizer, iowa):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = staff_client.get(reverse("mailings:list"))
        assert response.status_code == 200
        return len(captured)

    start_without_sending(make_mailing(name="First"), organizer)
    one = queries()
    for n in range(4):
        mailing = start_without_sending(make_mailing(name=f"More {n}"), organizer)
        Delivery.objects.filter(mailing=mailing).update(opened_at=timezone.now())
    make_mailing(name="A draft", segment=None)

    assert queries() == one
    page = staff_client.get(reverse("mailings:list")).content.decode()
    assert "More 3" in page and "A draft" in page


def test_topics_are_listed_and_added(staff_client):
    Topic.objects.create(name="Fundraising", description="Asks for money")

    response = staff_client.post(
        reverse("mailings:topics"), {"name": "Events near you", "description": "Invitations"}, follow=True
    )

    page = response.content.decode()
    assert "Fundraising" in page and "Events near you" in page
    assert Topic.objects.filter(name="Events near you", description="Invitations").exists()


def test_a_topic_name_is_used_once(staff_client):
    Topic.objects.create(name="Fundraising")

    response = staff_client.post(reverse("mailings:topics"), {"name": "Fundraising"})

    assert response.status_code == 400
    assert response.context["form"].errors["name"] == ["Topic with this Name already exists."]
    assert Topic.objects.count() == 1


@pytest.mark.parametrize("status", [MailingStatus.SENDING, MailingStatus.PAUSED])
def test_controls_follow_the_status(staff_client, make_mailing, supporters, organizer, status):
    mailing = start_without_sending(make_mailing(), organizer)
    if status == MailingStatus.PAUSED:
        services.mailing_pause(mailing=mailing, actor=organizer)

    page = staff_client.get(reverse("mailings:detail", args=[mailing.pk])).content.decode()

    assert (reverse("mailings:pause", args=[mailing.pk]) in page) == (status == MailingStatus.SENDING)
    assert (reverse("mailings:resume", args=[mailing.pk]) in page) == (status == MailingStatus.PAUSED)
    assert reverse("mailings:send", args=[mailing.pk]) not in page
    assert reverse("mailings:edit", args=[mailing.pk]) not in page
