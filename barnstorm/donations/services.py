"""Writes for fundraising. `contribution_record` is the one way a contribution enters Barnstorm.

Every intake path — the donation page, express gifts, recurring installments, staff entry of
checks and cash, imports and the API — calls `contribution_record`, which matches the donor
through `person_upsert`, applies the compliance rules (`compliance.plan_line_items`) and is
idempotent on the key its caller derives from the donation attempt.

Card payments go through `donation_checkout`: a PaymentAttempt row is written before any
money moves and the same idempotency key is sent to the processor, so a double click, a browser
retry, a processor timeout followed by a retry, or a replayed webhook charges once and records
one contribution.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from barnstorm.activity.services import activity_record, activity_record_many
from barnstorm.donations import compliance
from barnstorm.donations.compliance import ContributionRefused, Split
from barnstorm.donations.models import (
    AttemptStatus,
    CaseAction,
    CaseKind,
    Committee,
    ComplianceCase,
    Contribution,
    ContributionStatus,
    DonationPage,
    Frequency,
    LineItem,
    Method,
    PageRecipient,
    PaymentAttempt,
    PlanStatus,
    RecurringPlan,
    Refund,
    RefundKind,
    RefundLine,
    SavedPaymentMethod,
    Source,
)
from barnstorm.donations.processors import processor_named
from barnstorm.donations.processors.base import CardProcessor, ChargeResult, ProcessorTimeout
from barnstorm.lib.bulk import bulk_update_objects
from barnstorm.lib.db import unique_write
from barnstorm.people.models import Person
from barnstorm.people.normalize import email_key
from barnstorm.people.selectors import person_id_by_email
from barnstorm.people.services import AddressInput, PersonInput, person_upsert_many

log = logging.getLogger(__name__)

# Sources where the donor fills in the form themselves and must confirm eligibility.
ATTESTED_SOURCES = {Source.WEB, Source.EXPRESS, Source.API}
TIMEOUT_RETRIES = 2


@dataclass
class DonorInput:
    """The donor as they describe themselves on a form, an import row or a check."""

    given_name: str
    family_name: str
    email: str = ""
    phone: str = ""
    street1: str = ""
    street2: str = ""
    city: str = ""
    state: str = ""
    zip_code: str = ""
    country: str = "US"
    employer: str = ""
    occupation: str = ""
    sms_consent: bool | None = None

    @classmethod
    def as_on(cls, contribution: Contribution) -> DonorInput:
        """The donor as a contribution records them: for the next gift made without a form."""
        return cls(
            given_name=contribution.given_name,
            family_name=contribution.family_name,
            email=contribution.email,
            street1=contribution.street1,
            street2=contribution.street2,
            city=contribution.city,
            state=contribution.state,
            zip_code=contribution.zip_code,
            employer=contribution.employer,
            occupation=contribution.occupation,
        )

    def person_input(self, *, source: str = "", refcode: str = "") -> PersonInput:
        address = None
        if self.street1 or self.zip_code:
            address = AddressInput(
                line1=self.street1,
                line2=self.street2,
                city=self.city,
                state=self.state,
                zip_code=self.zip_code,
                country=self.country or "US",
            )
        return PersonInput(
            email=self.email,
            phone=self.phone,
            sms_consent=self.sms_consent,
            given_name=self.given_name,
            family_name=self.family_name,
            employer=self.employer,
            occupation=self.occupation,
            source=source,
            referral_code=refcode,
            address=address,
        )


@dataclass
class ContributionInput:
    donor: DonorInput
    amount_cents: int
    method: str
    source: str
    splits: list[Split]
    idempotency_key: str
    received_at: datetime | None = None
    page_id: int | None = None
    refcode: str = ""
    refcode2: str = ""
    processor: str = ""
    charge_id: str = ""
    attested: bool = False
    check_number: str = ""
    election: str = ""  # an explicit designation (staff entry, imports); otherwise by date
    recurring_plan_id: int | None = None
    send_receipt: bool = True
    # The recipients' Committee rows when the caller has them already (a page's prefetch).
    committees: dict | None = field(default=None, repr=False, compare=False)

    def as_payload(self) -> dict:
        payload = dataclasses.asdict(dataclasses.replace(self, committees=None))
        del payload["committees"]
        payload["received_at"] = self.received_at.isoformat() if self.received_at else None
        return payload

    @classmethod
    def from_payload(cls, payload: dict) -> ContributionInput:
        values = dict(payload)
        values["donor"] = DonorInput(**values["donor"])
        values["splits"] = [Split(**s) for s in values["splits"]]
        if values.get("received_at"):
            values["received_at"] = datetime.fromisoformat(values["received_at"])
        return cls(**values)


@dataclass
class RecordResult:
    contribution: Contribution
    created: bool


def contribution_record(*, data: ContributionInput, actor=None) -> RecordResult:
    """Record a contribution (exactly once per idempotency key), compliant with the limits.

    Raises ContributionRefused when the contribution may not be accepted; nothing is written
    then but a compliance case, so the caller can tell the donor or the staff member why.
    """
    try:
        return contribution_record_many(data=[data], actor=actor)[0]
    except IntegrityError:
        # The same attempt, recorded concurrently by another path (a webhook, a retry): theirs stands.
        existing = Contribution.objects.filter(idempotency_key=data.idempotency_key).first()
        if existing is None and data.charge_id:
            existing = Contribution.objects.filter(processor=data.processor, charge_id=data.charge_id).first()
        if existing is None:
            raise
        return RecordResult(existing, created=False)


def contribution_record_many(*, data: Sequence[ContributionInput], actor=None) -> list[RecordResult]:
    """contribution_record for a batch, in one transaction: one result per gift, in order.

    The gifts are decided in order, so a donor's later gift sees the earlier ones. Raises
    ContributionRefused for the first gift that may not be accepted, and IntegrityError when
    another path recorded one of the keys meanwhile; nothing is written then (but the refusal's
    compliance case), and a caller with many gifts records them one at a time instead.
    """
    for item in data:
        _acceptable_check(item)
    now = timezone.now()
    try:
        with transaction.atomic():
            return _record_many(list(data), now, actor)
    except ContributionRefused as refusal:
        _refusal_case_record(refusal, person_id=refusal.person_id)
        raise


def _acceptable_check(data: ContributionInput) -> None:
    if data.amount_cents <= 0:
        raise ContributionRefused(_("The amount must be more than zero."), kind="invalid")
    if data.source in ATTESTED_SOURCES and not data.attested:
        raise ContributionRefused(
            _("Please confirm that you are eligible to give (the statements above the button)."),
            kind=CaseKind.PROHIBITED,
        )


def _record_many(batch: list[ContributionInput], now: datetime, actor) -> list[RecordResult]:
    upserted = person_upsert_many(
        rows=[data.donor.person_input(source="donation", refcode=data.refcode) for data in batch],
        actor=actor,
        activity_kind=None,
    )
    committees = _committees_for(batch)
    # A donor created in this transaction is seen by no other until it commits, and has given
    # nothing: no lock to take, no totals to read, no earlier gift with the key (a repeat of the
    # key fails on its unique index). Donors who existed are locked, in id order, so one donor's
    # contributions are decided one at a time and two at once can't both fit the limit.
    known = sorted({result.person.pk for result in upserted if not result.created})
    earlier: dict[str, Contribution] = {}
    totals: dict[int, dict] = {result.person.pk: {} for result in upserted if result.created}
    if known:
        list(Person.objects.select_for_update().filter(pk__in=known).order_by("pk").values_list("pk", flat=True))
        earlier = Contribution.objects.in_bulk([data.idempotency_key for data in batch], field_name="idempotency_key")
        totals.update(_known_donor_totals(batch, upserted, committees, now))

    results: list[RecordResult | None] = []
    planned: list[tuple[ContributionInput, Contribution, compliance.Plan]] = []
    for data, upserted_one in zip(batch, upserted, strict=True):
        person = upserted_one.person
        if data.idempotency_key in earlier:
            results.append(RecordResult(earlier[data.idempotency_key], created=False))
            continue
        received_at = data.received_at or now
        money_moved = bool(data.charge_id) or data.source == Source.IMPORT
        try:
            plan = compliance.plan_line_items(
                person_id=person.pk,
                amount_cents=data.amount_cents,
                method=data.method,
                splits=data.splits,
                received_at=received_at,
                election=data.election,
                money_moved=money_moved,
                committees=committees,
                totals=totals[person.pk],
            )
        except ContributionRefused as refusal:
            # Everything here rolls back; a person who existed before is named on the compliance case.
            refusal.person_id = None if upserted_one.created else person.pk
            raise
        totals[person.pk] = plan.totals_after(data.method)
        contribution = _contribution_build(data, person, received_at, actor)
        earlier[data.idempotency_key] = contribution  # the same key twice in a batch is one gift
        planned.append((data, contribution, plan))
        results.append(None)

    created = [contribution for _data, contribution, _plan in planned]
    Contribution.objects.bulk_create(created)
    items = _line_items_create([(contribution, plan) for _data, contribution, plan in planned])
    itemized = {item.contribution_id for item in items if item.itemized}
    ComplianceCase.objects.bulk_create(
        ComplianceCase(
            kind=case.kind,
            action=case.action,
            person_id=contribution.person_id,
            committee=case.committee,
            contribution=contribution,
            amount_cents=case.amount_cents,
            detail=case.detail,
            due_on=case.due_on,
        )
        for _data, contribution, plan in planned
        for case in plan.cases
    )
    receipts = []
    for data, contribution, _plan in planned:
        # History (imports) emails nobody: the follow-up goes with the receipt, for gifts made now.
        if data.send_receipt:
            receipts.append(contribution.pk)
            if contribution.pk in itemized and not (contribution.employer and contribution.occupation):
                _best_efforts_request(contribution)
    activity_record_many(
        kind="donation",
        person_ids=[c.person_id for c in created],
        data=[
            {
                "contribution_id": c.pk,
                "amount_cents": c.amount_cents,
                "method": c.method,
                "source": c.source,
                "refcode": c.refcode,
                "recurring": bool(c.recurring_plan_id),
            }
            for c in created
        ],
        actor=actor,
        occurred_at=[c.received_at for c in created],
    )
    if receipts:
        from barnstorm.donations.tasks import contribution_receipts_send

        transaction.on_commit(lambda: contribution_receipts_send.delay(receipts))
    fresh = iter(created)
    return [result or RecordResult(next(fresh), created=True) for result in results]


def _committees_for(batch: list[ContributionInput]) -> dict[int, Committee]:
    """The recipients' rows, from the callers where they have them, else read once for the batch."""
    committees: dict[int, Committee] = {}
    for data in batch:
        committees.update(data.committees or {})
    missing = {s.committee_id for data in batch for s in data.splits} - committees.keys()
    if missing:
        committees.update(Committee.objects.in_bulk(missing))
    return committees


