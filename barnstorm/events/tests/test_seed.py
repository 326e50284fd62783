"""Demo events (`barnstorm seed`): a calendar made through the services, dated when things happened."""

import datetime
import io
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Count, Q

from barnstorm.activity.models import Activity
from barnstorm.events import reminders
from barnstorm.events.models import Event, EventCampaign, EventKind, EventStatus, Rsvp, RsvpStatus
from barnstorm.events.seed import RALLY_CAPACITY, RALLY_SHARE, SPAWNED_FROM_FLAGSHIP
from barnstorm.lib import seeding
from barnstorm.lib.models import DeliveryClaim
from barnstorm.people.models import GroupMembership, GroupRole, Person

pytestmark = pytest.mark.django_db

# A fixed "now" in the past: anything the seed forgot to move back would show up after it.
NOW = datetime.datetime(2026, 5, 20, 18, 0, tzinfo=datetime.UTC)
PEOPLE = 300
STATE_ZONES = {
    "IA": {"America/Chicago"},
    "NH": {"America/New_York"},
    "NV": {"America/Los_Angeles"},
    "SC": {"America/New_York"},
}


def seed_demo(people: int = PEOPLE, seed: int = 2026) -> str:
    """The people and events steps, as `barnstorm seed` runs them, at a fixed moment."""
    out = io.StringIO()
    context = seeding.SeedContext(people=people, seed=seed, now=NOW, out=out)
    for step in seeding.seed_steps():
        if step.name in ("people", "events"):
            step.demo(context)
    return out.getvalue()


@pytest.fixture
def demo():
    return seed_demo()


def test_events_come_after_people_and_donations():
    steps = {step.name: step.order for step in seeding.seed_steps()}
    assert steps["people"] < steps["donations"] < steps["events"] == 30


def test_a_calendar_across_the_four_early_states_in_their_own_time_zones(demo):
    events = Event.objects.all()

    assert 30 <= events.count() <= 400
    assert set(events.filter(is_virtual=False).values_list("state", flat=True)) == set(STATE_ZONES)
    for event in events.filter(is_virtual=False):
        assert event.timezone in STATE_ZONES[event.state], event.title
        assert event.latitude is not None and event.zip_code
    kinds = Counter(events.values_list("kind", flat=True))
    assert {EventKind.HOUSE_PARTY, EventKind.CANVASS, EventKind.PHONE_BANK, EventKind.RALLY} <= set(kinds)
    assert events.filter(is_virtual=True).exclude(virtual_url="").exists()
    assert events.filter(starts_at__lt=NOW).exists() and events.filter(starts_at__gt=NOW).exists()
    # Local groups' events, hosted by their leaders.
    grouped = events.exclude(group=None)
    assert grouped.exists()
    for event in grouped:
        assert GroupMembership.objects.filter(group=event.group, person=event.host, role=GroupRole.LEADER).exists()
    # Local times people keep: nothing starts between 10 pm and 8 am where it happens.
    for event in events:
        assert 8 <= event.starts_at.astimezone(ZoneInfo(event.timezone)).hour < 22, event.title


def test_a_day_of_action_with_many_events_on_one_day(demo):
    campaign = EventCampaign.objects.get(slug="day-of-action")
    events = list(campaign.events.all())

    assert len(events) >= 10
    days = {event.starts_at.astimezone(ZoneInfo(event.timezone)).date() for event in events}
    assert len(days) <= 2 and all(day.weekday() in (5, 6) for day in days)  # Saturday (a canvass: or Sunday)
    assert len({event.state for event in events if not event.is_virtual}) >= 3


def test_a_27000_seat_rally_with_rsvps(demo):
    rally = Event.objects.get(capacity=RALLY_CAPACITY)

    assert rally.kind == EventKind.RALLY and rally.state == "IA" and rally.status == EventStatus.PUBLISHED
    assert rally.rsvps.filter(status=RsvpStatus.GOING).count() >= RALLY_SHARE * PEOPLE * 0.9
    assert rally.starts_at > NOW


