"""Demo fundraising for `barnstorm seed`: two committees, three donation pages and 90 days of gifts.

The committees, candidates and FEC ids are invented (C0000000x ids belong to no real committee).
The donors are the demo supporters the people step made: about one in five gives, mostly $5 to
$50 ($27 on average, with a long tail and a few $1,000+ donors), more as the campaign goes on,
more on the days an email or a text goes out (refcodes email_MMDD and sms_MMDD, after the day it
was sent), and a rush on primary night: a thousand gifts in a few hours, for 20,000 supporters.

Every gift goes in the way a real one does, so the demo obeys every rule the real paths do: card
gifts through `donation_checkout` with the embedded test processor (which records them with
`contribution_record`, send_receipt=False), checks through `contribution_record` as staff entry,
monthly and weekly plans through their first checkout and then `recurring_installment_charge` on
each due date, refunds and chargebacks through `contribution_refund`. Gifts are replayed in time
order, since limits and itemization depend on what the donor gave before. Among them, on purpose:
donors who go over the limit (redesignated to the general, queued for refund, or refused at the
form), and monthly donors who left out their employer, whose installments pass $200 and get a
best-efforts follow-up (installments are the one path here that sends mail: the service has no
switch for it).

Refunds are dated when they happened by `contribution_refund` itself. Afterwards the timestamps
the services set to "now" (attempts, plans, cases, activity) are moved back to when each thing
happened, as the people step does for signups; receipts count as sent when the gift was made, so
a worker started later does not mail them all today.
"""

from __future__ import annotations

import heapq
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock

from django.db import transaction
from django.db.models import F, Max, OuterRef, Subquery
from django.utils import timezone

from barnstorm.activity.models import Activity
from barnstorm.donations.compliance import ContributionRefused
from barnstorm.donations.models import (
    Committee,
    ComplianceCase,
    Contribution,
    DonationPage,
    Frequency,
    Method,
    Office,
    OverLimitPolicy,
    PageRecipient,
    PaymentAttempt,
    RecurringPlan,
    RefundKind,
    ReportForm,
    SavedPaymentMethod,
    Source,
    TestProcessorCharge,
)
from barnstorm.donations.processors import card_processor
from barnstorm.donations.processors.embedded import TestProcessor
from barnstorm.donations.services import (
    CardCheckout,
    ContributionInput,
    DonorInput,
    contribution_record,
    contribution_refund,
    donation_checkout,
    page_splits,
    recurring_installment_charge,
    recurring_plan_cancel,
)
from barnstorm.lib import seeding
from barnstorm.lib.bulk import bulk_update_objects, rows_where_in
from barnstorm.people.models import EmailAddress, Person, PostalAddress
from barnstorm.people.seed import JOBS

DAYS = 90
PRIMARY_NIGHT_DAYS_AGO = 16
DONOR_SHARE = 0.19  # of the demo supporters
TEST_CARD = "tok_4242424242424242"
BATCH = 250  # events per transaction

# Gifts as small donors give them: (dollars, weight). About $27 on average, with a long tail.
GIFTS = [
    (3, 6), (5, 16), (10, 28), (15, 8), (20, 11), (25, 9), (27, 10), (35, 3),
    (50, 5), (100, 2.2), (250, 0.6), (500, 0.15), (1000, 0.05),
]  # fmt: skip
BIG_GIFTS = [1000, 1000, 1000, 1500, 2000, 2800]  # dollars, from the few large donors
MONTHLY_GIFTS = [(5, 3), (10, 5), (15, 2), (20, 3), (27, 4), (50, 1.5), (100, 0.3)]
WEEKLY_GIFTS = [(3, 2), (5, 3), (10, 2)]
# How many one-time gifts a donor makes over the 90 days.
GIFT_COUNTS = [(1, 60), (2, 20), (3, 10), (4, 5), (5, 3), (8, 2)]
# Hour of day (local) -> weight: mornings after the email lands, lunch, and evenings.
HOURS = [1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 2, 3, 4, 4.5, 4, 4.5, 3.5, 3, 3, 3, 3.5, 4, 5, 5.5, 5, 3.5, 2]

