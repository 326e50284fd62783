"""The PayPal adapter against the local PayPal stub: orders, approval, capture, refunds, webhooks."""

import json
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest

from barnstorm.donations.processors.base import ProcessorError, ProcessorTimeout, WebhookSignatureError
from barnstorm.donations.processors.paypal import PayPalProcessor
from barnstorm.donations.tests.stubs import PayPalStub

CLIENT_TIMEOUT = 1.0
RETURN_URL = "https://barnstorm.example/donate/paypal/return"
CANCEL_URL = "https://barnstorm.example/donate/paypal/cancel"


@pytest.fixture
def stub():
    with PayPalStub() as paypal_stub:
        yield paypal_stub


@pytest.fixture
def paypal(stub):
    return processor_for(stub)


def processor_for(stub, **overrides):
    config = {
        "client_id": stub.client_id,
        "client_secret": stub.client_secret,
        "webhook_id": stub.webhook_id,
        "api_base": stub.url,
        "timeout": CLIENT_TIMEOUT,
        **overrides,
    }
    return PayPalProcessor(**config)


def create_order(paypal, *, key="order-1", amount_cents=2500):
    return paypal.order_create(
        amount_cents=amount_cents,
        idempotency_key=key,
        description="Donation to Barnstorm",
        return_url=RETURN_URL,
        cancel_url=CANCEL_URL,
    )


def captured(paypal, stub, *, amount_cents=2500):
    order_id, _approve_url = create_order(paypal, amount_cents=amount_cents)
    stub.approve(order_id)
    return paypal.order_capture(order_id=order_id, idempotency_key="capture-1")


# orders ----------------------------------------------------------------------------------------


def test_an_order_is_created_for_the_amount_with_a_link_for_the_donor(paypal, stub):
    order_id, approve_url = create_order(paypal, amount_cents=2550)

    order = stub.orders[order_id]
    assert order["status"] == "PAYER_ACTION_REQUIRED"
    assert order["purchase_units"][0]["amount"] == {"currency_code": "USD", "value": "25.50"}
    assert parse_qs(urlsplit(approve_url).query)["token"] == [order_id]


def test_the_same_request_id_creates_one_order(paypal, stub):
    first = create_order(paypal, key="order-7")
    second = create_order(paypal, key="order-7")

    assert second == first
    assert len(stub.orders) == 1


def test_following_the_approval_link_approves_and_returns_the_donor(paypal, stub):
    order_id, approve_url = create_order(paypal)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    with pytest.raises(urllib.error.HTTPError) as redirect:
        urllib.request.build_opener(NoRedirect).open(approve_url, timeout=5)

    location = redirect.value.headers["Location"]
    assert redirect.value.code == 302 and location.startswith(RETURN_URL + "?")
    assert parse_qs(urlsplit(location).query)["token"] == [order_id]
    assert stub.orders[order_id]["status"] == "APPROVED"


def test_create_approve_capture_takes_the_donation(paypal, stub):
    order_id, _approve_url = create_order(paypal)
    stub.approve(order_id)

    result = paypal.order_capture(order_id=order_id, idempotency_key="capture-1")

    assert result.succeeded
    capture = stub.captures[result.charge_id]
    assert capture["status"] == "COMPLETED"
    assert capture["amount"]["value"] == "25.00"
    assert stub.orders[order_id]["status"] == "COMPLETED"
    assert result.brand == "paypal"
    assert result.fingerprint == f"paypal:{stub.orders[order_id]['payer']['payer_id']}"


def test_capturing_twice_with_the_same_key_captures_once(paypal, stub):
    order_id, _approve_url = create_order(paypal)
    stub.approve(order_id)

    first = paypal.order_capture(order_id=order_id, idempotency_key="capture-1")
    second = paypal.order_capture(order_id=order_id, idempotency_key="capture-1")

    assert second == first and first.succeeded
    assert len(stub.captures) == 1
    assert ("GET", f"/v2/checkout/orders/{order_id}") not in stub.requests  # PayPal replayed the answer


def test_capturing_again_under_another_key_reports_the_first_capture(paypal, stub):
    order_id, _approve_url = create_order(paypal)
    stub.approve(order_id)

    first = paypal.order_capture(order_id=order_id, idempotency_key="capture-1")
    second = paypal.order_capture(order_id=order_id, idempotency_key="capture-2")

    assert second.succeeded and second.charge_id == first.charge_id
    assert len(stub.captures) == 1


def test_a_capture_timeout_then_a_retry_with_the_same_key_captures_once(paypal, stub):
    order_id, _approve_url = create_order(paypal)  # also fetches the token, so the delay hits the capture
    stub.approve(order_id)
    stub.delay_next_response(CLIENT_TIMEOUT * 3)

    with pytest.raises(ProcessorTimeout):
        paypal.order_capture(order_id=order_id, idempotency_key="capture-1")
    assert len(stub.captures) == 1  # PayPal captured; the answer was lost

    retried = paypal.order_capture(order_id=order_id, idempotency_key="capture-1")

    assert retried.succeeded and retried.charge_id in stub.captures
    assert len(stub.captures) == 1


