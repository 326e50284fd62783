"""PayPal Checkout through the Orders v2 REST API: a redirect flow, so not a CardProcessor.

    order_id, approve_url = paypal.order_create(...)   # send the donor to approve_url
    result = paypal.order_capture(order_id=..., ...)   # when they come back to return_url

Every call that moves money sends `PayPal-Request-Id`, PayPal's idempotency key: a retry with the
same id returns the first answer. Plain urllib, so no SDK and no new dependency.
"""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from decimal import Decimal
from urllib.parse import quote

from barnstorm.donations.processors.base import (
    ChargeResult,
    ProcessorError,
    ProcessorTimeout,
    RefundResult,
    WebhookEvent,
    WebhookSignatureError,
)

DEFAULT_API_BASE = "https://api-m.paypal.com"

# 422 issues that are the donor's to fix (another funding source, finish approving), not our bug.
_DONOR_ISSUES = {
    "INSTRUMENT_DECLINED": "PayPal declined that payment method. Please choose another one.",
    "TRANSACTION_REFUSED": "PayPal refused this payment.",
    "PAYER_CANNOT_PAY": "PayPal could not take this payment from your account.",
    "PAYER_ACTION_REQUIRED": "PayPal needs you to finish approving this payment.",
    "ORDER_NOT_APPROVED": "The payment was not approved on PayPal.",
    "REDIRECT_PAYER_FOR_ALTERNATE_FUNDING": "PayPal declined that payment method. Please choose another one.",
    "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED": "Too many attempts on this payment. Please start again.",
    "COMPLIANCE_VIOLATION": "PayPal could not take this payment.",
}

_WEBHOOK_HEADERS = {
    "auth_algo": "paypal-auth-algo",
    "cert_url": "paypal-cert-url",
    "transmission_id": "paypal-transmission-id",
    "transmission_sig": "paypal-transmission-sig",
    "transmission_time": "paypal-transmission-time",
}