PRIMARY_NIGHT_SHARE = 0.14  # of one-time gifts, from donors who had signed up by then
MONTHLY_SHARE, WEEKLY_SHARE, BIG_SHARE = 0.06, 0.006, 0.002  # of donors
CHECKS_PER_20K = 40  # donors who also mail a check
CANCEL_SHARE = 0.12  # of plans, cancelled after a while
REFUND_EVERY = 150  # card gifts: one in so many is refunded in full (the first early, so small demos have one)
PARTIAL_REFUND_SHARE, CHARGEBACK_SHARE = 0.002, 0.0015  # of card gifts


def _per_20k(people: int, count: int) -> int:
    """`count` per 20,000 supporters, at least one: the handful of compliance stories."""
    return max(1, round(count * people / 20_000))


# The campaign ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Campaign:
    house: Committee
    president: Committee
    house_page: DonationPage
    president_page: DonationPage
    split_page: DonationPage

    @property
    def pages(self) -> list[DonationPage]:
        return [self.house_page, self.president_page, self.split_page]


def _campaign(today: date, primary_day: date) -> _Campaign:
    """The committees and pages, made once: a second seed run gives to the same campaign."""
    year = today.year + today.year % 2
    house, _ = Committee.objects.get_or_create(
        fec_id="C00000001",
        defaults={
            "name": "Rivera for Iowa",
            "candidate_name": "Ana Rivera",
            "candidate_fec_id": f"H{year % 10}IA03001",
            "office": Office.HOUSE,
            "office_state": "IA",
            "office_district": "03",
            "report_form": ReportForm.F3,
            "street1": "PO Box 1027",
            "city": "Des Moines",
            "state": "IA",
            "zip_code": "50309",
            "treasurer_given_name": "Sam",
            "treasurer_family_name": "Ortiz",
            "election_year": year,
            # Rivera won her primary on primary night; gifts after it go to the general.
            "primary_date": primary_day,
            "over_limit_policy": OverLimitPolicy.REDESIGNATE,
        },
    )
    president, _ = Committee.objects.get_or_create(
        fec_id="C00000002",
        defaults={
            "name": "Okafor for America",
            "candidate_name": "Maya Okafor",
            "candidate_fec_id": f"P{year % 10}0000001",
            "office": Office.PRESIDENT,
            "report_form": ReportForm.F3P,
            "street1": "PO Box 2028",
            "city": "Manchester",
            "state": "NH",
            "zip_code": "03101",
            "treasurer_given_name": "Lena",
            "treasurer_family_name": "Brooks",
            "election_year": year,
            "over_limit_policy": OverLimitPolicy.REFUSE,
        },
    )
    frequencies = [Frequency.ONE_TIME, Frequency.MONTHLY, Frequency.WEEKLY]
    pages = {}
    for slug, title, body, amounts, recipients in [
        (
            "rivera",
            "Chip in for Ana Rivera",
            "Ana is running for Congress in Iowa's 3rd district on people-powered money. Chip in $27.",
            [500, 1000, 2700, 5000, 10000, 25000],
            [(house, 10000)],
        ),
        (
            "okafor",
            "Maya Okafor for President",
            "No corporate PAC money, ever. Our campaign is funded by people like you.",
            [1000, 2700, 5000, 10000, 25000],
            [(president, 10000)],
        ),
        (
            "okafor-rivera",
            "Split a gift: Okafor and Rivera",
            "One gift, split evenly between Maya Okafor for President and Ana Rivera for Congress.",
            [1000, 2700, 5000, 10000],
            [(president, 5000), (house, 5000)],
        ),
    ]:
        page, created = DonationPage.objects.get_or_create(
            slug=slug,
            defaults={
                "title": title,
                "body": body,
                "suggested_amounts_cents": amounts,
                "highlighted_amount_cents": 2700 if 2700 in amounts else None,
                "frequencies": frequencies,
            },
        )
        if created:
            for position, (committee, share) in enumerate(recipients):
                PageRecipient.objects.create(page=page, committee=committee, share_bp=share, position=position)
        pages[slug] = page
    return _Campaign(house, president, pages["rivera"], pages["okafor"], pages["okafor-rivera"])


