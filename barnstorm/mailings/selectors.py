"""Reads for mailings: the list, progress, results and what each mailing's links brought in.

Attribution is by refcode: every Barnstorm link in a mailing carries `mail-<id>` (or, through a
variant's click, `mail-<id>-<a…d>`), and a gift, RSVP or signup made with a refcode that is the
mailing's own or starts with it and a dash counts for the mailing (`attributed_to`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import CharField, Count, F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce, Concat, TruncHour
from django.utils import timezone

from barnstorm.donations.models import Contribution, ContributionStatus
from barnstorm.events.models import Rsvp, RsvpStatus
from barnstorm.mailings import render
from barnstorm.mailings.models import Delivery, DeliveryStatus, Link, Mailing, Topic, TopicOptOut
from barnstorm.mailings.services import target_query
from barnstorm.people.models import Person
from barnstorm.segments.selectors import segment_sample

COUNTED = (ContributionStatus.PAID, ContributionStatus.PARTIALLY_REFUNDED)
TIMELINE_HOURS = 48
LETTERS = "abcd"


def attributed_to(refcode, lookup: str = "refcode") -> Q:
    """Rows whose `lookup` is `refcode` or starts with `refcode-` (mail-7, mail-7-a, not mail-70).

    `refcode` may be a string or an expression (the list matches each row's own mailing).
    """
    prefix = f"{refcode}-" if isinstance(refcode, str) else Concat(refcode, Value("-"))
    return Q(**{lookup: refcode}) | Q(**{f"{lookup}__startswith": prefix})


def _variant_of(mailing: Mailing, refcode: str) -> int | None:
    """The variant a refcode names (mail-7-a → 0), or None for the mailing's own refcode."""
    for index, letter in enumerate(LETTERS):
        own = f"{mailing.refcode}-{letter}"
        if refcode == own or refcode.startswith(f"{own}-"):
            return index
    return None


# The list ------------------------------------------------------------------------------------


def _delivery_count(**filters) -> Coalesce:
    rows = (
        Delivery.objects.filter(mailing=OuterRef("pk"), **filters)
        .order_by()
        .values("mailing")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows), 0, output_field=IntegerField())


def mailing_list_rows() -> QuerySet[Mailing]:
    """Every mailing, newest first, with its sent, opens, clicks and dollars: one query for a page."""
    refcode = Concat(Value("mail-"), Cast(OuterRef("pk"), CharField()), output_field=CharField())
    # SUM without GROUP BY: one row per outer mailing.
    dollars = (
        Contribution.objects.filter(attributed_to(refcode), status__in=COUNTED)
        .order_by()
        .annotate(total=Func(F("amount_cents"), function="SUM"))
        .values("total")
    )
    return (
        Mailing.objects.select_related("segment")
        .defer("html_body", "text_body", "segment__query", "segment__description")
        .annotate(
            sent=_delivery_count(sent_at__isnull=False),
            opens=_delivery_count(opened_at__isnull=False),
            clicks=_delivery_count(clicked_at__isnull=False),
            dollars_cents=Coalesce(Subquery(dollars), 0, output_field=IntegerField()),
        )
        .order_by("-created_at", "-pk")
    )


def topic_list_rows() -> QuerySet[Topic]:
    """Every topic with how many people opted out of it and how many mailings it was used on."""
    opt_outs = TopicOptOut.objects.filter(topic=OuterRef("pk")).order_by().values("topic").annotate(n=Count("pk"))
    mailings = Mailing.objects.filter(topic=OuterRef("pk")).order_by().values("topic").annotate(n=Count("pk"))
    return Topic.objects.annotate(
        opt_out_count=Coalesce(Subquery(opt_outs.values("n")), 0, output_field=IntegerField()),
        mailing_count=Coalesce(Subquery(mailings.values("n")), 0, output_field=IntegerField()),
    ).order_by("name")


# Progress ------------------------------------------------------------------------------------

FINISHED = (DeliveryStatus.SENT, DeliveryStatus.SUPPRESSED, DeliveryStatus.FAILED, DeliveryStatus.CANCELLED)


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


@dataclass(frozen=True)
class Progress:
    rows: list[StatusCount]  # every delivery status, in the order a row moves through them

    @property
    def total(self) -> int:
        return sum(row.count for row in self.rows)

    @property
    def finished(self) -> int:
        return sum(row.count for row in self.rows if row.status in FINISHED)

    @property
    def percent(self) -> int:
        """Rows that need no more work, of all rows; 100 only when every one is done."""
        if not self.total:
            return 100
        return math.floor(100 * self.finished / self.total)

    def count(self, status: str) -> int:
        return next((row.count for row in self.rows if row.status == status), 0)


