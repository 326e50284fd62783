"""Stripe end to end against the stub: checkout, refunds and disputes by webhook, replays change nothing."""

import pytest
from django.test import override_settings

from barnstorm.donations.models import Contribution, ContributionStatus, Refund
from barnstorm.donations.processors import card_processor
from barnstorm.donations.services import CardCheckout, contribution_refund, donation_checkout
from barnstorm.donations.tests.stubs import StripeStub, signed_stripe_webhook

pytestmark = pytest.mark.django_db
SECRET = "whsec_test_barnstorm"


@pytest.fixture
def stripe_stub():
    with (
        StripeStub() as stub,
        override_settings(STRIPE_SECRET_KEY=stub.api_key, STRIPE_WEBHOOK_SECRET=SECRET, STRIPE_API_BASE=stub.url),
    ):
        yield stub


@pytest.fixture
def paid(stripe_stub, committee, gift):
    outcome = donation_checkout(
        checkout=CardCheckout(data=gift(committee, amount_cents=5000), token="pm_card_visa"), processor=card_processor()
    )
    assert outcome.contribution.processor == "stripe"
    return outcome.contribution


def post(client, event):
    body, headers = signed_stripe_webhook(event, SECRET)
    return client.post(
        "/webhooks/stripe/",
        body,
        content_type="application/json",
        **{"HTTP_STRIPE_SIGNATURE": headers["Stripe-Signature"]},
    )


def test_a_stripe_checkout_charges_once_for_a_double_submit(stripe_stub, committee, gift):
    checkout = CardCheckout(data=gift(committee, key="same"), token="pm_card_visa")
    first = donation_checkout(checkout=checkout, processor=card_processor())
    second = donation_checkout(checkout=checkout, processor=card_processor())
    assert first.contribution.pk == second.contribution.pk
    assert len(stripe_stub.payment_intents) == 1


def test_a_refund_made_at_stripe_arrives_by_webhook_once(client, stripe_stub, paid):
    refund = card_processor().refund(charge_id=paid.charge_id, amount_cents=2000, idempotency_key="dash-1")
    event = stripe_stub.charge_refunded_event(refund.refund_id)
    assert post(client, event).status_code == 200
    assert post(client, event).status_code == 200  # Stripe retries and replays
    paid.refresh_from_db()
    assert (paid.refunded_cents, paid.status) == (2000, ContributionStatus.PARTIALLY_REFUNDED)
    assert Refund.objects.count() == 1


def test_a_staff_refund_is_not_counted_again_when_its_webhook_arrives(client, stripe_stub, paid):
    made = contribution_refund(contribution=paid, amount_cents=1000)
    stripe_refund_id = made.external_id.split(":", 1)[1]
    post(client, stripe_stub.charge_refunded_event(stripe_refund_id))
    paid.refresh_from_db()
    assert paid.refunded_cents == 1000 and Refund.objects.count() == 1


def test_a_dispute_is_recorded_as_a_chargeback(client, stripe_stub, paid):
    event = stripe_stub.dispute_created_event(paid.charge_id)
    post(client, event)
    post(client, event)
    paid.refresh_from_db()
    assert (paid.status, paid.refunded_cents) == (ContributionStatus.CHARGED_BACK, 5000)
    assert Refund.objects.get().kind == "chargeback"


def test_a_webhook_with_a_bad_signature_is_refused_and_changes_nothing(client, stripe_stub, paid):
    event = stripe_stub.dispute_created_event(paid.charge_id)
    body, _headers = signed_stripe_webhook(event, "whsec_wrong")
    response = client.post(
        "/webhooks/stripe/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE="t=1,v1=00"
    )
    assert response.status_code == 400
    assert Contribution.objects.get().status == ContributionStatus.PAID


def test_the_stripe_webhook_is_absent_when_stripe_is_not_configured(client):
    assert client.post("/webhooks/stripe/", b"{}", content_type="application/json").status_code == 404