def _known_donor_totals(batch, upserted, committees, now) -> dict[int, dict]:
    """Each existing donor's totals for every committee and cycle the batch's gifts touch, in one query.

    (Totals for a committee or cycle a donor's own gifts don't touch are read too, and harmless.)
    """
    known, committee_ids, cycles = set(), set(), set()
    for data, upserted_one in zip(batch, upserted, strict=True):
        if upserted_one.created:
            continue
        known.add(upserted_one.person.pk)
        committee_ids.update(s.committee_id for s in data.splits)
        designations = compliance.designations_for(
            splits=data.splits, received_at=data.received_at or now, election=data.election, committees=committees
        )
        cycles.update(compliance.cycle_of(d) for d in designations)
    totals = compliance.donors_totals(person_ids=sorted(known), committee_ids=sorted(committee_ids), cycles=cycles)
    return {person_id: totals.get(person_id, {}) for person_id in known}


def _contribution_build(data: ContributionInput, person: Person, received_at: datetime, actor) -> Contribution:
    donor = data.donor
    return Contribution(
        person=person,
        page_id=data.page_id,
        amount_cents=data.amount_cents,
        method=data.method,
        source=data.source,
        received_at=received_at,
        idempotency_key=data.idempotency_key,
        processor=data.processor,
        charge_id=data.charge_id,
        refcode=data.refcode,
        refcode2=data.refcode2,
        recurring_plan_id=data.recurring_plan_id,
        given_name=donor.given_name,
        family_name=donor.family_name,
        email=email_key(donor.email) if donor.email else "",
        street1=donor.street1,
        street2=donor.street2,
        city=donor.city,
        state=donor.state.upper(),
        zip_code=donor.zip_code,
        employer=donor.employer,
        occupation=donor.occupation,
        attested=data.attested,
        check_number=data.check_number,
        entered_by=actor if data.source == Source.STAFF else None,
    )


