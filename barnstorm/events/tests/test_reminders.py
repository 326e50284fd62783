"""Reminders 24 h and 2 h before, follow-ups after: once per attendee, in the event's own time zone."""

import datetime
import io
from smtplib import SMTPException
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from barnstorm.events import reminders
from barnstorm.events.models import Rsvp
from barnstorm.events.reminders import reminder_send, reminders_send_due
from barnstorm.events.services import event_cancel, rsvp_cancel, rsvp_check_in, rsvp_create
from barnstorm.events.tasks import event_reminders_send_due
from barnstorm.lib.models import DeliveryClaim, SandboxMessage
from barnstorm.lib.sms import SmsError, SmsTimeout
from barnstorm.lib.sms.sandbox import SandboxProvider
from barnstorm.people.models import EmailAddress, EmailStatus, PhoneNumber
from barnstorm.people.services import AddressInput, PersonInput, email_status_set, phone_sms_opt_out

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")  # Des Moines, where make_event puts events by default
H = datetime.timedelta(hours=1)


class BrokenBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise SMTPException("451 mail server down")


BROKEN_MAIL = override_settings(EMAIL_BACKEND="barnstorm.events.tests.test_reminders.BrokenBackend")


def local(hour: int, minute: int = 0, *, days: int = 10, zone=CHICAGO) -> datetime.datetime:
    """`hour`:`minute` local time, `days` from today: RSVPs made now are days older than the event."""
    day = timezone.now().astimezone(zone).date() + datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=zone)


def person(n: int, *, phone: bool = True, consent: bool = True) -> PersonInput:
    return PersonInput(
        email=f"guest{n}@example.com",
        given_name=f"Guest{n}",
        family_name="Smith",
        phone=f"+1515555{n:04d}" if phone else "",
        phone_kind="mobile",
        sms_consent=consent if phone else None,
        address=AddressInput(zip_code="50310"),
    )


@pytest.fixture
def event_at(make_event):
    def make(starts_at, zip_code="50309", **extra):
        return make_event(starts_at=starts_at, ends_at=starts_at + 2 * H, zip_code=zip_code, **extra)

    return make


def rsvp(event, n, **extra):
    return rsvp_create(event=event, data=person(n, **extra), notify=False).rsvp


def texts_to(n):
    return list(SandboxMessage.objects.filter(to_number=f"+1515555{n:04d}"))


# The 24-hour and 2-hour reminders ---------------------------------------------------------------


def test_the_24_hour_reminder_goes_by_email_and_text_once_in_the_events_time_zone(event_at):
    start = local(17)
    event = event_at(start)
    attendee = rsvp(event, 1)

    counts = reminders_send_due(now=start - 23 * H)  # 6 pm the day before, in Des Moines
    again = reminders_send_due(now=start - 22 * H)

    assert counts["reminder_24h"] == 1 and again["reminder_24h"] == 0
    [message] = mail.outbox
    assert message.to == ["guest1@example.com"]
    assert start.strftime("%A, %B ") in message.subject
    assert "5:00 p.m." in message.body and "7:00 p.m. C" in message.body  # CST or CDT: the event's zone
    assert "12 Elm St" in message.body and attendee.ticket in message.body
    [text] = texts_to(1)
    assert "5:00 p.m. C" in text.body and "Reply STOP" in text.body and f"/events/{event.pk}/" in text.body
    assert Rsvp.objects.get(pk=attendee.pk).reminded_24h_at == start - 23 * H


def test_the_2_hour_reminder_goes_once_after_the_24_hour_one(event_at):
    start = local(17)
    event = event_at(start)
    rsvp(event, 1)

    reminders_send_due(now=start - 23 * H)
    reminders_send_due(now=start - 2 * H)
    reminders_send_due(now=start - 1 * H)

    subjects = [m.subject for m in mail.outbox]
    assert len(subjects) == 2 and subjects[1].startswith("Starting soon:") and "5:00 p.m." in subjects[1]
    assert len(texts_to(1)) == 2


def test_a_late_run_sends_the_2_hour_reminder_but_not_a_stale_24_hour_one(event_at):
    start = local(17)
    attendee = rsvp(event_at(start), 1)

    counts = reminders_send_due(now=start - 1 * H)  # the worker was down all day

    assert (counts["reminder_24h"], counts["reminder_2h"]) == (0, 1)
    assert [m.subject.startswith("Starting soon:") for m in mail.outbox] == [True]
    attendee.refresh_from_db()
    assert attendee.reminded_24h_at is None and attendee.reminded_2h_at is not None
    assert not reminders_send_due(now=start - 0.5 * H)["reminder_24h"]
    assert len(mail.outbox) == 1