def test_a_barnstorm_meeting_that_spawned_events_hosted_by_its_attendees(demo):
    meeting = Event.objects.annotate(n=Count("spawned_events")).filter(kind=EventKind.BARNSTORM).order_by("-n")[0]
    spawned = list(meeting.spawned_events.all())

    assert len(spawned) == SPAWNED_FROM_FLAGSHIP and meeting.starts_at < NOW
    attendees = set(meeting.rsvps.filter(checked_in_at__isnull=False).values_list("person_id", flat=True))
    assert {event.host_id for event in spawned} <= attendees
    assert {event.kind for event in spawned} <= {EventKind.PHONE_BANK, EventKind.CANVASS}
    assert all(event.starts_at > NOW for event in spawned)
    assert Counter(event.status for event in spawned)[EventStatus.PENDING] == 1  # the moderation queue


def test_attendance_history_for_past_events_only(demo):
    past = Rsvp.objects.filter(event__ends_at__lt=NOW, status=RsvpStatus.GOING)
    checked_in = past.filter(checked_in_at__isnull=False)

    assert past.count() >= 10
    assert 0.5 * past.count() <= checked_in.count() <= past.count()
    assert not Rsvp.objects.filter(event__starts_at__gt=NOW, checked_in_at__isnull=False).exists()
    assert Rsvp.objects.filter(walk_in=True).exists()
    assert Activity.objects.filter(kind="attended").count() == checked_in.count()
    for rsvp in checked_in.select_related("event")[:50]:
        assert abs(rsvp.checked_in_at - rsvp.event.starts_at) < datetime.timedelta(hours=1)


def test_rsvps_went_through_the_services(demo):
    rsvps = Rsvp.objects.all()

    assert Activity.objects.filter(kind="rsvp").count() == rsvps.count()
    assert Activity.objects.filter(kind="rsvp_cancelled").count() == rsvps.filter(status=RsvpStatus.CANCELLED).count()
    assert rsvps.filter(status=RsvpStatus.CANCELLED).exists()
    assert not rsvps.filter(event__status__in=[EventStatus.PENDING, EventStatus.REJECTED]).exists()
    # Capacity held: no event has more seats taken than it has.
    for event in Event.objects.exclude(capacity=None):
        going = event.rsvps.filter(status=RsvpStatus.GOING, walk_in=False)
        assert sum(1 + r.guests for r in going) <= event.capacity, event.title
    assert Event.objects.filter(status=EventStatus.REJECTED).exclude(rejection_reason="").count() == 1


def test_what_happened_is_dated_when_it_happened(demo):
    assert not Event.objects.filter(Q(created_at__gt=NOW) | Q(published_at__gt=NOW)).exists()
    assert not Rsvp.objects.filter(Q(created_at__gt=NOW) | Q(checked_in_at__gt=NOW)).exists()
    for rsvp in Rsvp.objects.filter(walk_in=False).select_related("event"):
        assert rsvp.created_at < rsvp.event.starts_at
    kinds = ["rsvp", "attended", "rsvp_cancelled", "hosted_event", "event_proposed"]
    assert not Activity.objects.filter(kind__in=kinds, occurred_at__gt=NOW).exists()


def test_a_worker_started_after_the_seed_sends_no_stale_reminders_or_follow_ups(demo):
    for kind in reminders.KINDS:
        due = reminders.rsvps_due(kind=kind, now=NOW)
        assert not due.filter(event__starts_at__lt=NOW).exists(), kind
    assert reminders.rsvps_due(kind=reminders.FOLLOWUP, now=NOW).count() == 0
    assert reminders.host_followups_due(now=NOW) == []
    assert DeliveryClaim.objects.exists()
    assert Rsvp.objects.filter(event__ends_at__lt=NOW, status="going", followed_up_at=None).count() == 0


def test_the_same_seed_gives_the_same_calendar():
    def calendar():
        return (
            sorted(Event.objects.values_list("title", "kind", "zip_code", "starts_at", "capacity", "status")),
            Rsvp.objects.count(),
            Rsvp.objects.filter(checked_in_at__isnull=False).count(),
            sorted(Counter(Rsvp.objects.values_list("status", flat=True)).items()),
        )

    seed_demo(150, seed=7)
    first = calendar()
    Activity.objects.all().delete()
    Event.objects.all().delete()
    Person.objects.all().delete()
    EventCampaign.objects.all().delete()
    DeliveryClaim.objects.all().delete()

    seed_demo(150, seed=7)

    assert calendar() == first
    assert first[1] > 0
