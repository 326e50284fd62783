"""Demo events for `barnstorm seed`: the distributed campaign's calendar in the four early states.

A few hundred events (about 320 for 20,000 supporters, fewer for small demos) in Iowa, New
Hampshire, Nevada and South Carolina, placed at real ZIP codes and timed in each place's own time
zone: house parties at hosts' homes, canvass launches, phone banks (some online), trainings,
barnstorm meetings and small rallies; about two months of history and six weeks ahead. Among them:

- "Day of Action", an event campaign with a hundred-odd events on one Saturday;
- a 27,000-seat rally for Maya Okafor in Des Moines, with thousands of RSVPs;
- a barnstorm meeting in Des Moines three weeks ago whose attendees signed up to host six phone
  banks and canvasses (linked to it by `spawned_from`), one still waiting for moderation.

Hosts are the demo's volunteers and group leaders. Everything goes through the events services
the way the site does it: `event_create` (a new host's event waits for moderation, then
`event_approve`; a few stay in the queue and one is rejected), `rsvp_create` (capacity, waitlists),
`rsvp_cancel`, `walk_in_add` and `rsvp_check_in` for the attendance history of past events. No
email is queued: RSVPs are made with notify=False and no cancellation promotes anyone.

The services take RSVPs only for events that have not ended, so a past event is made as if it were
still ahead (whole weeks later) and put back at its real time afterwards. Then the times the
services set to "now" are moved back to when things happened (creation, publication, RSVPs,
check-ins and their activity), and reminders and follow-ups whose time has passed count as sent
then, so that a worker started after the seed sends only what falls due from now on.
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from barnstorm.activity.models import Activity
from barnstorm.events.models import Event, EventCampaign, EventKind, EventStatus, Rsvp, RsvpStatus
from barnstorm.events.reminders import host_followup_key
from barnstorm.events.services import (
    EventInput,
    event_approve,
    event_create,
    event_reject,
    rsvp_cancel,
    rsvp_check_in,
    rsvp_create,
    walk_in_add,
)
from barnstorm.lib import seeding
from barnstorm.lib.bulk import bulk_update_objects, rows_where_in
from barnstorm.lib.models import DeliveryClaim
from barnstorm.people.models import EmailAddress, GroupMembership, GroupRole, Person, PostalAddress, Tagging
from barnstorm.people.normalize import zip_info
from barnstorm.people.seed import STATES, pick_zip, street_address
from barnstorm.people.services import PersonInput

EVENTS_AT_20K = 320
MIN_EVENTS = 30
DAY_OF_ACTION_SHARE = 0.3
PAST_SHARE = 0.4  # of the other events: the history
PAST_DAYS, AHEAD_DAYS = 60, 45
RALLY_CAPACITY = 27_000
RALLY_SHARE = 0.05  # of all supporters RSVP to the big rally
SPAWNED_FROM_FLAGSHIP = 6
PENDING_SHARE = 0.05  # of new hosts' upcoming events, left in the moderation queue
CANCEL_SHARE = 0.06  # of RSVPs to events without a waitlist
LEADER_SHARE = 0.15  # of events, hosted by a local group's leader for the group

# kind -> (weight, RSVPs at 20,000 supporters (low, high), capacity choices, check-in rate)
KINDS = {
    EventKind.HOUSE_PARTY: (30, (5, 15), (12, 15, 20, 25), 0.8),
    EventKind.CANVASS: (25, (6, 20), (None, None, 20, 30), 0.7),
    EventKind.PHONE_BANK: (20, (4, 12), (None, 15, 20), 0.75),
    EventKind.TRAINING: (10, (5, 15), (20, 25, 30), 0.8),
    EventKind.BARNSTORM: (7, (20, 40), (60, 80, 100), 0.85),
    EventKind.RALLY: (3, (50, 120), (300, 500, 800), 0.6),
}
VIRTUAL_SHARE = {EventKind.PHONE_BANK: 0.35, EventKind.TRAINING: 0.4}
# kind -> local start hours (weekday, weekend) and length in hours
HOURS = {
    EventKind.HOUSE_PARTY: ((18, 19), (14, 16, 18), 2),
    EventKind.CANVASS: ((16, 17), (9, 10, 13), 3),
    EventKind.PHONE_BANK: ((17, 18, 19), (11, 13, 15), 2),
    EventKind.TRAINING: ((18, 19), (10, 13), 1.5),
    EventKind.BARNSTORM: ((19,), (14, 18), 2),
    EventKind.RALLY: ((17, 18), (12, 16), 2),
}
DESCRIPTIONS = {
    EventKind.HOUSE_PARTY: "Meet neighbors who support Maya Okafor, hear why we're running and sign up to help. "
    "Snacks and kids welcome.",
    EventKind.CANVASS: "We'll train you, pair you with a partner and send you out with a walk list. "
    "Wear comfortable shoes; bring a charged phone.",
    EventKind.PHONE_BANK: "Call voters from a script with other volunteers. First time? We'll show you how. "
    "Bring a laptop or a phone and headphones.",
    EventKind.TRAINING: "Learn to host your own event, run a phone bank or lead a canvass team.",
    EventKind.BARNSTORM: "A mass meeting where supporters sign up, on the spot, to host phone banks and "
    "canvasses of their own. Come ready to lead.",
    EventKind.RALLY: "Hear Maya Okafor and Ana Rivera speak. Doors open an hour before.",
}
VENUES = ["Public Library", "Community Center", "Barnstorm field office", "Union hall", "Coffee house", "VFW post"]


@dataclass(frozen=True)
class _Supporter:
    person_id: int
    email: str
    given_name: str
    family_name: str
    state: str
    zip_code: str
    line1: str
    latitude: float
    longitude: float

    def as_input(self) -> PersonInput:
        return PersonInput(email=self.email, given_name=self.given_name, family_name=self.family_name)


@dataclass
class _Plan:
    """One event to create, and what happens to it."""

    data: EventInput
    host: _Supporter
    state: str
    attendees: int
    check_in_rate: float
    past: bool
    keep_pending: bool = False
    spawns: int = 0


@dataclass
class _Done:
    """What the services did, to date afterwards: ids -> when it happened."""

    event_created: dict[int, datetime] = field(default_factory=dict)
    times: dict[int, tuple[datetime, datetime]] = field(default_factory=dict)  # when each event really is
    rsvp_created: dict[int, datetime] = field(default_factory=dict)
    checked_in: dict[int, datetime] = field(default_factory=dict)
    cancelled: dict[int, datetime] = field(default_factory=dict)
    events: int = 0
    rsvps: int = 0
    check_ins: int = 0
    spawned: int = 0


# Who is there -----------------------------------------------------------------------------------


def _supporters(person_ids: list[int]) -> dict[str, list[_Supporter]]:
    """The demo's supporters with an email and a geocoded address, by state, in id order."""
    people = {
        pk: (given, family)
        for pk, given, family in rows_where_in(Person, "id", person_ids, ["id", "given_name", "family_name"])
    }
    emails = {
        pid: address
        for pid, address, primary in rows_where_in(
            EmailAddress, "person", person_ids, ["person", "address", "is_primary"]
        )
        if primary
    }
    by_state: dict[str, list[_Supporter]] = defaultdict(list)
    fields = ["person", "state", "zip_code", "line1", "latitude", "longitude", "is_primary"]
    addresses = sorted(rows_where_in(PostalAddress, "person", person_ids, fields))
    for pid, state, zip_code, line1, lat, lng, primary in addresses:
        if primary and lat is not None and pid in emails and state in STATES:
            given, family = people[pid]
            by_state[state].append(_Supporter(pid, emails[pid], given, family, state, zip_code, line1, lat, lng))
    return by_state