def test_nothing_is_sent_once_the_event_has_started(event_at):
    start = local(17)
    rsvp(event_at(start), 1)

    counts = reminders_send_due(now=start + 0.25 * H)

    assert counts["reminder_24h"] == counts["reminder_2h"] == 0 and mail.outbox == []


def test_a_queued_reminder_that_runs_too_late_is_not_sent(event_at):
    start = local(17)
    attendee = rsvp(event_at(start), 1)

    sent = reminder_send(rsvp_id=attendee.pk, kind=reminders.REMINDER_24H, now=start - 1 * H)

    assert not sent.claimed and mail.outbox == []
    assert Rsvp.objects.get(pk=attendee.pk).reminded_24h_at is None


def test_someone_who_rsvps_within_the_window_is_not_reminded_of_what_they_just_read(event_at):
    start = local(17)
    attendee = rsvp(event_at(start), 1)
    Rsvp.objects.filter(pk=attendee.pk).update(created_at=start - 10 * H)

    assert reminders_send_due(now=start - 9 * H)["reminder_24h"] == 0
    assert reminders_send_due(now=start - 1 * H)["reminder_2h"] == 1


def test_only_people_going_to_published_events_are_reminded(event_at):
    start = local(17)
    full = event_at(start, capacity=1)
    going, waiting, leaving = rsvp(full, 1), rsvp(full, 2), rsvp(full, 3)
    assert waiting.status == "waitlisted"
    rsvp_cancel(rsvp=leaving)  # the waitlisted one is not promoted: nobody going left
    cancelled_event = event_at(start, title="Called off")
    rsvp(cancelled_event, 4)
    event_cancel(event=cancelled_event)

    counts = reminders_send_due(now=start - 23 * H)

    assert counts["reminder_24h"] == 1
    assert [m.to for m in mail.outbox] == [["guest1@example.com"]]
    assert Rsvp.objects.get(pk=going.pk).reminded_24h_at is not None


# Texts ------------------------------------------------------------------------------------------


def test_no_text_at_night_in_the_events_time_zone_but_the_email_still_goes(event_at):
    start = local(10)  # a 10 am canvass: its 24-hour window opens at 10 am the day before
    rsvp(event_at(start), 1)

    counts = reminders_send_due(now=start - 11 * H)  # 11 pm in Des Moines

    assert counts["reminder_24h"] == 1 and len(mail.outbox) == 1
    assert counts["texts"] == 0 and texts_to(1) == []


def test_texting_hours_are_the_events_own_not_the_servers(event_at):
    # 8:30 pm in Reno is 11:30 pm on the server's clock (New York): still texting hours there.
    start = local(20, 30, zone=ZoneInfo("America/Los_Angeles"))
    event = event_at(start + 24 * H, zip_code="89501")
    rsvp(event, 1)

    reminders_send_due(now=start)

    assert event.timezone == "America/Los_Angeles"
    assert len(texts_to(1)) == 1


def test_no_text_without_consent_or_after_opting_out(event_at):
    start = local(17)
    event = event_at(start)
    rsvp(event, 1, consent=False)
    rsvp(event, 2)
    phone_sms_opt_out(number="+15155550002")

    counts = reminders_send_due(now=start - 23 * H)

    assert counts["reminder_24h"] == 2 and len(mail.outbox) == 2
    assert SandboxMessage.objects.count() == 0


def test_reminders_reach_an_unsubscribed_address_but_not_a_bouncing_one(event_at):
    start = local(17)
    event = event_at(start)
    rsvp(event, 1, phone=False)
    rsvp(event, 2, phone=False)
    email_status_set(address="guest1@example.com", status=EmailStatus.UNSUBSCRIBED)
    email_status_set(address="guest2@example.com", status=EmailStatus.BOUNCING)

    counts = reminders_send_due(now=start - 23 * H)

    assert [m.to for m in mail.outbox] == [["guest1@example.com"]]
    assert counts["reminder_24h"] == 2  # both handled: nothing is left to try for the bouncing one


# Exactly once -----------------------------------------------------------------------------------


