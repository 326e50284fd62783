from datetime import timedelta

import pytest
from django.utils import timezone

from barnstorm.activity.services import activity_record
from barnstorm.events.models import Event, EventKind, EventStatus
from barnstorm.events.selectors import place_for_zip
from barnstorm.segments import measures
from barnstorm.segments.models import Level, LevelChange

pytestmark = pytest.mark.django_db

NOW = timezone.now() - timedelta(minutes=1)


def act(person, kind, days_ago=0):
    activity_record(person_id=person.pk, kind=kind, occurred_at=NOW - timedelta(days=days_ago))


def make_event(host, *, kind=EventKind.CANVASS, days_ahead=3, zip_code="50309", status=EventStatus.PUBLISHED, **extra):
    place = place_for_zip(zip_code)
    return Event.objects.create(
        title=extra.pop("title", f"{kind} in {zip_code}"),
        kind=kind,
        host=host,
        status=status,
        starts_at=NOW + timedelta(days=days_ahead),
        ends_at=NOW + timedelta(days=days_ahead, hours=2),
        zip_code=zip_code,
        latitude=place.latitude,
        longitude=place.longitude,
        **extra,
    )


def test_the_atm_index_is_the_share_of_recent_donors_who_also_acted(make_person):
    a, b, c, d, e = (make_person(email=f"{n}@example.com") for n in "abcde")
    act(a, "donation", 10)
    act(a, "attended", 20)  # engaged donor
    act(b, "donation", 5)
    act(b, "rsvp", 120)  # acted, but too long ago
    act(c, "donation", 30)
    act(c, "donation", 31)  # two gifts, one donor, not engaged
    act(d, "donation", 200)  # gave too long ago: not a donor in the window
    act(d, "attended", 1)
    act(e, "hosted_event", 3)  # acted, never gave
    index = measures.not_an_atm_index(now=NOW)
    assert (index.donors, index.engaged_donors) == (3, 1)
    assert index.share == pytest.approx(1 / 3)


def test_the_atm_index_without_donors_has_no_share(make_person):
    make_person()
    assert measures.not_an_atm_index(now=NOW).share is None


def test_movement_is_counted_per_week_up_and_down(make_person):
    person = make_person()
    this_week = NOW
    three_weeks_ago = NOW - timedelta(weeks=3)
    for when, frm, to in [
        (this_week, Level.SUPPORTER, Level.DONOR),
        (this_week, Level.DONOR, Level.VOLUNTEER),
        (this_week, Level.VOLUNTEER, Level.DONOR),
        (three_weeks_ago, Level.DONOR, Level.SUPPORTER),
        (NOW - timedelta(weeks=30), Level.SUPPORTER, Level.DONOR),  # before the chart
    ]:
        LevelChange.objects.create(person=person, from_level=frm, to_level=to, changed_at=when)
    weeks = measures.ladder_movement_by_week(weeks=12, now=NOW)
    assert len(weeks) == 12
    assert (weeks[-1].up, weeks[-1].down) == (2, 1)
    assert (weeks[-4].up, weeks[-4].down) == (0, 1)
    assert sum(w.up + w.down for w in weeks) == 4
    assert weeks[-1].start.weekday() == 0


def test_new_hosts_per_barnstorm_meeting(make_person):
    organizer_host, ann, bob = (make_person(email=f"{n}@example.com") for n in ("o", "ann", "bob"))
    first = make_event(organizer_host, kind=EventKind.BARNSTORM, days_ahead=-10)
    second = make_event(organizer_host, kind=EventKind.BARNSTORM, days_ahead=-3)
    make_event(organizer_host, kind=EventKind.BARNSTORM, days_ahead=-200)  # outside the window
    make_event(ann, spawned_from=first)
    make_event(ann, spawned_from=second)
    make_event(bob, spawned_from=second, status=EventStatus.PENDING)
    make_event(bob, spawned_from=second, status=EventStatus.REJECTED)  # not counted
    result = measures.new_hosts_per_barnstorm(now=NOW)
    assert (result.meetings, result.spawned_events, result.new_hosts) == (2, 3, 2)
    assert result.hosts_per_meeting == 1.0


def test_a_donor_who_never_attended_is_asked_to_the_nearest_event(make_person):
    donor = make_person(email="d@example.com", zip_code="50309")
    host = make_person(email="h@example.com")
    make_event(host, zip_code="10001", days_ahead=1, title="Far away")
    near = make_event(host, zip_code="50310", days_ahead=5, title="Close by")
    act(donor, "donation", 3)
    act(donor, "donation", 40)
    ask = measures.next_step_for(donor, now=NOW)
    assert ask.kind == "attend"
    assert ask.event == near


def test_a_volunteer_who_never_hosted_is_asked_to_host(make_person):
    volunteer = make_person()
    act(volunteer, "attended", 3)
    assert measures.next_step_for(volunteer, now=NOW).kind == "host"


def test_a_host_is_asked_to_bring_others(make_person):
    host = make_person()
    act(host, "hosted_event", 3)
    assert measures.next_step_for(host, now=NOW).kind == "recruit"


def test_a_supporter_with_no_event_near_is_asked_to_give(make_person):
    supporter = make_person()
    ask = measures.next_step_for(supporter, now=NOW)
    assert ask.kind == "give"


def test_a_supporter_with_an_event_near_is_asked_to_come(make_person):
    supporter = make_person(email="s@example.com")
    event = make_event(make_person(email="h@example.com"))
    ask = measures.next_step_for(supporter, now=NOW)
    assert (ask.kind, ask.event) == ("attend", event)


def test_next_step_reads_only(make_person, django_assert_max_num_queries):
    donor = make_person()
    act(donor, "donation", 3)
    with django_assert_max_num_queries(8):
        measures.next_step_for(donor, now=NOW)
    assert not LevelChange.objects.exists()


def test_next_steps_for_many_people_cost_the_same_queries_as_for_two(make_person, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_event(make_person(email="h@example.com"), zip_code="50310")
    people = [make_person(email=f"p{n}@example.com", zip_code="50309") for n in range(12)]
    for person in people[:4]:
        act(person, "donation", 3)
    act(people[4], "attended", 3)

    with CaptureQueriesContext(connection) as two:
        measures.next_steps_for([p.pk for p in people[:2]], now=NOW)
    with django_assert_num_queries(len(two)):
        asks = measures.next_steps_for([p.pk for p in people], now=NOW)
    # The same answers, one by one.
    assert asks == {p.pk: measures.next_step_for(p, now=NOW) for p in people}
    assert [asks[p.pk].kind for p in people[3:6]] == ["attend", "host", "attend"]
