"""Twilio, through the official SDK: texts through the Messages API, webhooks verified by signature.

The REST client talks to `api_base` (https://api.twilio.com; a local stub in tests) and reads
nothing from the environment: settings decide. It never retries by itself. Twilio has no
idempotency key for messages, so a retry after a lost answer could text twice; that is why an
unknown outcome surfaces as SmsTimeout and the caller, which claimed the message before
sending, does not send it again.

Webhooks (incoming texts, status callbacks) carry X-Twilio-Signature, an HMAC-SHA1 of the URL
Twilio called and the sorted form fields under the account's auth token; `parse_webhook` checks
it with the SDK's RequestValidator. The URL must be the one configured at Twilio, scheme and
query included: behind a proxy that terminates TLS, build it from SITE_URL, not from the request.
"""

from __future__ import annotations

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import SIGNATURE_HEADER, RequestValidator
from twilio.rest import Client
from urllib3.exceptions import MaxRetryError, NewConnectionError

from barnstorm.lib.sms.base import (
    DeliveryReport,
    InboundMessage,
    SendResult,
    SmsError,
    SmsTimeout,
    WebhookSignatureError,
    decode_twilio_webhook,
    webhook_params,
)

DEFAULT_API_BASE = "https://api.twilio.com"


class TwilioProvider:
    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str = "",
        messaging_service_sid: str = "",
        api_base: str = DEFAULT_API_BASE,
        status_callback: str = "",
        timeout: float = 15.0,
    ) -> None:
        if not account_sid or not auth_token:
            raise ValueError("Twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        if not from_number and not messaging_service_sid:
            raise ValueError("Twilio needs a sender: TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.status_callback = status_callback
        self._validator = RequestValidator(auth_token)
        # An explicit environment: the SDK would otherwise read TWILIO_REGION/EDGE from os.environ
        # and rewrite the host it calls.
        self._client = Client(
            account_sid,
            auth_token,
            http_client=TwilioHttpClient(timeout=timeout),
            environment={"TWILIO_ACCOUNT_SID": account_sid},
        )
        self._client.api.base_url = api_base.rstrip("/")

    def send(self, *, to: str, body: str, reference: str = "", from_: str = "") -> SendResult:
        """Create a Message. A messaging service picks the sender from its pool unless `from_` is given."""
        params: dict = {"to": to, "body": body}
        if from_ or not self.messaging_service_sid:
            params["from_"] = from_ or self.from_number
        else:
            params["messaging_service_sid"] = self.messaging_service_sid
        if self.status_callback:
            params["status_callback"] = self.status_callback
        try:
            message = self._client.api.v2010.account.messages.create(**params)
        except TwilioRestException as exc:
            raise _translate(exc) from exc
        except requests.RequestException as exc:
            if _never_left(exc):
                raise SmsError(f"Twilio could not be reached: {exc}") from exc
            raise SmsTimeout(f"no answer from Twilio ({reference or to}): {exc}") from exc
        except TwilioException as exc:
            raise SmsTimeout(f"Twilio's answer could not be read: {exc}") from exc
        return SendResult(
            message_id=message.sid,
            status=message.status,
            to=message.to,
            from_=message.from_ or "",
            segments=int(message.num_segments or 1),
        )

    def parse_webhook(self, *, url: str, params: dict, headers: dict[str, str]) -> InboundMessage | DeliveryReport:
        signature = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), "")
        if not signature or not self._validator.validate(url, params, signature):
            raise WebhookSignatureError("the Twilio webhook's signature does not verify", permanent=True)
        return decode_twilio_webhook(webhook_params(params))


def _never_left(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached Twilio (no connection was made)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)


def _translate(exc: TwilioRestException) -> SmsError:
    code = str(exc.code or "")
    status = exc.status or 0
    if status >= 500:
        # The message may have been created before the error: an unknown outcome.
        return SmsTimeout(f"Twilio error {status}: {exc.msg}", code=code)
    # 400/404: this number or this body will never go; 401/403/429: the account, or too fast.
    permanent = status in (400, 404)
    return SmsError(f"Twilio refused the text ({status}, {code}): {exc.msg}", code=code, permanent=permanent)
