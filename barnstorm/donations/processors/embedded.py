"""The embedded test processor: the default, with no network and deterministic test cards.

    4242 4242 4242 4242  succeeds
    4000 0000 0000 0002  declined (card_declined)
    4000 0000 0000 9995  declined (insufficient_funds)
    4000 0000 0000 0408  the charge goes through but the answer is lost: the first call with an
                         idempotency key raises ProcessorTimeout, a retry with the same key
                         returns the charge that was made
    4000 0000 0000 0416  an outage: the charge goes through, but every call about it times out
                         for two minutes; after that, a retry with the same key returns it
Any other number that passes the Luhn check succeeds; one that fails it is declined.
A token is "tok_" followed by the card number; a saved method is "tpm_…" and charges the same card.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from barnstorm.donations.processors.base import (
    ChargeResult,
    ProcessorError,
    ProcessorTimeout,
    RefundResult,
    WebhookEvent,
    WebhookSignatureError,
)
from barnstorm.lib.db import unique_write

DECLINES = {
    "4000000000000002": ("card_declined", "Your card was declined."),
    "4000000000009995": ("insufficient_funds", "Your card has insufficient funds."),
}
TIMEOUT_CARD = "4000000000000408"
OUTAGE_CARD = "4000000000000416"
OUTAGE = timedelta(minutes=2)


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in number]
    odd, even = digits[-1::-2], digits[-2::-2]
    return (sum(odd) + sum(sum(divmod(2 * d, 10)) for d in even)) % 10 == 0


class TestProcessor:
    __test__ = False  # not a pytest test class, despite the name
    name = "test"

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
        from barnstorm.donations.models import TestProcessorCharge

        number = _card_number(token)
        decline_code, _message = _decline(number)
        try:
            # Charge first: nearly every key is new, and the unique index answers a repeat.
            with unique_write():
                earlier = TestProcessorCharge.objects.create(
                    idempotency_key=idempotency_key,
                    charge_id="tch_" + secrets.token_hex(12),
                    amount_cents=amount_cents,
                    succeeded=not decline_code,
                    decline_code=decline_code,
                    card_last4=number[-4:],
                )
        except IntegrityError:  # the same key, charged before or concurrently: answer as the first did
            earlier = TestProcessorCharge.objects.get(idempotency_key=idempotency_key)
        else:
            if number == TIMEOUT_CARD:
                raise ProcessorTimeout("the test processor did not answer (timeout card)")
        if number == OUTAGE_CARD and earlier.created_at > timezone.now() - OUTAGE:
            raise ProcessorTimeout("the test processor is down (outage card)")
        if earlier.amount_cents != amount_cents:
            raise ProcessorError("idempotency key reused with a different amount")
        if not earlier.succeeded:
            return ChargeResult(
                succeeded=False,
                charge_id=earlier.charge_id,
                decline_code=earlier.decline_code,
                message=_decline(number)[1],
                fingerprint=_fingerprint(number),
                brand="visa",
                last4=number[-4:],
            )
        return ChargeResult(
            succeeded=True,
            charge_id=earlier.charge_id,
            fingerprint=_fingerprint(number),
            brand="visa" if number.startswith("4") else "card",
            last4=number[-4:],
            payment_method_ref=f"tpm_{number}_{secrets.token_hex(4)}" if save_method else "",
        )

    def token_fingerprint(self, token: str) -> str:
        """The card's fingerprint before charging it, so a card being tested can be stopped early."""
        try:
            return _fingerprint(_card_number(token))
        except ProcessorError:
            return ""

    def refund(self, *, charge_id: str, amount_cents: int, idempotency_key: str) -> RefundResult:
        from barnstorm.donations.models import TestProcessorCharge

        with transaction.atomic():
            charge = TestProcessorCharge.objects.select_for_update().filter(charge_id=charge_id).first()
            if charge is None or not charge.succeeded:
                raise ProcessorError(f"no such charge: {charge_id}")
            if idempotency_key not in charge.refund_keys:
                if charge.refunded_cents + amount_cents > charge.amount_cents:
                    raise ProcessorError("refund exceeds the charge")
                charge.refunded_cents += amount_cents
                charge.refund_keys = [*charge.refund_keys, idempotency_key]
                charge.save(update_fields=["refunded_cents", "refund_keys"])
        return RefundResult(
            refund_id="tre_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:20], amount_cents=amount_cents
        )

    def parse_webhook(self, *, body: bytes, headers: dict[str, str]) -> WebhookEvent:
        raise WebhookSignatureError("the test processor sends no webhooks")


def _card_number(token: str) -> str:
    if token.startswith("tok_"):
        number = token[4:]
    elif token.startswith("tpm_"):
        number = token[4:].split("_", 1)[0]
    else:
        raise ProcessorError("not a test processor token")
    if not number.isdigit() or not 12 <= len(number) <= 19:
        raise ProcessorError("malformed card number")
    return number


def _decline(number: str) -> tuple[str, str]:
    if number in DECLINES:
        return DECLINES[number]
    if not luhn_ok(number):
        return "incorrect_number", "Your card number is incorrect."
    return "", ""


def _fingerprint(number: str) -> str:
    return hashlib.sha256(("barnstorm-test:" + number).encode()).hexdigest()[:16]
