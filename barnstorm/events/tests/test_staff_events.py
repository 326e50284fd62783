"""Organizers: every event on a table (and a map), the moderation queue, per-event stats."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from barnstorm.events import selectors_host
from barnstorm.events.models import Event, EventCampaign, EventStatus, Rsvp
from barnstorm.events.services import event_reject, rsvp_cancel, rsvp_check_in, rsvp_create
from barnstorm.events.tests.conftest import START
from barnstorm.people.models import Person

pytestmark = pytest.mark.django_db

PAST = datetime.datetime(2020, 5, 1, 17, 0, tzinfo=datetime.UTC)


def titles(response) -> list[str]:
    return [e.title for e in response.context["events"]]


@pytest.fixture
def propose(make_event, make_person, outsider):
    """An event proposed by a new host: it waits for moderation."""

    def propose(title="Proposed", n=0, **extra):
        host = make_person(email=f"newhost{n}@example.com", given_name=f"New{n}")
        return make_event(title=title, actor=outsider, host_person=host, **extra)

    return propose


def test_the_table_filters_by_status_kind_campaign_and_time(staff_client, make_event, propose):
    campaign = EventCampaign.objects.create(name="Day of action", slug="day")
    make_event(title="Party", campaign_id=campaign.pk)
    make_event(title="Canvass", kind="canvass")
    make_event(title="Old canvass", kind="canvass", starts_at=PAST, ends_at=PAST + datetime.timedelta(hours=2))
    propose()
    url = reverse("events:staff_events")
    assert titles(staff_client.get(url, {"status": "pending"})) == ["Proposed"]
    assert titles(staff_client.get(url, {"kind": "canvass", "when": "upcoming"})) == ["Canvass"]
    assert titles(staff_client.get(url, {"when": "past"})) == ["Old canvass"]
    assert titles(staff_client.get(url, {"campaign": campaign.pk})) == ["Party"]
    assert titles(staff_client.get(url, {"q": "propo"})) == ["Proposed"]
    assert len(titles(staff_client.get(url))) == 4


def test_the_table_pages_without_counting_every_event(staff_client, make_event, monkeypatch):
    monkeypatch.setattr("barnstorm.events.views_staff.PAGE_SIZE", 3)
    for n in range(4):
        starts = START + datetime.timedelta(days=n)
        make_event(title=f"Event {n}", starts_at=starts, ends_at=starts + datetime.timedelta(hours=1))
    url = reverse("events:staff_events")
    with CaptureQueriesContext(connection) as captured:
        first = staff_client.get(url, {"when": "upcoming"})
    assert titles(first) == ["Event 0", "Event 1", "Event 2"] and first.context["has_next"]
    assert not any("COUNT(*)" in q["sql"].upper() for q in captured.captured_queries)
    second = staff_client.get(url, {"when": "upcoming", "page": 2})
    assert titles(second) == ["Event 3"] and not second.context["has_next"]


def test_the_table_makes_the_same_queries_for_3_or_30_events(staff_client, make_event, attendee):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(reverse("events:staff_events")).status_code == 200
        return len(captured)

    def add(n):
        event = make_event(title=f"Event {n}")
        rsvp_create(event=event, data=attendee(n), notify=False)

    for n in range(3):
        add(n)
    few = queries()
    for n in range(3, 30):
        add(n)
    assert queries() == few


def test_the_map_shows_placed_events_when_leaflet_is_installed(staff_client, make_event, settings):
    make_event(title="Placed")
    make_event(title="Online", is_virtual=True, virtual_url="https://meet.example/x", zip_code="")
    if "js_lib_leaflet" not in settings.INSTALLED_APPS:
        settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "js_lib_leaflet"]
    response = staff_client.get(reverse("events:staff_events"))
    assert [p["title"] for p in response.context["points"]] == ["Placed"]
    assert "js_lib_leaflet/leaflet.js" in response.content.decode()


def test_without_leaflet_the_table_is_the_page(staff_client, make_event, settings):
    make_event(title="Placed")
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "js_lib_leaflet"]
    response = staff_client.get(reverse("events:staff_events"))
    assert response.context["points"] == [] and "leaflet" not in response.content.decode()
    assert titles(response) == ["Placed"]


# --- Moderation -----------------------------------------------------------------------------------


def test_the_queue_holds_pending_events_oldest_first(staff_client, make_event, propose):
    make_event(title="Published")
    propose("First proposal", 1)
    propose("Second proposal", 2)
    response = staff_client.get(reverse("events:moderation"))
    assert titles(response) == ["First proposal", "Second proposal"]


def test_the_queue_makes_the_same_queries_for_3_or_30_proposals(staff_client, propose):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            staff_client.get(reverse("events:moderation"))
        return len(captured)

    for n in range(3):
        propose(f"Proposal {n}", n)
    few = queries()
    for n in range(3, 30):
        propose(f"Proposal {n}", n)
    assert Event.objects.filter(status=EventStatus.PENDING).count() == 30
    assert queries() == few


def test_an_organizer_approves_a_proposal(staff_client, make_event, outsider):
    event = make_event(actor=outsider)
    response = staff_client.post(reverse("events:approve", args=[event.pk]))
    event.refresh_from_db()
    assert response["Location"] == reverse("events:moderation") and event.status == EventStatus.PUBLISHED


def test_a_rejection_needs_a_reason_and_the_host_sees_it(staff_client, make_event, outsider, host):
    event = make_event(actor=outsider)
    staff_client.post(reverse("events:reject", args=[event.pk]), {"reason": "  "})
    event.refresh_from_db()
    assert event.status == EventStatus.PENDING
    staff_client.post(reverse("events:reject", args=[event.pk]), {"reason": "Please add the street address"})
    event.refresh_from_db()
    assert (event.status, event.rejection_reason) == (EventStatus.REJECTED, "Please add the street address")
    manage = staff_client.get(reverse("events:manage", args=[event.pk]))
    assert "Please add the street address" in manage.content.decode()


def test_moderation_returns_to_the_page_it_came_from_but_only_a_staff_page(staff_client, propose):
    event = propose("First", 1)
    back = reverse("events:staff_event", args=[event.pk])
    assert staff_client.post(reverse("events:approve", args=[event.pk]), {"back": back})["Location"] == back
    other = propose("Other", 2)
    response = staff_client.post(reverse("events:approve", args=[other.pk]), {"back": "https://evil.example/"})
    assert response["Location"] == reverse("events:moderation")
    assert Event.objects.filter(status=EventStatus.PUBLISHED).count() == 2


# --- Stats ------------------------------------------------------------------------------------------


def test_event_stats_count_rsvps_attendance_new_people_and_shifts(make_event, attendee, make_person, organizer):
    shift_start = START + datetime.timedelta(minutes=30)
    event = make_event(shifts=((START, shift_start, 2), (shift_start, START + datetime.timedelta(hours=2), 5)))
    first_shift, second_shift = event.shifts.order_by("starts_at")
    going = [rsvp_create(event=event, data=attendee(n), notify=False, shift_id=first_shift.pk).rsvp for n in (1, 2)]
    rsvp_create(event=event, data=attendee(3), notify=False, shift_id=second_shift.pk)
    old = make_person(email="old@example.com", given_name="Olga")
    Person.objects.filter(pk=old.pk).update(created_at=PAST)
    old_input = attendee(4)
    old_input.email = "old@example.com"
    old_rsvp = rsvp_create(event=event, data=old_input, notify=False).rsvp
    rsvp_cancel(rsvp=old_rsvp)
    rsvp_check_in(rsvp_id=going[0].pk, actor=organizer)
    stats = selectors_host.event_stats(event)
    assert (stats.going, stats.waitlisted, stats.cancelled, stats.checked_in) == (3, 0, 1, 1)
    assert stats.attendance_rate == pytest.approx(1 / 3)
    assert stats.new_people == 3  # Olga was already ours
    assert (stats.shifts, stats.shifts_filled, stats.shift_signups) == (2, 1, 3)


def test_attendance_rate_is_unknown_before_anyone_is_going(make_event):
    assert selectors_host.event_stats(make_event()).attendance_rate is None


def test_the_event_page_shows_its_stats(staff_client, make_event, attendee, organizer):
    event = make_event()
    rsvp = rsvp_create(event=event, data=attendee(1), notify=False).rsvp
    rsvp_create(event=event, data=attendee(2), notify=False)
    rsvp_check_in(rsvp_id=rsvp.pk, actor=organizer)
    response = staff_client.get(reverse("events:staff_event", args=[event.pk]))
    assert response.context["stats"].checked_in == 1 and "50%" in response.content.decode()


def test_a_rejected_reason_is_required_by_the_service_too(make_event, outsider, organizer):
    event = make_event(actor=outsider)
    with pytest.raises(ValidationError):
        event_reject(event=event, reason="", actor=organizer)
    assert Rsvp.objects.count() == 0 and Event.objects.get().status == EventStatus.PENDING