def _line_items_create(planned: list[tuple[Contribution, compliance.Plan]]) -> list[LineItem]:
    """Each plan's line items, with cycle-to-date aggregates."""
    items: list[LineItem] = []
    for contribution, plan in planned:
        aggregates = dict(plan.cycle_totals)  # read under the donor's lock (or this batch's), so still current
        for planned_item in plan.items:
            cycle = compliance.cycle_of(planned_item.election)
            key = (planned_item.committee.pk, cycle)
            aggregates[key] = aggregates.get(key, 0) + planned_item.amount_cents
            aggregate = aggregates[key]
            items.append(
                LineItem(
                    contribution=contribution,
                    person_id=contribution.person_id,
                    committee=planned_item.committee,
                    received_at=contribution.received_at,
                    method=contribution.method,
                    amount_cents=planned_item.amount_cents,
                    election=planned_item.election,
                    cycle=cycle,
                    cycle_aggregate_cents=aggregate,
                    itemized=aggregate > compliance.ITEMIZATION_THRESHOLD_CENTS,
                    memo=planned_item.memo,
                )
            )
    LineItem.objects.bulk_create(items)
    # Crossing $200 itemizes the donor's earlier contributions of the cycle as well.
    _cycles_itemize({(item.person_id, item.committee_id, item.cycle) for item in items if item.itemized})
    return items


def _cycles_itemize(cycles: set[tuple[int, int, int]]) -> None:
    """Itemize every line item of each (donor, committee, cycle) given: its total has passed $200."""
    for person_id, committee_id, cycle in sorted(cycles):
        LineItem.objects.filter(person_id=person_id, committee_id=committee_id, cycle=cycle, itemized=False).update(
            itemized=True
        )


def merged_donor_review(*, person_id: int, merged_person_id: int | None = None) -> list[ComplianceCase]:
    """After two records of one donor are merged, the law counts their gifts together.

    Itemizes the cycles whose total now passes $200, and opens a refund case for whatever is
    over a limit (cash included) beyond the refunds already queued. Returns the new cases.
    """
    given: dict[tuple[int, str], int] = {}
    cash: dict[tuple[int, str], int] = {}
    per_cycle: dict[tuple[int, int], int] = {}
    totals = compliance.donors_totals(person_ids=[person_id]).get(person_id, {})
    for (committee_id, election, method), net in totals.items():
        given[committee_id, election] = given.get((committee_id, election), 0) + net
        if method == Method.CASH:
            cash[committee_id, election] = cash.get((committee_id, election), 0) + net
        cycle = compliance.cycle_of(election)
        per_cycle[committee_id, cycle] = per_cycle.get((committee_id, cycle), 0) + net
    _cycles_itemize(
        {
            (person_id, committee_id, cycle)
            for (committee_id, cycle), total in per_cycle.items()
            if total > compliance.ITEMIZATION_THRESHOLD_CENTS
        }
    )
    queued = dict(
        ComplianceCase.objects.filter(person_id=person_id, action=CaseAction.REFUND_QUEUED, resolved_at__isnull=True)
        .values_list("committee_id")
        .annotate(total=Sum("amount_cents"))
    )
    # Cases name a committee, not an election: what is owed back is counted per committee, the
    # larger of the excess over the election limits and over the cash limit.
    owed: dict[int, tuple[int, str, list[str]]] = {}
    for (committee_id, election), net in sorted(given.items()):
        over = net - compliance.limit_cents(compliance.cycle_of(election))
        cash_over = cash.get((committee_id, election), 0) - compliance.CASH_LIMIT_CENTS
        excess, kind = max((over, CaseKind.OVER_LIMIT), (cash_over, CaseKind.CASH_LIMIT))
        if excess > 0:
            total, _kind, elections = owed.get(committee_id, (0, kind, []))
            owed[committee_id] = (total + excess, kind, [*elections, election])
    merged = f" (person #{merged_person_id} merged in)" if merged_person_id else ""
    due_on = timezone.localdate() + timedelta(days=compliance.EXCESS_REFUND_DAYS)
    cases = []
    for committee_id, (total, kind, elections) in owed.items():
        excess = total - queued.get(committee_id, 0)
        if excess <= 0:
            continue
        cases.append(
            ComplianceCase(
                kind=kind,
                action=CaseAction.REFUND_QUEUED,
                person_id=person_id,
                committee_id=committee_id,
                amount_cents=excess,
                detail=_("Two donor records merged%(merged)s: $%(excess)s over the limits for %(elections)s")
                % {"merged": merged, "excess": f"{excess / 100:,.2f}", "elections": ", ".join(elections)},
                due_on=due_on,
            )
        )
    return ComplianceCase.objects.bulk_create(cases)


def _refusal_case_record(refusal: ContributionRefused, *, person_id: int | None) -> None:
    """Refusals are cases too, already acted on: staff see who was turned away and why."""
    if refusal.kind not in (CaseKind.OVER_LIMIT, CaseKind.CASH_LIMIT, CaseKind.PROHIBITED):
        return
    ComplianceCase.objects.create(
        kind=refusal.kind,
        action=CaseAction.REFUSED,
        person_id=person_id,
        committee=refusal.committee,
        amount_cents=refusal.excess_cents,
        detail=str(refusal.message)[:300],
        resolved_at=timezone.now(),
    )


