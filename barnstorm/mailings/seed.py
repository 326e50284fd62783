"""Demo mailings for `barnstorm seed`: six emails of the last two months, and what they achieved.

A newsletter, a petition update, a volunteer recruitment (to subscribers who are not volunteers
yet: an exclusion segment), an end-of-month appeal testing two subject lines, a primary-night
appeal and an invitation to Iowa's events. Each is composed with `mailing_save` and targets a saved
segment (`segment_save`); its recipients are a snapshot (`segment_snapshot_create`) of the people
who had joined by the day before, and a delivery goes to each of them whose primary address was
subscribed, and who had not turned the mailing's topic off, when it went out: the rows
`mailing_start` and the batches would have written then. The A/B appeal sends its variants to a
20 % sample, holds the rest, picks the winner by clicks after two hours and sends it to the others.

Results follow a few shares of the messages: about a quarter are opened, mostly within hours on a
decaying curve, a tenth to a sixth of those lead to a click, about 0.2 % to an unsubscribe, 0.5 %
bounce and 0.02 % draw a complaint (the address stops taking mail, with the "email_status"
activity the service writes), and a few readers turn a topic off on the preferences page. Some
people are keener than others, so opens cluster. Then the refcodes: a share of the web gifts that
recipients made in the three days after a fundraising mailing (those the donations step put down to
"an email" or to nothing) get `mail-<id>-<variant letter>`, and so do some of the RSVPs made in the
three days after the recruitment and the invitation; each of those recipients clicked first.

Everything is written in bulk (bulk_insert_rows, bulk_update_objects): a few seconds for 20,000
people. Later steps see it: the engagement step (order 90) reads the activity log, the dashboard's
refcode table the contributions.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from barnstorm.activity.models import Activity
from barnstorm.donations.models import Contribution, Source
from barnstorm.donations.seed import PRIMARY_NIGHT_DAYS_AGO
from barnstorm.events.models import Rsvp
from barnstorm.lib import seeding
from barnstorm.lib.bulk import bulk_insert_rows, bulk_update_objects, reserve_ids
from barnstorm.mailings import render
from barnstorm.mailings.models import Delivery, DeliveryStatus, Link, Mailing, MailingStatus, Topic, TopicOptOut
from barnstorm.mailings.services import CHUNK, mailing_save, target_query
from barnstorm.people.models import EmailAddress, EmailStatus
from barnstorm.segments.models import Segment, SegmentAudit, SegmentSnapshot, SnapshotMember
from barnstorm.segments.seed import demo_segments
from barnstorm.segments.services import segment_count_refresh, segment_snapshot_create

FROM_NAME, FROM_ADDRESS, REPLY_TO = "Maya Okafor", "team@okafor.example.org", "hello@okafor.example.org"

TOPICS = {
    "Fundraising": "Appeals to give, and deadlines.",
    "Events & volunteering": "Events near you, and ways to help.",
}
SEGMENTS = {
    "Email subscribers": ({"type": "email_status", "status": "subscribed"}, "Everyone whose email we may use."),
    "Iowa supporters": ({"type": "state", "state": ["IA"]}, "Supporters who live in Iowa."),
    "Volunteers": ({"type": "has_tag", "tag": "volunteer"}, "Tagged volunteer."),
}

# Shares of the messages sent.
UNSUBSCRIBE, BOUNCE, COMPLAINT = 0.002, 0.005, 0.0002
# How much more (or less) likely than average each person is to open: some read everything.
KEENNESS = [(0.25, 40), (1.0, 35), (2.25, 25)]
LATE_OPENS = 0.08  # opened two to seven days later; the rest on a curve that halves every 3.5 hours
MEAN_OPEN_HOURS = 5.0
SECOND_CLICK = 0.15  # of clickers, who come back for another link
PREFERENCES = 0.004  # of openers, who turn a topic off on the preferences page
ATTRIBUTION_HOURS = {"contributions": 72, "rsvps": 72}
ATTRIBUTED = {"contributions": 0.6, "rsvps": 0.35}  # of the actions in that window


def _site(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _html(*paragraphs: str) -> str:
    return "\n".join(f"<p>{p}</p>" for p in paragraphs)


@dataclass(frozen=True)
class _Plan:
    name: str
    subjects: tuple[str, ...]
    html_body: str
    segment: str
    sent: datetime
    open_rates: tuple[float, ...]  # by variant
    clicks_per_open: tuple[float, ...]
    per_second: int  # how fast it went out
    exclude: tuple[str, ...] = ()
    topic: str | None = None
    attribute: str | None = None  # "contributions" or "rsvps"
    scheduled: bool = False  # queued ahead with a send time, rather than sent at once


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, clock(hour, minute)))


def _plans(now: datetime) -> list[_Plan]:
    today = timezone.localdate(now)

    def ago(days: int, hour: int, minute: int = 0) -> datetime:
        return _local(today - timedelta(days=days), hour, minute)

    hello = 'Hi {{ person.given_name|default:"Friend" }},'
    return [
        _Plan(
            name="Newsletter: the week on the trail",
            subjects=("The week on the trail: Iowa, New Hampshire and what's next",),
            html_body=_html(
                hello,
                "This week Maya held town halls in Dubuque, Concord and Reno, and more than a thousand of you"
                " knocked on doors.",
                f'Read the <a href="https://news.example.org/okafor-town-halls">story in the Gazette</a>,'
                f' or <a href="{_site("/events/")}">find an event near you</a>.',
                f'Every gift is people-powered: <a href="{_site("/donate/okafor/")}">chip in</a>.',
            ),
            segment="Email subscribers",
            sent=ago(56, 10),
            open_rates=(0.21,),
            clicks_per_open=(0.12,),
            per_second=60,
            scheduled=True,
        ),
        _Plan(
            name="Petition delivered: 12,000 signatures",
            subjects=("We delivered your signatures",),
            html_body=_html(
                hello,
                "Yesterday we delivered 12,000 signatures for clean water in farm country to the state capitol"
                " in Des Moines. Yours was one of them.",
                f'<a href="https://news.example.org/petition-delivered">See the photos</a> and'
                f' <a href="{_site("/signup/")}">ask a friend to add their name</a>.',
            ),
            segment="Email subscribers",
            sent=ago(45, 12, 15),
            open_rates=(0.26,),
            clicks_per_open=(0.16,),
            per_second=60,
        ),
        _Plan(
            name="Volunteer recruitment: 20 calls",
            subjects=("{{ person.given_name|default:'Friend' }}, can you make 20 calls this week?",),
            html_body=_html(
                hello,
                "Conversations win caucuses. A phone bank takes two hours, and we'll train you on the spot.",
                "{% if event %}The nearest one to you: {{ event.title }}, {{ event.starts_at|date:'l, F j' }}"
                " in {{ event.city }}.{% endif %}",
                f'<a href="{_site("/events/")}">Pick a phone bank or a canvass</a>',
            ),
            segment="Email subscribers",
            exclude=("Volunteers",),
            topic="Events & volunteering",
            sent=ago(36, 17, 30),
            open_rates=(0.23,),
            clicks_per_open=(0.13,),
            per_second=50,
            attribute="rsvps",
        ),
        _Plan(
            name="End-of-month appeal (A/B)",
            subjects=(
                "Our end-of-month deadline is midnight",
                "{{ person.given_name|default:'Friend' }}, will you chip in ${{ suggested_amount }}?",
            ),
            html_body=_html(
                hello,
                "Tonight at midnight is our end-of-month deadline, the first number reporters will read.",
                f'Will you <a href="{_site("/donate/rivera/")}">chip in ${{{{ suggested_amount }}}}</a> for Ana'
                f' Rivera? Or <a href="{_site("/donate/okafor-rivera/")}">split a gift</a> between Ana and Maya.',
            ),
            segment="Email subscribers",
            topic="Fundraising",
            sent=ago(27, 9),
            open_rates=(0.22, 0.25),
            clicks_per_open=(0.11, 0.14),
            per_second=60,
            attribute="contributions",
        ),
        _Plan(
            name="Primary night: polls just closed",
            subjects=("Polls just closed in Iowa's 3rd",),
            html_body=_html(
                hello,
                "Polls just closed. Whatever happens tonight, November starts tomorrow.",
                f'<a href="{_site("/donate/rivera/")}">Give ${{{{ suggested_amount }}}} to Ana Rivera now</a>',
            ),
            segment="Email subscribers",
            topic="Fundraising",
            sent=ago(PRIMARY_NIGHT_DAYS_AGO, 19, 30),
            open_rates=(0.28,),
            clicks_per_open=(0.09,),
            per_second=80,
            attribute="contributions",
        ),
        _Plan(
            name="Iowa: events near you",
            subjects=("Maya is coming to Des Moines: will you be there?",),
            html_body=_html(
                hello,
                "Maya Okafor's biggest rally yet is at the State Fairgrounds, and volunteers are hosting events"
                " all over Iowa before it.",
                "{% if event %}Near you: {{ event.title }} in {{ event.city }}.{% endif %}",
                f'<a href="{_site("/events/")}">RSVP for an event near you</a>',
            ),
            segment="Iowa supporters",
            topic="Events & volunteering",
            sent=ago(9, 11),
            open_rates=(0.26,),
            clicks_per_open=(0.10,),
            per_second=40,
            attribute="rsvps",
        ),
    ]


# Who could be mailed, and when -------------------------------------------------------------------


@dataclass
class _Address:
    pk: int
    person_id: int
    address: str
    status: str
    changed_at: datetime | None

    def takes_mail_at(self, when: datetime) -> bool:
        """Subscribed then: still subscribed, or only left the list later."""
        return self.status == EmailStatus.SUBSCRIBED or (self.changed_at is not None and self.changed_at > when)

    @property
    def untouched(self) -> bool:
        return self.status == EmailStatus.SUBSCRIBED


@dataclass
class _Delivery:
    person_id: int
    address: _Address
    variant: int | None
    status: str = DeliveryStatus.SENT
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    opened_at: datetime | None = None
    unsubscribed_at: datetime | None = None
    bounced_at: datetime | None = None
    complained_at: datetime | None = None
    clicks: list[tuple[datetime, int]] = field(default_factory=list)  # (when, link index)

    @property
    def clicked_at(self) -> datetime | None:
        return min(self.clicks)[0] if self.clicks else None

    @property
    def reached(self) -> bool:
        return self.sent_at is not None and self.bounced_at is None


@dataclass
class _Changes:
    """What the step writes at the end, in bulk."""

    deliveries: list[tuple] = field(default_factory=list)
    activities: list[tuple] = field(default_factory=list)  # (person id, kind, when, data)
    addresses: list[_Address] = field(default_factory=list)
    opt_outs: list[tuple] = field(default_factory=list)  # (person id, topic id, when)
    contributions: dict[int, str] = field(default_factory=dict)  # id -> refcode
    rsvps: dict[int, str] = field(default_factory=dict)


class _Sender:
    """Plays each mailing's send and its aftermath, oldest first, on the addresses as they were."""

    def __init__(self, rng: random.Random, now: datetime, person_ids: list[int], topics: list[Topic]):
        self.rng, self.now, self.topics = rng, now, topics
        self.people = set(person_ids)
        values, weights = zip(*KEENNESS, strict=True)
        self.keenness = dict(zip(person_ids, rng.choices(values, weights=weights, k=len(person_ids)), strict=True))
        self.addresses: dict[int, list[_Address]] = defaultdict(list)
        rows = (
            EmailAddress.objects.filter(is_primary=True, person_id__gte=min(person_ids), person_id__lte=max(person_ids))
            .order_by("pk")
            .values_list("pk", "person_id", "address", "status", "status_changed_at")
        )
        for pk, person_id, address, status, changed_at in rows:
            if person_id in self.people:
                self.addresses[person_id].append(_Address(pk, person_id, address, status, changed_at))
        # (person, topic) -> since when the person gets no mail of the topic
        self.opted_out: dict[tuple[int, int], datetime] = {
            (person_id, topic_id): since
            for person_id, topic_id, since in TopicOptOut.objects.filter(
                person_id__gte=min(person_ids), person_id__lte=max(person_ids)
            ).values_list("person_id", "topic_id", "created_at")
        }
        self.changes = _Changes()
        self.mailing_id = 0  # the mailing being sent, named in the changes it causes
        self.topic_id: int | None = None

    def _takes_mail(self, delivery: _Delivery, when: datetime) -> bool:
        """Subscribed then, and not opted out of the mailing's topic by then."""
        since = self.opted_out.get((delivery.person_id, self.topic_id))
        return delivery.address.takes_mail_at(when) and (since is None or since > when)

    # The send --------------------------------------------------------------------------------

    def send(self, mailing: Mailing, plan: _Plan, members: set[int], links: list[str]) -> list[_Delivery]:
        self.mailing_id, self.topic_id = mailing.pk, mailing.topic_id
        started = mailing.started_at
        deliveries = []
        for person_id in sorted(members & self.people):
            # As the pipeline picks: the first primary address that was subscribed at the start.
            address = next((a for a in self.addresses.get(person_id, ()) if a.takes_mail_at(started)), None)
            if address is not None:
                delivery = _Delivery(person_id, address, variant=0)
                if self._takes_mail(delivery, started):
                    deliveries.append(delivery)
        variants = len(plan.subjects)
        if variants == 1:
            self._go(deliveries, started, plan, links)
            return deliveries
        # The A/B sample is the same stable bucket per person that mailing_start computes.
        sample, held = [], []
        for delivery in deliveries:
            bucket = delivery.person_id * 7919 % 100
            if bucket < mailing.ab_sample_percent:
                delivery.variant = bucket % variants
                sample.append(delivery)
            else:
                delivery.variant = None
                held.append(delivery)
        self._go(sample, started, plan, links)
        decided = started + timedelta(minutes=mailing.ab_wait_minutes)
        clicks = [0] * variants
        for delivery in sample:
            if delivery.clicked_at is not None and delivery.clicked_at <= decided:
                clicks[delivery.variant] += 1
        shares = [clicks[v] / max(1, sum(d.variant == v for d in sample)) for v in range(variants)]
        winner = max(range(variants), key=lambda v: shares[v])  # the first of equals, as the service does
        for delivery in held:
            delivery.variant = winner
        self._go(held, decided + timedelta(seconds=40), plan, links)
        mailing.ab_winner, mailing.ab_decided_at = winner, decided
        return deliveries

    def _go(self, deliveries: list[_Delivery], start: datetime, plan: _Plan, links: list[str]) -> None:
        """Out in id order at the mailing's pace, a chunk claimed at a time; then what each recipient did."""
        for k, delivery in enumerate(deliveries):
            delivery.claimed_at = start + timedelta(seconds=(k - k % CHUNK) / plan.per_second)
            sent_at = start + timedelta(seconds=k / plan.per_second)
            if not self._takes_mail(delivery, sent_at):
                delivery.status = DeliveryStatus.SUPPRESSED  # left the list while the send was under way
                continue
            delivery.sent_at = sent_at
            self._aftermath(delivery, plan, len(links))

    def _aftermath(self, delivery: _Delivery, plan: _Plan, links: int) -> None:
        rng, sent = self.rng, delivery.sent_at
        if rng.random() < BOUNCE and delivery.address.untouched:
            delivery.bounced_at = sent + timedelta(seconds=rng.uniform(5, 900))
            self._status(delivery, EmailStatus.BOUNCING, delivery.bounced_at)
            return
        variant = delivery.variant or 0
        if rng.random() < min(0.9, plan.open_rates[variant] * self.keenness[delivery.person_id]):
            delivery.opened_at = self._past(sent + self._open_delay())
        if delivery.opened_at is not None and links and rng.random() < plan.clicks_per_open[variant]:
            first = self._past(delivery.opened_at + timedelta(seconds=rng.expovariate(1 / 60)))
            if first is not None:
                delivery.clicks.append((first, self._link(links)))
                if rng.random() < SECOND_CLICK:
                    again = self._past(first + timedelta(minutes=rng.uniform(1, 20)))
                    if again is not None:
                        delivery.clicks.append((again, self._link(links)))
        if delivery.opened_at is not None and rng.random() < PREFERENCES:
            topic = rng.choices(self.topics, weights=[3] + [1] * (len(self.topics) - 1))[0]
            self._opt_out(delivery, topic, delivery.opened_at + timedelta(seconds=rng.uniform(20, 600)))
        roll = rng.random()
        if roll < UNSUBSCRIBE + COMPLAINT and delivery.address.untouched:
            seen = delivery.opened_at or self._past(sent + self._open_delay())
            when = self._past(seen + timedelta(seconds=rng.uniform(10, 300))) if seen else None
            if when is not None and roll < COMPLAINT:
                delivery.complained_at = when
                self._status(delivery, EmailStatus.SPAM_COMPLAINT, when)
            elif when is not None:
                delivery.unsubscribed_at = when
                self._status(delivery, EmailStatus.UNSUBSCRIBED, when)

    def _opt_out(self, delivery: _Delivery, topic: Topic, when: datetime) -> None:
        person_id = delivery.person_id
        if (person_id, topic.pk) in self.opted_out or when >= self.now:
            return
        self.opted_out[(person_id, topic.pk)] = when
        self.changes.opt_outs.append((person_id, topic.pk, when))
        off = {t.pk for t in self.topics if (person_id, t.pk) in self.opted_out}
        data = {
            "wanted": [t.name for t in self.topics if t.pk not in off],
            "opted_out": [t.name for t in self.topics if t.pk in off],
            "mailing": self.mailing_id,
        }  # as the preferences page records it
        self.changes.activities.append((person_id, "email_topics", when, data))

    def _open_delay(self) -> timedelta:
        if self.rng.random() < LATE_OPENS:
            return timedelta(hours=self.rng.uniform(48, 168))
        return timedelta(hours=self.rng.expovariate(1 / MEAN_OPEN_HOURS))

    def _link(self, links: int) -> int:
        # The first link (the ask) draws most clicks.
        return self.rng.choices(range(links), weights=[3] + [1] * (links - 1))[0]

    def _past(self, when: datetime) -> datetime | None:
        """`when`, if it has happened by now (an open due tomorrow has not)."""
        return when if when < self.now else None

    def _status(self, delivery: _Delivery, status: str, when: datetime) -> None:
        address = delivery.address
        address.status, address.changed_at = status, when
        self.changes.addresses.append(address)
        data = {"address": address.address, "status": status, "mailing": self.mailing_id}
        self.changes.activities.append((delivery.person_id, "email_status", when, data))

    # What the links brought in -----------------------------------------------------------------

    def attribute(self, mailing: Mailing, plan: _Plan, deliveries: list[_Delivery]) -> None:
        window = timedelta(hours=ATTRIBUTION_HOURS[plan.attribute])
        reached = {d.person_id: d for d in deliveries if d.reached}
        if not reached:
            return
        first = min(d.sent_at for d in reached.values())
        last = min(max(d.sent_at for d in reached.values()) + window, self.now)
        if plan.attribute == "contributions":
            # Web gifts, one at a time: a plan's installments keep the refcode of its first gift.
            actions = Contribution.objects.filter(
                source=Source.WEB, recurring_plan__isnull=True, received_at__gt=first, received_at__lte=last
            ).values_list("pk", "person_id", "received_at", "refcode")
            taken = self.changes.contributions
        else:
            actions = Rsvp.objects.filter(walk_in=False, created_at__gt=first, created_at__lte=last).values_list(
                "pk", "person_id", "created_at", "refcode"
            )
            taken = self.changes.rsvps
        for pk, person_id, when, refcode in actions.order_by("pk"):
            delivery = reached.get(person_id)
            if delivery is None or not delivery.sent_at < when <= delivery.sent_at + window or pk in taken:
                continue
            # Gifts the donations step put down to "an email" (email_MMDD) or to nothing.
            if refcode and not refcode.startswith("email_"):
                continue
            if self.rng.random() < ATTRIBUTED[plan.attribute]:
                taken[pk] = mailing.variant_refcode(delivery.variant or 0)
                self._clicked_before(delivery, when)

    def _clicked_before(self, delivery: _Delivery, when: datetime) -> None:
        """The recipient clicked the ask (link 0) shortly before acting on it."""
        if delivery.clicked_at is not None and delivery.clicked_at < when:
            return
        room = (when - delivery.sent_at).total_seconds()
        click = when - timedelta(seconds=min(self.rng.uniform(60, 900), room / 2))
        delivery.clicks.append((click, 0))
        if delivery.opened_at is None or delivery.opened_at > click:
            delivery.opened_at = click

    # Rows ------------------------------------------------------------------------------------

    def rows(self, mailing: Mailing, deliveries: list[_Delivery], links: list[str]) -> list[int]:
        """Queue the mailing's deliveries and activity; returns the clicks per link."""
        counts = [0] * len(links)
        for d in deliveries:
            self.changes.deliveries.append(
                (
                    mailing.pk, d.person_id, d.address.address, d.variant, d.status, d.claimed_at, d.sent_at,
                    d.opened_at, d.clicked_at, d.unsubscribed_at, d.bounced_at, d.complained_at, "",
                )
            )  # fmt: skip
            if d.opened_at is not None:
                self.changes.activities.append((d.person_id, "email_opened", d.opened_at, {"mailing": mailing.pk}))
            for when, index in sorted(d.clicks):
                counts[index] += 1
                data = {"mailing": mailing.pk, "link": index, "url": links[index]}
                self.changes.activities.append((d.person_id, "email_clicked", when, data))
        return counts