# The calendar ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Calendar:
    """The last 90 days: which had an email or a text, and how likely a gift is on each."""

    now: datetime
    days: list[date]
    cum_weights: list[float]
    email_days: list[date]
    sms_days: set[date]
    primary_day: date
    primary_night: datetime  # when the race was called

    @classmethod
    def build(cls, now: datetime) -> _Calendar:
        today = timezone.localdate(now)
        days = [today - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
        primary_day = today - timedelta(days=PRIMARY_NIGHT_DAYS_AGO)
        email_days = [d for i, d in enumerate(days) if i % 3 == 1 or d == primary_day]
        sms_days = {d for i, d in enumerate(days) if i % 7 == 4 or d == primary_day}
        weights, total = [], 0.0
        for i, day in enumerate(days):
            weight = 1 + 1.5 * i / (DAYS - 1)  # the campaign grows
            weight *= 2 if day in email_days else 1
            weight *= 1.3 if day in sms_days else 1
            weight *= 1.6 if (day + timedelta(days=1)).month != day.month else 1  # the end-of-month deadline
            total += weight
            weights.append(total)
        called = _local(primary_day, 21, 10)
        return cls(now, days, weights, email_days, sms_days, primary_day, called)

    def gift_time(self, rng: random.Random, after: datetime) -> datetime | None:
        """A moment after `after` on a day weighted as above, or None if no day is left."""
        first = max(0, (timezone.localdate(after) - self.days[0]).days)
        if first >= len(self.days):
            return None
        low = self.cum_weights[first - 1] if first else 0.0
        for _try in range(5):  # the hour drawn may fall before `after`, or later today than now
            day = self.days[min(self._index(low + rng.random() * (self.cum_weights[-1] - low)), len(self.days) - 1)]
            hour = rng.choices(range(24), weights=HOURS)[0]
            when = _local(day, hour, rng.randint(0, 59), rng.randint(0, 59))
            if after < when < self.now:
                return when
        return None

    def _index(self, pick: float) -> int:
        low, high = 0, len(self.cum_weights)
        while low < high:
            middle = (low + high) // 2
            if self.cum_weights[middle] < pick:
                low = middle + 1
            else:
                high = middle
        return low

    def primary_night_time(self, rng: random.Random) -> datetime:
        """From the polls closing to past midnight, peaking when the race is called."""
        minutes = rng.triangular(-90, 170, 0)
        return min(self.primary_night + timedelta(minutes=minutes, seconds=rng.randint(0, 59)), self.now)

    def refcode(self, rng: random.Random, when: datetime) -> str:
        day = timezone.localdate(when)
        recent = [d for d in self.email_days if 0 <= (day - d).days <= 2]
        choices = [("social", 1.2), ("", 2.0)]
        if recent:
            latest = recent[-1]
            choices.append((f"email_{latest:%m%d}", 5.0 if latest == day else 2.0))
        if day in self.sms_days:
            choices.append((f"sms_{day:%m%d}", 3.0))
        codes, weights = zip(*choices, strict=True)
        return rng.choices(codes, weights=weights)[0]


def _local(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, clock(hour, minute, second)))


def _dollars(rng: random.Random, table: list[tuple[int, float]]) -> int:
    amounts, weights = zip(*table, strict=True)
    return rng.choices(amounts, weights=weights)[0] * 100


# The donors ------------------------------------------------------------------------------------


@dataclass
class _Donor:
    person_id: int
    signed_up_at: datetime
    donor: DonorInput
    has_job: bool


def _donors(rng: random.Random, person_ids: list[int]) -> list[_Donor]:
    """The supporters who give, as they fill in the donation form (employer and occupation too)."""
    chosen = sorted(rng.sample(person_ids, round(len(person_ids) * DONOR_SHARE)))
    people = {}
    for start in range(0, len(chosen), 900):  # the ORM, not raw rows: created_at comes back aware
        fields = ["id", "given_name", "family_name", "employer", "occupation", "created_at"]
        for pk, *rest in Person.objects.filter(pk__in=chosen[start : start + 900]).values_list(*fields):
            people[pk] = rest
    emails = {
        pid: address
        for pid, address, primary in rows_where_in(EmailAddress, "person", chosen, ["person", "address", "is_primary"])
        if primary
    }
    addresses = {
        pid: (line1, line2, city, state, zip_code)
        for pid, line1, line2, city, state, zip_code, primary in rows_where_in(
            PostalAddress, "person", chosen, ["person", "line1", "line2", "city", "state", "zip_code", "is_primary"]
        )
        if primary
    }
    donors = []
    for pid in chosen:
        if pid not in people or pid not in emails:
            continue
        given, family, employer, occupation, created_at = people[pid]
        line1, line2, city, state, zip_code = addresses.get(pid, ("", "", "", "", ""))
        has_job = bool(employer and occupation)
        if not has_job:
            employer, occupation = rng.choice(JOBS)  # the form asks every donor
        donor = DonorInput(
            given_name=given,
            family_name=family,
            email=emails[pid],
            street1=line1,
            street2=line2,
            city=city,
            state=state,
            zip_code=zip_code,
            employer=employer,
            occupation=occupation,
        )
        donors.append(_Donor(pid, created_at, donor, has_job))
    return donors