class PayPalProcessor:
    name = "paypal"

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        webhook_id: str,
        api_base: str = DEFAULT_API_BASE,
        timeout: float = 20.0,
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._webhook_id = webhook_id
        self._api_base = api_base.rstrip("/")
        self._timeout = timeout
        self._opener = urllib.request.build_opener()
        self._token_lock = threading.Lock()
        self._token = ""
        self._token_renew_at = 0.0

    # orders ------------------------------------------------------------------------------------

    def order_create(
        self, *, amount_cents: int, idempotency_key: str, description: str, return_url: str, cancel_url: str
    ) -> tuple[str, str]:
        """Create an order for `amount_cents` USD; returns (order id, the URL to send the donor to)."""
        body = {
            "intent": "CAPTURE",
            "purchase_units": [{"amount": _money(amount_cents), "description": description[:127]}],
            "payment_source": {
                "paypal": {
                    "experience_context": {
                        "return_url": return_url,
                        "cancel_url": cancel_url,
                        "user_action": "PAY_NOW",
                        "shipping_preference": "NO_SHIPPING",
                    }
                }
            },
        }
        status, order = self._call("POST", "/v2/checkout/orders", body, request_id=idempotency_key)
        if status not in (200, 201):
            raise _refused("order create", status, order)
        approve = next(
            (link["href"] for link in order.get("links", []) if link["rel"] in ("payer-action", "approve")), ""
        )
        if not approve:
            raise ProcessorError(f"PayPal order {order.get('id')} came back without an approval link")
        return order["id"], approve

    def order_capture(self, *, order_id: str, idempotency_key: str) -> ChargeResult:
        """Capture an approved order. charge_id is the capture id (what refunds and webhooks name)."""
        path = f"/v2/checkout/orders/{quote(order_id, safe='')}"
        status, order = self._call("POST", f"{path}/capture", {}, request_id=idempotency_key)
        if status in (200, 201):
            return _capture_result(order)
        issue = _issue(order)
        if status == 422 and issue == "ORDER_ALREADY_CAPTURED":
            # Captured before under another request id: report that capture rather than fail.
            status, order = self._call("GET", path)
            if status == 200:
                return _capture_result(order)
            raise _refused("order get", status, order)
        if status == 422 and issue in _DONOR_ISSUES:
            return ChargeResult(succeeded=False, decline_code=issue.lower(), message=_DONOR_ISSUES[issue])
        raise _refused("order capture", status, order)

    def refund(self, *, charge_id: str, amount_cents: int, idempotency_key: str) -> RefundResult:
        path = f"/v2/payments/captures/{quote(charge_id, safe='')}/refund"
        status, refund = self._call("POST", path, {"amount": _money(amount_cents)}, request_id=idempotency_key)
        if status not in (200, 201):
            raise _refused("refund", status, refund)
        if refund.get("status") in ("CANCELLED", "FAILED"):
            raise ProcessorError(f"PayPal refund {refund.get('id')} {refund['status']}")
        amount = _cents(refund["amount"]["value"]) if "amount" in refund else amount_cents
        return RefundResult(refund_id=refund["id"], amount_cents=amount)

    # webhooks ----------------------------------------------------------------------------------

    def parse_webhook(self, *, body: bytes, headers: dict[str, str]) -> WebhookEvent:
        """Verify through PayPal's verify-webhook-signature endpoint, then reduce the event.

        Raises WebhookSignatureError when PayPal does not vouch for it, ProcessorTimeout when PayPal
        cannot be asked (answer the webhook with an error so that PayPal sends it again).
        """
        lowered = {key.lower(): value for key, value in headers.items()}
        fields = {name: lowered.get(header, "") for name, header in _WEBHOOK_HEADERS.items()}
        if not all(fields.values()):
            raise WebhookSignatureError("PayPal webhook without its PAYPAL-TRANSMISSION-* headers")
        try:
            event = json.loads(body)
        except ValueError as exc:
            raise WebhookSignatureError("PayPal webhook body is not JSON") from exc
        if not isinstance(event, dict):
            raise WebhookSignatureError("PayPal webhook body is not an event")
        fields["webhook_id"] = self._webhook_id
        # The signature covers the exact bytes received; re-serialising the event can change them
        # (number formats, escapes) and fail a genuine webhook, so the body goes in verbatim.
        request = json.dumps(fields)[:-1].encode() + b', "webhook_event": ' + body + b"}"
        status, answer = self._call("POST", "/v1/notifications/verify-webhook-signature", raw_body=request)
        if status == 400:
            raise WebhookSignatureError(f"PayPal could not check this webhook: {_issue(answer)}")
        if status != 200:
            raise _refused("webhook verification", status, answer)
        if answer.get("verification_status") != "SUCCESS":
            raise WebhookSignatureError("PayPal did not verify the webhook signature")
        return _event(event)

    # http --------------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        body: dict | None = None,
        *,
        raw_body: bytes | None = None,
        request_id: str = "",
    ) -> tuple[int, dict]:
        """One API call with a bearer token; (status, JSON). 5xx and no answer raise ProcessorTimeout."""
        data = raw_body if raw_body is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {"Content-Type": "application/json", "Prefer": "return=representation"}
        if request_id:
            headers["PayPal-Request-Id"] = request_id
        for attempt in (1, 2):
            headers["Authorization"] = f"Bearer {self._access_token(renew=attempt == 2)}"
            status, payload = self._send(method, path, data, headers)
            # A token PayPal dropped before its stated expiry: get another once. Safe to repeat:
            # a request refused for auth did nothing, and moving money carries PayPal-Request-Id.
            if status != 401:
                break
        if status >= 500:
            # Indeterminate, like a timeout: retry with the same request id.
            raise ProcessorTimeout(f"PayPal {method} {path} answered {status}")
        return status, payload

    def _access_token(self, *, renew: bool = False) -> str:
        with self._token_lock:
            if renew or not self._token or time.monotonic() >= self._token_renew_at:
                credentials = base64.b64encode(f"{self._client_id}:{self._client_secret}".encode()).decode()
                status, answer = self._send(
                    "POST",
                    "/v1/oauth2/token",
                    b"grant_type=client_credentials",
                    {
                        "Authorization": f"Basic {credentials}",
                        "Content-Type": "application/x-www-form-urlencoded",
                        "Accept": "application/json",
                    },
                )
                if status != 200 or "access_token" not in answer:
                    raise ProcessorError(f"PayPal refused the client credentials ({status}): {answer.get('error')}")
                lifetime = int(answer.get("expires_in", 0))
                self._token = answer["access_token"]
                # Renew a little early, so a token never expires between here and PayPal.
                self._token_renew_at = time.monotonic() + lifetime - min(60, lifetime / 10)
            return self._token

    def _send(self, method: str, path: str, data: bytes | None, headers: dict[str, str]) -> tuple[int, dict]:
        request = urllib.request.Request(self._api_base + path, data=data, method=method, headers=headers)
        try:
            try:
                with self._opener.open(request, timeout=self._timeout) as response:
                    status, raw = response.status, response.read()
            except urllib.error.HTTPError as exc:
                with exc:
                    status, raw = exc.code, exc.read()
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            # Timeouts, refused connections, a connection dropped mid-answer: the outcome is unknown.
            raise ProcessorTimeout(f"no answer from PayPal ({method} {path}): {exc}") from exc
        try:
            payload = json.loads(raw) if raw else {}
        except ValueError:
            payload = {"message": raw[:200].decode(errors="replace")}
        return status, payload if isinstance(payload, dict) else {"data": payload}