DELIVERY_COLUMNS = [
    "mailing", "person", "address", "variant", "status", "claimed_at", "sent_at",
    "opened_at", "clicked_at", "unsubscribed_at", "bounced_at", "complained_at", "error",
]  # fmt: skip


# Composing -------------------------------------------------------------------------------------


def _topics() -> dict[str, Topic]:
    return {
        name: Topic.objects.get_or_create(name=name, defaults={"description": description})[0]
        for name, description in TOPICS.items()
    }


def _segments(since: datetime) -> dict[str, Segment]:
    return demo_segments(SEGMENTS, since=since)


def _compose(rng: random.Random, plan: _Plan, segments: dict[str, Segment], topics: dict[str, Topic]) -> Mailing:
    fields = {
        "name": plan.name,
        "from_name": FROM_NAME,
        "from_address": FROM_ADDRESS,
        "reply_to": REPLY_TO,
        "html_body": plan.html_body,
        "segment": segments[plan.segment],
        "topic": topics[plan.topic] if plan.topic else None,
    }
    if len(plan.subjects) > 1:
        fields.update(ab_sample_percent=20, ab_measure="clicks", ab_wait_minutes=120)
    mailing = mailing_save(
        fields=fields, subjects=list(plan.subjects), exclusions=[segments[s] for s in plan.exclude], actor=None
    )
    mailing.started_at = plan.sent + timedelta(seconds=rng.randint(0, 40))
    return mailing


