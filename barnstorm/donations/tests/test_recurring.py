"""Recurring installments: charged once when due, dunning on declines, stopping and telling the donor."""

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import override_settings

from barnstorm.activity.models import Activity
from barnstorm.donations.models import Contribution, PlanStatus, RecurringPlan, SavedPaymentMethod, Source
from barnstorm.donations.processors.embedded import TestProcessor
from barnstorm.donations.services import CardCheckout, donation_checkout, recurring_installment_charge

pytestmark = pytest.mark.django_db
START = datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC)


@pytest.fixture
def plan(committee, gift):
    outcome = donation_checkout(
        checkout=CardCheckout(data=gift(committee, key="first"), token="tok_4242424242424242", frequency="monthly"),
        processor=TestProcessor(),
    )
    return outcome.plan


def use_card(plan, number):
    SavedPaymentMethod.objects.filter(pk=plan.payment_method_id).update(reference=f"tpm_{number}_x")


def test_nothing_is_charged_before_the_installment_is_due(plan):
    assert recurring_installment_charge(plan_id=plan.pk, now=START + datetime.timedelta(days=30)) is None
    assert Contribution.objects.count() == 1


def test_a_due_installment_is_charged_once_and_the_plan_moves_on(plan, django_capture_on_commit_callbacks):
    due = datetime.datetime(2026, 4, 1, 12, 5, tzinfo=datetime.UTC)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = recurring_installment_charge(plan_id=plan.pk, now=due)
    assert outcome.charged.source == Source.RECURRING and outcome.charged.recurring_plan_id == plan.pk
    assert recurring_installment_charge(plan_id=plan.pk, now=due) is None  # a second run finds nothing due
    plan.refresh_from_db()
    assert (plan.installments, plan.next_charge_at) == (2, datetime.datetime(2026, 5, 1, 12, tzinfo=datetime.UTC))
    assert Contribution.objects.filter(recurring_plan=plan).count() == 2
    receipt = mail.outbox[-1]
    assert "recurring installment 2" in receipt.body and "/donate/recurring/" in receipt.body


def test_month_ends_are_kept_in_short_months(committee, gift):
    from barnstorm.donations.services import next_charge_after

    jan31 = datetime.datetime(2026, 1, 31, 9, tzinfo=datetime.UTC)
    feb28 = next_charge_after(jan31, "monthly")
    assert feb28.date() == datetime.date(2026, 2, 28)
    assert next_charge_after(feb28, "monthly", day=31).date() == datetime.date(2026, 3, 31)
    assert next_charge_after(jan31, "weekly").date() == datetime.date(2026, 2, 7)


@override_settings(RECURRING_RETRY_DAYS=[1, 3])
def test_a_declined_card_is_retried_on_schedule_then_the_plan_stops_and_the_donor_is_told(
    plan, django_capture_on_commit_callbacks
):
    use_card(plan, "4000000000000002")
    now = datetime.datetime(2026, 4, 1, 13, tzinfo=datetime.UTC)
    first = recurring_installment_charge(plan_id=plan.pk, now=now)
    assert first.declined and not first.stopped
    plan.refresh_from_db()
    assert (plan.failures, plan.next_charge_at) == (1, now + datetime.timedelta(days=1))
    now += datetime.timedelta(days=1)
    recurring_installment_charge(plan_id=plan.pk, now=now)
    plan.refresh_from_db()
    assert (plan.failures, plan.next_charge_at) == (2, now + datetime.timedelta(days=3))
    now += datetime.timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        last = recurring_installment_charge(plan_id=plan.pk, now=now)
    assert last.stopped
    plan.refresh_from_db()
    assert plan.status == PlanStatus.FAILED
    assert Contribution.objects.count() == 1
    assert Activity.objects.filter(kind="recurring_failed", person_id=plan.person_id).exists()
    assert "has stopped" in mail.outbox[-1].subject and "/donate/chip-in/" not in mail.outbox[-1].body


def test_a_card_that_recovers_during_dunning_resets_the_failures(plan):
    use_card(plan, "4000000000000002")
    now = datetime.datetime(2026, 4, 1, 13, tzinfo=datetime.UTC)
    recurring_installment_charge(plan_id=plan.pk, now=now)
    use_card(plan, "4242424242424242")
    outcome = recurring_installment_charge(plan_id=plan.pk, now=now + datetime.timedelta(days=1))
    assert outcome.charged is not None
    plan.refresh_from_db()
    assert (plan.installments, plan.failures) == (2, 0)


def test_a_cancelled_plan_is_never_charged(plan):
    RecurringPlan.objects.filter(pk=plan.pk).update(status=PlanStatus.CANCELLED)
    assert recurring_installment_charge(plan_id=plan.pk, now=START + datetime.timedelta(days=40)) is None


def test_the_command_charges_what_is_due(plan):
    RecurringPlan.objects.filter(pk=plan.pk).update(next_charge_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    call_command("charge_recurring")
    assert Contribution.objects.filter(source=Source.RECURRING).count() == 1
    call_command("charge_recurring")
    assert Contribution.objects.filter(source=Source.RECURRING).count() == 1