def _best_efforts_request(contribution: Contribution) -> None:
    """Once per contribution: ask the donor for the missing employer/occupation, and queue it."""
    ComplianceCase.objects.create(
        kind=CaseKind.BEST_EFFORTS,
        action=CaseAction.FOLLOW_UP_SENT,
        person_id=contribution.person_id,
        contribution=contribution,
        amount_cents=contribution.amount_cents,
        detail=_("Employer or occupation missing on an itemized contribution"),
    )
    from barnstorm.donations.tasks import best_efforts_email_send

    transaction.on_commit(lambda: best_efforts_email_send.delay(contribution.pk))


# --- Card payments -------------------------------------------------------------------------


@dataclass
class CheckoutOutcome:
    contribution: Contribution | None = None
    declined: str = ""  # the message for the donor when the card was declined or blocked
    blocked: bool = False
    pending: bool = False  # no answer from the processor yet; the reconcile task will finish it
    plan: RecurringPlan | None = None
    # Charged; the worker records the contribution within moments (donation_checkout's record_later).
    recording: bool = False
    attempt_id: int | None = None


@dataclass
class CardCheckout:
    data: ContributionInput
    token: str  # a one-time token from the card form, or a saved method's reference
    ip_address: str = ""
    frequency: str = Frequency.ONE_TIME
    save_method: bool = False
    customer_ref: str = ""
    extra: dict = field(default_factory=dict)


def donation_checkout(
    *, checkout: CardCheckout, processor: CardProcessor, record_later: bool = False
) -> CheckoutOutcome:
    """Charge a card and record the contribution, exactly once per attempt key.

    Raises ContributionRefused (before any money moves) when the gift may not be accepted.
    With `record_later`, a one-time gift that nothing more hangs on (no saved card, no plan) is
    recorded by the worker once charged, in a batch with others (`attempts_record`): how the
    donation page keeps up with a spike, thanking the donor as soon as the card is charged.
    """
    data = checkout.data
    attempt = attempt_open(
        data=data,
        processor=processor.name,
        ip_address=checkout.ip_address,
        extra={"frequency": checkout.frequency, "save_method": checkout.save_method},
    )
    if attempt.contribution_id:
        contribution = attempt.contribution
        return CheckoutOutcome(contribution=contribution, plan=contribution.recurring_plan, attempt_id=attempt.pk)
    if attempt.status == AttemptStatus.CHARGED:
        return CheckoutOutcome(recording=True, attempt_id=attempt.pk)

    fingerprint = getattr(processor, "token_fingerprint", lambda token: "")(checkout.token)
    if _card_testing_suspected(ip=checkout.ip_address, fingerprint=fingerprint):
        PaymentAttempt.objects.filter(pk=attempt.pk).update(
            status=AttemptStatus.BLOCKED,
            card_fingerprint=fingerprint,
            message="Too many declined attempts from this address or card",
        )
        return CheckoutOutcome(
            blocked=True,
            declined=_("Too many attempts were declined. Please wait a few minutes and try again."),
        )
    attempt_precheck(attempt=attempt, data=data)

    result = _charge_with_retries(processor, checkout, attempt)
    if result is None:
        # Kept so `attempts_reconcile` can ask again with the same key once the processor answers.
        payload = {**attempt.payload, "token": checkout.token, "customer_ref": checkout.customer_ref}
        PaymentAttempt.objects.filter(pk=attempt.pk).update(status=AttemptStatus.UNKNOWN, payload=payload)
        return CheckoutOutcome(pending=True)
    if not result.succeeded:
        PaymentAttempt.objects.filter(pk=attempt.pk).update(
            status=AttemptStatus.DECLINED,
            charge_id=result.charge_id,
            decline_code=result.decline_code,
            message=result.message[:300],
            card_fingerprint=result.fingerprint,
        )
        _decline_count(ip=checkout.ip_address, fingerprint=result.fingerprint or fingerprint)
        return CheckoutOutcome(declined=result.message or _("Your card was declined."))
    if record_later and checkout.frequency == Frequency.ONE_TIME and not checkout.save_method:
        return attempt_charged(attempt=attempt, result=result)
    outcome = attempt_complete(attempt=attempt, result=result, committees=data.committees)
    outcome.attempt_id = attempt.pk
    return outcome


def attempt_open(*, data: ContributionInput, processor: str, ip_address: str = "", extra: dict | None = None):
    """The attempt row for this key, written before any money moves (the same row on a retry)."""
    try:
        # Insert first: nearly every attempt is new, and the unique key catches the repeats.
        with unique_write():
            return PaymentAttempt.objects.create(
                idempotency_key=data.idempotency_key,
                page_id=data.page_id,
                amount_cents=data.amount_cents,
                method=data.method,
                source=data.source,
                processor=processor,
                ip_address=ip_address or None,
                payload={**data.as_payload(), **(extra or {})},
            )
    except IntegrityError:
        return PaymentAttempt.objects.select_related("contribution").get(idempotency_key=data.idempotency_key)


def attempt_precheck(*, attempt: PaymentAttempt, data: ContributionInput) -> None:
    """Before any money moves: would the law, or the committee's policy, refuse this gift?"""
    person_id = person_id_by_email(address=data.donor.email) if data.donor.email else None
    try:
        compliance.plan_line_items(
            person_id=person_id,
            amount_cents=data.amount_cents,
            method=data.method,
            splits=data.splits,
            received_at=data.received_at or timezone.now(),
            election=data.election,
            money_moved=False,
            committees=data.committees,
        )
    except ContributionRefused as refusal:
        PaymentAttempt.objects.filter(pk=attempt.pk).update(status=AttemptStatus.REFUSED, message=str(refusal.message))
        _refusal_case_record(refusal, person_id=person_id)
        raise