# The history -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Gift:
    donor: _Donor
    amount_cents: int
    page: DonationPage | None  # None: a check, entered by staff
    refcode: str = ""
    frequency: str = Frequency.ONE_TIME
    keep: bool = False  # a plan the donor never cancels: the story needs its installments


def _history(rng: random.Random, cal: _Calendar, campaign: _Campaign, donors: list[_Donor], people: int) -> list[tuple]:
    """Every planned gift as (when, kind, gift), from the donors' stories."""
    events: list[tuple] = []
    rng.shuffle(donors)
    pages = campaign.pages
    early = [d for d in donors if d.signed_up_at < _local(cal.days[0], 0)]
    story_donors = early[: 4 * _per_20k(people, 3)]
    taken = {id(d) for d in story_donors}

    def gift(donor, amount, page, when, frequency=Frequency.ONE_TIME, keep=False):
        events.append((when, "gift", _Gift(donor, amount, page, cal.refcode(rng, when), frequency, keep)))

    # Over the limit: each story is a donor who gives the maximum and then a little more.
    stories = [story_donors[i::4] for i in range(4)]
    primary_start = _local(cal.primary_day, 0)
    for donor in stories[0]:  # to Rivera before her primary: the excess goes to the general
        gift(donor, 340_000, campaign.house_page, _local(cal.days[5 + rng.randint(0, 20)], 19, rng.randint(0, 59)))
        gift(donor, 50_000, campaign.house_page, primary_start - timedelta(hours=rng.randint(30, 200)))
    for donor in stories[1]:  # to Rivera after it, already at the general limit: queued for refund
        after = _local(cal.primary_day + timedelta(days=rng.randint(1, 6)), 11, rng.randint(0, 59))
        gift(donor, 350_000, campaign.house_page, after)
        gift(donor, 25_000, campaign.house_page, after + timedelta(days=rng.randint(2, 10)))
    for donor in stories[2]:  # to Okafor, who refuses anything over the limit at the form
        gift(donor, 350_000, campaign.president_page, _local(cal.days[10 + rng.randint(0, 30)], 12, 5))
        gift(donor, 10_000, campaign.president_page, _local(cal.days[-5 - rng.randint(0, 20)], 20, 15))
    for donor in stories[3]:  # $150 a month, and never said where they work: itemized from the second
        donor.donor.employer = donor.donor.occupation = ""
        first = _local(cal.days[rng.randint(3, 25)], 13, rng.randint(0, 59))
        page = rng.choice([campaign.house_page, campaign.president_page])  # all to one committee
        gift(donor, 15_000, page, first, Frequency.MONTHLY, keep=True)

    check_writers = {id(d) for d in [d for d in donors if id(d) not in taken][: _per_20k(people, CHECKS_PER_20K)]}
    night_start = cal.primary_night - timedelta(minutes=90)
    for donor in donors:
        if id(donor) in taken:
            continue
        roll = rng.random()
        if roll < MONTHLY_SHARE + WEEKLY_SHARE:
            weekly = roll < WEEKLY_SHARE
            start = cal.gift_time(rng, max(donor.signed_up_at, cal.now - timedelta(days=DAYS)))
            if start is not None:
                frequency = Frequency.WEEKLY if weekly else Frequency.MONTHLY
                amount = _dollars(rng, WEEKLY_GIFTS if weekly else MONTHLY_GIFTS)
                page = campaign.house_page if weekly or rng.random() < 0.6 else campaign.split_page
                gift(donor, amount, page, start, frequency)
            if rng.random() > 0.3:
                continue  # some monthly donors chip in extra, too
        if roll > 1 - BIG_SHARE:
            for _ in range(rng.choice((1, 1, 2))):
                when = cal.gift_time(rng, donor.signed_up_at)
                if when is not None:
                    gift(donor, rng.choice(BIG_GIFTS) * 100, rng.choice(pages), when)
            continue
        if id(donor) in check_writers:
            when = cal.gift_time(rng, donor.signed_up_at)
            if when is not None:
                events.append((when, "check", _Gift(donor, rng.choice((50, 100, 100, 200, 250)) * 100, None)))
        count = rng.choices(*zip(*GIFT_COUNTS, strict=True))[0]
        for _ in range(count):
            if donor.signed_up_at < night_start and rng.random() < PRIMARY_NIGHT_SHARE:
                when = cal.primary_night_time(rng)
                page = campaign.house_page if rng.random() < 0.8 else campaign.split_page
            else:
                when = cal.gift_time(rng, donor.signed_up_at)
                page = rng.choices(pages, weights=(45, 25, 30))[0]
            if when is not None:
                gift(donor, _dollars(rng, GIFTS), page, when)
    return events