def _snapshot(mailing: Mailing) -> tuple[SegmentSnapshot, set[int]]:
    """Who the segment held: the people who had joined by the day before it went out."""
    day_before = timezone.localdate(mailing.started_at) - timedelta(days=1)
    query = {"and": [target_query(mailing), {"type": "created", "until": day_before.isoformat()}]}
    snapshot = segment_snapshot_create(
        query=query, segment=mailing.segment, purpose=f"Mailing {mailing.pk}", actor=None
    )
    SegmentSnapshot.objects.filter(pk=snapshot.pk).update(created_at=mailing.started_at)
    SegmentAudit.objects.filter(snapshot=snapshot).update(at=mailing.started_at)
    members = set(SnapshotMember.objects.filter(snapshot=snapshot).values_list("person_id", flat=True))
    return snapshot, members


# Writing it down -------------------------------------------------------------------------------


def _insert_deliveries(rows: list[tuple]) -> None:
    """Insert in the order made (ids follow the send order, as mailing_start numbers them).

    Rows go in grouped by which of their times are set: a column left out is NULL at no cost,
    while each time given is converted one by one (on SQLite), and most recipients never open.
    """
    times = [i for i, name in enumerate(DELIVERY_COLUMNS) if name.endswith("_at")]
    groups: dict[tuple[int, ...], list[tuple]] = defaultdict(list)
    for pk, row in zip(reserve_ids(Delivery, len(rows)), rows, strict=True):
        unset = tuple(i for i in times if row[i] is None)
        groups[unset].append((pk, *(value for i, value in enumerate(row) if i not in unset)))
    for unset, group in sorted(groups.items()):
        columns = ["id", *(name for i, name in enumerate(DELIVERY_COLUMNS) if i not in unset)]
        bulk_insert_rows(Delivery, columns, group, reset_sequence=False)