def _charge_with_retries(processor: CardProcessor, checkout: CardCheckout, attempt) -> ChargeResult | None:
    data = checkout.data
    for _try in range(1 + TIMEOUT_RETRIES):
        try:
            return processor.charge(
                amount_cents=data.amount_cents,
                token=checkout.token,
                idempotency_key=data.idempotency_key,
                description=_("Contribution"),
                save_method=checkout.save_method or checkout.frequency != Frequency.ONE_TIME,
                customer_ref=checkout.customer_ref,
            )
        except ProcessorTimeout:
            log.warning("processor timeout on attempt %s; retrying with the same key", attempt.pk)
    return None


def attempt_complete(
    *, attempt: PaymentAttempt, result: ChargeResult, committees: dict | None = None
) -> CheckoutOutcome:
    """Record the contribution a succeeded charge paid for (from the request, a webhook or a task)."""
    frequency = attempt.payload.get("frequency", Frequency.ONE_TIME)
    save_method = attempt.payload.get("save_method", False)
    data = _attempt_contribution(attempt, charge_id=result.charge_id, committees=committees)
    with transaction.atomic():
        attempt = PaymentAttempt.objects.select_for_update().get(pk=attempt.pk)
        if attempt.contribution_id:
            return CheckoutOutcome(contribution=attempt.contribution, plan=attempt.contribution.recurring_plan)
        recorded = contribution_record(data=data).contribution
        plan = None
        if result.payment_method_ref and (save_method or frequency != Frequency.ONE_TIME):
            method, _created = SavedPaymentMethod.objects.get_or_create(
                processor=attempt.processor,
                reference=result.payment_method_ref,
                defaults={
                    "person_id": recorded.person_id,
                    "customer_reference": result.customer_ref,
                    "brand": result.brand,
                    "last4": result.last4,
                },
            )
            if frequency != Frequency.ONE_TIME and recorded.recurring_plan_id is None:
                plan = _plan_start(contribution=recorded, method=method, frequency=frequency, splits=data.splits)
        attempt.status = AttemptStatus.SUCCEEDED
        attempt.charge_id = result.charge_id
        attempt.card_fingerprint = result.fingerprint
        attempt.contribution = recorded
        attempt.save(update_fields=["status", "charge_id", "card_fingerprint", "contribution"])
    return CheckoutOutcome(contribution=recorded, plan=plan or recorded.recurring_plan)


def _attempt_contribution(attempt: PaymentAttempt, *, charge_id: str, committees=None) -> ContributionInput:
    """The contribution an attempt's charge paid for, as the donor's form described it."""
    payload = {k: v for k, v in attempt.payload.items() if k not in ("frequency", "save_method")}
    data = ContributionInput.from_payload(payload)
    data.committees = committees
    data.processor = attempt.processor
    data.charge_id = charge_id
    return data


# --- Recording charged gifts in batches (donation_checkout's record_later) --------------------

RECORDER_DUE_KEY = "donations:recorder-due"
RECORD_BATCH = 200
# The recorder starts this long after the first gift it is for: in a spike it then finds a batch
# waiting, not one or two gifts (a batch costs a few queries however many gifts it holds).
RECORD_AFTER_SECONDS = 0.5


def attempt_charged(*, attempt: PaymentAttempt, result: ChargeResult) -> CheckoutOutcome:
    """The card is charged: mark the attempt for the recorder, and make sure one is on its way."""
    # Every gift on the donation page passes here. As SQL, the statement costs a quarter of the CPU
    # the ORM spends on the same `.filter(pk=…, status=PENDING).update(…)` (45 against 180 µs).
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {PaymentAttempt._meta.db_table} SET status = %s, charge_id = %s, card_fingerprint = %s"
            " WHERE id = %s AND status = %s",
            [AttemptStatus.CHARGED.value, result.charge_id, result.fingerprint]
            + [attempt.pk, AttemptStatus.PENDING.value],
        )
    # One recorder task for however many gifts arrive before it starts: it clears the mark before
    # it looks, so a gift marked after its look finds the mark gone and sends the next one.
    if cache.add(RECORDER_DUE_KEY, 1, timeout=60):
        from barnstorm.donations.tasks import attempts_record_task

        transaction.on_commit(lambda: attempts_record_task.apply_async(countdown=RECORD_AFTER_SECONDS))
    return CheckoutOutcome(recording=True, attempt_id=attempt.pk)


def attempts_record(*, batch_size: int = RECORD_BATCH) -> int:
    """Record the contributions of charged attempts, a batch per transaction, until none is left.

    Recorders running at once take different attempts (FOR UPDATE SKIP LOCKED on PostgreSQL;
    SQLite runs one writer at a time). A webhook that records an attempt first takes it out of
    the queue; one that comes while the recorder holds it waits, then finds it recorded.
    Returns how many contributions were recorded.
    """
    cache.delete(RECORDER_DUE_KEY)
    recorded = 0
    while True:
        with transaction.atomic():
            queue = PaymentAttempt.objects.select_for_update(skip_locked=True).filter(status=AttemptStatus.CHARGED)
            attempts = list(queue.order_by("pk")[:batch_size])
            if not attempts:
                return recorded
            recorded += _attempts_record_batch(attempts)
        if len(attempts) < batch_size:
            return recorded


def _attempts_record_batch(attempts: list[PaymentAttempt]) -> int:
    batch = []
    for attempt in attempts:
        data = _attempt_contribution(attempt, charge_id=attempt.charge_id)
        data.received_at = data.received_at or attempt.created_at  # when the donor gave, not when recorded
        batch.append(data)
    try:
        with transaction.atomic():  # a batch that fails leaves nothing behind, not even its refusal's case
            results = contribution_record_many(data=batch)
    except (ValidationError, IntegrityError):
        # One gift the batch can't take (raced by a webhook, or refused): each on its own instead.
        results = [_attempt_record_alone(attempt, data) for attempt, data in zip(attempts, batch, strict=True)]
    done = []
    for attempt, result in zip(attempts, results, strict=True):
        if result is not None:
            attempt.status = AttemptStatus.SUCCEEDED
            attempt.contribution_id = result.contribution.pk
            done.append(attempt)
    bulk_update_objects(done, ["status", "contribution"])
    return sum(1 for result in results if result is not None and result.created)


