"""The embedded SMS sandbox: texts are rows in a table (SandboxMessage), delivered at once.

The default provider whenever Twilio is not configured, so the demo and the tests text without
a network. It behaves like Twilio where callers can tell: E.164 numbers only, Twilio's magic test
numbers fail with Twilio's error codes (see base.FAILING_TEST_NUMBERS), webhooks are signed the way
Twilio signs them (with a key derived from SECRET_KEY). One thing it does that Twilio cannot: a
second send with the same `reference` sends nothing and returns the first message.

    provider = SandboxProvider()
    provider.send(to="+15155550123", body="See you at 5", reference="rsvp:42:reminder_2h")
    SandboxMessage.objects.filter(to_number="+15155550123")      # what that phone received
    provider.receive(from_="+15155550123", body="STOP")            # the phone answers
"""

from __future__ import annotations

import re
import secrets

from django.db import IntegrityError, transaction
from django.utils.crypto import salted_hmac
from twilio.request_validator import SIGNATURE_HEADER, RequestValidator

from barnstorm.lib.models import SandboxDirection, SandboxMessage
from barnstorm.lib.sms.base import (
    FAILING_TEST_NUMBERS,
    DeliveryReport,
    InboundMessage,
    SendResult,
    SmsError,
    WebhookSignatureError,
    decode_twilio_webhook,
    segments,
    webhook_params,
)

DEFAULT_FROM = "+15155550100"  # a fictional Des Moines number (555-01xx is reserved for fiction)
_E164 = re.compile(r"\+[1-9]\d{6,14}")


def _message_id() -> str:
    return "SB" + secrets.token_hex(16)


class SandboxProvider:
    name = "sandbox"

    def __init__(self, *, from_number: str = DEFAULT_FROM) -> None:
        self.from_number = from_number or DEFAULT_FROM

    def send(self, *, to: str, body: str, reference: str = "", from_: str = "") -> SendResult:
        if not _E164.fullmatch(to or ""):
            raise SmsError(f"The 'To' number {to} is not a valid phone number.", code="21211", permanent=True)
        if to in FAILING_TEST_NUMBERS:
            code, message = FAILING_TEST_NUMBERS[to]
            raise SmsError(message, code=code, permanent=True)
        if not body:
            raise SmsError("A text needs a body.", code="21602", permanent=True)
        if reference:
            first = SandboxMessage.objects.filter(reference=reference).first()
            if first is not None:
                return _result(first, duplicate=True)
        try:
            with transaction.atomic():
                message = SandboxMessage.objects.create(
                    message_id=_message_id(),
                    direction=SandboxDirection.OUTBOUND,
                    to_number=to,
                    from_number=from_ or self.from_number,
                    body=body,
                    segments=segments(body),
                    reference=reference,
                    status="delivered",
                )
        except IntegrityError:  # the same reference, sent by a racing caller a moment ago
            return _result(SandboxMessage.objects.get(reference=reference), duplicate=True)
        return _result(message)

    def receive(self, *, from_: str, body: str, to: str = "") -> InboundMessage:
        """A phone texts us: the row is kept, and the message comes back as a webhook would bring it."""
        message = SandboxMessage.objects.create(
            message_id=_message_id(),
            direction=SandboxDirection.INBOUND,
            to_number=to or self.from_number,
            from_number=from_,
            body=body,
            segments=segments(body),
            status="received",
        )
        return InboundMessage(
            message_id=message.message_id,
            from_=message.from_number,
            to=message.to_number,
            body=message.body,
            received_at=message.created_at,
        )

    # webhooks ----------------------------------------------------------------------------------

    def webhook_signature(self, *, url: str, params: dict) -> str:
        """The X-Twilio-Signature a sandbox webhook to `url` with `params` carries (tests, demo)."""
        return RequestValidator(_webhook_key()).compute_signature(url, params)

    def parse_webhook(self, *, url: str, params: dict, headers: dict[str, str]) -> InboundMessage | DeliveryReport:
        signature = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), "")
        if not signature or not RequestValidator(_webhook_key()).validate(url, params, signature):
            raise WebhookSignatureError("the sandbox webhook's signature does not verify", permanent=True)
        return decode_twilio_webhook(webhook_params(params))


def _webhook_key() -> str:
    return salted_hmac("barnstorm.lib.sms.sandbox.webhook", "sandbox").hexdigest()


def _result(message: SandboxMessage, *, duplicate: bool = False) -> SendResult:
    return SendResult(
        message_id=message.message_id,
        status=message.status,
        to=message.to_number,
        from_=message.from_number,
        segments=message.segments,
        duplicate=duplicate,
    )
