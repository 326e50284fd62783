"""A small random campaign, and an independent Python evaluation of segment queries over its rows.

The world is built with plain model creation (every table a predicate reads, with the awkward
cases: secondary emails and addresses, partial and full refunds, split gifts, cancelled RSVPs,
rejected events, virtual events, people without an engagement row). `Expected` reads the rows
back into Python and answers a query with set arithmetic, without the engine or the ORM's
filtering: the tests compare the two.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field

import pytest
from django.utils import timezone

from barnstorm.activity.models import Activity
from barnstorm.donations.models import (
    Committee,
    Contribution,
    LineItem,
    PlanStatus,
    RecurringPlan,
    SavedPaymentMethod,
)
from barnstorm.events.geo import haversine_miles
from barnstorm.events.models import Event, EventKind, EventStatus, Rsvp, RsvpStatus
from barnstorm.people.models import (
    EmailAddress,
    EmailStatus,
    GroupMembership,
    GroupRole,
    ListMembership,
    LocalGroup,
    PeopleList,
    Person,
    PhoneNumber,
    PostalAddress,
    Tag,
    Tagging,
)
from barnstorm.people.normalize import zip_info
from barnstorm.segments.models import Engagement

PEOPLE = 60
# Real ZIPs: Des Moines and around (some within 10 and 25 miles of 50309), Ames, Iowa City, Manchester NH.
ZIPS = ["50309", "50310", "50314", "50021", "50263", "50010", "52240", "03101", "03104"]
ACTIVITY_KINDS = ["rsvp", "attended", "donation", "signup"]


@dataclass
class World:
    now: datetime.datetime
    people: list[int]
    committees: list[int]
    events: list[int]
    tags: dict[str, int] = field(default_factory=dict)
    lists: dict[str, int] = field(default_factory=dict)
    groups: dict[str, int] = field(default_factory=dict)


def _ago(now, rng, days_max=400):
    # Whole-hour offsets plus 30 minutes: never on a day boundary or exactly N days back.
    return now - datetime.timedelta(days=rng.randint(0, days_max), hours=rng.randint(0, 23), minutes=30)


@pytest.fixture
def world(db) -> World:
    rng = random.Random(5)
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    tags = {name: Tag.objects.create(name=name).pk for name in ("volunteer", "Donor Prospect", "teacher")}
    lists = {name: PeopleList.objects.create(name=name).pk for name in ("Caucus captains", "Press")}
    groups = {
        slug: LocalGroup.objects.create(name=slug.title(), slug=slug).pk for slug in ("dsm-east", "ames", "nashua")
    }
    committees = [
        Committee.objects.create(name="Rivera for Iowa", fec_id="C00123456", election_year=2026).pk,
        Committee.objects.create(name="Victory Fund", fec_id="C00654321", election_year=2026).pk,
    ]
    people = []
    for i in range(PEOPLE):
        custom = {}
        if rng.random() < 0.6:
            custom["shirt"] = rng.choice(["S", "M", "L"])
        if rng.random() < 0.5:
            custom["doors"] = rng.randint(0, 3)
        if rng.random() < 0.3:
            custom["captain"] = rng.random() < 0.5
        person = Person.objects.create(given_name=f"P{i}", family_name="Test", custom_fields=custom)
        Person.objects.filter(pk=person.pk).update(created_at=_ago(now, rng))
        people.append(person.pk)
        if rng.random() < 0.9:
            EmailAddress.objects.create(
                person=person, address=f"p{i}@example.com", is_primary=True, status=rng.choice(EmailStatus.values)
            )
            if rng.random() < 0.3:
                EmailAddress.objects.create(
                    person=person, address=f"p{i}.old@example.com", status=rng.choice(EmailStatus.values)
                )
        for n in range(rng.choice([0, 1, 1, 2])):
            consent = rng.random() < 0.6
            PhoneNumber.objects.create(
                person=person,
                number=f"+1515555{i:02d}{n:02d}",
                sms_consent=consent,
                sms_opted_out_at=now if consent and rng.random() < 0.3 else None,
                is_primary=n == 0,
            )
        if rng.random() < 0.9:
            info = zip_info(rng.choice(ZIPS))
            PostalAddress.objects.create(
                person=person,
                state=info.state,
                zip_code=info.zip_code,
                county=info.county,
                latitude=info.latitude,
                longitude=info.longitude,
                is_primary=True,
            )
            if rng.random() < 0.3:
                other = zip_info(rng.choice(ZIPS))
                PostalAddress.objects.create(
                    person=person,
                    state=other.state,
                    zip_code=other.zip_code,
                    county=other.county,
                    latitude=other.latitude,
                    longitude=other.longitude,
                )
        for tag_id in tags.values():
            if rng.random() < 0.3:
                Tagging.objects.create(person=person, tag_id=tag_id)
        for list_id in lists.values():
            if rng.random() < 0.25:
                ListMembership.objects.create(person=person, people_list_id=list_id)
        for group_id in groups.values():
            if rng.random() < 0.25:
                GroupMembership.objects.create(person=person, group_id=group_id, role=rng.choice(GroupRole.values))
        for _ in range(rng.choice([0, 0, 1, 2, 3, 5])):
            Activity.objects.create(person=person, kind=rng.choice(ACTIVITY_KINDS), occurred_at=_ago(now, rng, 200))
        if rng.random() < 0.6:
            Engagement.objects.create(person=person, level=rng.randint(0, 3))
        method = None
        for g in range(rng.choice([0, 0, 1, 1, 2, 3])):
            amount = rng.choice([500, 1000, 2700, 5000, 10000, 25000])
            refunded = rng.choice([0, 0, 0, 0, 1000, amount]) if amount >= 1000 else 0
            received = _ago(now, rng, 500)
            contribution = Contribution.objects.create(
                person=person,
                amount_cents=amount,
                refunded_cents=refunded,
                method="card",
                source="web",
                received_at=received,
                idempotency_key=f"k-{i}-{g}",
                refcode=rng.choice(["", "email-0301", "email-0415", "fb-ad"]),
            )
            split = rng.random() < 0.3
            shares = [(committees[0], amount // 2), (committees[1], amount - amount // 2)] if split else []
            if not split:
                shares = [(rng.choice(committees), amount)]
            left = refunded
            for committee_id, share in shares:
                item_refund = min(left, share)
                left -= item_refund
                LineItem.objects.create(
                    contribution=contribution,
                    person=person,
                    committee_id=committee_id,
                    received_at=received,
                    method="card",
                    amount_cents=share,
                    refunded_cents=item_refund,
                    election="P2026",
                    cycle=2026,
                )
            if rng.random() < 0.4:
                method = method or SavedPaymentMethod.objects.create(
                    person=person, processor="test", reference=f"pm-{i}"
                )
                RecurringPlan.objects.create(
                    person=person,
                    payment_method=method,
                    amount_cents=1000,
                    frequency="monthly",
                    next_charge_at=now,
                    status=rng.choice(PlanStatus.values),
                )
    events = []
    for e in range(8):
        info = zip_info(ZIPS[e % len(ZIPS)])
        virtual = e == 7
        starts = now + datetime.timedelta(days=rng.randint(-150, 30), hours=rng.randint(0, 23), minutes=30)
        event = Event.objects.create(
            title=f"Event {e}",
            kind=rng.choice(EventKind.values),
            host_id=rng.choice(people),
            status=rng.choice(
                [EventStatus.PUBLISHED, EventStatus.PUBLISHED, EventStatus.PENDING, EventStatus.REJECTED]
                + [EventStatus.CANCELLED]
            ),
            starts_at=starts,
            ends_at=starts + datetime.timedelta(hours=2),
            is_virtual=virtual,
            latitude=None if virtual else info.latitude,
            longitude=None if virtual else info.longitude,
            zip_code="" if virtual else info.zip_code,
        )
        events.append(event.pk)
        for pid in rng.sample(people, 15):
            status = rng.choice(RsvpStatus.values)
            Rsvp.objects.create(
                event=event,
                person_id=pid,
                status=status,
                checked_in_at=starts if status == RsvpStatus.GOING and rng.random() < 0.6 else None,
            )
    return World(now=now, people=people, committees=committees, events=events, tags=tags, lists=lists, groups=groups)


class Expected:
    """Answers segment queries in Python over the rows of the world (read once, plainly)."""

    def __init__(self, world: World):
        self.now = world.now
        self.everyone = set(Person.objects.values_list("pk", flat=True))
        self.person = {p.pk: p for p in Person.objects.all()}
        self.emails = list(EmailAddress.objects.values("person_id", "status", "is_primary"))
        self.phones = list(PhoneNumber.objects.values("person_id", "sms_consent", "sms_opted_out_at"))
        self.addresses = [
            a
            for a in PostalAddress.objects.values(
                "person_id", "state", "zip_code", "county", "latitude", "longitude", "is_primary"
            )
            if a["is_primary"]
        ]
        self.taggings = list(Tagging.objects.values("person_id", "tag_id", "tag__name"))
        self.list_members = list(ListMembership.objects.values("person_id", "people_list_id", "people_list__name"))
        self.group_members = list(GroupMembership.objects.values("person_id", "group_id", "group__slug", "role"))
        self.activities = list(Activity.objects.values("person_id", "kind", "occurred_at"))
        self.levels = dict(Engagement.objects.values_list("person_id", "level"))
        self.contributions = list(
            Contribution.objects.values("person_id", "amount_cents", "refunded_cents", "received_at", "refcode")
        )
        self.line_items = list(
            LineItem.objects.values("person_id", "committee_id", "amount_cents", "refunded_cents", "received_at")
        )
        self.plans = list(RecurringPlan.objects.values("person_id", "status"))
        self.events = {
            e["pk"]: e
            for e in Event.objects.values("pk", "kind", "host_id", "status", "starts_at", "latitude", "longitude")
        }
        self.rsvps = list(Rsvp.objects.values("person_id", "event_id", "status", "checked_in_at"))
        from barnstorm.segments.models import Segment

        self.segments = dict(Segment.objects.values_list("pk", "query"))

    def __call__(self, query: dict) -> set[int]:
        if "and" in query:
            result = set(self.everyone)
            for child in query["and"]:
                result &= self(child)
            return result
        if "or" in query:
            return set().union(*(self(child) for child in query["or"]))
        if "not" in query:
            return self.everyone - self(query["not"])
        return getattr(self, query["type"])(query)

    # windows
    def _in_window(self, when, q) -> bool:
        tz = timezone.get_default_timezone()
        if q.get("days") is not None and when < self.now - datetime.timedelta(days=q["days"]):
            return False
        day = when.astimezone(tz).date()
        if q.get("since") and day < datetime.date.fromisoformat(q["since"]):
            return False
        if q.get("until") and day > datetime.date.fromisoformat(q["until"]):
            return False
        return True

    # people
    def has_tag(self, q):
        ref = q["tag"]
        return {
            t["person_id"]
            for t in self.taggings
            if (t["tag_id"] == ref if isinstance(ref, int) else t["tag__name"].lower() == ref.lower())
        }

    def in_list(self, q):
        ref = q["list"]
        return {
            m["person_id"]
            for m in self.list_members
            if (m["people_list_id"] == ref if isinstance(ref, int) else m["people_list__name"].lower() == ref.lower())
        }

    def in_group(self, q):
        ref = q["group"]
        return {
            m["person_id"]
            for m in self.group_members
            if (m["group_id"] == ref if isinstance(ref, int) else m["group__slug"] == ref)
            and (not q.get("role") or m["role"] == q["role"])
        }

    def near_zip(self, q):
        center = zip_info(q["zip"])
        return self._near(center.latitude, center.longitude, q["miles"])

    def _near(self, lat, lng, miles):
        return {
            a["person_id"]
            for a in self.addresses
            if a["latitude"] is not None and haversine_miles(lat, lng, a["latitude"], a["longitude"]) <= miles
        }

    def state(self, q):
        states = {s.upper() for s in (q["state"] if isinstance(q["state"], list) else [q["state"]])}
        return {a["person_id"] for a in self.addresses if a["state"] in states}

    def zip(self, q):
        zips = set(q["zip"] if isinstance(q["zip"], list) else [q["zip"]])
        return {a["person_id"] for a in self.addresses if a["zip_code"] in zips}

    def county(self, q):
        return {
            a["person_id"]
            for a in self.addresses
            if a["county"].lower() == q["county"].lower() and (not q.get("state") or a["state"] == q["state"].upper())
        }

    def email_status(self, q):
        return {e["person_id"] for e in self.emails if e["is_primary"] and e["status"] == q["status"]}

    def sms_consent(self, q):
        return {p["person_id"] for p in self.phones if p["sms_consent"] and p["sms_opted_out_at"] is None}

    def created(self, q):
        return {pk for pk, p in self.person.items() if self._in_window(p.created_at, q)}

    def custom_field(self, q):
        def equal(stored, wanted):
            return (
                type(stored) is type(wanted)
                and stored == wanted
                or (
                    isinstance(stored, int | float)
                    and not isinstance(stored, bool)
                    and isinstance(wanted, int | float)
                    and not isinstance(wanted, bool)
                    and stored == wanted
                )
            )

        return {
            pk
            for pk, p in self.person.items()
            if q["field"] in p.custom_fields and equal(p.custom_fields[q["field"]], q["value"])
        }

    def activity(self, q):
        times: dict[int, int] = {}
        for a in self.activities:
            if a["kind"] == q["kind"] and self._in_window(a["occurred_at"], q):
                times[a["person_id"]] = times.get(a["person_id"], 0) + 1
        return {pk for pk, n in times.items() if n >= q.get("times", 1)}

    def engagement_level(self, q):
        names = {"supporter": 0, "donor": 1, "volunteer": 2, "leader": 3}
        level = names.get(q["level"], q["level"]) if isinstance(q["level"], str) else q["level"]
        op = q.get("op", ">=")
        compare = {">=": lambda v: v >= level, "<=": lambda v: v <= level, "=": lambda v: v == level}[op]
        return {pk for pk in self.everyone if compare(self.levels.get(pk, 0))}

    def in_segment(self, q):
        return self(self.segments[q["segment"]])

    # donations
    def donated(self, q):
        rows = self.line_items if q.get("committee") else self.contributions
        per_person: dict[int, list[int]] = {}
        for r in rows:
            net = r["amount_cents"] - r["refunded_cents"]
            if net <= 0 or not self._in_window(r["received_at"], q):
                continue
            if q.get("committee") and r["committee_id"] != q["committee"]:
                continue
            per_person.setdefault(r["person_id"], []).append(net)
        measure = {"count": len, "total": sum, "largest": max}[q.get("measure", "count")]
        return {
            pk
            for pk, nets in per_person.items()
            if (q.get("min") is None or measure(nets) >= q["min"])
            and (q.get("max") is None or measure(nets) <= q["max"])
        }

    def recurring_donor(self, q):
        return {p["person_id"] for p in self.plans if p["status"] == PlanStatus.ACTIVE}

    def refcode(self, q):
        codes = q["refcode"] if isinstance(q["refcode"], list) else [q["refcode"]]
        return {
            c["person_id"]
            for c in self.contributions
            if c["amount_cents"] > c["refunded_cents"]
            and self._in_window(c["received_at"], q)
            and (c["refcode"].startswith(codes[0]) if q.get("prefix") else c["refcode"] in codes)
        }

    # events
    def _event_ok(self, event, q) -> bool:
        return (
            self._in_window(event["starts_at"], q)
            and (not q.get("kind") or event["kind"] == q["kind"])
            and (not q.get("event") or event["pk"] == q["event"])
        )

    def _rsvp_times(self, q, keep) -> set[int]:
        times: dict[int, int] = {}
        for r in self.rsvps:
            if keep(r) and self._event_ok(self.events[r["event_id"]], q):
                times[r["person_id"]] = times.get(r["person_id"], 0) + 1
        return {pk for pk, n in times.items() if n >= q.get("times", 1)}

    def rsvped(self, q):
        return self._rsvp_times(q, lambda r: r["status"] != RsvpStatus.CANCELLED)

    def attended(self, q):
        return self._rsvp_times(q, lambda r: r["checked_in_at"] is not None)

    def hosted_event(self, q):
        times: dict[int, int] = {}
        for e in self.events.values():
            if e["status"] not in (EventStatus.REJECTED, EventStatus.CANCELLED) and self._event_ok(e, q):
                times[e["host_id"]] = times.get(e["host_id"], 0) + 1
        return {pk for pk, n in times.items() if n >= q.get("times", 1)}

    def near_event(self, q):
        event = self.events.get(q["event"])
        if not event or event["latitude"] is None:
            return set()
        return self._near(event["latitude"], event["longitude"], q["miles"])


@pytest.fixture
def expected(world):
    return Expected(world)