def _attempt_record_alone(attempt: PaymentAttempt, data: ContributionInput) -> RecordResult | None:
    try:
        return contribution_record(data=data)
    except ValidationError as error:
        # Charged but not recordable: staff must look at it (and likely refund it).
        message = "; ".join(getattr(error, "messages", [str(error)]))
        log.error("charged attempt %s could not be recorded: %s", attempt.pk, message)
        PaymentAttempt.objects.filter(pk=attempt.pk).update(
            status=AttemptStatus.REFUSED, message=f"Charged, not recorded: {message}"[:300]
        )
        return None


RECONCILE_AFTER = timedelta(minutes=1)
RECONCILE_WITHIN = timedelta(hours=23)  # processors keep idempotency keys for about a day


def attempts_reconcile(*, now: datetime | None = None) -> int:
    """Ask again about charges the processor never answered, with the same key; record what went through.

    The money may have moved while the answer was lost: without this the gift would be charged
    and never recorded. Returns how many contributions were recorded.
    """
    now = now or timezone.now()
    recorded = 0
    waiting = PaymentAttempt.objects.filter(
        status=AttemptStatus.UNKNOWN, created_at__lte=now - RECONCILE_AFTER, created_at__gte=now - RECONCILE_WITHIN
    )
    for attempt in waiting.order_by("created_at")[:500]:
        token = attempt.payload.get("token", "")
        if not token:
            continue
        payload = {k: v for k, v in attempt.payload.items() if k not in ("token", "customer_ref")}
        data = ContributionInput.from_payload(
            {k: v for k, v in payload.items() if k not in ("frequency", "save_method")}
        )
        checkout = CardCheckout(
            data=data,
            token=token,
            customer_ref=attempt.payload.get("customer_ref", ""),
            frequency=payload.get("frequency", Frequency.ONE_TIME),
            save_method=payload.get("save_method", False),
        )
        result = _charge_with_retries(processor_named(attempt.processor), checkout, attempt)
        if result is None:
            continue  # still no answer: the next run asks again
        if not result.succeeded:
            PaymentAttempt.objects.filter(pk=attempt.pk).update(
                status=AttemptStatus.DECLINED, charge_id=result.charge_id, decline_code=result.decline_code
            )
            continue
        attempt.payload = payload  # the token is no longer needed
        PaymentAttempt.objects.filter(pk=attempt.pk).update(payload=payload)
        if attempt_complete(attempt=attempt, result=result).contribution is not None:
            recorded += 1
    return recorded


def _card_testing_suspected(*, ip: str, fingerprint: str) -> bool:
    limit = settings.CARD_TESTING_MAX_DECLINES
    keys = [_decline_key("ip", ip), _decline_key("card", fingerprint)]
    counts = cache.get_many([k for k in keys if k])
    return any(count >= limit for count in counts.values())


def _decline_count(*, ip: str, fingerprint: str) -> None:
    window = settings.CARD_TESTING_WINDOW_SECONDS
    for key in (_decline_key("ip", ip), _decline_key("card", fingerprint)):
        if not key:
            continue
        # The window starts at the first decline, so the cool-down ends `window` seconds after it.
        cache.add(key, 0, timeout=window)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=window)


def _decline_key(scope: str, value: str) -> str:
    if not value:
        return ""
    return "declines:" + scope + ":" + hashlib.sha256(value.encode()).hexdigest()[:24]


# --- Recurring plans -----------------------------------------------------------------------


def next_charge_after(when: datetime, frequency: str, *, day: int | None = None) -> datetime:
    """The next installment after `when`: a week later, or on `day` (default: when's day) next month.

    A month without that day takes its last day, and the month after returns to `day`, so a
    gift started on the 31st is charged on the 31st whenever the month has one.
    """
    if frequency == Frequency.WEEKLY:
        return when + timedelta(days=7)
    year, month = (when.year + 1, 1) if when.month == 12 else (when.year, when.month + 1)
    wanted = day or when.day
    for candidate in (wanted, 30, 29, 28):
        if candidate <= wanted:
            try:
                return when.replace(year=year, month=month, day=candidate)
            except ValueError:
                continue
    raise AssertionError("unreachable")


def _plan_start(*, contribution: Contribution, method: SavedPaymentMethod, frequency: str, splits) -> RecurringPlan:
    plan = RecurringPlan.objects.create(
        person_id=contribution.person_id,
        page_id=contribution.page_id,
        payment_method=method,
        amount_cents=contribution.amount_cents,
        frequency=frequency,
        splits=[[s.committee_id, s.share_bp] for s in splits],
        refcode=contribution.refcode,
        next_charge_at=next_charge_after(contribution.received_at, frequency),
        charge_day=timezone.localtime(contribution.received_at).day,
        installments=1,
    )
    Contribution.objects.filter(pk=contribution.pk).update(recurring_plan=plan)
    contribution.recurring_plan = plan
    activity_record(
        person_id=contribution.person_id,
        kind="recurring_started",
        data={"plan_id": plan.pk, "amount_cents": plan.amount_cents, "frequency": frequency},
    )
    return plan


@dataclass
class InstallmentOutcome:
    charged: Contribution | None = None
    declined: str = ""
    stopped: bool = False  # the plan ended: too many failures, or it would exceed a limit
    pending: bool = False