# Replaying it through the services -------------------------------------------------------------


@dataclass
class _Replay:
    """What the replay made, and when each thing happened (for the timestamps afterwards)."""

    contributions: int = 0
    card_gifts: int = 0
    refused: int = 0
    plans: int = 0
    refunds: int = 0
    refused_cases: dict[int, datetime] = field(default_factory=dict)
    refused_attempts: dict[str, datetime] = field(default_factory=dict)  # by idempotency key
    cancel_times: dict[int, datetime] = field(default_factory=dict)  # by plan id


class _Replayer:
    """Plays the gifts in time order; what they lead to (installments, refunds) joins the queue."""

    def __init__(self, context: seeding.SeedContext, rng: random.Random, campaign: _Campaign, key_prefix: str):
        self.context, self.rng, self.key_prefix = context, rng, key_prefix
        self.now = context.now
        self.processor = TestProcessor()
        self.splits = {page.pk: page_splits(page) for page in campaign.pages}
        self.check_page = campaign.house_page  # checks come in for Rivera, by mail
        self.handlers = {
            "gift": self.gift,
            "check": self.check,
            "installment": self.installment,
            "cancel": self.cancel,
            "refund": self.refund,
            "chargeback": self.chargeback,
        }
        self.queue: list[tuple] = []
        self.queued = self.keys = 0
        self.done = _Replay()

    def push(self, when: datetime, kind: str, payload) -> None:
        if when < self.now:
            self.queued += 1
            heapq.heappush(self.queue, (when, self.queued, kind, payload))

    def run(self, events: Iterable[tuple]) -> _Replay:
        for when, kind, payload in events:
            self.push(when, kind, payload)
        started, handled = time.monotonic(), 0
        while self.queue:
            floor = Contribution.objects.aggregate(m=Max("id"))["m"] or 0
            with transaction.atomic():
                for _ in range(min(BATCH, len(self.queue))):
                    when, _sequence, kind, payload = heapq.heappop(self.queue)
                    self.handlers[kind](when, payload)
                    handled += 1
                # History: each receipt went out with its gift, so a worker started later has none to send.
                Contribution.objects.filter(pk__gt=floor, receipt_sent_at=None).update(receipt_sent_at=F("received_at"))
            if handled // BATCH % 8 == 0 or not self.queue:
                rate = handled / (time.monotonic() - started)
                self.context.log(f"  donations: {self.done.contributions:,} contributions ({rate:,.0f} events/s)")
        return self.done

    def _key(self) -> str:
        self.keys += 1
        return f"{self.key_prefix}:{self.keys}"

    def _input(self, when: datetime, gift: _Gift, **values) -> ContributionInput:
        return ContributionInput(
            donor=gift.donor.donor,
            amount_cents=gift.amount_cents,
            splits=self.splits[(gift.page or self.check_page).pk],
            idempotency_key=self._key(),
            received_at=when,
            page_id=gift.page.pk if gift.page else None,
            refcode=gift.refcode,
            send_receipt=False,
            **values,
        )

    def gift(self, when: datetime, gift: _Gift) -> None:
        data = self._input(when, gift, method=Method.CARD, source=Source.WEB, attested=True)
        checkout = CardCheckout(data=data, token=TEST_CARD, frequency=gift.frequency)
        try:
            outcome = donation_checkout(checkout=checkout, processor=self.processor)
        except ContributionRefused:
            self.done.refused += 1
            self.done.refused_attempts[data.idempotency_key] = when
            case_id = ComplianceCase.objects.filter(contribution=None).aggregate(m=Max("id"))["m"]
            self.done.refused_cases[case_id] = when
            return
        contribution = outcome.contribution
        self.done.contributions += 1
        self.done.card_gifts += 1
        if outcome.plan is not None:
            self.done.plans += 1
            self.push(outcome.plan.next_charge_at, "installment", outcome.plan.pk)
            if self.rng.random() < CANCEL_SHARE and not gift.keep:
                self.push(when + timedelta(days=self.rng.uniform(10, 80)), "cancel", outcome.plan.pk)
        roll = self.rng.random()
        if self.done.card_gifts % REFUND_EVERY == 20:
            self.push(when + timedelta(hours=self.rng.uniform(2, 240)), "refund", (contribution.pk, None))
        elif roll < PARTIAL_REFUND_SHARE and contribution.amount_cents >= 1000:
            half = contribution.amount_cents // 200 * 100
            self.push(when + timedelta(hours=self.rng.uniform(2, 240)), "refund", (contribution.pk, half))
        elif roll < PARTIAL_REFUND_SHARE + CHARGEBACK_SHARE:
            self.push(when + timedelta(days=self.rng.uniform(15, 45)), "chargeback", contribution.pk)

    def check(self, when: datetime, gift: _Gift) -> None:
        check_number = str(self.rng.randint(1001, 9999))
        data = self._input(when, gift, method=Method.CHECK, source=Source.STAFF, check_number=check_number)
        contribution_record(data=data)
        self.done.contributions += 1

    def installment(self, when: datetime, plan_id: int) -> None:
        outcome = recurring_installment_charge(plan_id=plan_id, now=when)
        if outcome is not None and outcome.charged is not None:
            self.done.contributions += 1
            plan = RecurringPlan.objects.only("next_charge_at", "status").get(pk=plan_id)
            self.push(plan.next_charge_at, "installment", plan_id)

    def cancel(self, when: datetime, plan_id: int) -> None:
        recurring_plan_cancel(plan=RecurringPlan.objects.get(pk=plan_id), reason="Donor asked to stop")
        self.done.cancel_times[plan_id] = when

    def refund(self, when: datetime, payload: tuple[int, int | None]) -> None:
        contribution_id, amount = payload
        contribution = Contribution.objects.get(pk=contribution_id)
        reason = "Donor asked: gave twice by mistake" if amount is None else "Donor asked to give less"
        contribution_refund(contribution=contribution, amount_cents=amount, reason=reason, refunded_at=when)
        self.done.refunds += 1

    def chargeback(self, when: datetime, contribution_id: int) -> None:
        contribution = Contribution.objects.get(pk=contribution_id)
        contribution_refund(
            contribution=contribution,
            kind=RefundKind.CHARGEBACK,
            reason="Disputed with the card issuer",
            external_id=f"test:dispute:{contribution.charge_id}",
            at_processor=False,
            refunded_at=when,
        )
        self.done.refunds += 1