@dataclass(frozen=True)
class _Hosts:
    leaders: dict[str, list[_Supporter]]  # local group leaders, by state
    likely: dict[str, list[_Supporter]]  # house-party hosts and volunteers first, then everyone


def _hosts(by_state: dict[str, list[_Supporter]]) -> _Hosts:
    leaders = set(GroupMembership.objects.filter(role=GroupRole.LEADER).values_list("person_id", flat=True))
    tagged = set(
        Tagging.objects.filter(tag__name__in=["house-party-host", "volunteer", "precinct-captain"]).values_list(
            "person_id", flat=True
        )
    )
    result = _Hosts({}, {})
    for state, people in by_state.items():
        result.leaders[state] = [p for p in people if p.person_id in leaders]
        first = [p for p in people if p.person_id in tagged]
        result.likely[state] = first + [p for p in people if p.person_id not in tagged]
    return result


def _distance(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    dlat, dlng = math.radians(lat2 - lat1), math.radians(lng2 - lng1)
    a = math.sin(dlat / 2) ** 2 + math.cos(math.radians(lat1)) * math.cos(math.radians(lat2)) * math.sin(dlng / 2) ** 2
    return 7918 * math.asin(min(1.0, math.sqrt(a)))


# When -------------------------------------------------------------------------------------------


def _local(day: date, hour: float, zone: str) -> datetime:
    return datetime.combine(day, clock(int(hour), int(hour % 1 * 60)), tzinfo=ZoneInfo(zone))


def _start(rng: random.Random, kind: str, day: date, zone: str) -> tuple[datetime, datetime]:
    weekday_hours, weekend_hours, length = HOURS[kind]
    hour = rng.choice(weekend_hours if day.weekday() >= 5 else weekday_hours) + rng.choice((0, 0, 0.5))
    start = _local(day, hour, zone)
    return start, start + timedelta(hours=length)


def _day_of_action(today: date) -> date:
    """The second Saturday from today."""
    return today + timedelta(days=(5 - today.weekday()) % 7 + 7)


# What ---------------------------------------------------------------------------------------------


def _plan_event(
    rng: random.Random, kind: str, host: _Supporter, day: date, *, past: bool, scale: float, campaign_id=None
) -> _Plan:
    _weight, (low, high), capacities, check_in = KINDS[kind]
    virtual = rng.random() < VIRTUAL_SHARE.get(kind, 0)
    place = zip_info(host.zip_code)
    zone = place.timezone
    city = place.city.title() if place.city.isupper() else place.city
    if kind in (EventKind.CANVASS, EventKind.RALLY) and rng.random() < 0.6:
        day += timedelta(days=(5 - day.weekday()) % 7)  # move to the Saturday
    starts_at, ends_at = _start(rng, kind, day, zone)
    street, venue, zip_code, private = "", "", host.zip_code, False
    if kind == EventKind.HOUSE_PARTY:
        street, private = host.line1 or street_address(rng)[0], True
    elif not virtual:
        spot = pick_zip(rng, host.state) if rng.random() < 0.3 else place
        zip_code, city = spot.zip_code, spot.city.title() if spot.city.isupper() else spot.city
        street, venue = street_address(rng)[0], f"{city} {rng.choice(VENUES)}"
    title = {
        EventKind.HOUSE_PARTY: f"House party at {host.given_name}'s in {city}",
        EventKind.CANVASS: f"{city} canvass launch",
        EventKind.PHONE_BANK: "Online phone bank for Okafor" if virtual else f"{city} phone bank for Okafor",
        EventKind.TRAINING: "Online training: host your own event" if virtual else f"Volunteer training in {city}",
        EventKind.BARNSTORM: f"Barnstorm meeting: {city}",
        EventKind.RALLY: f"Rally with Ana Rivera in {city}" if host.state == "IA" else f"Okafor rally in {city}",
    }[kind]
    if campaign_id is not None:
        title = f"Day of Action: {title}"
    data = EventInput(
        title=title,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        description=DESCRIPTIONS[kind],
        timezone="" if not virtual else zone,
        is_virtual=virtual,
        virtual_url=f"https://meet.example.org/barnstorm-{rng.randint(10000, 99999)}" if virtual else "",
        venue=venue,
        street=street,
        zip_code=zip_code,
        is_private_home=private,
        capacity=rng.choice(capacities),
        campaign_id=campaign_id,
    )
    attendees = round(rng.randint(low, high) * scale)
    return _Plan(data, host, host.state, max(1, attendees), check_in, past)


def _plans(rng: random.Random, hosts: _Hosts, now: datetime, count: int, scale: float, campaign_id: int) -> list[_Plan]:
    states = [state for state in STATES if hosts.likely.get(state)]
    weights = [STATES[state].share for state in states]
    kinds, kind_weights = list(KINDS), [spec[0] for spec in KINDS.values()]
    today = now.date()
    action_day = _day_of_action(today)
    used: dict[str, int] = defaultdict(int)  # hosts host one to three events
    plans = []
    for i in range(count):
        state = rng.choices(states, weights)[0]
        pool = hosts.likely[state]
        if hosts.leaders[state] and rng.random() < LEADER_SHARE:
            host = rng.choice(hosts.leaders[state])  # a local group's event: published at once
        else:
            host = pool[min(len(pool) - 1, int(rng.random() ** 2 * len(pool)))]
        if used[host.person_id] >= 3:
            host = rng.choice(pool)
        used[host.person_id] += 1
        if i < count * DAY_OF_ACTION_SHARE:
            kind = rng.choices([EventKind.CANVASS, EventKind.PHONE_BANK, EventKind.HOUSE_PARTY], [5, 3, 2])[0]
            plan = _plan_event(rng, kind, host, action_day, past=False, scale=scale, campaign_id=campaign_id)
        else:
            kind = rng.choices(kinds, kind_weights)[0]
            past = rng.random() < PAST_SHARE
            day = (
                today - timedelta(days=rng.randint(1, PAST_DAYS))
                if past
                else today + timedelta(days=rng.randint(1, AHEAD_DAYS))
            )
            plan = _plan_event(rng, kind, host, day, past=past, scale=scale)
            if kind == EventKind.BARNSTORM and past:
                plan.spawns = rng.choice((0, 1, 1, 2))
        if plan.past and plan.data.ends_at > now - timedelta(hours=1):
            plan.past = False  # it is going on now, or just ended: no history yet
        plan.keep_pending = not plan.past and rng.random() < PENDING_SHARE
        plans.append(plan)
    return plans


# Doing it ---------------------------------------------------------------------------------------


class _Seeder:
    def __init__(self, rng: random.Random, now: datetime, by_state: dict[str, list[_Supporter]]) -> None:
        self.rng, self.now, self.by_state = rng, now, by_state
        self.everyone = [s for people in by_state.values() for s in people]
        self.by_id = {s.person_id: s for s in self.everyone}
        self.done = _Done()
        self.leaders = dict(GroupMembership.objects.filter(role=GroupRole.LEADER).values_list("person_id", "group_id"))

    def event(self, plan: _Plan) -> Event:
        group_id = self.leaders.get(plan.host.person_id)
        if group_id is not None:
            plan.data.group_id = group_id
        host = Person(pk=plan.host.person_id, given_name=plan.host.given_name, family_name=plan.host.family_name)
        start, end = plan.data.starts_at, plan.data.ends_at
        # The services take RSVPs only for events that have not ended, on the wall clock: the past
        # is made while it is still ahead (whole weeks later), then moved back to its time.
        later = timedelta(0)
        wall = timezone.now()
        if end <= wall + timedelta(days=1):
            later = timedelta(weeks=math.ceil((wall - end) / timedelta(weeks=1)) + 1)
        data = dataclasses.replace(plan.data, starts_at=start + later, ends_at=end + later)
        event = event_create(data=data, host=host)
        if event.status == EventStatus.PENDING and not plan.keep_pending:
            event = event_approve(event=event, actor=None)
        lead = timedelta(days=self.rng.uniform(4, 30))
        # An upcoming event was announced days ago, not an hour ago: its RSVPs spread over those days.
        announced = self.now - timedelta(days=self.rng.uniform(2, 25))
        self.done.event_created[event.pk] = min(start - lead, announced)
        self.done.times[event.pk] = (start, end)
        self.done.events += 1
        return event

    def starts(self, event: Event) -> datetime:
        return self.done.times[event.pk][0]

    def rsvps(self, event: Event, plan: _Plan, count: int, *, exclude: set[int] = frozenset()) -> list[Rsvp]:
        if event.status != EventStatus.PUBLISHED:
            return []
        people = self.everyone if event.is_virtual else self.by_state[plan.state]
        candidates = [p for p in self.rng.sample(people, min(len(people), count * 3)) if p.person_id not in exclude]
        candidates = [p for p in candidates if p.person_id != plan.host.person_id]
        if not event.is_virtual:
            candidates.sort(key=lambda p: _distance(p.latitude, p.longitude, event.latitude, event.longitude))
        made = []
        opened = self.done.event_created[event.pk]
        closes = min(self.starts(event) - timedelta(hours=3), self.now - timedelta(minutes=10))
        for supporter in candidates[:count]:
            guests = self.rng.choice((1, 1, 2)) if self.rng.random() < 0.15 else 0
            rsvp = rsvp_create(event=event, data=supporter.as_input(), guests=guests, notify=False).rsvp
            self.done.rsvp_created[rsvp.pk] = opened + (closes - opened) * self.rng.random() ** 0.7
            made.append(rsvp)
        self.done.rsvps += len(made)
        return made

    def history(self, event: Event, plan: _Plan, rsvps: list[Rsvp]) -> list[Rsvp]:
        """Cancellations (where nobody waits), and for past events who came: check-ins and walk-ins."""
        if event.capacity is None or not any(r.status == RsvpStatus.WAITLISTED for r in rsvps):
            for rsvp in rsvps:
                if self.rng.random() < CANCEL_SHARE:
                    rsvp_cancel(rsvp=rsvp)
                    created = self.done.rsvp_created[rsvp.pk]
                    until = min(self.starts(event), self.now - timedelta(minutes=5))
                    self.done.cancelled[rsvp.pk] = created + (until - created) * self.rng.random()
        if not plan.past:
            return []
        came = []
        for rsvp in Rsvp.objects.filter(event=event, status=RsvpStatus.GOING).order_by("pk"):
            if self.rng.random() < plan.check_in_rate:
                rsvp_check_in(rsvp_id=rsvp.pk)
                self.done.checked_in[rsvp.pk] = self.starts(event) + timedelta(minutes=self.rng.uniform(-15, 40))
                came.append(rsvp)
        if not event.is_virtual:
            taken = {r.person_id for r in rsvps} | {plan.host.person_id}
            in_state = self.by_state[plan.state]
            nearby = [p for p in self.rng.sample(in_state, min(4, len(in_state))) if p.person_id not in taken]
            for supporter in nearby[: self.rng.choice((0, 0, 1, 2))]:
                walk_in = walk_in_add(event=event, data=supporter.as_input()).rsvp
                when = self.starts(event) + timedelta(minutes=self.rng.uniform(0, 30))
                self.done.rsvp_created[walk_in.pk] = self.done.checked_in[walk_in.pk] = when
                came.append(walk_in)
        self.done.check_ins += len(came)
        return came

    def spawn(self, meeting: Event, came: list[Rsvp], count: int, plan: _Plan) -> None:
        """At the end of a barnstorm meeting, attendees sign up to host a phone bank or canvass."""
        for rsvp in came[:count]:
            host = self.by_id.get(rsvp.person_id)
            if host is None:
                continue
            kind = self.rng.choice([EventKind.PHONE_BANK, EventKind.CANVASS])
            day = max(self.starts(meeting).date() + timedelta(days=self.rng.randint(5, 30)), self.now.date())
            day += timedelta(days=1)
            child = _plan_event(self.rng, kind, host, day, past=False, scale=1)
            child.data.spawned_from_id = meeting.pk
            child.data.campaign_id = meeting.campaign_id
            child.keep_pending = self.done.spawned == 1  # one waits for an organizer
            child.attendees = max(1, round(plan.attendees * 0.2))
            event = self.event(child)
            # Proposed at the meeting, before the host had published anything.
            self.done.event_created[event.pk] = min(self.done.times[meeting.pk][1], self.now - timedelta(hours=1))
            self.rsvps(event, child, child.attendees, exclude={r.person_id for r in came[:count]})
            self.done.spawned += 1


def _campaign() -> EventCampaign:
    campaign, _ = EventCampaign.objects.get_or_create(
        slug="day-of-action",
        defaults={
            "name": "Day of Action",
            "description": "One Saturday, every state: canvasses, phone banks and house parties for Maya Okafor, "
            "hosted by volunteers in their own neighborhoods.",
        },
    )
    return campaign


def _rally(now: datetime, by_state, people: int) -> _Plan | None:
    hosts = [s for s in by_state.get("IA", []) if s.zip_code.startswith("503")] or by_state.get("IA", [])
    if not hosts:
        return None
    host = hosts[0]
    day = now.date() + timedelta(days=12)
    day += timedelta(days=(5 - day.weekday()) % 7)
    start = _local(day, 17, "America/Chicago")
    data = EventInput(
        title="Maya Okafor in Des Moines: the Iowa rally",
        kind=EventKind.RALLY,
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        description="The biggest rally of the campaign: Maya Okafor, Ana Rivera and friends. Doors open at 3 pm. "
        "Bring your ticket's QR code for the fast lane.",
        venue="State Fairgrounds Grandstand",
        street="3000 E Grand Ave",
        zip_code="50317",
        capacity=RALLY_CAPACITY,
    )
    attendees = max(3, round(people * RALLY_SHARE))
    return _Plan(data, host, "IA", attendees, 0.6, past=False)


def _flagship(now: datetime, by_state, scale: float) -> _Plan | None:
    hosts = [s for s in by_state.get("IA", []) if s.zip_code.startswith("503")] or by_state.get("IA", [])
    if len(hosts) < 2:
        return None
    day = now.date() - timedelta(days=20)
    start = _local(day, 19, "America/Chicago")
    data = EventInput(
        title="Barnstorm meeting: Des Moines",
        kind=EventKind.BARNSTORM,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        description=DESCRIPTIONS[EventKind.BARNSTORM],
        venue="Des Moines Union Hall",
        street="2000 Walker St",
        zip_code="50317",
        capacity=150,
    )
    plan = _Plan(data, hosts[1], "IA", max(SPAWNED_FROM_FLAGSHIP + 2, round(60 * scale)), 0.9, past=True)
    plan.spawns = SPAWNED_FROM_FLAGSHIP
    return plan


# Dating it --------------------------------------------------------------------------------------


def _backdate(done: _Done, first_activity: int, now: datetime) -> None:
    events = list(Event.objects.filter(pk__in=list(done.event_created)).only("pk", "status"))
    for event in events:
        event.starts_at, event.ends_at = done.times[event.pk]
        event.created_at = done.event_created[event.pk]
        if event.status == EventStatus.PUBLISHED:
            event.published_at = min(event.created_at + timedelta(hours=6), now - timedelta(minutes=30))
    bulk_update_objects(events, ["starts_at", "ends_at", "created_at", "published_at"])
    published = {e.pk: e.published_at for e in events if e.published_at}
    starts = {e.pk: (e.starts_at, e.ends_at) for e in events}

    rsvps = list(Rsvp.objects.filter(pk__in=list(done.rsvp_created)).only("pk", "event_id", "status"))
    for rsvp in rsvps:
        start, end = starts[rsvp.event_id]
        created = max(done.rsvp_created[rsvp.pk], published.get(rsvp.event_id) or done.rsvp_created[rsvp.pk])
        rsvp.created_at = min(created, now - timedelta(minutes=5))
        rsvp.checked_in_at = done.checked_in.get(rsvp.pk)
        cancelled = done.cancelled.get(rsvp.pk)
        rsvp.cancelled_at = max(cancelled, rsvp.created_at) if cancelled else None
        # Whatever fell due before now was sent then (see events.reminders for when each is due).
        going = rsvp.status == RsvpStatus.GOING
        rsvp.reminded_24h_at = rsvp.reminded_2h_at = rsvp.followed_up_at = None
        for hours, column in ((24, "reminded_24h_at"), (2, "reminded_2h_at")):
            due = start - timedelta(hours=hours)
            if going and rsvp.created_at < due < now:
                setattr(rsvp, column, due + timedelta(minutes=2))
        if going and end < now:
            rsvp.followed_up_at = end + timedelta(minutes=2)
    bulk_update_objects(rsvps, ["created_at", "checked_in_at", "cancelled_at", "reminded_24h_at", "reminded_2h_at"])
    bulk_update_objects(rsvps, ["followed_up_at"])
    DeliveryClaim.objects.bulk_create(
        [
            DeliveryClaim(key=host_followup_key(pk), claimed_at=end + timedelta(minutes=2))
            for pk, (start, end) in starts.items()
            if end < now and pk in published
        ],
        ignore_conflicts=True,
    )

    pairs = {
        (pid, eid): (created, checked, cancelled)
        for pid, eid, created, checked, cancelled in Rsvp.objects.filter(pk__in=list(done.rsvp_created)).values_list(
            "person_id", "event_id", "created_at", "checked_in_at", "cancelled_at"
        )
    }
    moved = []
    for entry in Activity.objects.filter(
        pk__gte=first_activity, kind__in=["rsvp", "attended", "rsvp_cancelled", "hosted_event", "event_proposed"]
    ).only("pk", "person_id", "kind", "data"):
        event_id = entry.data.get("event_id")
        if entry.kind in ("hosted_event", "event_proposed"):
            if event_id in done.event_created:
                created = done.event_created[event_id]
                entry.occurred_at = published.get(event_id, created) if entry.kind == "hosted_event" else created
                moved.append(entry)
            continue
        times = pairs.get((entry.person_id, event_id))
        if times is None:
            continue
        created, checked, cancelled = times
        entry.occurred_at = {"rsvp": created, "attended": checked, "rsvp_cancelled": cancelled}[entry.kind]
        if entry.occurred_at is not None:
            moved.append(entry)
    bulk_update_objects(moved, ["occurred_at"])


# The step ---------------------------------------------------------------------------------------


def seed_events_demo(context: seeding.SeedContext) -> None:
    person_ids = sorted(context.shared.get("people.person_ids") or [])
    if not person_ids:
        context.log("  events: no supporters to host or attend")
        return
    started = time.monotonic()
    rng = context.rng("events")
    scale = min(1.0, math.sqrt(len(person_ids) / 20_000))
    by_state = _supporters(person_ids)
    if not by_state:
        context.log("  events: no supporters with an address")
        return
    hosts = _hosts(by_state)
    count = max(MIN_EVENTS, round(EVENTS_AT_20K * scale))
    campaign = _campaign()
    plans = _plans(rng, hosts, context.now, count, scale, campaign.pk)
    first_activity = (Activity.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    seeder = _Seeder(rng, context.now, by_state)

    specials = [
        p for p in (_flagship(context.now, by_state, scale), _rally(context.now, by_state, len(person_ids))) if p
    ]
    for plan in specials + plans:
        with transaction.atomic():  # one commit per event: SQLite pays per commit
            event = seeder.event(plan)
            rsvps = seeder.rsvps(event, plan, plan.attendees)
            came = seeder.history(event, plan, rsvps)
            if plan.spawns and came:
                seeder.spawn(event, came, plan.spawns, plan)
    rejected = Event.objects.filter(status=EventStatus.PENDING, spawned_from=None).order_by("pk").first()
    if rejected is not None:
        event_reject(event=rejected, reason="Please add the street address of the venue.", actor=None)
    _backdate(seeder.done, first_activity, context.now)
    done = seeder.done
    context.log(
        f"  events: {done.events:,} events ({done.spawned} spawned by barnstorm meetings), {done.rsvps:,} RSVPs,"
        f" {done.check_ins:,} check-ins ({time.monotonic() - started:.1f}s)"
    )


seeding.register("events", order=30, demo=seed_events_demo)