def _money(cents: int) -> dict:
    if cents <= 0:
        raise ValueError("a PayPal amount must be positive")
    return {"currency_code": "USD", "value": f"{cents // 100}.{cents % 100:02d}"}


def _cents(value: str) -> int:
    return int(Decimal(value) * 100)


def _issue(payload: dict) -> str:
    details = payload.get("details") or [{}]
    return details[0].get("issue") or payload.get("name") or payload.get("error") or ""


def _refused(what: str, status: int, payload: dict) -> ProcessorError:
    return ProcessorError(
        f"PayPal refused the {what} ({status} {_issue(payload)}): {payload.get('message', '')}"
        f" debug_id={payload.get('debug_id', '')}"
    )


def _capture_result(order: dict) -> ChargeResult:
    captures = [
        capture
        for unit in order.get("purchase_units", [])
        for capture in (unit.get("payments") or {}).get("captures", [])
    ]
    if not captures:
        raise ProcessorError(f"PayPal order {order.get('id')} has no capture")
    capture = captures[0]
    source = (order.get("payment_source") or {}).get("paypal") or {}
    payer_id = source.get("account_id") or (order.get("payer") or {}).get("payer_id") or ""
    # The PayPal account plays the part of the card: same account, same fingerprint.
    identity = {"fingerprint": f"paypal:{payer_id}" if payer_id else "", "brand": "paypal"}
    status = capture.get("status")
    if status in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"):
        return ChargeResult(succeeded=True, charge_id=capture["id"], **identity)
    if status == "PENDING":
        # Held by PayPal (e.g. for review): no money yet; PAYMENT.CAPTURE.COMPLETED follows if it clears.
        reason = (capture.get("status_details") or {}).get("reason", "")
        return ChargeResult(
            succeeded=False,
            charge_id=capture["id"],
            decline_code="pending",
            message=f"PayPal is holding this payment ({reason.lower() or 'pending'}).",
            **identity,
        )
    return ChargeResult(
        succeeded=False,
        charge_id=capture["id"],
        decline_code=(status or "declined").lower(),
        message="PayPal declined this payment.",
        **identity,
    )


def _event(event: dict) -> WebhookEvent:
    event_id, kind = event["id"], event.get("event_type", "")
    resource = event.get("resource") or {}
    if kind == "PAYMENT.CAPTURE.COMPLETED":
        return WebhookEvent(
            event_id,
            "charge.succeeded",
            charge_id=resource.get("id", ""),
            amount_cents=_cents(resource["amount"]["value"]) if "amount" in resource else 0,
            raw=event,
        )
    if kind == "PAYMENT.CAPTURE.REFUNDED":
        # The resource is the refund; its "up" link names the capture it refunds.
        up = next((link["href"] for link in resource.get("links", []) if link.get("rel") == "up"), "")
        return WebhookEvent(
            event_id,
            "charge.refunded",
            charge_id=up.rstrip("/").rsplit("/", 1)[-1] if "/captures/" in up else "",
            amount_cents=_cents(resource["amount"]["value"]) if "amount" in resource else 0,
            refund_id=resource.get("id", ""),
            raw=event,
        )
    if kind == "CUSTOMER.DISPUTE.CREATED":
        transactions = resource.get("disputed_transactions") or [{}]
        amount = resource.get("dispute_amount") or resource.get("disputed_amount") or {}
        return WebhookEvent(
            event_id,
            "charge.dispute",
            charge_id=transactions[0].get("seller_transaction_id", ""),
            amount_cents=_cents(amount["value"]) if "value" in amount else 0,
            raw=event,
        )
    return WebhookEvent(event_id, kind, raw=event)
