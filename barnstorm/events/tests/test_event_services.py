"""Hosting, moderation, RSVPs with capacity and waitlist, check-in exactly once."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from barnstorm.activity.models import Activity
from barnstorm.events import geo, ics
from barnstorm.events.models import EventStatus, Rsvp, RsvpStatus
from barnstorm.events.services import (
    EventInput,
    event_approve,
    event_cancel,
    event_create,
    event_reject,
    rsvp_cancel,
    rsvp_check_in,
    rsvp_create,
    walk_in_add,
)
from barnstorm.events.tests.conftest import START

pytestmark = pytest.mark.django_db


def test_an_event_is_placed_and_zoned_from_its_zip(make_event):
    event = make_event(zip_code="89501")  # Reno
    assert (event.city, event.state, event.timezone) == ("Reno", "NV", "America/Los_Angeles")
    assert round(event.latitude, 1) == 39.5 and event.status == EventStatus.PUBLISHED


def test_a_new_hosts_event_waits_for_moderation_and_a_trusted_host_publishes_at_once(
    host, make_event, organizer, outsider
):
    first = make_event(actor=outsider)  # a supporter's login, not an organizer's
    assert first.status == EventStatus.PENDING
    assert Activity.objects.filter(kind="event_proposed", person=host).exists()
    event_approve(event=first, actor=organizer)
    first.refresh_from_db()
    assert first.status == EventStatus.PUBLISHED and first.published_at is not None
    second = make_event(title="Second", actor=outsider)
    assert second.status == EventStatus.PUBLISHED


def test_a_rejection_needs_a_reason(make_event, organizer, outsider):
    event = make_event(actor=outsider)
    with pytest.raises(ValidationError):
        event_reject(event=event, reason=" ", actor=organizer)
    event_reject(event=event, reason="Please add the address", actor=organizer)
    assert (event.status, event.rejection_reason) == (EventStatus.REJECTED, "Please add the address")


def test_bad_event_input_is_refused_by_field(host, organizer):
    data = EventInput(title="x", kind="picnic", starts_at=START, ends_at=START - datetime.timedelta(hours=1))
    with pytest.raises(ValidationError) as caught:
        event_create(data=data, host=host, actor=organizer)
    assert set(caught.value.message_dict) == {"kind", "ends_at", "zip_code"}


def test_rsvps_fill_the_event_then_wait_and_a_cancellation_promotes_in_order(make_event, attendee):
    event = make_event(capacity=3)
    first = rsvp_create(event=event, data=attendee(1), guests=1).rsvp
    second = rsvp_create(event=event, data=attendee(2)).rsvp
    third = rsvp_create(event=event, data=attendee(3)).rsvp
    fourth = rsvp_create(event=event, data=attendee(4)).rsvp
    assert [r.status for r in (first, second, third, fourth)] == ["going", "going", "waitlisted", "waitlisted"]
    promoted = rsvp_cancel(rsvp=first)
    assert [r.pk for r in promoted] == [third.pk, fourth.pk]
    assert Rsvp.objects.get(pk=first.pk).status == RsvpStatus.CANCELLED


def test_a_second_rsvp_from_the_same_person_changes_the_first(make_event, attendee):
    event = make_event()
    first = rsvp_create(event=event, data=attendee(1)).rsvp
    again = rsvp_create(event=event, data=attendee(1), guests=2)
    assert not again.created and again.rsvp.pk == first.pk and again.rsvp.guests == 2
    assert Rsvp.objects.count() == 1


def test_the_confirmation_email_carries_the_calendar_file(make_event, attendee, django_capture_on_commit_callbacks):
    event = make_event()
    with django_capture_on_commit_callbacks(execute=True):
        rsvp_create(event=event, data=attendee(1))
    message = mail.outbox[-1]
    assert message.to == ["guest1@example.com"] and "You're going" in message.subject
    assert "5:00 p.m." in message.body  # the event's own time zone, not the server's
    name, content, mimetype = message.attachments[0]
    assert name == "event.ics" and mimetype.startswith("text/calendar")
    assert "DTSTART:20270115T230000Z" in content and "BEGIN:VEVENT" in content and "\r\n" in content


@pytest.mark.django_db(transaction=True)
def test_two_rsvps_racing_for_the_last_seat_do_not_both_get_it(make_event, attendee, race):
    event = make_event(capacity=1)
    race(4, lambda n: rsvp_create(event=event, data=attendee(n), notify=False))
    assert Rsvp.objects.filter(status="going").count() == 1
    assert Rsvp.objects.filter(status="waitlisted").count() == 3


def test_a_person_is_checked_in_once_however_many_phones_scan_them(make_event, attendee, organizer):
    rsvp = rsvp_create(event=make_event(), data=attendee(1)).rsvp
    first = rsvp_check_in(rsvp_id=rsvp.pk, actor=organizer)
    second = rsvp_check_in(rsvp_id=rsvp.pk, actor=organizer)
    assert first.newly and not second.newly
    assert Activity.objects.filter(kind="attended", person_id=rsvp.person_id).count() == 1


def test_a_walk_in_is_checked_in_even_when_the_event_is_full(make_event, attendee):
    event = make_event(capacity=1)
    rsvp_create(event=event, data=attendee(1))
    check_in = walk_in_add(event=event, data=attendee(2))
    assert check_in.newly and check_in.rsvp.walk_in and check_in.rsvp.status == RsvpStatus.GOING


def test_cancelling_an_event_tells_everyone_who_rsvped(make_event, attendee, django_capture_on_commit_callbacks):
    event = make_event()
    rsvp_create(event=event, data=attendee(1), notify=False)
    rsvp_create(event=event, data=attendee(2), notify=False)
    with django_capture_on_commit_callbacks(execute=True):
        event_cancel(event=event)
    assert sorted(m.to[0] for m in mail.outbox) == ["guest1@example.com", "guest2@example.com"]
    assert all("Cancelled" in m.subject for m in mail.outbox)
    with pytest.raises(ValidationError):
        rsvp_create(event=event, data=attendee(3))


def test_the_bounding_box_holds_every_point_in_the_radius():
    for lat, lng in [(41.6, -93.6), (43.2, -71.5), (36.1, -115.2), (64.8, -147.7)]:
        south, north, west, east = geo.bounding_box(lat, lng, 50)
        for bearing in range(0, 360, 15):
            # a point 49.9 miles away in each direction lies inside the box
            import math

            d = 49.9 / geo.EARTH_RADIUS_MILES
            b = math.radians(bearing)
            phi1, lam1 = math.radians(lat), math.radians(lng)
            phi2 = math.asin(math.sin(phi1) * math.cos(d) + math.cos(phi1) * math.sin(d) * math.cos(b))
            lam2 = lam1 + math.atan2(
                math.sin(b) * math.sin(d) * math.cos(phi1), math.cos(d) - math.sin(phi1) * math.sin(phi2)
            )
            p_lat, p_lng = math.degrees(phi2), math.degrees(lam2)
            assert abs(geo.haversine_miles(lat, lng, p_lat, p_lng) - 49.9) < 0.01
            assert south <= p_lat <= north and west <= p_lng <= east


def test_a_private_homes_street_stays_out_of_the_public_calendar(make_event):
    event = make_event(is_private_home=True)
    assert "12 Elm St" not in ics.calendar([event])
    assert "12 Elm St" in ics.calendar([event], full_address=True)


def test_a_change_that_does_not_fit_is_refused_and_the_seat_is_kept(make_event, attendee):
    from barnstorm.events.services import rsvp_change

    event = make_event(capacity=3)
    mine = rsvp_create(event=event, data=attendee(1)).rsvp
    rsvp_create(event=event, data=attendee(2))
    with pytest.raises(ValidationError):
        rsvp_change(rsvp=mine, guests=2, shift_id=None)
    mine.refresh_from_db()
    assert (mine.status, mine.guests) == (RsvpStatus.GOING, 0)
    assert rsvp_change(rsvp=mine, guests=1, shift_id=None).guests == 1


def test_an_event_that_has_ended_takes_no_rsvps(make_event, attendee):
    past = make_event(
        starts_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
        ends_at=datetime.datetime(2020, 1, 1, 2, tzinfo=datetime.UTC),
    )
    with pytest.raises(ValidationError):
        rsvp_create(event=past, data=attendee(1))


def test_a_virtual_events_join_link_stays_out_of_the_public_calendar(make_event):
    event = make_event(zip_code="", is_virtual=True, virtual_url="https://meet.example/secret")
    assert "meet.example/secret" not in ics.calendar([event])
    assert "meet.example/secret" in ics.calendar([event], full_address=True)
