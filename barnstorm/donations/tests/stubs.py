"""Local stand-ins for Stripe and PayPal: real HTTP on 127.0.0.1, answering like the real APIs.

The adapters are exercised against these instead of the network. Each stub runs an http.server
in a thread on an ephemeral port, keeps the state a test asserts on, and honours idempotency keys
the way the real service does, so "a retry after a timeout charges once" is proven end to end.

    with StripeStub() as stripe_stub:
        processor = StripeProcessor(api_key=stripe_stub.api_key, webhook_secret="whsec_x",
                                    api_base=stripe_stub.url, timeout=0.5)
        stripe_stub.delay_next_response(2.0)  # the charge is made, the answer comes too late
        body, headers = signed_stripe_webhook(stripe_stub.payment_intent_succeeded_event(pi_id), "whsec_x")

    with PayPalStub() as paypal_stub:
        paypal_stub.approve(order_id)  # what the donor does on paypal.com
        body, headers = paypal_stub.signed_webhook(paypal_stub.capture_completed_event(capture_id))
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import string
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

_ALNUM = string.ascii_letters + string.digits


def _random_id(prefix: str, length: int = 24) -> str:
    return f"{prefix}_{''.join(secrets.choice(_ALNUM) for _ in range(length))}"


class _StubServer:
    """An http.server in a thread; subclasses answer requests in `_route` under one lock."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._release = threading.Event()
        self._pending_delays: list[float] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request received

    # lifecycle ---------------------------------------------------------------------------------

    def start(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                stub._serve(self)

            do_POST = do_DELETE = do_GET

            def log_message(self, format, *args):
                pass

        self._release.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=type(self).__name__, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()  # wake any response held back by delay_next_response
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def delay_next_response(self, seconds: float) -> None:
        """The next request is carried out, but its answer is held back `seconds`.

        Longer than the client's timeout, this is the case that matters for exactly-once: the
        charge happened, the client never heard, and only the idempotency key prevents a second.
        """
        with self._lock:
            self._pending_delays.append(seconds)

    # plumbing ----------------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {key.lower(): value for key, value in handler.headers.items()}
        with self._lock:
            self.requests.append((handler.command, parts.path))
            delay = self._pending_delays.pop(0) if self._pending_delays else 0.0
            status, payload, extra_headers = self._route(
                handler.command, parts.path, parse_qs(parts.query), headers, body
            )
        if delay:
            self._release.wait(delay)
        data = b"" if payload is None else json.dumps(payload).encode()
        try:
            handler.send_response(status)
            if payload is not None:
                handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            for name, value in extra_headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting, which is what a delayed response is for

    def _route(self, method, path, query, headers, body) -> tuple[int, dict | None, dict]:
        raise NotImplementedError


# ------------------------------------------------------------------------------------------------
# Stripe
# ------------------------------------------------------------------------------------------------

STRIPE_API_VERSION = "2026-10-28.endive"

# Stripe's test-mode PaymentMethods: (brand, card number, (decline code, error code, message) or None)
STRIPE_TEST_PAYMENT_METHODS = {
    "pm_card_visa": ("visa", "4242424242424242", None),
    "pm_card_mastercard": ("mastercard", "5555555555554444", None),
    "pm_card_chargeDeclined": (
        "visa",
        "4000000000000002",
        ("generic_decline", "card_declined", "Your card was declined."),
    ),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "visa",
        "4000000000009995",
        ("insufficient_funds", "card_declined", "Your card has insufficient funds."),
    ),
    "pm_card_chargeDeclinedExpiredCard": (
        "visa",
        "4000000000000069",
        ("expired_card", "expired_card", "Your card has expired."),
    ),
}


def _decode_stripe_form(body: bytes) -> tuple[list[tuple[str, str]], dict]:
    """Stripe's bracketed form encoding (`expand[0]=x&metadata[k]=v`) into nested dicts and lists."""
    pairs = parse_qsl(body.decode(), keep_blank_values=True)
    root: dict = {}
    for key, value in pairs:
        names = re.findall(r"[^\[\]]+", key)
        node = root
        for name in names[:-1]:
            node = node.setdefault(name, {})
        node[names[-1]] = value
    return pairs, _listify(root)


def _listify(node):
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        return [_listify(node[key]) for key in sorted(node, key=int)]
    return {key: _listify(value) for key, value in node.items()}


def _stripe_error(status: int, type_: str, message: str, **fields) -> tuple[int, dict, dict]:
    return status, {"error": {"type": type_, "message": message, **fields}}, {}


def signed_stripe_webhook(event: dict, secret: str, *, timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    """A webhook body and the `Stripe-Signature` header Stripe would send with it.

    Signed here with plain HMAC-SHA256 over "<timestamp>.<body>", as Stripe documents it, not with
    the SDK under test. Pass an old `timestamp` to test the replay window.
    """
    body = json.dumps(event).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"Stripe-Signature": f"t={timestamp},v1={signature}"}


