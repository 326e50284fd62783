"""The Stripe adapter against the local Stripe stub: charges, declines, idempotency, refunds, webhooks."""

import socket
import time

import pytest

from barnstorm.donations.processors.base import ProcessorError, ProcessorTimeout, WebhookSignatureError
from barnstorm.donations.processors.stripe import StripeProcessor
from barnstorm.donations.tests.stubs import StripeStub, signed_stripe_webhook

WEBHOOK_SECRET = "whsec_barnstorm_tests"
CLIENT_TIMEOUT = 1.0


@pytest.fixture
def stub():
    with StripeStub() as stripe_stub:
        yield stripe_stub


@pytest.fixture
def stripe(stub):
    return StripeProcessor(
        api_key=stub.api_key, webhook_secret=WEBHOOK_SECRET, api_base=stub.url, timeout=CLIENT_TIMEOUT
    )


def charge(processor, *, token="pm_card_visa", key="key-1", amount_cents=2500, **extra):
    return processor.charge(
        amount_cents=amount_cents, token=token, idempotency_key=key, description="Donation to Barnstorm", **extra
    )


# charges ---------------------------------------------------------------------------------------


def test_a_charge_succeeds_and_returns_the_card_details(stripe, stub):
    result = charge(stripe)

    assert result.succeeded
    intent = stub.payment_intents[result.charge_id]
    assert intent["status"] == "succeeded"
    assert intent["amount"] == 2500 and intent["currency"] == "usd"
    method = stub.payment_methods[intent["payment_method"]]
    assert (result.brand, result.last4) == ("visa", "4242")
    assert result.fingerprint == method["card"]["fingerprint"] != ""
    assert result.payment_method_ref == "" and result.customer_ref == ""


def test_the_same_card_has_the_same_fingerprint_and_another_card_does_not(stripe):
    first = charge(stripe, key="a")
    second = charge(stripe, key="b")
    other = charge(stripe, key="c", token="pm_card_mastercard")

    assert first.charge_id != second.charge_id
    assert first.fingerprint == second.fingerprint
    assert other.fingerprint != first.fingerprint and other.brand == "mastercard"