def test_a_declined_instrument_is_a_decline_and_takes_nothing(paypal, stub):
    order_id, _approve_url = create_order(paypal)
    stub.approve(order_id, outcome="instrument_declined")

    result = paypal.order_capture(order_id=order_id, idempotency_key="capture-1")

    assert not result.succeeded
    assert result.decline_code == "instrument_declined"
    assert result.message
    assert stub.captures == {}


def test_capturing_an_order_the_donor_never_approved_is_a_decline(paypal, stub):
    order_id, _approve_url = create_order(paypal)

    result = paypal.order_capture(order_id=order_id, idempotency_key="capture-1")

    assert (result.succeeded, result.decline_code) == (False, "order_not_approved")
    assert stub.captures == {}


def test_a_pending_capture_is_not_yet_a_success(paypal, stub):
    order_id, _approve_url = create_order(paypal)
    stub.approve(order_id, outcome="pending")

    result = paypal.order_capture(order_id=order_id, idempotency_key="capture-1")

    assert (result.succeeded, result.decline_code) == (False, "pending")
    assert stub.captures[result.charge_id]["status"] == "PENDING"


def test_a_capture_declined_by_paypal_is_a_decline(paypal, stub):
    order_id, _approve_url = create_order(paypal)
    stub.approve(order_id, outcome="declined")

    result = paypal.order_capture(order_id=order_id, idempotency_key="capture-1")

    assert (result.succeeded, result.decline_code) == (False, "declined")


def test_capturing_an_unknown_order_is_a_processor_error(paypal):
    with pytest.raises(ProcessorError) as refused:
        paypal.order_capture(order_id="NOSUCHORDER", idempotency_key="capture-1")

    assert not isinstance(refused.value, ProcessorTimeout)


# refunds ---------------------------------------------------------------------------------------


def test_a_full_refund_refunds_the_capture(paypal, stub):
    paid = captured(paypal, stub)

    refund = paypal.refund(charge_id=paid.charge_id, amount_cents=2500, idempotency_key="refund-1")

    assert refund.amount_cents == 2500
    assert stub.refunds[refund.refund_id]["amount"]["value"] == "25.00"
    assert stub.captures[paid.charge_id]["status"] == "REFUNDED"


def test_partial_refunds_add_up_and_no_more_than_the_capture_can_be_refunded(paypal, stub):
    paid = captured(paypal, stub)

    first = paypal.refund(charge_id=paid.charge_id, amount_cents=1000, idempotency_key="refund-1")
    assert (first.amount_cents, stub.captures[paid.charge_id]["status"]) == (1000, "PARTIALLY_REFUNDED")
    second = paypal.refund(charge_id=paid.charge_id, amount_cents=1500, idempotency_key="refund-2")
    assert (second.amount_cents, stub.captures[paid.charge_id]["status"]) == (1500, "REFUNDED")

    with pytest.raises(ProcessorError):
        paypal.refund(charge_id=paid.charge_id, amount_cents=100, idempotency_key="refund-3")
    assert len(stub.refunds) == 2


def test_a_refund_retried_with_its_key_refunds_once(paypal, stub):
    paid = captured(paypal, stub)

    first = paypal.refund(charge_id=paid.charge_id, amount_cents=700, idempotency_key="refund-1")
    second = paypal.refund(charge_id=paid.charge_id, amount_cents=700, idempotency_key="refund-1")

    assert second == first
    assert len(stub.refunds) == 1


# access tokens ---------------------------------------------------------------------------------


def test_the_access_token_is_fetched_once_and_reused(paypal, stub):
    paid = captured(paypal, stub)
    paypal.refund(charge_id=paid.charge_id, amount_cents=100, idempotency_key="refund-1")

    assert stub.tokens_issued == 1


def test_an_expired_token_is_renewed_before_use():
    with PayPalStub(token_lifetime=1) as stub:
        paypal = processor_for(stub)
        create_order(paypal, key="order-1")
        time.sleep(1.1)

        create_order(paypal, key="order-2")

        assert stub.tokens_issued == 2
        assert len(stub.orders) == 2


def test_a_token_paypal_dropped_early_is_replaced_and_the_call_goes_through(paypal, stub):
    create_order(paypal, key="order-1")
    stub.expire_tokens()

    create_order(paypal, key="order-2")

    assert stub.tokens_issued == 2
    assert len(stub.orders) == 2