class StripeStub(_StubServer):
    """Customers, PaymentIntents (create-and-confirm), Refunds, with Stripe's idempotency rules."""

    def __init__(self, api_key: str = "sk_test_barnstorm_stub") -> None:
        super().__init__()
        self.api_key = api_key
        self.customers: dict[str, dict] = {}
        self.payment_methods: dict[str, dict] = {}
        self.payment_intents: dict[str, dict] = {}
        self.charges: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self._used_unattached: set[str] = set()  # PaymentMethods spent without a Customer
        self._refund_totals: dict[str, tuple[int, int]] = {}  # refund -> charge's refunded before/after
        self._idempotent: dict[str, tuple[str, str, tuple, tuple[int, dict, dict]]] = {}
        self.posted: list[tuple[str, dict]] = []  # (path, decoded params) of every POST, replays included

    # routing -----------------------------------------------------------------------------------

    def _route(self, method, path, query, headers, body):
        if headers.get("authorization") != f"Bearer {self.api_key}":
            return _stripe_error(401, "invalid_request_error", "Invalid API Key provided.")
        if method == "GET":
            params = {key: values[-1] for key, values in query.items() if not key.startswith("expand")}
            expand = [value for key, values in query.items() if key.startswith("expand") for value in values]
            return self._get(path, params, expand)
        if method != "POST":
            return self._unrecognized(method, path)
        pairs, params = _decode_stripe_form(body)
        self.posted.append((path, params))
        key = headers.get("idempotency-key", "")
        fingerprint = tuple(sorted(pairs))
        if key and key in self._idempotent:
            first_method, first_path, first_params, response = self._idempotent[key]
            if (first_method, first_path) != (method, path):
                return _stripe_error(
                    400,
                    "idempotency_error",
                    "Keys for idempotent requests can only be used for the same endpoint they were first used for"
                    f" ('{first_method} {first_path}' vs '{method} {path}').",
                )
            if first_params != fingerprint:
                return _stripe_error(
                    400,
                    "idempotency_error",
                    "Keys for idempotent requests can only be used with the same parameters they were first used"
                    f" with. Try using a key other than '{key}' if you meant to execute a different request.",
                )
            status, payload, extra = response
            return status, payload, {**extra, "Idempotent-Replayed": "true"}
        response = self._post(path, params)
        status = response[0]
        # Stripe saves the result once the endpoint started executing (success, card error, 5xx),
        # not for requests refused by validation.
        if key and (status < 400 or status == 402 or status >= 500):
            self._idempotent[key] = (method, path, fingerprint, response)
        return response

    def _unrecognized(self, method, path):
        return _stripe_error(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    def _post(self, path, params):
        if path == "/v1/customers":
            return self._customer_create(params)
        if path == "/v1/payment_intents":
            return self._payment_intent_create(params)
        if path == "/v1/refunds":
            return self._refund_create(params)
        return self._unrecognized("POST", path)

    def _get(self, path, params, expand):
        for prefix, store, render in (
            ("/v1/payment_intents/", self.payment_intents, self._render_intent),
            ("/v1/customers/", self.customers, None),
            ("/v1/charges/", self.charges, None),
            ("/v1/refunds/", self.refunds, None),
            ("/v1/payment_methods/", self.payment_methods, None),
        ):
            if path.startswith(prefix):
                object_id = path[len(prefix) :]
                if object_id not in store:
                    return self._missing(prefix.strip("/").split("/")[-1].rstrip("s"), object_id, "id")
                obj = render(store[object_id], expand) if render else store[object_id]
                return 200, obj, {}
        if path == "/v1/refunds":
            refunds = sorted(self.refunds.values(), key=lambda r: r["_seq"], reverse=True)  # newest first
            for field in ("charge", "payment_intent"):
                if field in params:
                    refunds = [refund for refund in refunds if refund[field] == params[field]]
            limit = int(params.get("limit", 10))
            data = [self._public(refund) for refund in refunds[:limit]]
            return 200, {"object": "list", "data": data, "has_more": len(refunds) > limit, "url": "/v1/refunds"}, {}
        return self._unrecognized("GET", path)

    def _missing(self, noun, object_id, param):
        return _stripe_error(
            400 if param != "id" else 404,
            "invalid_request_error",
            f"No such {noun}: '{object_id}'",
            code="resource_missing",
            param=param,
        )

    # resources ---------------------------------------------------------------------------------

    def _customer_create(self, params):
        customer = {
            "id": _random_id("cus", 14),
            "object": "customer",
            "created": int(time.time()),
            "description": params.get("description"),
            "email": params.get("email"),
            "name": params.get("name"),
            "metadata": params.get("metadata", {}),
            "livemode": False,
        }
        self.customers[customer["id"]] = customer
        return 200, customer, {}

    def _payment_method_for(self, token: str, customer: str | None):
        """The PaymentMethod a PaymentIntent will use, or an error response."""
        if token in STRIPE_TEST_PAYMENT_METHODS:
            # In test mode each use of a magic token makes a fresh PaymentMethod for that card.
            brand, number, _decline = STRIPE_TEST_PAYMENT_METHODS[token]
            method = {
                "id": _random_id("pm"),
                "object": "payment_method",
                "type": "card",
                "created": int(time.time()),
                "customer": None,
                "livemode": False,
                "card": {
                    "brand": brand,
                    "last4": number[-4:],
                    "exp_month": 12,
                    "exp_year": datetime.now(UTC).year + 3,
                    "funding": "credit",
                    "country": "US",
                    # Same card number, same fingerprint: that is what makes velocity limits work.
                    "fingerprint": hashlib.sha256(number.encode()).hexdigest()[:16],
                },
                "_number": number,
            }
            self.payment_methods[method["id"]] = method
            return method, None
        method = self.payment_methods.get(token)
        if method is None:
            return None, self._missing("PaymentMethod", token, "payment_method")
        if method["customer"] and method["customer"] != customer:
            return None, _stripe_error(
                400,
                "invalid_request_error",
                "The provided PaymentMethod belongs to a different Customer than the one on this PaymentIntent.",
                param="payment_method",
            )
        if not method["customer"] and token in self._used_unattached:
            return None, _stripe_error(
                400,
                "invalid_request_error",
                "The provided PaymentMethod was previously used with a PaymentIntent without Customer attachment,"
                " shared with a connected account without Customer attachment, or was detached from a Customer."
                " It may not be used again.",
                param="payment_method",
            )
        return method, None

    def _payment_intent_create(self, params):
        try:
            amount = int(params["amount"])
        except (KeyError, ValueError):
            return _stripe_error(400, "invalid_request_error", "Missing required param: amount.", param="amount")
        if "currency" not in params:
            return _stripe_error(400, "invalid_request_error", "Missing required param: currency.", param="currency")
        if amount < 50:
            return _stripe_error(
                400,
                "invalid_request_error",
                "Amount must be at least $0.50 usd",
                code="amount_too_small",
                param="amount",
            )
        customer = params.get("customer") or None
        if customer and customer not in self.customers:
            return self._missing("customer", customer, "customer")
        confirm = params.get("confirm") == "true"
        off_session = params.get("off_session") == "true"
        if off_session and not confirm:
            return _stripe_error(
                400, "invalid_request_error", "off_session can only be used with confirm=true.", param="off_session"
            )
        method = None
        if params.get("payment_method"):
            method, error = self._payment_method_for(params["payment_method"], customer)
            if error:
                return error
        elif confirm:
            return _stripe_error(
                400,
                "invalid_request_error",
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                code="payment_intent_unexpected_state",
            )
        intent = {
            "id": _random_id("pi"),
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "currency": params["currency"],
            "customer": customer,
            "description": params.get("description"),
            "metadata": params.get("metadata", {}),
            "payment_method": method["id"] if method else None,
            "payment_method_types": params.get("payment_method_types", ["card"]),
            "setup_future_usage": params.get("setup_future_usage"),
            "capture_method": "automatic",
            "confirmation_method": "automatic",
            "created": int(time.time()),
            "latest_charge": None,
            "last_payment_error": None,
            "livemode": False,
            "status": "requires_confirmation" if method else "requires_payment_method",
        }
        intent["client_secret"] = f"{intent['id']}_secret_{secrets.token_hex(12)}"
        self.payment_intents[intent["id"]] = intent
        expand = params.get("expand", [])
        if not confirm:
            return 200, self._render_intent(intent, expand), {}

        decline = STRIPE_TEST_PAYMENT_METHODS.get(_card_token(method), (None, None, None))[2]
        charge = self._charge_create(intent, method, decline)
        intent["latest_charge"] = charge["id"]
        if not method["customer"]:
            self._used_unattached.add(method["id"])
        if decline:
            decline_code, code, message = decline
            error = {
                "type": "card_error",
                "code": code,
                "decline_code": decline_code,
                "message": message,
                "charge": charge["id"],
                "doc_url": f"https://docs.stripe.com/error-codes/{code.replace('_', '-')}",
                "payment_method": self._public(method),
            }
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = dict(error)
            error["payment_intent"] = self._render_intent(intent, [])
            return 402, {"error": error}, {}
        intent["status"] = "succeeded"
        intent["amount_received"] = amount
        if intent["setup_future_usage"] and customer:
            method["customer"] = customer
            self._used_unattached.discard(method["id"])
        return 200, self._render_intent(intent, expand), {}

    def _charge_create(self, intent, method, decline):
        charge = {
            "id": _random_id("ch"),
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": 0 if decline else intent["amount"],
            "amount_refunded": 0,
            "captured": not decline,
            "currency": intent["currency"],
            "customer": intent["customer"],
            "description": intent["description"],
            "paid": not decline,
            "payment_intent": intent["id"],
            "payment_method": method["id"],
            "payment_method_details": {"type": "card", "card": dict(method["card"])},
            "refunded": False,
            "status": "failed" if decline else "succeeded",
            "failure_code": decline[1] if decline else None,
            "failure_message": decline[2] if decline else None,
            "outcome": {
                "type": "issuer_declined" if decline else "authorized",
                "reason": decline[0] if decline else None,
                "network_status": "declined_by_network" if decline else "approved_by_network",
            },
            "created": int(time.time()),
            "livemode": False,
        }
        self.charges[charge["id"]] = charge
        return charge

    def _refund_create(self, params):
        intent_id = params.get("payment_intent")
        charge = None
        if intent_id:
            intent = self.payment_intents.get(intent_id)
            if intent is None:
                return self._missing("payment_intent", intent_id, "payment_intent")
            if intent["status"] == "succeeded":
                charge = self.charges[intent["latest_charge"]]
        elif params.get("charge"):
            charge = self.charges.get(params["charge"])
            if charge is None:
                return self._missing("charge", params["charge"], "charge")
        else:
            return _stripe_error(
                400,
                "invalid_request_error",
                "One of the following params should be provided for this request: payment_intent or charge.",
            )
        if charge is None or charge["status"] != "succeeded":
            return _stripe_error(
                400,
                "invalid_request_error",
                "This PaymentIntent does not have a successful charge to refund.",
                code="charge_not_refundable",
            )
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining == 0:
            return _stripe_error(
                400,
                "invalid_request_error",
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = int(params.get("amount", remaining))
        if amount <= 0 or amount > remaining:
            return _stripe_error(
                400,
                "invalid_request_error",
                f"Refund amount ({_usd(amount)}) is greater than unrefunded amount on charge ({_usd(remaining)})",
                param="amount",
            )
        refund = {
            "id": _random_id("re"),
            "object": "refund",
            "amount": amount,
            "charge": charge["id"],
            "payment_intent": charge["payment_intent"],
            "currency": charge["currency"],
            "created": int(time.time()),
            "metadata": params.get("metadata", {}),
            "reason": params.get("reason"),
            "status": "succeeded",
            "_seq": len(self.refunds),
        }
        self.refunds[refund["id"]] = refund
        before = charge["amount_refunded"]
        charge["amount_refunded"] = before + amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self._refund_totals[refund["id"]] = (before, charge["amount_refunded"])
        return 200, self._public(refund), {}

    # rendering ---------------------------------------------------------------------------------

    @staticmethod
    def _public(obj: dict) -> dict:
        return {key: value for key, value in obj.items() if not key.startswith("_")}

    def _render_intent(self, intent: dict, expand) -> dict:
        rendered = dict(intent)
        expandable = {"payment_method": self.payment_methods, "latest_charge": self.charges, "customer": self.customers}
        for field in expand or []:
            if field in expandable and rendered.get(field):
                rendered[field] = self._public(expandable[field][rendered[field]])
        return rendered

    # webhook events, built from the stub's state ------------------------------------------------

    def event(self, type_: str, obj: dict, *, previous_attributes: dict | None = None) -> dict:
        data = {"object": obj}
        if previous_attributes is not None:
            data["previous_attributes"] = previous_attributes
        return {
            "id": _random_id("evt"),
            "object": "event",
            "api_version": STRIPE_API_VERSION,
            "created": int(time.time()),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": _random_id("req", 14), "idempotency_key": None},
            "type": type_,
        }

    def payment_intent_succeeded_event(self, payment_intent_id: str) -> dict:
        with self._lock:
            return self.event(
                "payment_intent.succeeded", self._render_intent(self.payment_intents[payment_intent_id], [])
            )

    def charge_refunded_event(self, refund_id: str) -> dict:
        """The `charge.refunded` event Stripe sent when this refund was made.

        As in current API versions: the Charge as it stood right after the refund, with the
        cumulative `amount_refunded`, `previous_attributes` holding the total before, and no
        embedded list of refunds.
        """
        with self._lock:
            refund = self.refunds[refund_id]
            before, after = self._refund_totals[refund_id]
            charge = self._public(self.charges[refund["charge"]])
            charge.update(amount_refunded=after, refunded=after == charge["amount"])
            previous = {"amount_refunded": before}
            if charge["refunded"]:
                previous["refunded"] = False
            return self.event("charge.refunded", charge, previous_attributes=previous)

    def dispute_created_event(self, payment_intent_id: str, *, amount_cents: int | None = None) -> dict:
        with self._lock:
            intent = self.payment_intents[payment_intent_id]
            dispute = {
                "id": _random_id("dp"),
                "object": "dispute",
                "amount": intent["amount"] if amount_cents is None else amount_cents,
                "charge": intent["latest_charge"],
                "payment_intent": intent["id"],
                "currency": intent["currency"],
                "reason": "fraudulent",
                "status": "needs_response",
                "is_charge_refundable": False,
                "created": int(time.time()),
                "evidence_details": {"due_by": int(time.time()) + 7 * 86400, "has_evidence": False},
                "livemode": False,
            }
            return self.event("charge.dispute.created", dispute)


def _card_token(method: dict) -> str:
    """The test token whose card this PaymentMethod carries (saved methods charge the same card)."""
    for token, (_brand, number, _decline) in STRIPE_TEST_PAYMENT_METHODS.items():
        if number == method.get("_number"):
            return token
    return ""


def _usd(cents: int) -> str:
    return f"${cents / 100:.2f}"


# ------------------------------------------------------------------------------------------------
# PayPal
# ------------------------------------------------------------------------------------------------

_PAYPAL_ID = string.ascii_uppercase + string.digits


def _paypal_id(length: int = 17) -> str:
    return "".join(secrets.choice(_PAYPAL_ID) for _ in range(length))


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _paypal_error(status: int, name: str, issue: str, description: str, message: str = "", **extra):
    body = {
        "name": name,
        "message": message
        or "The requested action could not be performed, semantically incorrect, or failed business validation.",
        "debug_id": secrets.token_hex(7),
        "details": [{"issue": issue, "description": description}],
        "links": [
            {
                "href": f"https://developer.paypal.com/docs/api/orders/v2/#error-{issue}",
                "rel": "information_link",
                "method": "GET",
            }
        ],
        **extra,
    }
    return status, body, {}


def _canonical(event: dict) -> bytes:
    return json.dumps(event, sort_keys=True, separators=(",", ":")).encode()


def _money_cents(money: dict) -> int:
    return int(Decimal(money["value"]) * 100)


def _money(cents: int, currency: str = "USD") -> dict:
    return {"currency_code": currency, "value": f"{cents // 100}.{cents % 100:02d}"}


class PayPalStub(_StubServer):
    """OAuth2 tokens, Orders v2 (create, get, capture), captures and refunds, webhook verification."""

    APPROVE_OUTCOMES = ("completed", "instrument_declined", "pending", "declined")

    def __init__(
        self,
        *,
        client_id: str = "paypal-stub-client",
        client_secret: str = "paypal-stub-secret",
        webhook_id: str = "WH-STUB-0001",
        token_lifetime: int = 32400,
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.webhook_id = webhook_id
        self.token_lifetime = token_lifetime
        self.tokens: dict[str, float] = {}  # access token -> expiry (epoch seconds)
        self.tokens_issued = 0
        self.orders: dict[str, dict] = {}
        self.captures: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self._outcomes: dict[str, str] = {}  # order id -> what capture does, set when approved
        self._by_request_id: dict[tuple[str, str, str], tuple[int, dict, dict]] = {}
        self._signing_key = secrets.token_bytes(32)  # only this stub can make a signature it accepts

    # what the donor and PayPal do outside the API ----------------------------------------------------

    def approve(self, order_id: str, *, outcome: str = "completed") -> None:
        """The donor approves the order on paypal.com.

        `outcome` decides what the capture will do: "completed"; "instrument_declined" (HTTP 422, the
        funding source is refused); "pending" (capture held for review); "declined" (capture made
        with status DECLINED).
        """
        if outcome not in self.APPROVE_OUTCOMES:
            raise ValueError(f"outcome must be one of {self.APPROVE_OUTCOMES}")
        with self._lock:
            order = self.orders[order_id]
            order["status"] = "APPROVED"
            order["payer"] = {
                "name": {"given_name": "Dana", "surname": "Donor"},
                "email_address": "dana@example.com",
                "payer_id": order.setdefault("_payer_id", _paypal_id(13)),
                "address": {"country_code": "US"},
            }
            order["payment_source"] = {
                "paypal": {
                    "email_address": "dana@example.com",
                    "account_id": order["_payer_id"],
                    "account_status": "VERIFIED",
                    "name": {"given_name": "Dana", "surname": "Donor"},
                    "address": {"country_code": "US"},
                }
            }
            self._outcomes[order_id] = outcome

    def expire_tokens(self) -> None:
        """Every access token issued so far stops working, as when PayPal's expiry passes."""
        with self._lock:
            self.tokens.clear()

    def signed_webhook(
        self, event: dict, *, webhook_id: str | None = None, transmission_time: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """A webhook body and the PAYPAL-* headers PayPal would send, signed by this stub.

        The verify-webhook-signature endpoint answers SUCCESS only for this body, these headers and
        this webhook id (the stub's own unless given).
        """
        body = json.dumps(event).encode()
        transmission_id = secrets.token_hex(16)
        transmission_time = transmission_time or _now_iso()
        signature = self._sign(transmission_id, transmission_time, webhook_id or self.webhook_id, json.loads(body))
        return body, {
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": transmission_time,
            "PAYPAL-TRANSMISSION-SIG": signature,
            "PAYPAL-CERT-URL": f"{self.url}/v1/notifications/certs/CERT-360caa42-stub",
            "PAYPAL-AUTH-ALGO": "SHA256withRSA",
        }

    def _sign(self, transmission_id: str, transmission_time: str, webhook_id: str, event: dict) -> str:
        # PayPal signs "<transmission id>|<time>|<webhook id>|<crc32 of the body>" with its private key.
        crc = binascii.crc32(_canonical(event))
        message = f"{transmission_id}|{transmission_time}|{webhook_id}|{crc}".encode()
        return base64.b64encode(hmac.new(self._signing_key, message, hashlib.sha256).digest()).decode()

    # webhook events, built from the stub's state ------------------------------------------------

    def event(self, event_type: str, resource_type: str, resource: dict, summary: str = "") -> dict:
        event_id = f"WH-{_paypal_id(17)}-{_paypal_id(17)}"
        return {
            "id": event_id,
            "event_version": "1.0",
            "create_time": _now_iso(),
            "resource_type": resource_type,
            "resource_version": "2.0",
            "event_type": event_type,
            "summary": summary,
            "resource": resource,
            "links": [
                {"href": f"{self.url}/v1/notifications/webhooks-events/{event_id}", "rel": "self", "method": "GET"},
            ],
        }

    def capture_completed_event(self, capture_id: str) -> dict:
        with self._lock:
            capture = self._public(self.captures[capture_id])
            capture["supplementary_data"] = {"related_ids": {"order_id": self.captures[capture_id]["_order_id"]}}
            value = capture["amount"]["value"]
            return self.event("PAYMENT.CAPTURE.COMPLETED", "capture", capture, f"Payment completed for $ {value} USD")

    def capture_refunded_event(self, refund_id: str) -> dict:
        with self._lock:
            refund = self._public(self.refunds[refund_id])
            value = refund["amount"]["value"]
            return self.event(
                "PAYMENT.CAPTURE.REFUNDED", "refund", refund, f"A $ {value} USD capture payment was refunded"
            )

    def dispute_created_event(self, capture_id: str, *, amount_cents: int | None = None) -> dict:
        with self._lock:
            capture = self.captures[capture_id]
            amount = capture["amount"] if amount_cents is None else _money(amount_cents)
            dispute_id = f"PP-D-{secrets.randbelow(10**6):06d}"
            dispute = {
                "dispute_id": dispute_id,
                "create_time": _now_iso(),
                "update_time": _now_iso(),
                "disputed_transactions": [
                    {
                        "seller_transaction_id": capture_id,
                        "create_time": capture["create_time"],
                        "transaction_status": "COMPLETED",
                        "gross_amount": capture["amount"],
                        "seller": {"merchant_id": "STUBMERCHANT01"},
                    }
                ],
                "reason": "UNAUTHORISED",
                "status": "OPEN",
                "dispute_amount": amount,
                "dispute_life_cycle_stage": "CHARGEBACK",
                "dispute_channel": "EXTERNAL",
                "links": [{"href": f"{self.url}/v1/customer/disputes/{dispute_id}", "rel": "self", "method": "GET"}],
            }
            return self.event("CUSTOMER.DISPUTE.CREATED", "dispute", dispute, "A new dispute opened")

    # routing -----------------------------------------------------------------------------------

    def _route(self, method, path, query, headers, body):
        if path == "/checkoutnow" and method == "GET":
            return self._donor_visits(query)
        if path == "/v1/oauth2/token" and method == "POST":
            return self._token(headers, body)
        if not self._authorized(headers):
            return 401, {"error": "invalid_token", "error_description": "Access Token not found in cache"}, {}
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            return _paypal_error(
                400, "INVALID_REQUEST", "MALFORMED_REQUEST_JSON", "The request JSON is not well formed."
            )

        request_id = headers.get("paypal-request-id", "")
        if method == "POST" and request_id and (method, path, request_id) in self._by_request_id:
            return self._by_request_id[(method, path, request_id)]
        response = self._dispatch(method, path, payload, headers.get("prefer", ""))
        if method == "POST" and request_id and response[0] < 300:
            self._by_request_id[(method, path, request_id)] = response
        return response

    def _dispatch(self, method, path, payload, prefer):
        minimal = "return=minimal" in prefer
        match method, path.strip("/").split("/"):
            case "POST", ["v2", "checkout", "orders"]:
                return self._order_create(payload, minimal)
            case "GET", ["v2", "checkout", "orders", order_id]:
                if order_id not in self.orders:
                    return self._not_found(order_id)
                return 200, self._render_order(self.orders[order_id]), {}
            case "POST", ["v2", "checkout", "orders", order_id, "capture"]:
                return self._order_capture(order_id, minimal)
            case "GET", ["v2", "payments", "captures", capture_id]:
                if capture_id not in self.captures:
                    return self._not_found(capture_id)
                return 200, self._public(self.captures[capture_id]), {}
            case "POST", ["v2", "payments", "captures", capture_id, "refund"]:
                return self._capture_refund(capture_id, payload, minimal)
            case "GET", ["v2", "payments", "refunds", refund_id]:
                if refund_id not in self.refunds:
                    return self._not_found(refund_id)
                return 200, self._public(self.refunds[refund_id]), {}
            case "POST", ["v1", "notifications", "verify-webhook-signature"]:
                return self._verify_webhook_signature(payload)
        return 404, {"name": "NOT_FOUND", "message": f"No route for {method} {path}"}, {}

    def _not_found(self, resource_id):
        return _paypal_error(
            404,
            "RESOURCE_NOT_FOUND",
            "INVALID_RESOURCE_ID",
            "Specified resource ID does not exist. Please check the resource ID and try again.",
            message=f"The specified resource does not exist ({resource_id}).",
        )

    # oauth -------------------------------------------------------------------------------------

    def _token(self, headers, body):
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if headers.get("authorization") != f"Basic {expected}":
            return 401, {"error": "invalid_client", "error_description": "Client Authentication failed"}, {}
        if dict(parse_qsl(body.decode())).get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"}, {}
        token = f"A21AA{secrets.token_urlsafe(48)}"
        self.tokens[token] = time.time() + self.token_lifetime
        self.tokens_issued += 1
        return (
            200,
            {
                "scope": "https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/payments/refund",
                "access_token": token,
                "token_type": "Bearer",
                "app_id": "APP-80W284485P519543T",
                "expires_in": self.token_lifetime,
                "nonce": f"{_now_iso()}{secrets.token_urlsafe(16)}",
            },
            {},
        )

    def _authorized(self, headers) -> bool:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        return scheme == "Bearer" and self.tokens.get(token, 0) > time.time()

    # orders ------------------------------------------------------------------------------------

    def _order_create(self, payload, minimal):
        if payload.get("intent") != "CAPTURE":
            return _paypal_error(
                400,
                "INVALID_REQUEST",
                "INVALID_PARAMETER_VALUE",
                "The stub supports intent CAPTURE only.",
                message="Request is not well-formed, syntactically incorrect, or violates schema.",
            )
        units = payload.get("purchase_units") or []
        amount = (units[0].get("amount") if units else None) or {}
        if not re.fullmatch(r"\d{1,10}(\.\d{2})?", str(amount.get("value", ""))) or not amount.get("currency_code"):
            return _paypal_error(
                400,
                "INVALID_REQUEST",
                "INVALID_PARAMETER_VALUE",
                "The value of a field is invalid.",
                message="Request is not well-formed, syntactically incorrect, or violates schema.",
            )
        order_id = _paypal_id()
        context = ((payload.get("payment_source") or {}).get("paypal") or {}).get("experience_context")
        legacy_context = payload.get("application_context") or {}
        order = {
            "id": order_id,
            "intent": "CAPTURE",
            # With payment_source.paypal.experience_context PayPal answers PAYER_ACTION_REQUIRED and a
            # "payer-action" link; the older application_context gives CREATED and an "approve" link.
            "status": "PAYER_ACTION_REQUIRED" if context is not None else "CREATED",
            "purchase_units": [
                {
                    "reference_id": units[0].get("reference_id", "default"),
                    "amount": amount,
                    "description": units[0].get("description"),
                    "custom_id": units[0].get("custom_id"),
                    "payee": {"email_address": "campaign@example.com", "merchant_id": "STUBMERCHANT01"},
                }
            ],
            "create_time": _now_iso(),
            "_return_url": (context or legacy_context).get("return_url", ""),
            "_cancel_url": (context or legacy_context).get("cancel_url", ""),
            "_approve_rel": "payer-action" if context is not None else "approve",
        }
        if context is not None:
            order["payment_source"] = {"paypal": {}}
        self.orders[order_id] = order
        rendered = self._render_order(order)
        if minimal:
            rendered = {key: rendered[key] for key in ("id", "status", "links")}
        return 200, rendered, {}

    def _render_order(self, order: dict) -> dict:
        rendered = self._public(order)
        base = f"{self.url}/v2/checkout/orders/{order['id']}"
        links = [{"href": base, "rel": "self", "method": "GET"}]
        if order["status"] in ("CREATED", "PAYER_ACTION_REQUIRED"):
            links.append(
                {"href": f"{self.url}/checkoutnow?token={order['id']}", "rel": order["_approve_rel"], "method": "GET"}
            )
        if order["status"] == "APPROVED":
            links.append({"href": f"{base}/capture", "rel": "capture", "method": "POST"})
        rendered["links"] = links
        return rendered

    def _donor_visits(self, query):
        """GET /checkoutnow?token=…: a browser test can follow the approve link; it approves and returns."""
        order_id = (query.get("token") or [""])[0]
        if order_id not in self.orders:
            return 404, {"name": "NOT_FOUND", "message": "Unknown order"}, {}
        self.approve(order_id)
        order = self.orders[order_id]
        separator = "&" if "?" in order["_return_url"] else "?"
        location = order["_return_url"] + separator + urlencode({"token": order_id, "PayerID": order["_payer_id"]})
        return 302, None, {"Location": location}

    def _order_capture(self, order_id, minimal):
        order = self.orders.get(order_id)
        if order is None:
            return self._not_found(order_id)
        if order["status"] == "COMPLETED":
            return _paypal_error(
                422,
                "UNPROCESSABLE_ENTITY",
                "ORDER_ALREADY_CAPTURED",
                "Order already captured.If 'intent=CAPTURE' only one capture per order is allowed.",
            )
        if order["status"] != "APPROVED":
            return _paypal_error(
                422,
                "UNPROCESSABLE_ENTITY",
                "ORDER_NOT_APPROVED",
                "Payer has not yet approved the Order for"
                " payment. Please redirect the payer to the 'rel':'approve' url returned as part of the HATEOAS"
                " links within the Create Order call or provide a valid payment_source in the request.",
            )
        outcome = self._outcomes.get(order_id, "completed")
        if outcome == "instrument_declined":
            status, body, extra = _paypal_error(
                422,
                "UNPROCESSABLE_ENTITY",
                "INSTRUMENT_DECLINED",
                "The instrument presented  was either declined"
                " by the processor or bank, or it can't be used for this payment.",
            )
            body["links"].append(
                {"href": f"{self.url}/checkoutnow?token={order_id}", "rel": "redirect", "method": "GET"}
            )
            return status, body, extra
        unit = order["purchase_units"][0]
        capture_id = _paypal_id()
        capture = {
            "id": capture_id,
            "status": {"completed": "COMPLETED", "pending": "PENDING", "declined": "DECLINED"}[outcome],
            "amount": unit["amount"],
            "final_capture": True,
            "seller_protection": {
                "status": "ELIGIBLE",
                "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"],
            },
            "create_time": _now_iso(),
            "update_time": _now_iso(),
            "links": [
                {"href": f"{self.url}/v2/payments/captures/{capture_id}", "rel": "self", "method": "GET"},
                {"href": f"{self.url}/v2/payments/captures/{capture_id}/refund", "rel": "refund", "method": "POST"},
                {"href": f"{self.url}/v2/checkout/orders/{order_id}", "rel": "up", "method": "GET"},
            ],
            "_order_id": order_id,
            "_refunded_cents": 0,
        }
        if outcome == "pending":
            capture["status_details"] = {"reason": "PENDING_REVIEW"}
        if outcome == "declined":
            capture["processor_response"] = {"response_code": "5120", "avs_code": "G", "cvv_code": "P"}
        self.captures[capture_id] = capture
        order["status"] = "COMPLETED"
        unit["payments"] = {"captures": [self._public(capture)]}
        rendered = self._render_order(order)
        if minimal:
            rendered = {key: rendered[key] for key in ("id", "status", "links")}
        return 201, rendered, {}

    # refunds -----------------------------------------------------------------------------------

    def _capture_refund(self, capture_id, payload, minimal):
        capture = self.captures.get(capture_id)
        if capture is None:
            return self._not_found(capture_id)
        captured = _money_cents(capture["amount"])
        remaining = captured - capture["_refunded_cents"]
        if capture["status"] not in ("COMPLETED", "PARTIALLY_REFUNDED") or remaining == 0:
            return _paypal_error(
                422, "UNPROCESSABLE_ENTITY", "CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded."
            )
        amount = _money_cents(payload["amount"]) if payload.get("amount") else remaining
        if amount <= 0 or amount > remaining:
            return _paypal_error(
                422,
                "UNPROCESSABLE_ENTITY",
                "REFUND_AMOUNT_EXCEEDED",
                "The refund amount must be less than or equal to the capture amount that has not yet been refunded.",
            )
        refund_id = _paypal_id()
        refund = {
            "id": refund_id,
            "amount": _money(amount, capture["amount"]["currency_code"]),
            "note_to_payer": payload.get("note_to_payer"),
            "status": "COMPLETED",
            "create_time": _now_iso(),
            "update_time": _now_iso(),
            "links": [
                {"href": f"{self.url}/v2/payments/refunds/{refund_id}", "rel": "self", "method": "GET"},
                {"href": f"{self.url}/v2/payments/captures/{capture_id}", "rel": "up", "method": "GET"},
            ],
        }
        self.refunds[refund_id] = refund
        capture["_refunded_cents"] += amount
        capture["status"] = "REFUNDED" if capture["_refunded_cents"] == captured else "PARTIALLY_REFUNDED"
        rendered = self._public(refund)
        if minimal:
            rendered = {key: rendered[key] for key in ("id", "status", "links")}
        return 201, rendered, {}

    # webhook verification ------------------------------------------------------------------------

    def _verify_webhook_signature(self, payload):
        fields = ("auth_algo", "cert_url", "transmission_id", "transmission_sig", "transmission_time", "webhook_id")
        missing = [field for field in fields if not payload.get(field)]
        if missing or not isinstance(payload.get("webhook_event"), dict):
            return _paypal_error(
                400,
                "VALIDATION_ERROR",
                "MISSING_REQUIRED_FIELD",
                f"Missing: {', '.join(missing) or 'webhook_event'}",
                message="Invalid request - see details",
            )
        expected = self._sign(
            payload["transmission_id"], payload["transmission_time"], payload["webhook_id"], payload["webhook_event"]
        )
        verified = hmac.compare_digest(expected, payload["transmission_sig"])
        return 200, {"verification_status": "SUCCESS" if verified else "FAILURE"}, {}

    @staticmethod
    def _public(obj: dict) -> dict:
        return {key: value for key, value in obj.items() if not key.startswith("_")}
