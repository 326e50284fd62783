"""The barnstorm flow: attendees of a barnstorm meeting sign up to host their own events."""

import pytest
from django.test import Client
from django.urls import reverse

from barnstorm.accounts.models import Role, User
from barnstorm.events.links import rsvp_manage_token
from barnstorm.events.models import Event, EventCampaign, EventStatus
from barnstorm.events.services import rsvp_cancel, rsvp_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign():
    return EventCampaign.objects.create(name="Iowa barnstorm", slug="iowa")


@pytest.fixture
def meeting(make_event, campaign):
    return make_event(title="Barnstorm Des Moines", kind="barnstorm", campaign_id=campaign.pk)


@pytest.fixture
def rsvp(meeting, attendee):
    return rsvp_create(event=meeting, data=attendee(1), notify=False).rsvp


def proposal(**extra):
    return {"title": "Phone bank at my place", "kind": "phone_bank", "date": "2027-01-22", "start_time": "18:00",
            "end_time": "20:00", "zip_code": "50310", "street": "5 Oak St", **extra}  # fmt: skip


def test_an_attendee_with_their_rsvp_link_proposes_a_phone_bank_that_waits_for_review(client, meeting, rsvp, campaign):
    url = reverse("events:spawn", args=[meeting.pk])
    token = rsvp_manage_token(rsvp.pk)
    assert client.get(url, {"t": token}).status_code == 200
    response = client.post(url, proposal(t=token))
    assert response.status_code == 200 and "Thank you" in response.content.decode()
    event = Event.objects.get(spawned_from=meeting)
    assert (event.host_id, event.kind, event.status) == (rsvp.person_id, "phone_bank", EventStatus.PENDING)
    assert event.campaign == campaign and event.created_by is None


def test_a_signed_in_attendee_needs_no_link(meeting, rsvp):
    client = Client()
    client.force_login(User.objects.create_user("g1", role=Role.VOLUNTEER, person=rsvp.person))
    client.post(reverse("events:spawn", args=[meeting.pk]), proposal(kind="canvass"))
    event = Event.objects.get(spawned_from=meeting)
    assert event.kind == "canvass" and event.created_by.person == rsvp.person


def test_only_phone_banks_and_canvasses_are_spawned(client, meeting, rsvp):
    response = client.post(
        reverse("events:spawn", args=[meeting.pk]), proposal(kind="house_party", t=rsvp_manage_token(rsvp.pk))
    )
    assert response.status_code == 400 and not Event.objects.filter(spawned_from=meeting).exists()


def test_people_who_did_not_rsvp_cannot_spawn(client, meeting, rsvp, outsider, make_event, attendee):
    url = reverse("events:spawn", args=[meeting.pk])
    anonymous = client.post(url, proposal())
    assert anonymous["Location"].startswith(reverse("accounts:magic_start"))
    # A link to an RSVP of another event is no pass to this meeting.
    elsewhere = rsvp_create(event=make_event(title="Other"), data=attendee(2), notify=False).rsvp
    assert client.post(url, proposal(t=rsvp_manage_token(elsewhere.pk)))["Location"].startswith("/sign-in/")
    client.force_login(outsider)
    assert client.post(url, proposal()).status_code == 403
    assert not Event.objects.filter(spawned_from=meeting).exists()


def test_a_cancelled_rsvp_is_no_pass_either(client, meeting, rsvp):
    rsvp_cancel(rsvp=rsvp)
    response = client.post(reverse("events:spawn", args=[meeting.pk]), proposal(t=rsvp_manage_token(rsvp.pk)))
    assert response.status_code == 302 and not Event.objects.filter(spawned_from=meeting).exists()


def test_only_barnstorm_meetings_spawn_events(client, make_event, attendee):
    party = make_event()
    rsvp = rsvp_create(event=party, data=attendee(1), notify=False).rsvp
    response = client.post(reverse("events:spawn", args=[party.pk]), proposal(t=rsvp_manage_token(rsvp.pk)))
    assert response.status_code == 404 and Event.objects.count() == 1


def test_organizers_see_how_many_events_a_meeting_produced(client, staff_client, meeting, rsvp, attendee):
    second = rsvp_create(event=meeting, data=attendee(2), notify=False).rsvp
    url = reverse("events:spawn", args=[meeting.pk])
    client.post(url, proposal(t=rsvp_manage_token(rsvp.pk)))
    client.post(url, proposal(t=rsvp_manage_token(second.pk), kind="canvass"))
    detail = staff_client.get(reverse("events:staff_event", args=[meeting.pk]))
    assert detail.context["stats"].spawned == 2 and len(detail.context["spawned"]) == 2
    listed = staff_client.get(reverse("events:staff_events"), {"kind": "barnstorm"})
    assert [e.stats.spawned for e in listed.context["events"]] == [2]