# Moving "now" back to when things happened -----------------------------------------------------


@dataclass(frozen=True)
class _Marks:
    """The largest ids before the step: everything above them is this run's."""

    contribution: int
    attempt: int
    charge: int
    plan: int
    method: int
    case: int
    activity: int

    @classmethod
    def take(cls) -> _Marks:
        models = (
            Contribution, PaymentAttempt, TestProcessorCharge, RecurringPlan, SavedPaymentMethod, ComplianceCase,
            Activity,
        )  # fmt: skip
        return cls(*(model.objects.aggregate(m=Max("id"))["m"] or 0 for model in models))


def _backdate(marks: _Marks, done: _Replay) -> None:
    received = Subquery(Contribution.objects.filter(pk=OuterRef("contribution_id")).values("received_at")[:1])
    Contribution.objects.filter(pk__gt=marks.contribution).update(created_at=F("received_at"))
    PaymentAttempt.objects.filter(pk__gt=marks.attempt, contribution__isnull=False).update(created_at=received)
    refused = PaymentAttempt.objects.filter(pk__gt=marks.attempt, idempotency_key__in=done.refused_attempts)
    attempts = list(refused.only("pk", "idempotency_key"))
    for attempt in attempts:
        attempt.created_at = done.refused_attempts[attempt.idempotency_key]
    bulk_update_objects(attempts, ["created_at"])
    TestProcessorCharge.objects.filter(pk__gt=marks.charge).update(
        created_at=Subquery(
            PaymentAttempt.objects.filter(idempotency_key=OuterRef("idempotency_key")).values("created_at")[:1]
        )
    )
    first_installment = Subquery(
        Contribution.objects.filter(recurring_plan_id=OuterRef("pk")).order_by("received_at").values("received_at")[:1]
    )
    RecurringPlan.objects.filter(pk__gt=marks.plan).update(created_at=first_installment)
    plans = list(RecurringPlan.objects.filter(pk__in=list(done.cancel_times), ended_at__isnull=False).only("pk"))
    for plan in plans:
        plan.ended_at = done.cancel_times[plan.pk]
    bulk_update_objects(plans, ["ended_at"])
    SavedPaymentMethod.objects.filter(pk__gt=marks.method).update(
        created_at=Subquery(RecurringPlan.objects.filter(payment_method_id=OuterRef("pk")).values("created_at")[:1])
    )
    ComplianceCase.objects.filter(pk__gt=marks.case, contribution__isnull=False).update(created_at=received)
    cases = list(ComplianceCase.objects.filter(pk__in=list(done.refused_cases)).only("pk"))
    for case in cases:
        case.created_at = case.resolved_at = done.refused_cases[case.pk]
    bulk_update_objects(cases, ["created_at", "resolved_at"])

    plan_started = dict(RecurringPlan.objects.filter(pk__gt=marks.plan).values_list("pk", "created_at"))
    moved = []
    for entry in Activity.objects.filter(
        pk__gt=marks.activity,
        kind__in=["recurring_started", "recurring_cancelled"],
    ).only("pk", "kind", "data"):
        if entry.kind == "recurring_started":
            entry.occurred_at = plan_started.get(entry.data.get("plan_id"))
        else:
            entry.occurred_at = done.cancel_times.get(entry.data.get("plan_id"))
        if entry.occurred_at is not None:
            moved.append(entry)
    bulk_update_objects(moved, ["occurred_at"])


