"""Hosting an event and running it: the form, the dashboard, messages, edits, cancelling."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from barnstorm.accounts.models import Role, User
from barnstorm.activity.models import Activity
from barnstorm.events.models import Event, EventStatus, Rsvp, RsvpStatus
from barnstorm.events.services import event_reject, rsvp_cancel, rsvp_create
from barnstorm.events.services_host import MESSAGES_PER_DAY
from barnstorm.events.tasks_host import event_message_deliver
from barnstorm.people.models import EmailAddress, EmailStatus, GroupMembership, GroupRole, LocalGroup
from barnstorm.people.services import PersonInput

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture
def host_user(host):
    return User.objects.create_user("hana", "host@example.com", role=Role.VOLUNTEER, person=host)


@pytest.fixture
def host_client(host_user):
    client = Client()
    client.force_login(host_user)
    return client


def form_data(**extra):
    return {
        "title": "Living-room meeting",
        "kind": "house_party",
        "description": "Meet the campaign",
        "date": "2027-03-01",
        "start_time": "18:00",
        "end_time": "20:00",
        "zip_code": "50309",
        "street": "12 Elm St",
        "timezone": "America/New_York",
        **extra,
    }


# --- Hosting ------------------------------------------------------------------------------------


def test_a_new_host_creates_an_event_that_waits_for_moderation_in_its_own_time_zone(host_client, host, host_user):
    response = host_client.post(reverse("events:host"), form_data())
    event = Event.objects.get()
    assert response["Location"] == reverse("events:manage", args=[event.pk])
    assert (event.host, event.created_by, event.status) == (host, host_user, EventStatus.PENDING)
    # 6 pm in Des Moines, whatever zone the server is in.
    assert event.starts_at == datetime.datetime(2027, 3, 1, 18, 0, tzinfo=CHICAGO)
    assert event.timezone == "America/Chicago" and event.city == "Des Moines"


def test_a_group_leader_publishes_at_once_and_only_for_groups_they_lead(host_client, host):
    led = LocalGroup.objects.create(name="Polk County", slug="polk")
    other = LocalGroup.objects.create(name="Story County", slug="story")
    GroupMembership.objects.create(person=host, group=led, role=GroupRole.LEADER)
    refused = host_client.post(reverse("events:host"), form_data(group=other.pk))
    assert refused.status_code == 400 and not Event.objects.exists()
    host_client.post(reverse("events:host"), form_data(group=led.pk))
    event = Event.objects.get()
    assert (event.group, event.status) == (led, EventStatus.PUBLISHED)


def test_supporters_cannot_call_a_rally_but_organizers_can_and_name_the_host(host_client, staff_client):
    assert host_client.post(reverse("events:host"), form_data(kind="rally")).status_code == 400
    response = staff_client.post(reverse("events:host"), form_data(kind="rally", host_email="New.Host@Example.com"))
    event = Event.objects.get()
    assert response.status_code == 302 and event.kind == "rally" and event.status == EventStatus.PUBLISHED
    assert event.host.emails.get().address == "new.host@example.com"


def test_an_organizer_without_a_person_must_say_who_hosts(staff_client):
    response = staff_client.post(reverse("events:host"), form_data())
    assert response.status_code == 400 and not Event.objects.exists()


def test_an_online_event_keeps_the_zone_the_host_chose(host_client):
    data = form_data(is_virtual="on", virtual_url="https://meet.example/abc", zip_code="", timezone="America/Denver")
    host_client.post(reverse("events:host"), data)
    event = Event.objects.get()
    assert event.is_virtual and event.timezone == "America/Denver" and event.latitude is None
    assert event.starts_at == datetime.datetime(2027, 3, 1, 18, 0, tzinfo=ZoneInfo("America/Denver"))


def test_a_missing_zip_code_is_reported_on_the_field(host_client):
    response = host_client.post(reverse("events:host"), form_data(zip_code=""))
    assert response.status_code == 400 and "zip_code" in response.context["form"].errors


def test_my_events_lists_what_i_host_and_not_the_rest(host_client, make_event, make_person):
    mine = make_event(title="Mine")
    make_event(title="Someone else's", host_person=make_person(email="x@example.com"))
    response = host_client.get(reverse("events:mine"))
    assert [e.title for e in response.context["events"]] == [mine.title]


# --- The dashboard ------------------------------------------------------------------------------


def test_the_dashboard_lists_this_events_attendees_with_only_their_contact_details(
    host_client, make_event, attendee, make_person
):
    event = make_event()
    rsvp_create(event=event, data=PersonInput(email="ann@example.com", given_name="Ann", family_name="Ames",
                                              phone="515-555-0101", employer="Secret Employer"))  # fmt: skip
    other = make_event(title="Other", host_person=make_person(email="x@example.com"))
    rsvp_create(event=other, data=attendee(9))
    response = host_client.get(reverse("events:manage", args=[event.pk]))
    page = response.content.decode()
    assert "Ann Ames" in page and "ann@example.com" in page and "+15155550101" in page
    assert "Secret Employer" not in page
    assert "guest9@example.com" not in page and "Guest9" not in page
    assert response.context["stats"].going == 1


def test_the_dashboard_makes_the_same_queries_for_3_or_30_attendees(host_client, make_event, attendee):
    event = make_event()

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert host_client.get(reverse("events:manage", args=[event.pk])).status_code == 200
        return len(captured)

    for n in range(3):
        rsvp_create(event=event, data=attendee(n), notify=False)
    few = queries()
    for n in range(3, 30):
        rsvp_create(event=event, data=attendee(n), notify=False)
    assert queries() == few


def test_the_attendee_list_pages_without_counting(host_client, make_event, attendee):
    event = make_event()
    for n in range(52):
        rsvp_create(event=event, data=attendee(n), notify=False)
    first = host_client.get(reverse("events:manage", args=[event.pk]))
    second = host_client.get(reverse("events:manage", args=[event.pk]), {"page": 2})
    assert len(first.context["attendees"]) == 50 and first.context["has_next"]
    assert len(second.context["attendees"]) == 2 and not second.context["has_next"]


def test_a_group_leader_sees_their_groups_event_attendees(make_event, make_person, attendee):
    group = LocalGroup.objects.create(name="Polk County", slug="polk")
    event = make_event(group_id=group.pk)
    rsvp_create(event=event, data=attendee(1))
    leader = make_person(email="lee@example.com")
    GroupMembership.objects.create(person=leader, group=group, role=GroupRole.LEADER)
    client = Client()
    client.force_login(User.objects.create_user("lee", person=leader))
    assert "guest1@example.com" in client.get(reverse("events:manage", args=[event.pk])).content.decode()


# --- Editing and cancelling -----------------------------------------------------------------------


def edit_data(**extra):
    return {"title": "House party for Rivera", "description": "", "date": "2027-01-15", "start_time": "19:00",
            "end_time": "21:00", "capacity": "", **extra}  # fmt: skip


def test_moving_the_event_tells_the_attendees(host_client, make_event, attendee, django_capture_on_commit_callbacks):
    event = make_event()
    rsvp_create(event=event, data=attendee(1), notify=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = host_client.post(reverse("events:edit", args=[event.pk]), edit_data())
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.starts_at == datetime.datetime(2027, 1, 15, 19, 0, tzinfo=CHICAGO)
    assert [m.to for m in mail.outbox] == [["guest1@example.com"]]
    assert "New time" in mail.outbox[0].subject and "7:00 PM" in mail.outbox[0].body


def test_a_new_title_alone_sends_nothing(host_client, make_event, attendee, django_capture_on_commit_callbacks):
    event = make_event()
    rsvp_create(event=event, data=attendee(1), notify=False)
    with django_capture_on_commit_callbacks(execute=True):
        host_client.post(reverse("events:edit", args=[event.pk]), edit_data(start_time="17:00", end_time="19:00",
                                                                            title="Renamed"))  # fmt: skip
    event.refresh_from_db()
    assert event.title == "Renamed" and not mail.outbox


def test_more_seats_let_the_waitlist_in_order(host_client, make_event, attendee, django_capture_on_commit_callbacks):
    event = make_event(capacity=1)
    rsvps = [rsvp_create(event=event, data=attendee(n), notify=False).rsvp for n in range(4)]
    with django_capture_on_commit_callbacks(execute=True):
        host_client.post(reverse("events:edit", args=[event.pk]), edit_data(start_time="17:00", end_time="19:00",
                                                                            capacity="3"))  # fmt: skip
    statuses = [Rsvp.objects.get(pk=r.pk).status for r in rsvps]
    assert statuses == [RsvpStatus.GOING, RsvpStatus.GOING, RsvpStatus.GOING, RsvpStatus.WAITLISTED]
    assert sorted(m.to[0] for m in mail.outbox) == ["guest1@example.com", "guest2@example.com"]


def test_an_end_before_the_start_is_refused(host_client, make_event):
    event = make_event()
    response = host_client.post(reverse("events:edit", args=[event.pk]), edit_data(end_time="18:00"))
    assert response.status_code == 400 and "ends_at" not in response.context["form"].fields
    assert response.context["form"].errors
    event.refresh_from_db()
    assert event.starts_at.astimezone(CHICAGO).hour == 17


def test_editing_a_rejected_event_sends_it_back_for_review(host_client, make_event, outsider, organizer):
    event = make_event(actor=outsider)
    event_reject(event=event, reason="Add the address", actor=organizer)
    host_client.post(reverse("events:edit", args=[event.pk]), edit_data())
    event.refresh_from_db()
    assert (event.status, event.rejection_reason) == (EventStatus.PENDING, "")


def test_a_cancelled_event_cannot_be_edited(host_client, make_event):
    event = make_event()
    host_client.post(reverse("events:cancel", args=[event.pk]))
    response = host_client.post(reverse("events:edit", args=[event.pk]), edit_data(title="Back on"))
    event.refresh_from_db()
    assert response.status_code == 400 and event.title == "House party for Rivera"


def test_cancelling_tells_the_attendees(host_client, make_event, attendee, django_capture_on_commit_callbacks):
    event = make_event()
    rsvp_create(event=event, data=attendee(1), notify=False)
    with django_capture_on_commit_callbacks(execute=True):
        host_client.post(reverse("events:cancel", args=[event.pk]))
    event.refresh_from_db()
    assert event.status == EventStatus.CANCELLED
    assert [m.to for m in mail.outbox] == [["guest1@example.com"]]


# --- Messaging attendees ----------------------------------------------------------------------------


def test_a_message_goes_to_people_going_and_waiting_and_is_logged(
    host_client, host_user, make_event, attendee, django_capture_on_commit_callbacks
):
    event = make_event(capacity=1)
    going = rsvp_create(event=event, data=attendee(1), notify=False).rsvp
    rsvp_create(event=event, data=attendee(2), notify=False)  # waitlisted
    rsvp_cancel(rsvp=rsvp_create(event=event, data=attendee(3), notify=False).rsvp)
    unsubscribed = rsvp_create(event=event, data=attendee(4), notify=False).rsvp
    EmailAddress.objects.filter(person_id=unsubscribed.person_id).update(status=EmailStatus.UNSUBSCRIBED)
    with django_capture_on_commit_callbacks(execute=True):
        response = host_client.post(
            reverse("events:message", args=[event.pk]), {"subject": "Parking", "body": "Park on Elm St."}
        )
    assert response.status_code == 302
    assert sorted(m.to[0] for m in mail.outbox) == ["guest1@example.com", "guest2@example.com"]
    assert "Park on Elm St." in mail.outbox[0].body and "Parking" in mail.outbox[0].subject
    logged = Activity.objects.get(kind="event_message", person_id=going.person_id)
    assert logged.actor == host_user and logged.data["event_id"] == event.pk


def test_attendees_get_at_most_a_few_messages_a_day(host_client, make_event, attendee):
    event = make_event()
    rsvp_create(event=event, data=attendee(1), notify=False)
    url = reverse("events:message", args=[event.pk])
    answers = [host_client.post(url, {"subject": f"No. {n}", "body": "Hi"}).status_code for n in range(4)]
    assert answers == [302] * MESSAGES_PER_DAY + [400]


def test_a_retried_message_reaches_nobody_twice(make_event, attendee, host_user):
    event = make_event()
    rsvp_create(event=event, data=attendee(1), notify=False)
    rsvp_create(event=event, data=attendee(2), notify=False)
    assert event_message_deliver.delay(event.pk, "m1", "Hi", "Body", host_user.pk).get() == 2
    assert event_message_deliver.delay(event.pk, "m1", "Hi", "Body", host_user.pk).get() == 0
    assert len(mail.outbox) == 2


def test_my_events_makes_the_same_queries_for_2_or_20_events(host_client, make_event):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert host_client.get(reverse("events:mine")).status_code == 200
        return len(captured)

    for n in range(2):
        make_event(title=f"Event {n}")
    few = queries()
    for n in range(2, 20):
        make_event(title=f"Event {n}")
    assert queries() == few