def recurring_installment_charge(*, plan_id: int, now: datetime | None = None) -> InstallmentOutcome | None:
    """Charge a plan's due installment once; on a decline, retry on the dunning schedule, then stop.

    Safe to run twice (two workers, a retried task): the idempotency key names the plan, the
    installment and the try, so the processor charges once and one contribution is recorded;
    the plan only moves on from the state it was read in.
    """
    now = now or timezone.now()
    plan = RecurringPlan.objects.select_related("payment_method").filter(pk=plan_id).first()
    if plan is None or plan.status != PlanStatus.ACTIVE or plan.next_charge_at > now:
        return None
    number, failures = plan.installments + 1, plan.failures
    last = plan.contributions.order_by("-received_at").first()
    if last is None:
        return None
    data = ContributionInput(
        donor=DonorInput.as_on(last),
        amount_cents=plan.amount_cents,
        method=Method.CARD,
        source=Source.RECURRING,
        splits=[Split(committee_id, share) for committee_id, share in plan.splits],
        idempotency_key=f"recurring:{plan.pk}:{number}:{failures}",
        received_at=now,
        page_id=plan.page_id,
        refcode=plan.refcode,
        recurring_plan_id=plan.pk,
        attested=True,
    )
    checkout = CardCheckout(
        data=data, token=plan.payment_method.reference, customer_ref=plan.payment_method.customer_reference
    )
    current = RecurringPlan.objects.filter(pk=plan.pk, installments=plan.installments, failures=failures)
    try:
        outcome = donation_checkout(checkout=checkout, processor=processor_named(plan.payment_method.processor))
    except ContributionRefused as refusal:
        # The next installment would break the law: the plan ends, and the donor is told why.
        if current.update(status=PlanStatus.FAILED, ended_at=now):
            _plan_ended(plan, reason=str(refusal.message))
        return InstallmentOutcome(stopped=True, declined=str(refusal.message))
    if outcome.pending:
        return InstallmentOutcome(pending=True)  # the next run asks again with the same key
    if outcome.contribution is not None:
        anchor = plan.charge_day
        following = next_charge_after(plan.next_charge_at, plan.frequency, day=anchor)
        if following <= now:  # long overdue (the worker was down): charge once, then back on schedule
            following = next_charge_after(now, plan.frequency, day=anchor)
        current.update(installments=number, failures=0, next_charge_at=following)
        return InstallmentOutcome(charged=outcome.contribution)
    retry_days = settings.RECURRING_RETRY_DAYS
    if failures < len(retry_days):
        current.update(failures=failures + 1, next_charge_at=now + timedelta(days=retry_days[failures]))
        return InstallmentOutcome(declined=outcome.declined)
    if current.update(failures=failures + 1, status=PlanStatus.FAILED, ended_at=now):
        _plan_ended(plan, reason=outcome.declined)
    return InstallmentOutcome(declined=outcome.declined, stopped=True)


def _plan_ended(plan: RecurringPlan, *, reason: str) -> None:
    activity_record(
        person_id=plan.person_id, kind="recurring_failed", data={"plan_id": plan.pk, "reason": reason[:200]}
    )
    from barnstorm.donations.tasks import recurring_stopped_email_send

    transaction.on_commit(lambda: recurring_stopped_email_send.delay(plan.pk))


def recurring_due_ids(*, now: datetime | None = None, limit: int = 1000) -> list[int]:
    now = now or timezone.now()
    return list(
        RecurringPlan.objects.filter(status=PlanStatus.ACTIVE, next_charge_at__lte=now)
        .order_by("next_charge_at")
        .values_list("pk", flat=True)[:limit]
    )


# --- Refunds and chargebacks ---------------------------------------------------------------


def contribution_refund(
    *,
    contribution: Contribution,
    amount_cents: int | None = None,
    kind: str = RefundKind.REFUND,
    reason: str = "",
    actor=None,
    external_id: str = "",
    at_processor: bool = True,
    committees: dict[int, int | None] | None = None,
    refunded_at: datetime | None = None,
) -> Refund:
    """Refund (or record a chargeback of) all or part of a contribution.

    Staff refunds go to the processor first with a key derived from the refund, so a retry
    refunds once; processor webhooks pass `external_id` (the processor's event) and
    `at_processor=False`, since the money has already gone back.
    `amount_cents` (None: all that is left) comes back from the last-designated line items first
    (an excess goes back first). Or, instead, `committees` says what each recipient gives back
    ({committee id: cents, or None for all that is left of its part}), as a staff refund of one
    recipient's part or an ActBlue refund row does. Each refund keeps its lines, so reports know
    which committee and election refunded what. An import passes `refunded_at`, the day the
    money went back, which dates the refund in reports.
    """
    if committees is not None and amount_cents is not None:
        raise ValueError("give the amount or the committees' shares, not both")
    if external_id:
        earlier = Refund.objects.filter(external_id=external_id).first()
        if earlier is not None:
            return earlier
    with transaction.atomic():
        contribution = Contribution.objects.select_for_update().get(pk=contribution.pk)
        refundable = contribution.amount_cents - contribution.refunded_cents
        out_of_range = ValidationError(
            _("A refund must be between $0.01 and $%(max)s.") % {"max": f"{refundable / 100:,.2f}"}
        )
        wanted = committees
        if wanted is None:
            amount = refundable if amount_cents is None else amount_cents
            if not 0 < amount <= refundable:
                raise out_of_range
            wanted = {ANY_RECIPIENT: amount}
        # Settled before the processor is asked, so a refund that can't be spread moves no money.
        takes = _refund_takes(contribution, wanted)
        amount = sum(take for _item_id, take in takes)
        if not 0 < amount <= refundable:  # a recipient with nothing left
            raise out_of_range
        if at_processor and contribution.charge_id:
            key = f"refund:{contribution.pk}:{contribution.refunded_cents}:{amount}"
            refund_result = processor_named(contribution.processor).refund(
                charge_id=contribution.charge_id, amount_cents=amount, idempotency_key=key
            )
            external_id = external_id or f"{contribution.processor}:{refund_result.refund_id}"
        refund = Refund.objects.create(
            contribution=contribution,
            kind=kind,
            amount_cents=amount,
            reason=reason,
            external_id=external_id,
            actor=actor,
            created_at=refunded_at or timezone.now(),
        )
        contribution.refunded_cents += amount
        if kind == RefundKind.CHARGEBACK:
            contribution.status = ContributionStatus.CHARGED_BACK
        elif contribution.refunded_cents == contribution.amount_cents:
            contribution.status = ContributionStatus.REFUNDED
        else:
            contribution.status = ContributionStatus.PARTIALLY_REFUNDED
        contribution.save(update_fields=["refunded_cents", "status"])
        RefundLine.objects.bulk_create(
            RefundLine(refund=refund, line_item_id=item_id, amount_cents=take) for item_id, take in takes
        )
        for item_id, take in takes:
            LineItem.objects.filter(pk=item_id).update(refunded_cents=F("refunded_cents") + take)
        activity_record(
            person_id=contribution.person_id,
            kind="donation_charged_back" if kind == RefundKind.CHARGEBACK else "donation_refunded",
            data={"contribution_id": contribution.pk, "amount_cents": amount, "reason": reason},
            actor=actor,
            occurred_at=refunded_at,
        )
    return refund


