"""The SMS provider interface: chosen by settings; the embedded sandbox keeps what it sends."""

import pytest
from django.test import override_settings

from barnstorm.lib.models import SandboxDirection, SandboxMessage
from barnstorm.lib.sms import SmsError, segments, sms_provider
from barnstorm.lib.sms.base import InboundMessage, WebhookSignatureError
from barnstorm.lib.sms.sandbox import DEFAULT_FROM, SandboxProvider
from barnstorm.lib.sms.twilio import TwilioProvider
from barnstorm.lib.tests.sms_stub import TwilioStub

pytestmark = pytest.mark.django_db


def test_the_sandbox_is_the_default_and_twilio_takes_over_when_configured():
    assert isinstance(sms_provider(), SandboxProvider)

    with TwilioStub() as stub:
        settings = {
            "TWILIO_ACCOUNT_SID": stub.account_sid,
            "TWILIO_AUTH_TOKEN": stub.auth_token,
            "TWILIO_FROM_NUMBER": "+15155550100",
            "TWILIO_API_BASE": stub.url,
        }
        with override_settings(**settings):
            provider = sms_provider()
            assert isinstance(provider, TwilioProvider)
            result = provider.send(to="+15155550123", body="Hi")
        assert result.message_id in stub.messages
    assert not SandboxMessage.objects.exists()


def test_the_sandbox_keeps_each_text_for_the_tests_and_the_demo_to_read():
    result = SandboxProvider().send(to="+15155550123", body="Reminder: house party at 5", reference="r1")

    message = SandboxMessage.objects.get()
    assert (message.to_number, message.from_number, message.body) == (
        "+15155550123",
        DEFAULT_FROM,
        "Reminder: house party at 5",
    )
    assert (message.direction, message.status, message.reference) == (SandboxDirection.OUTBOUND, "delivered", "r1")
    assert result.message_id == message.message_id and result.message_id.startswith("SB")
    assert not result.duplicate


def test_the_same_reference_sends_once_and_returns_the_first_message():
    sandbox = SandboxProvider()
    first = sandbox.send(to="+15155550123", body="Hi", reference="rsvp:1:reminder_24h")
    again = sandbox.send(to="+15155550123", body="Hi", reference="rsvp:1:reminder_24h")
    other = sandbox.send(to="+15155550123", body="Hi", reference="rsvp:1:reminder_2h")

    assert again.duplicate and again.message_id == first.message_id
    assert other.message_id != first.message_id
    assert SandboxMessage.objects.count() == 2


def test_texts_without_a_reference_are_each_sent():
    sandbox = SandboxProvider()
    sandbox.send(to="+15155550123", body="Hi")
    sandbox.send(to="+15155550123", body="Hi")

    assert SandboxMessage.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_racing_sends_with_one_reference_send_one_text(race):
    results = race(4, lambda n: SandboxProvider().send(to="+15155550123", body="Hi", reference="same"))

    assert SandboxMessage.objects.count() == 1
    assert len({r.message_id for r in results}) == 1 and sum(not r.duplicate for r in results) == 1


@pytest.mark.parametrize(
    ("to", "code"),
    [("5155550123", "21211"), ("+1 515 555 0123", "21211"), ("+15005550001", "21211"), ("+15005550004", "21610")],
)
def test_the_sandbox_refuses_what_twilio_refuses(to, code):
    with pytest.raises(SmsError) as refused:
        SandboxProvider().send(to=to, body="Hi")

    assert refused.value.code == code and refused.value.permanent
    assert not SandboxMessage.objects.exists()


def test_a_reply_is_kept_and_comes_back_as_an_inbound_message():
    sandbox = SandboxProvider()
    message = sandbox.receive(from_="+15155550123", body="STOP")

    assert isinstance(message, InboundMessage)
    assert (message.from_, message.to, message.body) == ("+15155550123", DEFAULT_FROM, "STOP")
    stored = SandboxMessage.objects.get()
    assert (stored.direction, stored.status, stored.message_id) == ("inbound", "received", message.message_id)


def test_sandbox_webhooks_are_signed_and_checked_like_twilios():
    sandbox = SandboxProvider()
    url = "http://127.0.0.1:8000/sms/inbound/"
    params = {"MessageSid": "SB" + "1" * 32, "From": "+15155550123", "To": DEFAULT_FROM, "Body": "yes"}
    headers = {"X-Twilio-Signature": sandbox.webhook_signature(url=url, params=params)}

    assert sandbox.parse_webhook(url=url, params=params, headers=headers).body == "yes"
    with pytest.raises(WebhookSignatureError):
        sandbox.parse_webhook(url=url, params={**params, "Body": "no"}, headers=headers)


@pytest.mark.parametrize(
    ("body", "count"),
    [
        ("x" * 160, 1),
        ("x" * 161, 2),
        ("x" * 306, 2),
        ("x" * 307, 3),
        ("[" * 80, 1),  # GSM-7 extension characters take two places
        ("[" * 81, 2),
        ("é" * 160, 1),  # é is in the GSM-7 alphabet
        ("ü" + "ñ" * 159, 1),
        ("ó" * 70, 1),  # ó is not: the whole text is UCS-2
        ("ó" * 71, 2),
        ("🗳" * 35, 1),  # outside the BMP: two UTF-16 units each
        ("🗳" * 36, 2),
    ],
)
def test_segments_are_counted_as_carriers_bill_them(body, count):
    assert segments(body) == count