def _write(changes: _Changes) -> None:
    _insert_deliveries(changes.deliveries)
    bulk_insert_rows(
        Activity, ["person", "kind", "occurred_at", "data"], sorted(changes.activities, key=lambda a: a[2])
    )
    bulk_insert_rows(TopicOptOut, ["person", "topic", "created_at"], changes.opt_outs)
    bulk_update_objects(
        [EmailAddress(pk=a.pk, status=a.status, status_changed_at=a.changed_at) for a in changes.addresses],
        ["status", "status_changed_at"],
    )
    bulk_update_objects([Contribution(pk=pk, refcode=code) for pk, code in changes.contributions.items()], ["refcode"])
    bulk_update_objects([Rsvp(pk=pk, refcode=code) for pk, code in changes.rsvps.items()], ["refcode"])
    # The activity the donations and events services wrote carries the refcode too.
    gifts = {
        pk: (person_id, changes.contributions[pk])
        for pk, person_id in Contribution.objects.filter(pk__in=list(changes.contributions)).values_list(
            "pk", "person_id"
        )
    }
    rsvps = {
        (person_id, event_id): changes.rsvps[pk]
        for pk, person_id, event_id in Rsvp.objects.filter(pk__in=list(changes.rsvps)).values_list(
            "pk", "person_id", "event_id"
        )
    }
    people = {person_id for person_id, _ in gifts.values()} | {person_id for person_id, _ in rsvps}
    retagged = []
    for entry in Activity.objects.filter(kind__in=["donation", "rsvp"], person_id__in=people).only(
        "person_id", "kind", "data"
    ):
        if entry.kind == "donation":
            gift = gifts.get(entry.data.get("contribution_id"))
            code = gift[1] if gift else None
        else:
            code = rsvps.get((entry.person_id, entry.data.get("event_id")))
        if code is not None:
            entry.data = {**entry.data, "refcode": code}
            retagged.append(entry)
    bulk_update_objects(retagged, ["data"])