def test_a_failing_send_releases_the_claim_and_the_next_run_sends_it(event_at):
    start = local(17)
    attendee = rsvp(event_at(start), 1)

    with BROKEN_MAIL:
        failed = reminders_send_due(now=start - 23 * H)
    assert failed["failed"] == 1 and failed["reminder_24h"] == 0
    assert Rsvp.objects.get(pk=attendee.pk).reminded_24h_at is None
    assert texts_to(1) == []  # nothing went out by any channel

    retried = reminders_send_due(now=start - 22 * H)

    assert retried["reminder_24h"] == 1 and len(mail.outbox) == 1 and len(texts_to(1)) == 1
    assert Rsvp.objects.get(pk=attendee.pk).reminded_24h_at == start - 22 * H


def test_a_failed_text_after_the_email_went_does_not_send_the_email_again(event_at):
    start = local(17)
    attendee = rsvp(event_at(start), 1)

    with mock.patch.object(SandboxProvider, "send", side_effect=SmsError("busy", code="20429")):
        counts = reminders_send_due(now=start - 23 * H)
    reminders_send_due(now=start - 22 * H)

    assert counts["reminder_24h"] == 1 and counts["failed"] == 0
    assert len(mail.outbox) == 1 and texts_to(1) == []
    assert Rsvp.objects.get(pk=attendee.pk).reminded_24h_at is not None


def test_when_the_text_is_the_only_channel_its_failure_releases_the_claim(event_at):
    start = local(17)
    attendee = rsvp(event_at(start), 1)
    email_status_set(address="guest1@example.com", status=EmailStatus.BOUNCING)

    with mock.patch.object(SandboxProvider, "send", side_effect=SmsError("Twilio could not be reached")):
        failed = reminders_send_due(now=start - 23 * H)
    assert failed["failed"] == 1 and Rsvp.objects.get(pk=attendee.pk).reminded_24h_at is None

    reminders_send_due(now=start - 22 * H)

    assert len(texts_to(1)) == 1 and mail.outbox == []


def test_a_text_with_an_unknown_outcome_is_not_sent_again(event_at):
    start = local(17)
    attendee = rsvp(event_at(start), 1)
    email_status_set(address="guest1@example.com", status=EmailStatus.BOUNCING)

    with mock.patch.object(SandboxProvider, "send", side_effect=SmsTimeout("no answer")) as send:
        reminders_send_due(now=start - 23 * H)
        reminders_send_due(now=start - 22 * H)

    assert send.call_count == 1
    assert Rsvp.objects.get(pk=attendee.pk).reminded_24h_at is not None


def test_a_number_that_said_stop_to_the_carrier_is_opted_out_everywhere(event_at):
    start = local(17)
    rsvp(event_at(start), 1)

    refusal = SmsError("Attempt to send to unsubscribed recipient.", code="21610", permanent=True)
    with mock.patch.object(SandboxProvider, "send", side_effect=refusal):
        reminders_send_due(now=start - 23 * H)

    assert PhoneNumber.objects.get(number="+15155550001").sms_opted_out_at is not None
    assert len(mail.outbox) == 1


def test_a_worker_running_twice_sends_once(event_at):
    start = local(17)
    event = event_at(start)
    attendees = [rsvp(event, n) for n in range(1, 4)]

    first = reminders_send_due(now=start - 23 * H)
    second = reminders_send_due(now=start - 23 * H)
    for attendee in attendees:  # and a queued batch that runs after both
        assert not reminder_send(rsvp_id=attendee.pk, kind=reminders.REMINDER_24H, now=start - 23 * H).claimed

    assert (first["reminder_24h"], second["reminder_24h"]) == (3, 0)
    assert len(mail.outbox) == 3 and SandboxMessage.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_workers_racing_for_one_attendee_send_once(event_at, race):
    start = local(17)
    attendee = rsvp(event_at(start), 1)

    outcomes = race(6, lambda n: reminder_send(rsvp_id=attendee.pk, kind=reminders.REMINDER_2H, now=start - H))

    assert sum(o.claimed for o in outcomes) == 1
    assert len(mail.outbox) == 1 and len(texts_to(1)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_every_reminder_once(event_at, race):
    start = local(17)
    event = event_at(start)
    people = range(1, 13)
    for n in people:
        rsvp(event, n)

    outcomes = race(3, lambda n: reminders_send_due(now=start - 23 * H))

    assert sum(o["reminder_24h"] for o in outcomes) == len(people)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"guest{n}@example.com" for n in people)
    assert SandboxMessage.objects.count() == len(people)
    assert SandboxMessage.objects.values("to_number").distinct().count() == len(people)


