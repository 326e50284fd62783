"""The payment processor interface. Adapters: the embedded test processor, Stripe, PayPal.

A processor moves money; it never decides whether a contribution is allowed (that is
`donations.services`). Every call that can move money carries an idempotency key that the
processor itself honours, so a retry after a timeout returns the first outcome instead of
charging again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class ProcessorError(Exception):
    """The processor refused the request itself (bad credentials, malformed call)."""


class ProcessorTimeout(ProcessorError):
    """No answer: the charge may or may not have happened. Retry with the same idempotency key."""


class WebhookSignatureError(ProcessorError):
    """A webhook whose signature does not verify; it must be ignored."""


@dataclass(frozen=True)
class ChargeResult:
    succeeded: bool
    charge_id: str = ""  # the processor's id of the charge (Stripe PaymentIntent, PayPal capture)
    decline_code: str = ""  # "card_declined", "insufficient_funds", ... when not succeeded
    message: str = ""  # what to tell the donor when declined
    fingerprint: str = ""  # same card, same fingerprint: for velocity limits
    brand: str = ""
    last4: str = ""
    # A reusable reference for later charges without the donor present (recurring, express);
    # empty unless the charge was asked to save the method.
    payment_method_ref: str = ""
    customer_ref: str = ""


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    amount_cents: int


@dataclass(frozen=True)
class WebhookEvent:
    """A verified event from the processor, reduced to what Barnstorm acts on."""

    event_id: str  # unique per event at the processor: replays carry the same id
    kind: str  # "charge.succeeded", "charge.refunded", "charge.dispute" (chargeback), or other
    charge_id: str = ""
    amount_cents: int = 0  # for refunds and disputes: the amount refunded / disputed in this event
    refund_id: str = ""
    raw: dict = field(default_factory=dict)


class CardProcessor(Protocol):
    name: str

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
        """Charge a one-time token (donor present) or a saved payment_method_ref (donor absent).

        Raises ProcessorTimeout when the outcome is unknown, ProcessorError on a broken request.
        """

    def refund(self, *, charge_id: str, amount_cents: int, idempotency_key: str) -> RefundResult: ...

    def parse_webhook(self, *, body: bytes, headers: dict[str, str]) -> WebhookEvent:
        """Verify the signature and decode. Raises WebhookSignatureError."""