# The step --------------------------------------------------------------------------------------


def seed_mailings_demo(context: seeding.SeedContext) -> None:
    person_ids = sorted(context.shared.get("people.person_ids") or [])
    if not person_ids:
        context.log("  mailings: nobody to write to")
        return
    started = time.monotonic()
    rng = context.rng("mailings")
    plans = sorted(_plans(context.now), key=lambda plan: plan.sent)
    totals = defaultdict(int)
    with transaction.atomic():  # one commit: SQLite pays per commit
        topics = _topics()
        segments = _segments(plans[0].sent - timedelta(days=10))
        sender = _Sender(rng, context.now, person_ids, list(topics.values()))
        for plan in plans:
            mailing = _compose(rng, plan, segments, topics)
            snapshot, members = _snapshot(mailing)
            links = render.links_in(mailing)
            deliveries = sender.send(mailing, plan, members, links)
            if plan.attribute:
                sender.attribute(mailing, plan, deliveries)
            clicks = sender.rows(mailing, deliveries, links)
            Link.objects.bulk_create(
                Link(mailing=mailing, index=i, url=url, clicks=clicks[i]) for i, url in enumerate(links)
            )
            sent = [d.sent_at for d in deliveries if d.sent_at is not None]
            finished = max(sent, default=mailing.started_at)
            Mailing.objects.filter(pk=mailing.pk).update(
                status=MailingStatus.SENT,
                send_at=plan.sent if plan.scheduled else None,
                snapshot=snapshot,
                recipients=len(deliveries),
                started_at=mailing.started_at,
                heartbeat_at=finished,
                finished_at=finished,
                ab_winner=mailing.ab_winner,
                ab_decided_at=mailing.ab_decided_at,
                created_at=plan.sent - timedelta(hours=rng.uniform(20, 96)),
                updated_at=finished,
            )
            totals["mailings"] += 1
            totals["sent"] += len(sent)
            totals["opened"] += sum(d.opened_at is not None for d in deliveries)
            totals["clicked"] += sum(bool(d.clicks) for d in deliveries)
        _write(sender.changes)
        for segment in segments.values():
            segment_count_refresh(segment=segment)
    context.log(
        f"  mailings: {totals['mailings']} sent, {totals['sent']:,} messages, {totals['opened']:,} opened,"
        f" {totals['clicked']:,} clicked; {len(sender.changes.contributions):,} gifts and"
        f" {len(sender.changes.rsvps):,} RSVPs by refcode ({time.monotonic() - started:.1f}s)"
    )


# After donations (20) and events (30), whose gifts and RSVPs the mailings' refcodes claim; before
# the engagement step (90), so the ladder's first pass and the dashboards read the mail activity too.
seeding.register("mailings", order=40, demo=seed_mailings_demo)