ANY_RECIPIENT = None  # in _refund_takes: whichever line items, the last-designated first


def _refund_takes(contribution: Contribution, wanted: dict[int | None, int | None]) -> list[tuple[int, int]]:
    """(line item id, cents) that a refund takes back, last-designated first within each recipient.

    `wanted`: {committee id or ANY_RECIPIENT: cents, or None for all that is left}.
    """
    items = list(contribution.line_items.select_for_update().order_by("-id"))
    takes = []
    for committee_id, cents in wanted.items():
        candidates = [item for item in items if committee_id in (ANY_RECIPIENT, item.committee_id)]
        remaining = sum(item.amount_cents - item.refunded_cents for item in candidates) if cents is None else cents
        if remaining <= 0:
            continue  # nothing asked of this one, or nothing left: the caller's total says so
        for item in candidates:
            take = min(remaining, item.amount_cents - item.refunded_cents)
            if take:
                takes.append((item.pk, take))
                remaining -= take
        if remaining:
            raise ValidationError(
                _("$%(amount)s more than is left of a recipient's part would be refunded")
                % {"amount": f"{remaining / 100:,.2f}"}
            )
    return takes


def recurring_plan_cancel(*, plan: RecurringPlan, actor=None, reason: str = "") -> RecurringPlan:
    updated = RecurringPlan.objects.filter(pk=plan.pk, status=PlanStatus.ACTIVE).update(
        status=PlanStatus.CANCELLED, ended_at=timezone.now()
    )
    plan.refresh_from_db()
    if updated:
        activity_record(
            person_id=plan.person_id,
            kind="recurring_cancelled",
            data={"plan_id": plan.pk, "reason": reason},
            actor=actor,
        )
    return plan


def recurring_plan_change(*, plan: RecurringPlan, amount_cents: int, actor=None) -> RecurringPlan:
    """A new amount from the next installment on; installments already charged are untouched."""
    with transaction.atomic():
        plan = RecurringPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != PlanStatus.ACTIVE or plan.amount_cents == amount_cents:
            return plan
        before = plan.amount_cents
        plan.amount_cents = amount_cents
        plan.save(update_fields=["amount_cents"])
        activity_record(
            person_id=plan.person_id,
            kind="recurring_changed",
            data={"plan_id": plan.pk, "from_cents": before, "to_cents": amount_cents},
            actor=actor,
        )
    return plan


def webhook_event_apply(*, processor: str, event) -> str:
    """Act on a verified processor event; a replayed event changes nothing. Returns what was done."""
    from django.core.exceptions import ValidationError

    if event.kind == "charge.succeeded":
        attempt = PaymentAttempt.objects.filter(processor=processor, charge_id=event.charge_id).first()
        if attempt is None or attempt.contribution_id:
            return "nothing to do"
        attempt_complete(attempt=attempt, result=ChargeResult(succeeded=True, charge_id=event.charge_id))
        return "recorded"
    if event.kind not in ("charge.refunded", "charge.dispute"):
        return "ignored"
    contribution = Contribution.objects.filter(processor=processor, charge_id=event.charge_id).first()
    if contribution is None:
        return "unknown charge"
    chargeback = event.kind == "charge.dispute"
    # A refund staff made here carries the same processor refund id, so its webhook is a replay.
    external_id = f"{processor}:dispute:{event.event_id}" if chargeback else f"{processor}:{event.refund_id}"
    try:
        contribution_refund(
            contribution=contribution,
            amount_cents=event.amount_cents or None,
            kind=RefundKind.CHARGEBACK if chargeback else RefundKind.REFUND,
            reason=_("Reported by the processor"),
            external_id=external_id,
            at_processor=False,
        )
    except ValidationError:
        log.warning("processor event %s refunds more than is left of contribution %s", event.event_id, contribution.pk)
        return "nothing left to refund"
    return "charged back" if chargeback else "refunded"


def donation_page_save(*, page: DonationPage, recipients: list[tuple[int, int]], actor=None) -> DonationPage:
    """Save a page and its recipients (committee id, basis points) together."""
    if sum(share for _committee, share in recipients) != 10000:
        raise ValueError("recipient shares must add up to 10000 basis points")
    from barnstorm.donations.selectors import donor_pages_forget

    with transaction.atomic():
        page.save()
        page.recipients.all().delete()
        PageRecipient.objects.bulk_create(
            PageRecipient(page=page, committee_id=committee, share_bp=share, position=n)
            for n, (committee, share) in enumerate(recipients)
        )
    donor_pages_forget()  # this process shows the edit at once; others within seconds
    return page


def page_splits(page) -> list[Split]:
    return [Split(r.committee_id, r.share_bp) for r in page.recipients.all()]


def page_committees(page) -> dict:
    """The page's recipient committees by id, from its prefetched recipients."""
    return {r.committee_id: r.committee for r in page.recipients.all()}


def checkout_key(*, attempt_token: str) -> str:
    """The idempotency key of a donation attempt: the form's one-time token, hashed to a fixed size."""
    return "web:" + hashlib.sha256(attempt_token.encode()).hexdigest()[:40]


__all__ = [
    "ContributionRefused",
    "Method",
    "Source",
    "Split",
]