def test_wrong_client_credentials_are_a_processor_error(stub):
    paypal = processor_for(stub, client_secret="not-the-secret")

    with pytest.raises(ProcessorError) as refused:
        create_order(paypal)

    assert not isinstance(refused.value, ProcessorTimeout)
    assert stub.orders == {}


# webhooks --------------------------------------------------------------------------------------


def test_a_signed_capture_completed_webhook_parses(paypal, stub):
    paid = captured(paypal, stub)
    event = stub.capture_completed_event(paid.charge_id)
    body, headers = stub.signed_webhook(event)

    parsed = paypal.parse_webhook(body=body, headers=headers)

    assert (parsed.event_id, parsed.kind) == (event["id"], "charge.succeeded")
    assert (parsed.charge_id, parsed.amount_cents) == (paid.charge_id, 2500)
    assert ("POST", "/v1/notifications/verify-webhook-signature") in stub.requests


def test_a_refund_webhook_names_the_capture_the_refund_and_its_amount(paypal, stub):
    paid = captured(paypal, stub)
    paypal.refund(charge_id=paid.charge_id, amount_cents=1000, idempotency_key="refund-1")
    refund = paypal.refund(charge_id=paid.charge_id, amount_cents=400, idempotency_key="refund-2")
    body, headers = stub.signed_webhook(stub.capture_refunded_event(refund.refund_id))

    parsed = paypal.parse_webhook(body=body, headers=headers)

    assert parsed.kind == "charge.refunded"
    assert (parsed.charge_id, parsed.refund_id, parsed.amount_cents) == (paid.charge_id, refund.refund_id, 400)


def test_a_dispute_webhook_names_the_capture_and_the_disputed_amount(paypal, stub):
    paid = captured(paypal, stub)
    body, headers = stub.signed_webhook(stub.dispute_created_event(paid.charge_id, amount_cents=1800))

    parsed = paypal.parse_webhook(body=body, headers=headers)

    assert (parsed.kind, parsed.charge_id, parsed.amount_cents) == ("charge.dispute", paid.charge_id, 1800)


def test_other_events_pass_through_with_their_own_type(paypal, stub):
    event = stub.event("CHECKOUT.ORDER.APPROVED", "checkout-order", {"id": "5O190127TN364715T"})
    body, headers = stub.signed_webhook(event)

    parsed = paypal.parse_webhook(body=body, headers=headers)

    assert (parsed.kind, parsed.event_id) == ("CHECKOUT.ORDER.APPROVED", event["id"])


def test_header_names_are_matched_whatever_their_case(paypal, stub):
    paid = captured(paypal, stub)
    body, headers = stub.signed_webhook(stub.capture_completed_event(paid.charge_id))

    parsed = paypal.parse_webhook(body=body, headers={key.title(): value for key, value in headers.items()})

    assert parsed.charge_id == paid.charge_id


def test_a_tampered_body_is_refused(paypal, stub):
    paid = captured(paypal, stub)
    event = stub.capture_completed_event(paid.charge_id)
    body, headers = stub.signed_webhook(event)
    event["resource"]["amount"]["value"] = "2500.00"

    with pytest.raises(WebhookSignatureError):
        paypal.parse_webhook(body=json.dumps(event).encode(), headers=headers)


def test_a_forged_signature_is_refused(paypal, stub):
    paid = captured(paypal, stub)
    body, headers = stub.signed_webhook(stub.capture_completed_event(paid.charge_id))
    headers["PAYPAL-TRANSMISSION-SIG"] = headers["PAYPAL-TRANSMISSION-SIG"][::-1]

    with pytest.raises(WebhookSignatureError):
        paypal.parse_webhook(body=body, headers=headers)


def test_a_webhook_for_another_webhook_id_is_refused(stub):
    paypal = processor_for(stub, webhook_id="WH-SOMEONE-ELSE")
    body, headers = stub.signed_webhook(stub.event("CHECKOUT.ORDER.APPROVED", "checkout-order", {"id": "X"}))

    with pytest.raises(WebhookSignatureError):
        paypal.parse_webhook(body=body, headers=headers)


def test_a_webhook_without_signature_headers_is_refused_without_asking_paypal(paypal, stub):
    body, _headers = stub.signed_webhook(stub.event("CHECKOUT.ORDER.APPROVED", "checkout-order", {"id": "X"}))

    with pytest.raises(WebhookSignatureError):
        paypal.parse_webhook(body=body, headers={"Content-Type": "application/json"})

    assert stub.requests == []


def test_a_webhook_that_cannot_be_verified_in_time_raises_processor_timeout(paypal, stub):
    body, headers = stub.signed_webhook(stub.event("CHECKOUT.ORDER.APPROVED", "checkout-order", {"id": "X"}))
    stub.delay_next_response(CLIENT_TIMEOUT * 3)

    with pytest.raises(ProcessorTimeout):
        paypal.parse_webhook(body=body, headers=headers)
