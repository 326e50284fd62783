"""Stripe, through the official SDK: PaymentIntents created and confirmed in one call.

Exactly-once rests on Stripe's idempotency keys, not on retries here: the SDK is told never to retry
(max_network_retries=0) and a timeout surfaces as ProcessorTimeout, so the caller, which stored the
key with the contribution, retries with the same key and gets the first outcome back. Stripe keeps
keys for at least 24 hours; a retry later than that could charge again.
"""

from __future__ import annotations

import json
from typing import Any

import stripe

from barnstorm.donations.processors.base import (
    CardProcessor,
    ChargeResult,
    ProcessorError,
    ProcessorTimeout,
    RefundResult,
    WebhookEvent,
    WebhookSignatureError,
)

DEFAULT_API_BASE = "https://api.stripe.com"

# Stripe's decline code for "declined, no reason given"; Barnstorm's vocabulary calls it card_declined.
_GENERIC_DECLINE = "generic_decline"


class StripeProcessor(CardProcessor):
    name = "stripe"

    def __init__(
        self,
        *,
        api_key: str,
        webhook_secret: str,
        api_base: str = DEFAULT_API_BASE,
        timeout: float = 20.0,
        webhook_tolerance: int = 300,
    ) -> None:
        self._webhook_secret = webhook_secret
        self._webhook_tolerance = webhook_tolerance
        # A client per processor: no module-level stripe.api_key, so tests and settings never leak.
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base},
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=timeout),
        )

    # charges -----------------------------------------------------------------------------------

    def charge(
        self,
        *,
        amount_cents: int,
        token: str,
        idempotency_key: str,
        description: str,
        save_method: bool = False,
        customer_ref: str = "",
    ) -> ChargeResult:
        """Charge `token`: a PaymentMethod from Stripe.js, or a saved one when `customer_ref` is given.

        A saved method with `customer_ref` and no `save_method` is charged off-session (the donor is not
        there to pass 3-D Secure; if the bank asks, the result is a decline "authentication_required").
        With `save_method`, a Customer is created unless `customer_ref` names one, and the method is
        kept for off-session use; the result then carries payment_method_ref and customer_ref.
        """
        params: dict[str, Any] = {
            "amount": amount_cents,
            "currency": "usd",
            "payment_method": token,
            "payment_method_types": ["card"],
            "confirm": True,
            "description": description,
            "expand": ["payment_method"],
        }
        if save_method:
            customer_ref = customer_ref or self._customer_create(idempotency_key=idempotency_key)
            params["setup_future_usage"] = "off_session"
        elif customer_ref:
            params["off_session"] = True
        if customer_ref:
            params["customer"] = customer_ref
        try:
            intent = self._client.v1.payment_intents.create(params, {"idempotency_key": idempotency_key})
        except stripe.CardError as exc:
            return _declined(exc)
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        return _charge_result(intent.to_dict(), save_method=save_method, customer_ref=customer_ref)

    def _customer_create(self, *, idempotency_key: str) -> str:
        # Derived from the charge's key so that a retried charge finds the Customer it made before.
        try:
            customer = self._client.v1.customers.create({}, {"idempotency_key": f"{idempotency_key}:customer"})
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        return customer.id

    def refund(self, *, charge_id: str, amount_cents: int, idempotency_key: str) -> RefundResult:
        try:
            refund = self._client.v1.refunds.create(
                {"payment_intent": charge_id, "amount": amount_cents}, {"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        if refund.status in ("failed", "canceled"):
            raise ProcessorError(f"Stripe refund {refund.id} {refund.status}")
        return RefundResult(refund_id=refund.id, amount_cents=refund.amount)

    # webhooks ----------------------------------------------------------------------------------

    def parse_webhook(self, *, body: bytes, headers: dict[str, str]) -> WebhookEvent:
        """Verify `Stripe-Signature` (HMAC-SHA256, 5-minute window) and reduce the event.

        A `charge.refunded` event for API versions since 2022-11-15 does not list the refunds, so the
        refund it reports is looked up with one GET; that can raise ProcessorTimeout, and the
        webhook should then be answered with an error so that Stripe sends it again.
        """
        signature = next((value for key, value in headers.items() if key.lower() == "stripe-signature"), None)
        try:
            stripe.WebhookSignature.verify_header(body, signature, self._webhook_secret, self._webhook_tolerance)
            event = json.loads(body)
        except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
            raise WebhookSignatureError(str(exc)) from exc
        except ValueError as exc:
            raise ProcessorError("Stripe webhook body is not JSON") from exc

        event_id, kind = event["id"], event["type"]
        obj = event["data"]["object"]
        if kind == "payment_intent.succeeded":
            return WebhookEvent(
                event_id, "charge.succeeded", charge_id=obj["id"], amount_cents=obj.get("amount_received", 0), raw=event
            )
        if kind == "charge.refunded":
            refund_id, amount = self._refund_reported(obj, event["data"].get("previous_attributes") or {})
            return WebhookEvent(
                event_id,
                "charge.refunded",
                charge_id=obj.get("payment_intent") or obj["id"],
                amount_cents=amount,
                refund_id=refund_id,
                raw=event,
            )
        if kind == "charge.dispute.created":
            return WebhookEvent(
                event_id,
                "charge.dispute",
                charge_id=obj.get("payment_intent") or obj.get("charge") or "",
                amount_cents=obj.get("amount", 0),
                raw=event,
            )
        if obj.get("object") == "refund":  # refund.created / refund.updated / refund.failed
            return WebhookEvent(
                event_id,
                kind,
                charge_id=obj.get("payment_intent") or "",
                amount_cents=obj.get("amount", 0),
                refund_id=obj["id"],
                raw=event,
            )
        return WebhookEvent(event_id, kind, raw=event)

    def _refund_reported(self, charge: dict, previous: dict) -> tuple[str, int]:
        """The refund a charge.refunded event announces, and its amount.

        The Charge carries `amount_refunded` as a running total over all its refunds, so the amount of
        this event is the step from `previous_attributes`, and the refund is the one whose running
        total, oldest first, reaches the event's total (later refunds may exist by the time we look).
        """
        total = charge["amount_refunded"]
        step = total - previous["amount_refunded"] if "amount_refunded" in previous else None
        embedded = charge.get("refunds")
        if isinstance(embedded, dict) and not embedded.get("has_more"):
            refunds = embedded.get("data") or []
        else:
            try:
                listing = self._client.v1.refunds.list({"charge": charge["id"], "limit": 100})
            except stripe.StripeError as exc:
                raise _translate(exc) from exc
            refunds = [refund.to_dict() for refund in listing.data]
        running = 0
        for refund in reversed(refunds):  # Stripe lists newest first
            if refund.get("status") in ("failed", "canceled"):
                continue
            running += refund["amount"]
            if running == total:
                return refund["id"], refund["amount"]
        if step is not None:
            same_amount = next((r for r in refunds if r["amount"] == step), None)
            return (same_amount["id"] if same_amount else ""), step
        raise ProcessorError(f"cannot tell which refund of {charge['id']} the event reports")


def _charge_result(intent: dict, *, save_method: bool, customer_ref: str) -> ChargeResult:
    method = intent.get("payment_method") or {}
    if isinstance(method, str):  # not expanded
        method = {"id": method}
    card = method.get("card") or {}
    card_fields = {
        "fingerprint": card.get("fingerprint") or "",
        "brand": card.get("brand") or "",
        "last4": card.get("last4") or "",
    }
    status = intent["status"]
    if status == "succeeded":
        saved = {}
        if save_method:
            saved = {"payment_method_ref": method.get("id", ""), "customer_ref": customer_ref}
        return ChargeResult(succeeded=True, charge_id=intent["id"], **card_fields, **saved)
    if status == "requires_action":
        # The bank wants 3-D Secure; this flow has no way to show it to the donor.
        return ChargeResult(
            succeeded=False,
            charge_id=intent["id"],
            decline_code="authentication_required",
            message="Your bank asked to confirm this payment. Please try another card.",
            **card_fields,
        )
    # "processing" and the rest: not money yet. The payment_intent.succeeded webhook will say if it lands.
    return ChargeResult(
        succeeded=False,
        charge_id=intent["id"],
        decline_code=status,
        message="The payment did not complete.",
        **card_fields,
    )


def _declined(exc: stripe.CardError) -> ChargeResult:
    error = exc.json_body.get("error", {}) if isinstance(exc.json_body, dict) else {}
    decline_code = error.get("decline_code") or ""
    if not decline_code or decline_code == _GENERIC_DECLINE:
        decline_code = error.get("code") or "card_declined"
    card = (error.get("payment_method") or {}).get("card") or {}
    return ChargeResult(
        succeeded=False,
        charge_id=(error.get("payment_intent") or {}).get("id", ""),
        decline_code=decline_code,
        message=error.get("message") or "Your card was declined.",
        fingerprint=card.get("fingerprint") or "",
        brand=card.get("brand") or "",
        last4=card.get("last4") or "",
    )


def _translate(exc: stripe.StripeError) -> ProcessorError:
    if isinstance(exc, stripe.APIConnectionError):
        return ProcessorTimeout(f"no answer from Stripe: {exc.user_message}")
    if (exc.http_status or 0) >= 500:
        # Stripe asks that a 500 be treated as indeterminate: the charge may have been made.
        return ProcessorTimeout(f"Stripe error {exc.http_status}: {exc.user_message}")
    return ProcessorError(f"Stripe refused the request ({exc.http_status}): {exc.user_message}")
