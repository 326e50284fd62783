"""Text messages: which provider sends them is decided by settings (one variable switches Twilio on).

    from barnstorm.lib.sms import sms_provider
    result = sms_provider().send(to="+15155550123", body="…", reference="rsvp:42:reminder_2h")

Twilio when TWILIO_ACCOUNT_SID is set; otherwise the embedded sandbox, which keeps every text in
a table (`barnstorm.lib.models.SandboxMessage`) for the demo and the tests. The interface and its
errors are in `base`.
"""

from __future__ import annotations

from django.conf import settings

from barnstorm.lib.sms.base import (
    DeliveryReport,
    InboundMessage,
    SendResult,
    SmsError,
    SmsProvider,
    SmsTimeout,
    WebhookSignatureError,
    segments,
)

__all__ = [
    "DeliveryReport",
    "InboundMessage",
    "SendResult",
    "SmsError",
    "SmsProvider",
    "SmsTimeout",
    "WebhookSignatureError",
    "segments",
    "sms_provider",
]


def _setting(name: str, default: str = "") -> str:
    return getattr(settings, name, default) or default


def sms_provider() -> SmsProvider:
    """Twilio when TWILIO_ACCOUNT_SID is set; otherwise the embedded sandbox."""
    if _setting("TWILIO_ACCOUNT_SID"):
        from barnstorm.lib.sms.twilio import DEFAULT_API_BASE, TwilioProvider

        return TwilioProvider(
            account_sid=_setting("TWILIO_ACCOUNT_SID"),
            auth_token=_setting("TWILIO_AUTH_TOKEN"),
            from_number=_setting("TWILIO_FROM_NUMBER"),
            messaging_service_sid=_setting("TWILIO_MESSAGING_SERVICE_SID"),
            api_base=_setting("TWILIO_API_BASE", DEFAULT_API_BASE),
            status_callback=_setting("TWILIO_STATUS_CALLBACK_URL"),
        )
    from barnstorm.lib.sms.sandbox import DEFAULT_FROM, SandboxProvider

    return SandboxProvider(from_number=_setting("SMS_SANDBOX_FROM_NUMBER", DEFAULT_FROM))
