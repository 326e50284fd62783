"""The SMS provider interface. Adapters: the embedded sandbox (the default) and Twilio.

A provider moves text messages; it never decides whether a person may be texted (consent,
opt-out, texting hours): callers decide that before they call `send`.

Exactly-once is the caller's job, with a claim taken before sending (see
`events.reminders`): Twilio's Messages API has no idempotency key. The `reference` a caller
passes is its own key for the message (e.g. "rsvp:42:reminder_24h"); the sandbox refuses to send
a second message with the same reference and returns the first, Twilio only logs it. A
`SmsTimeout` means the outcome is unknown (the text may have gone): callers must not simply send
again.

Inbound texts and delivery receipts arrive as webhooks (Twilio's form-encoded format, which the
sandbox speaks too); `parse_webhook` verifies the signature and reduces them to an
`InboundMessage` or a `DeliveryReport`, so that one view serves every provider.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class SmsError(Exception):
    """The text was not sent. `permanent`: sending it again will not help (bad or blocked number).

    `code` is the provider's error code as a string ("21211" invalid number, "21610" the recipient
    replied STOP at the carrier, …), empty when there is none.
    """

    def __init__(self, message: str, *, code: str = "", permanent: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.permanent = permanent


class SmsTimeout(SmsError):
    """No answer from the provider: the text may or may not have been sent."""


class WebhookSignatureError(SmsError):
    """A webhook whose signature does not verify; it must be ignored."""


# The recipient told their carrier STOP (Twilio's code): the number must be marked opted out.
RECIPIENT_OPTED_OUT = "21610"

# Twilio's magic test numbers, which its API refuses with these errors; the sandbox refuses them
# the same way, so that failures can be shown in the demo and exercised in tests.
FAILING_TEST_NUMBERS = {
    "+15005550001": ("21211", "The 'To' number is not a valid phone number."),
    "+15005550002": ("21612", "The 'To' phone number is not currently reachable via SMS."),
    "+15005550003": ("21408", "Permission to send an SMS has not been enabled for the region."),
    "+15005550004": ("21610", "Attempt to send to unsubscribed recipient."),
    "+15005550009": ("21614", "The 'To' number is not a valid mobile number."),
}


@dataclass(frozen=True)
class SendResult:
    message_id: str  # the provider's id of the message (Twilio's "SM…" SID)
    status: str  # the provider's status word: "queued", "sent", "delivered", …
    to: str
    from_: str
    segments: int = 1
    duplicate: bool = False  # the sandbox had this reference already: nothing new was sent


@dataclass(frozen=True)
class InboundMessage:
    """A text a person sent us."""

    message_id: str
    from_: str
    to: str
    body: str
    received_at: datetime | None = None
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DeliveryReport:
    """What became of a text we sent: "delivered", "undelivered", "failed", …"""

    message_id: str
    status: str
    error_code: str = ""
    raw: dict = field(default_factory=dict)


class SmsProvider(Protocol):
    name: str

    def send(self, *, to: str, body: str, reference: str = "", from_: str = "") -> SendResult:
        """Send `body` to `to` (E.164) from `from_` or the provider's default sender.

        Raises SmsError when the provider refuses it, SmsTimeout when the outcome is unknown.
        """

    def parse_webhook(self, *, url: str, params: dict, headers: dict[str, str]) -> InboundMessage | DeliveryReport:
        """Verify a webhook's signature and decode it. Raises WebhookSignatureError.

        `url` is the full URL the provider called (as configured there, scheme and query
        included), `params` the POSTed form fields.
        """


# Message segments -----------------------------------------------------------------------------

# The GSM 03.38 default alphabet: a text of only these characters takes 160 per segment (153 when
# split); any other character makes the whole text UCS-2, 70 per segment (67 when split).
_GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")  # two septets each (an escape, then the character)


def segments(body: str) -> int:
    """How many segments a carrier bills (and a long code sends, one per second) for `body`."""
    if all(c in _GSM7 or c in _GSM7_EXTENDED for c in body):
        length = sum(2 if c in _GSM7_EXTENDED else 1 for c in body)
        single, part = 160, 153
    else:
        length = sum(2 if ord(c) > 0xFFFF else 1 for c in body)  # UTF-16 code units
        single, part = 70, 67
    if length <= single:
        return 1
    return -(-length // part)


def webhook_params(params) -> dict[str, str]:
    """A QueryDict or dict of form fields as a plain dict of their (first) values."""
    if hasattr(params, "dict"):
        return params.dict()
    return {key: (value[0] if isinstance(value, list | tuple) else value) for key, value in params.items()}


def decode_twilio_webhook(params: dict[str, str]) -> InboundMessage | DeliveryReport:
    """Twilio's webhook fields, reduced: an incoming text, or a status callback of one we sent."""
    message_id = params.get("MessageSid") or params.get("SmsSid") or ""
    status = params.get("MessageStatus") or params.get("SmsStatus") or ""
    if not message_id:
        raise SmsError("webhook without a MessageSid", permanent=True)
    if status in ("", "received", "receiving"):
        return InboundMessage(
            message_id=message_id,
            from_=params.get("From", ""),
            to=params.get("To", ""),
            body=params.get("Body", ""),
            raw=params,
        )
    return DeliveryReport(message_id=message_id, status=status, error_code=params.get("ErrorCode") or "", raw=params)
