"""Card payments through the embedded test processor: exactly once, declines, timeouts, card testing."""

import datetime

import pytest
from django.test import override_settings

from barnstorm.donations.models import (
    AttemptStatus,
    Contribution,
    PaymentAttempt,
    RecurringPlan,
    SavedPaymentMethod,
    TestProcessorCharge,
)
from barnstorm.donations.processors.embedded import TestProcessor
from barnstorm.donations.services import CardCheckout, donation_checkout

pytestmark = pytest.mark.django_db

GOOD = "tok_4242424242424242"


def checkout(gift, committee, token=GOOD, key="attempt-1", ip="203.0.113.9", **extra):
    return donation_checkout(
        checkout=CardCheckout(data=gift(committee, key=key), token=token, ip_address=ip, **extra),
        processor=TestProcessor(),
    )


def test_a_good_card_is_charged_and_recorded_once(committee, gift):
    outcome = checkout(gift, committee)
    assert outcome.contribution is not None
    charge = TestProcessorCharge.objects.get()
    assert outcome.contribution.charge_id == charge.charge_id
    assert outcome.contribution.processor == "test"
    attempt = PaymentAttempt.objects.get()
    assert attempt.status == AttemptStatus.SUCCEEDED and attempt.contribution == outcome.contribution


def test_a_double_submitted_attempt_charges_once(committee, gift):
    first = checkout(gift, committee)
    second = checkout(gift, committee)
    assert second.contribution.pk == first.contribution.pk
    assert TestProcessorCharge.objects.count() == 1
    assert Contribution.objects.count() == 1


@pytest.mark.parametrize(
    ("token", "code", "words"),
    [
        ("tok_4000000000000002", "card_declined", "declined"),
        ("tok_4000000000009995", "insufficient_funds", "insufficient funds"),
        ("tok_4242424242424241", "incorrect_number", "incorrect"),
    ],
)
def test_a_declined_card_records_nothing_and_says_why(committee, gift, token, code, words):
    outcome = checkout(gift, committee, token=token)
    assert outcome.contribution is None
    assert words in outcome.declined
    assert not Contribution.objects.exists()
    attempt = PaymentAttempt.objects.get()
    assert (attempt.status, attempt.decline_code) == (AttemptStatus.DECLINED, code)


def test_a_timeout_is_retried_with_the_same_key_and_charges_once(committee, gift):
    outcome = checkout(gift, committee, token="tok_4000000000000408")
    assert outcome.contribution is not None
    assert TestProcessorCharge.objects.count() == 1
    assert Contribution.objects.count() == 1


def test_card_testing_is_blocked_after_five_declines_from_one_address(committee, gift):
    for n in range(5):
        assert checkout(gift, committee, token="tok_4000000000000002", key=f"bad-{n}").declined
    outcome = checkout(gift, committee, key="good-after", ip="203.0.113.9")
    assert outcome.blocked and outcome.contribution is None
    assert PaymentAttempt.objects.get(idempotency_key="good-after").status == AttemptStatus.BLOCKED
    assert TestProcessorCharge.objects.filter(succeeded=True).count() == 0
    # Another address with another card is not affected.
    assert checkout(gift, committee, key="elsewhere", ip="198.51.100.1").contribution is not None


def test_one_card_declined_from_many_addresses_is_blocked_too(committee, gift):
    for n in range(5):
        checkout(gift, committee, token="tok_4000000000000002", key=f"bad-{n}", ip=f"198.51.100.{n}")
    outcome = checkout(gift, committee, token="tok_4000000000000002", key="bad-6", ip="192.0.2.77")
    assert outcome.blocked
    assert TestProcessorCharge.objects.count() == 5


@override_settings(CARD_TESTING_MAX_DECLINES=2)
def test_the_card_testing_limit_is_configurable(committee, gift):
    for n in range(2):
        checkout(gift, committee, token="tok_4000000000000002", key=f"bad-{n}")
    assert checkout(gift, committee, key="next").blocked


def test_a_monthly_gift_saves_the_card_and_starts_a_plan(committee, gift):
    outcome = checkout(gift, committee, frequency="monthly")
    plan = RecurringPlan.objects.get()
    assert outcome.plan == plan
    assert plan.installments == 1 and plan.amount_cents == 2700
    assert plan.next_charge_at == datetime.datetime(2026, 4, 1, 12, tzinfo=datetime.UTC)
    assert outcome.contribution.recurring_plan == plan
    method = SavedPaymentMethod.objects.get()
    assert (method.person_id, method.last4) == (outcome.contribution.person_id, "4242")


def test_an_over_limit_gift_is_refused_before_the_card_is_charged(committee, gift):
    checkout(gift, committee, key="big")
    from barnstorm.donations.compliance import ContributionRefused

    with pytest.raises(ContributionRefused):
        donation_checkout(
            checkout=CardCheckout(data=gift(committee, amount_cents=350000, key="too-much"), token=GOOD),
            processor=TestProcessor(),
        )
    assert TestProcessorCharge.objects.count() == 1
    assert PaymentAttempt.objects.get(idempotency_key="too-much").status == AttemptStatus.REFUSED


def test_a_charge_whose_answer_was_lost_is_recorded_once_the_processor_answers(
    committee, gift, django_capture_on_commit_callbacks
):
    import datetime as dt

    from django.core import mail
    from django.utils import timezone

    from barnstorm.donations.services import attempts_reconcile

    outcome = checkout(gift, committee, token="tok_4000000000000416", key="outage")
    assert outcome.pending and not Contribution.objects.exists()
    assert PaymentAttempt.objects.get().status == AttemptStatus.UNKNOWN
    assert attempts_reconcile() == 0  # too soon: the processor is still down
    # Three minutes later the processor answers again.
    later = timezone.now() + dt.timedelta(minutes=3)
    TestProcessorCharge.objects.update(created_at=timezone.now() - dt.timedelta(minutes=3))
    with django_capture_on_commit_callbacks(execute=True):
        assert attempts_reconcile(now=later) == 1
    assert attempts_reconcile(now=later) == 0
    attempt = PaymentAttempt.objects.get()
    assert attempt.status == AttemptStatus.SUCCEEDED and "token" not in attempt.payload
    assert Contribution.objects.count() == 1 and TestProcessorCharge.objects.count() == 1
    assert [m.to for m in mail.outbox] == [["dana@example.com"]]  # the donor gets the receipt then