def mailing_progress(*, mailing: Mailing) -> Progress:
    """Deliveries by status: one GROUP BY over the mailing's rows (indexed by mailing, status)."""
    counts = dict(
        Delivery.objects.filter(mailing=mailing)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return Progress(
        rows=[StatusCount(status.value, str(status.label), counts.get(status.value, 0)) for status in DeliveryStatus]
    )


# Results -------------------------------------------------------------------------------------


@dataclass
class Counts:
    """What happened to the messages (from the Delivery columns)."""

    recipients: int = 0
    sent: int = 0
    opens: int = 0
    clicks: int = 0
    unsubscribes: int = 0
    bounces: int = 0
    complaints: int = 0

    @property
    def delivered(self) -> int:
        return self.sent - self.bounces

    def percent(self, count: int) -> float | None:
        """`count` per hundred messages delivered (None before any were)."""
        return 100 * count / self.delivered if self.delivered > 0 else None

    @property
    def open_percent(self) -> float | None:
        return self.percent(self.opens)

    @property
    def click_percent(self) -> float | None:
        return self.percent(self.clicks)

    def add(self, other: Counts) -> None:
        for name in ("recipients", "sent", "opens", "clicks", "unsubscribes", "bounces", "complaints"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Actions:
    """What the people who got it did through its links."""

    contributions: int = 0
    dollars_cents: int = 0
    rsvps: int = 0
    signups: int = 0

    @property
    def total(self) -> int:
        return self.contributions + self.rsvps + self.signups

    def add(self, other: Actions) -> None:
        for name in ("contributions", "dollars_cents", "rsvps", "signups"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class VariantResult:
    index: int
    subject: str
    counts: Counts = field(default_factory=Counts)
    actions: Actions = field(default_factory=Actions)
    is_winner: bool = False

    @property
    def letter(self) -> str:
        return "ABCD"[self.index]


@dataclass(frozen=True)
class Hour:
    start: datetime  # UTC
    opens: int
    clicks: int


@dataclass
class Results:
    counts: Counts
    actions: Actions
    variants: list[VariantResult]
    # Recipients not (yet) given a subject: held for the A/B winner, or cancelled by a stop.
    unassigned: Counts
    links: list[Link]
    hours: list[Hour]


def _delivery_counts(mailing: Mailing) -> dict[int | None, Counts]:
    rows = (
        Delivery.objects.filter(mailing=mailing)
        .order_by()
        .values("variant")
        .annotate(
            recipients=Count("pk"),
            sent=Count("sent_at"),
            opens=Count("opened_at"),
            clicks=Count("clicked_at"),
            unsubscribes=Count("unsubscribed_at"),
            bounces=Count("bounced_at"),
            complaints=Count("complained_at"),
        )
    )
    return {row.pop("variant"): Counts(**row) for row in rows}


def _gifts_by_refcode(mailing: Mailing):
    """(refcode, gifts, cents) for each refcode attributed to the mailing: one GROUP BY."""
    return (
        Contribution.objects.filter(attributed_to(mailing.refcode), status__in=COUNTED)
        .order_by()
        .values("refcode")
        .annotate(n=Count("pk"), cents=Sum("amount_cents"))
        .values_list("refcode", "n", "cents")
    )


def _actions_by_refcode(mailing: Mailing) -> dict[str, Actions]:
    """Gifts, RSVPs and signups attributed to the mailing, by the refcode they came with."""
    by_refcode: dict[str, Actions] = {}

    def of(refcode: str) -> Actions:
        return by_refcode.setdefault(refcode, Actions())

    for refcode, n, cents in _gifts_by_refcode(mailing):
        of(refcode).contributions, of(refcode).dollars_cents = n, cents or 0
    rsvps = (
        Rsvp.objects.filter(attributed_to(mailing.refcode))
        .exclude(status=RsvpStatus.CANCELLED)
        .order_by()
        .values("refcode")
        .annotate(n=Count("pk"))
        .values_list("refcode", "n")
    )
    for refcode, n in rsvps:
        of(refcode).rsvps = n
    signups = (
        Person.objects.filter(attributed_to(mailing.refcode, "referral_code"))
        .order_by()
        .values("referral_code")
        .annotate(n=Count("pk"))
        .values_list("referral_code", "n")
    )
    for refcode, n in signups:
        of(refcode).signups = n
    return by_refcode


def mailing_dollars_by_variant(*, mailing: Mailing) -> dict[int, int]:
    """Cents given through each subject variant's links (refcode mail-<id>-<a…d>, or longer)."""
    cents = {v: 0 for v in range(mailing.variants.count())}
    for refcode, _gifts, total in _gifts_by_refcode(mailing):
        variant = _variant_of(mailing, refcode)
        if variant in cents:
            cents[variant] += total or 0
    return cents


def mailing_hours(*, mailing: Mailing, hours: int = TIMELINE_HOURS, now: datetime | None = None) -> list[Hour]:
    """First opens and first clicks in each hour from the hour the send started, up to `hours`
    of them (fewer while they haven't all passed). Two GROUP BY queries."""
    if mailing.started_at is None:
        return []
    now = now or timezone.now()
    # Whole UTC hours: the same boundaries as local hours in every whole-hour time zone, and no
    # daylight-saving arithmetic.
    first = mailing.started_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    elapsed = max(math.ceil((now - first).total_seconds() / 3600), 1)
    count = min(hours, elapsed)
    end = first + timedelta(hours=count)
    by_column: dict[str, dict[int, int]] = {}
    for column in ("opened_at", "clicked_at"):
        rows = (
            Delivery.objects.filter(mailing=mailing, **{f"{column}__gte": first, f"{column}__lt": end})
            .annotate(hour=TruncHour(column, tzinfo=UTC))
            .order_by()
            .values("hour")
            .annotate(n=Count("pk"))
            .values_list("hour", "n")
        )
        by_column[column] = {int((hour - first).total_seconds() // 3600): n for hour, n in rows}
    return [
        Hour(first + timedelta(hours=i), by_column["opened_at"].get(i, 0), by_column["clicked_at"].get(i, 0))
        for i in range(count)
    ]


def mailing_results(*, mailing: Mailing, now: datetime | None = None) -> Results:
    """Everything the results section shows, in a fixed handful of queries."""
    variants = [
        VariantResult(index=v.index, subject=v.subject, is_winner=v.index == mailing.ab_winner)
        for v in mailing.variants.all()
    ]
    by_index = {v.index: v for v in variants}
    counts, unassigned = Counts(), Counts()
    for variant, of_variant in _delivery_counts(mailing).items():
        counts.add(of_variant)
        if variant in by_index:
            by_index[variant].counts = of_variant
        else:
            unassigned.add(of_variant)
    actions = Actions()
    for refcode, of_refcode in _actions_by_refcode(mailing).items():
        variant = by_index.get(_variant_of(mailing, refcode))
        for target in (actions, variant.actions) if variant else (actions,):
            target.add(of_refcode)
    return Results(
        counts=counts,
        actions=actions,
        variants=variants,
        unassigned=unassigned,
        links=list(mailing.links.order_by("index")),
        hours=mailing_hours(mailing=mailing, now=now),
    )


# Preview -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewSubject:
    letter: str
    subject: str


@dataclass(frozen=True)
class PreviewMessage:
    name: str
    address: str
    subjects: list[PreviewSubject]
    text: str
    html: str
    is_sample_person: bool  # nobody in the target: rendered as render.SAMPLE_PERSON


SAMPLE_ADDRESS = "alex.rivera@example.com"


def _preview_recipients(mailing: Mailing, compiled: render.Compiled, limit: int) -> list[render.Recipient]:
    """The first `limit` people of the target (segment minus exclusions), with what the send
    would give their templates: name and address fields, suggested amount, next step, event."""
    if mailing.segment_id is None:
        return []
    people = segment_sample(query=target_query(mailing), limit=limit)
    return render.recipients_for(compiled, [(0, p.pk, p.primary_email or "", 0) for p in people])


def mailing_preview(*, mailing: Mailing, people: int = 3) -> list[PreviewMessage]:
    """The mailing as the first `people` recipients would get it, every subject variant, untracked.
    With nobody in the target, as the sample person test sends use."""
    compiled = render.Compiled(mailing, track=False)
    recipients = _preview_recipients(mailing, compiled, people)
    sample = not recipients
    if sample:
        person = {**render.SAMPLE_PERSON, "email": SAMPLE_ADDRESS}
        person.setdefault("full_name", f"{person['given_name']} {person['family_name']}")
        recipients = [render.Recipient(0, 0, SAMPLE_ADDRESS, 0, person, {})]
    variants = list(mailing.variants.all())
    messages = []
    for recipient in recipients:
        subjects, text, html = [], "", ""
        for variant in variants:
            recipient.variant = variant.index
            subject, text, html = compiled.render(recipient)
            subjects.append(PreviewSubject(variant.letter, subject))
        messages.append(
            PreviewMessage(
                name=recipient.person.get("full_name") or recipient.address,
                address=recipient.address,
                subjects=subjects,
                text=text,
                html=html,
                is_sample_person=sample,
            )
        )
    return messages