@pytest.mark.django_db(transaction=True)
def test_workers_racing_for_a_hosts_follow_up_send_it_once(event_at, race):
    event = event_at(local(17))

    outcomes = race(4, lambda n: reminders.host_followup_send(event_id=event.pk, now=event.ends_at + H))

    assert sum(o.claimed for o in outcomes) == 1
    assert [m.to for m in mail.outbox] == [["host@example.com"]]


# Follow-ups -------------------------------------------------------------------------------------


def test_after_the_event_attendees_are_asked_what_next_and_the_host_who_came(event_at, host):
    start = local(17)
    event = event_at(start)
    came, missed = rsvp(event, 1), rsvp(event, 2)
    rsvp_check_in(rsvp_id=came.pk)

    counts = reminders_send_due(now=event.ends_at + 0.5 * H)
    again = reminders_send_due(now=event.ends_at + 5 * H)

    assert (counts["followup"], counts["followup_host"]) == (2, 1)
    assert again["followup"] == again["followup_host"] == 0
    by_address = {m.to[0]: m for m in mail.outbox}
    assert set(by_address) == {"guest1@example.com", "guest2@example.com", "host@example.com"}
    assert "Thank you for coming" in by_address["guest1@example.com"].body
    assert "Thank you for signing up" in by_address["guest2@example.com"].body
    for address in ("guest1@example.com", "guest2@example.com"):
        assert "/events/host/" in by_address[address].body and "/events/\n" in by_address[address].body
    to_host = by_address["host@example.com"]
    assert f"/events/{event.pk}/manage/" in to_host.body
    assert "2 people RSVPed and 1 checked in" in to_host.body
    assert SandboxMessage.objects.count() == 0  # follow-ups are email only
    assert Rsvp.objects.filter(pk__in=[came.pk, missed.pk], followed_up_at__isnull=True).count() == 0


def test_the_follow_up_to_attendees_needs_a_subscribed_address(event_at):
    start = local(17)
    event = event_at(start)
    rsvp(event, 1)
    email_status_set(address="guest1@example.com", status=EmailStatus.UNSUBSCRIBED)

    reminders_send_due(now=event.ends_at + H)

    assert [m.to for m in mail.outbox] == [["host@example.com"]]


def test_follow_ups_are_not_sent_days_late(event_at):
    start = local(17)
    event = event_at(start)
    rsvp(event, 1)

    counts = reminders_send_due(now=event.ends_at + 3 * 24 * H)

    assert counts["followup"] == counts["followup_host"] == 0 and mail.outbox == []


def test_a_failing_host_follow_up_is_tried_again(event_at):
    event = event_at(local(17))

    with BROKEN_MAIL:
        assert reminders_send_due(now=event.ends_at + H)["failed"] == 1
    assert not DeliveryClaim.objects.exists()

    assert reminders_send_due(now=event.ends_at + 2 * H)["followup_host"] == 1
    assert [m.to for m in mail.outbox] == [["host@example.com"]]


# The periodic task and the command --------------------------------------------------------------


def _due_now(event_at):
    """An event 12 hours from now with an attendee who RSVPed two days ago: the 24-hour reminder is due."""
    start = timezone.now() + 12 * H
    attendee = rsvp(event_at(start), 1, phone=False)
    Rsvp.objects.filter(pk=attendee.pk).update(created_at=timezone.now() - 48 * H)
    return attendee


def test_the_periodic_task_sends_what_is_due(event_at):
    attendee = _due_now(event_at)

    assert event_reminders_send_due.delay().get() == 1

    assert len(mail.outbox) == 1 and Rsvp.objects.get(pk=attendee.pk).reminded_24h_at is not None
    assert event_reminders_send_due.delay().get() == 0


def test_the_command_sends_what_is_due_and_says_so(event_at):
    _due_now(event_at)
    out = io.StringIO()

    call_command("send_due_reminders", stdout=out)
    call_command("send_due_reminders", stdout=io.StringIO())

    assert "24-hour reminders 1" in out.getvalue() and len(mail.outbox) == 1


def test_finding_what_is_due_costs_the_same_for_many_events(event_at, django_assert_max_num_queries):
    start = local(17)
    for n in range(1, 4):
        rsvp(event_at(start, title=f"Event {n}"), n, phone=False)
    with django_assert_max_num_queries(4):
        assert len(reminders.rsvps_due(kind=reminders.REMINDER_24H, now=start - 23 * H).values_list("pk")) == 3
        assert reminders.host_followups_due(now=start + 3 * H) != []
    assert EmailAddress.objects.count() == 4