@pytest.mark.parametrize(
    "token, decline_code",
    [
        ("pm_card_chargeDeclined", "card_declined"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
        ("pm_card_chargeDeclinedExpiredCard", "expired_card"),
    ],
)
def test_declines_map_to_their_decline_code(stripe, stub, token, decline_code):
    result = charge(stripe, token=token)

    assert not result.succeeded
    assert result.decline_code == decline_code
    assert result.message
    assert stub.payment_intents[result.charge_id]["status"] == "requires_payment_method"
    assert result.fingerprint and result.last4  # a declined card still counts toward velocity limits


def test_the_same_idempotency_key_twice_creates_one_payment_intent(stripe, stub):
    first = charge(stripe, key="donation-7")
    second = charge(stripe, key="donation-7")

    assert second == first
    assert len(stub.payment_intents) == 1
    assert len(stub.charges) == 1


def test_a_declined_charge_retried_with_its_key_is_not_tried_again(stripe, stub):
    first = charge(stripe, key="donation-8", token="pm_card_chargeDeclined")
    second = charge(stripe, key="donation-8", token="pm_card_chargeDeclined")

    assert second == first and not second.succeeded
    assert len(stub.payment_intents) == 1


def test_reusing_a_key_for_a_different_amount_is_refused(stripe, stub):
    charge(stripe, key="donation-9", amount_cents=2500)

    with pytest.raises(ProcessorError) as refused:
        charge(stripe, key="donation-9", amount_cents=5000)

    assert not isinstance(refused.value, ProcessorTimeout)
    assert len(stub.payment_intents) == 1


def test_a_timeout_raises_processor_timeout_and_a_retry_with_the_same_key_returns_the_first_charge(stripe, stub):
    stub.delay_next_response(CLIENT_TIMEOUT * 3)

    started = time.monotonic()
    with pytest.raises(ProcessorTimeout):
        charge(stripe, key="donation-10")
    assert time.monotonic() - started < CLIENT_TIMEOUT * 2.5  # no hidden retries in the SDK
    assert len(stub.payment_intents) == 1  # the charge went through; only the answer was lost
    (made,) = stub.payment_intents

    retried = charge(stripe, key="donation-10")

    assert retried.succeeded and retried.charge_id == made
    assert len(stub.payment_intents) == 1
    assert len(stub.charges) == 1


def test_an_unreachable_stripe_raises_processor_timeout():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    processor = StripeProcessor(
        api_key="sk_test_x", webhook_secret=WEBHOOK_SECRET, api_base=f"http://127.0.0.1:{closed_port}", timeout=1
    )

    with pytest.raises(ProcessorTimeout):
        charge(processor)


def test_a_wrong_api_key_is_a_processor_error_not_a_timeout(stub):
    processor = StripeProcessor(api_key="sk_test_wrong", webhook_secret=WEBHOOK_SECRET, api_base=stub.url)

    with pytest.raises(ProcessorError) as refused:
        charge(processor)

    assert not isinstance(refused.value, ProcessorTimeout)
    assert stub.payment_intents == {}


def test_saving_the_method_returns_a_customer_and_a_method_for_later_charges(stripe, stub):
    saved = charge(stripe, key="first-gift", save_method=True)

    assert saved.succeeded
    assert saved.customer_ref in stub.customers
    assert stub.payment_methods[saved.payment_method_ref]["customer"] == saved.customer_ref
    assert stub.payment_intents[saved.charge_id]["setup_future_usage"] == "off_session"

    later = charge(stripe, key="second-gift", token=saved.payment_method_ref, customer_ref=saved.customer_ref)

    assert later.succeeded and later.charge_id != saved.charge_id
    assert later.fingerprint == saved.fingerprint
    path, params = stub.posted[-1]
    assert path == "/v1/payment_intents"
    assert params["off_session"] == "true" and params["customer"] == saved.customer_ref


def test_a_method_charged_once_without_saving_cannot_be_charged_again(stripe, stub):
    charge(stripe, key="one-time")
    (method_id,) = stub.payment_methods

    with pytest.raises(ProcessorError):
        charge(stripe, key="again", token=method_id)


def test_a_retried_save_makes_one_customer(stripe, stub):
    first = charge(stripe, key="first-gift", save_method=True)
    second = charge(stripe, key="first-gift", save_method=True)

    assert second == first
    assert len(stub.customers) == 1
    assert len(stub.payment_intents) == 1


# refunds ---------------------------------------------------------------------------------------


def test_a_full_refund_refunds_the_whole_charge(stripe, stub):
    paid = charge(stripe)

    refund = stripe.refund(charge_id=paid.charge_id, amount_cents=2500, idempotency_key="refund-1")

    assert refund.amount_cents == 2500
    assert stub.refunds[refund.refund_id]["payment_intent"] == paid.charge_id
    assert stub.charges[stub.payment_intents[paid.charge_id]["latest_charge"]]["refunded"] is True


def test_partial_refunds_add_up_and_no_more_than_the_charge_can_be_refunded(stripe, stub):
    paid = charge(stripe)
    ch = stub.payment_intents[paid.charge_id]["latest_charge"]

    first = stripe.refund(charge_id=paid.charge_id, amount_cents=1000, idempotency_key="refund-1")
    assert first.amount_cents == 1000
    assert (stub.charges[ch]["amount_refunded"], stub.charges[ch]["refunded"]) == (1000, False)
    second = stripe.refund(charge_id=paid.charge_id, amount_cents=1500, idempotency_key="refund-2")
    assert second.amount_cents == 1500
    assert (stub.charges[ch]["amount_refunded"], stub.charges[ch]["refunded"]) == (2500, True)

    with pytest.raises(ProcessorError):
        stripe.refund(charge_id=paid.charge_id, amount_cents=1, idempotency_key="refund-3")
    assert len(stub.refunds) == 2


def test_a_refund_retried_with_its_key_refunds_once(stripe, stub):
    paid = charge(stripe)

    first = stripe.refund(charge_id=paid.charge_id, amount_cents=700, idempotency_key="refund-1")
    second = stripe.refund(charge_id=paid.charge_id, amount_cents=700, idempotency_key="refund-1")

    assert second == first
    assert len(stub.refunds) == 1


# webhooks --------------------------------------------------------------------------------------


def test_a_webhook_with_a_good_signature_parses(stripe, stub):
    paid = charge(stripe)
    event = stub.payment_intent_succeeded_event(paid.charge_id)
    body, headers = signed_stripe_webhook(event, WEBHOOK_SECRET)

    parsed = stripe.parse_webhook(body=body, headers=headers)

    assert parsed.event_id == event["id"]
    assert parsed.kind == "charge.succeeded"
    assert parsed.charge_id == paid.charge_id
    assert parsed.amount_cents == 2500


def test_the_signature_header_is_found_whatever_its_case(stripe, stub):
    paid = charge(stripe)
    body, headers = signed_stripe_webhook(stub.payment_intent_succeeded_event(paid.charge_id), WEBHOOK_SECRET)

    parsed = stripe.parse_webhook(body=body, headers={"stripe-signature": headers["Stripe-Signature"]})

    assert parsed.charge_id == paid.charge_id


def test_charge_refunded_reports_the_amount_and_id_of_this_refund_not_the_running_total(stripe, stub):
    paid = charge(stripe)
    first = stripe.refund(charge_id=paid.charge_id, amount_cents=1000, idempotency_key="refund-1")
    second = stripe.refund(charge_id=paid.charge_id, amount_cents=500, idempotency_key="refund-2")

    # The first refund's event, delivered after the second refund was made.
    event_1 = stripe.parse_webhook(**_signed(stub.charge_refunded_event(first.refund_id)))
    event_2 = stripe.parse_webhook(**_signed(stub.charge_refunded_event(second.refund_id)))

    assert (event_1.kind, event_1.charge_id, event_1.amount_cents, event_1.refund_id) == (
        "charge.refunded",
        paid.charge_id,
        1000,
        first.refund_id,
    )
    assert (event_2.amount_cents, event_2.refund_id) == (500, second.refund_id)
    assert event_2.raw["data"]["object"]["amount_refunded"] == 1500  # what Stripe sends: the total


def test_equal_partial_refunds_are_told_apart(stripe, stub):
    paid = charge(stripe)
    first = stripe.refund(charge_id=paid.charge_id, amount_cents=800, idempotency_key="refund-1")
    second = stripe.refund(charge_id=paid.charge_id, amount_cents=800, idempotency_key="refund-2")

    reported = [
        stripe.parse_webhook(**_signed(stub.charge_refunded_event(refund.refund_id))).refund_id
        for refund in (second, first)
    ]

    assert reported == [second.refund_id, first.refund_id]


def test_an_event_that_lists_its_refunds_needs_no_lookup(stripe, stub):
    paid = charge(stripe)
    refund = stripe.refund(charge_id=paid.charge_id, amount_cents=900, idempotency_key="refund-1")
    event = stub.charge_refunded_event(refund.refund_id)
    # Older API versions embed the refunds in the Charge.
    refund_object = {key: value for key, value in stub.refunds[refund.refund_id].items() if not key.startswith("_")}
    event["data"]["object"]["refunds"] = {"object": "list", "data": [refund_object], "has_more": False}
    requests_before = len(stub.requests)

    parsed = stripe.parse_webhook(**_signed(event))

    assert (parsed.refund_id, parsed.amount_cents) == (refund.refund_id, 900)
    assert len(stub.requests) == requests_before


def test_a_dispute_names_the_payment_intent_and_the_disputed_amount(stripe, stub):
    paid = charge(stripe)

    parsed = stripe.parse_webhook(**_signed(stub.dispute_created_event(paid.charge_id)))

    assert (parsed.kind, parsed.charge_id, parsed.amount_cents) == ("charge.dispute", paid.charge_id, 2500)


def test_other_events_pass_through_with_their_own_type(stripe, stub):
    event = stub.event("customer.created", {"id": "cus_123", "object": "customer"})

    parsed = stripe.parse_webhook(**_signed(event))

    assert (parsed.kind, parsed.event_id, parsed.charge_id) == ("customer.created", event["id"], "")


def test_a_tampered_body_is_refused(stripe, stub):
    paid = charge(stripe)
    body, headers = signed_stripe_webhook(stub.payment_intent_succeeded_event(paid.charge_id), WEBHOOK_SECRET)

    with pytest.raises(WebhookSignatureError):
        stripe.parse_webhook(body=body.replace(b'"amount": 2500', b'"amount": 250000'), headers=headers)


def test_a_webhook_signed_with_another_secret_is_refused(stripe, stub):
    body, headers = signed_stripe_webhook(stub.event("customer.created", {"id": "cus_1"}), "whsec_someone_else")

    with pytest.raises(WebhookSignatureError):
        stripe.parse_webhook(body=body, headers=headers)


def test_an_old_timestamp_is_refused(stripe, stub):
    event = stub.event("customer.created", {"id": "cus_1"})
    body, headers = signed_stripe_webhook(event, WEBHOOK_SECRET, timestamp=int(time.time()) - 600)

    with pytest.raises(WebhookSignatureError):
        stripe.parse_webhook(body=body, headers=headers)


def test_a_webhook_without_a_signature_is_refused(stripe, stub):
    body, _headers = signed_stripe_webhook(stub.event("customer.created", {"id": "cus_1"}), WEBHOOK_SECRET)

    with pytest.raises(WebhookSignatureError):
        stripe.parse_webhook(body=body, headers={})


def _signed(event):
    body, headers = signed_stripe_webhook(event, WEBHOOK_SECRET)
    return {"body": body, "headers": headers}