# The step --------------------------------------------------------------------------------------


def seed_donations_demo(context: seeding.SeedContext) -> None:
    person_ids = list(context.shared.get("people.person_ids") or [])
    if not person_ids:
        context.log("  donations: no supporters to give")
        return
    if card_processor().name != TestProcessor.name:
        context.log(
            "  donations: skipped; demo gifts are charged to the embedded test processor (unset STRIPE_SECRET_KEY)"
        )
        return
    started = time.monotonic()
    rng = context.rng("donations")
    cal = _Calendar.build(context.now)
    campaign = _campaign(timezone.localdate(context.now), cal.primary_day)
    donors = _donors(rng, person_ids)
    events = _history(rng, cal, campaign, donors, len(person_ids))
    context.log(
        f"  donations: {len(donors):,} donors, {len(events):,} gifts planned ({time.monotonic() - started:.1f}s)"
    )

    marks = _Marks.take()
    # Keys are unique per run: a second seed run gives again, as new gifts.
    replayer = _Replayer(context, rng, campaign, key_prefix=f"demo:{context.seed}:{min(person_ids)}")
    done = replayer.run(events)
    _backdate(marks, done)
    context.log(
        f"  donations: {done.contributions:,} contributions, {done.plans:,} recurring plans, {done.refunds:,} refunds"
        f" and chargebacks, {done.refused:,} refused at the form ({time.monotonic() - started:.1f}s)"
    )


seeding.register("donations", order=20, demo=seed_donations_demo)
