"""The Twilio adapter against the local Twilio stub: sending, refusals, lost answers, signed webhooks."""

import socket
import time

import pytest

from barnstorm.lib.sms.base import DeliveryReport, InboundMessage, SmsError, SmsTimeout, WebhookSignatureError
from barnstorm.lib.sms.twilio import TwilioProvider
from barnstorm.lib.tests.sms_stub import TwilioStub

SENDER = "+15155550100"
WEBHOOK_URL = "https://barnstorm.example.org/sms/twilio/inbound/?campaign=7"


@pytest.fixture
def stub():
    with TwilioStub() as twilio_stub:
        yield twilio_stub


@pytest.fixture
def twilio(stub):
    return TwilioProvider(
        account_sid=stub.account_sid, auth_token=stub.auth_token, from_number=SENDER, api_base=stub.url, timeout=1.0
    )


def test_a_text_is_created_through_the_messages_api(twilio, stub):
    result = twilio.send(to="+15155550123", body="See you at the house party at 5", reference="rsvp:1:reminder_2h")

    sent = stub.messages[result.message_id]
    assert result.message_id.startswith("SM") and result.status == "queued"
    assert (sent["to"], sent["from"], sent["body"]) == ("+15155550123", SENDER, "See you at the house party at 5")
    assert stub.requests == [("POST", f"/2010-04-01/Accounts/{stub.account_sid}/Messages.json")]
    assert (result.to, result.from_, result.segments) == ("+15155550123", SENDER, 1)


def test_a_messaging_service_sends_from_its_pool_unless_a_number_is_named(stub):
    provider = TwilioProvider(
        account_sid=stub.account_sid,
        auth_token=stub.auth_token,
        messaging_service_sid="MG" + "0" * 32,
        api_base=stub.url,
    )

    pooled = provider.send(to="+15155550123", body="Hi")
    named = provider.send(to="+15155550123", body="Hi", from_="+16035550101")

    assert stub.messages[pooled.message_id]["messaging_service_sid"] == "MG" + "0" * 32
    assert stub.messages[pooled.message_id]["from"] is None
    assert stub.messages[named.message_id]["from"] == "+16035550101"


def test_a_long_text_counts_its_segments(twilio):
    assert twilio.send(to="+15155550123", body="x" * 161).segments == 2


def test_an_invalid_number_is_refused_for_good_with_twilios_code(twilio, stub):
    with pytest.raises(SmsError) as refused:
        twilio.send(to="+15005550001", body="Hi")

    assert refused.value.code == "21211" and refused.value.permanent
    assert not isinstance(refused.value, SmsTimeout)
    assert stub.messages == {}


def test_a_number_that_said_stop_at_the_carrier_is_reported_as_such(twilio):
    with pytest.raises(SmsError) as refused:
        twilio.send(to="+15005550004", body="Hi")

    assert refused.value.code == "21610"


def test_wrong_credentials_are_refused_but_not_blamed_on_the_number(stub):
    provider = TwilioProvider(
        account_sid=stub.account_sid, auth_token="wrong", from_number=SENDER, api_base=stub.url, timeout=1.0
    )
    with pytest.raises(SmsError) as refused:
        provider.send(to="+15155550123", body="Hi")

    assert refused.value.code == "20003" and not refused.value.permanent


def test_a_server_error_is_an_unknown_outcome(twilio, stub):
    stub.fail_next(500)
    with pytest.raises(SmsTimeout):
        twilio.send(to="+15155550123", body="Hi")


def test_an_answer_that_comes_too_late_is_an_unknown_outcome_and_the_text_did_go(twilio, stub):
    stub.delay_next_response(3.0)
    started = time.monotonic()

    with pytest.raises(SmsTimeout):
        twilio.send(to="+15155550123", body="Hi")

    assert time.monotonic() - started < 2.5
    assert len(stub.messages) == 1  # why the caller must not simply send again


def test_a_server_that_is_not_there_is_a_failure_that_sent_nothing():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = TwilioProvider(
        account_sid="AC" + "1" * 32,
        auth_token="token",
        from_number=SENDER,
        api_base=f"http://127.0.0.1:{port}",
        timeout=1.0,
    )
    with pytest.raises(SmsError) as failed:
        provider.send(to="+15155550123", body="Hi")

    assert not isinstance(failed.value, SmsTimeout) and not failed.value.permanent


def test_the_client_ignores_twilio_region_and_edge_in_the_environment(stub, monkeypatch):
    monkeypatch.setenv("TWILIO_REGION", "au1")
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    provider = TwilioProvider(
        account_sid=stub.account_sid, auth_token=stub.auth_token, from_number=SENDER, api_base=stub.url
    )

    assert provider.send(to="+15155550123", body="Hi").message_id in stub.messages


def test_a_sender_is_required():
    with pytest.raises(ValueError):
        TwilioProvider(account_sid="AC" + "1" * 32, auth_token="token")


# webhooks ----------------------------------------------------------------------------------------


def inbound(body="STOP"):
    return {
        "MessageSid": "SM" + "a" * 32,
        "SmsSid": "SM" + "a" * 32,
        "AccountSid": "AC" + "b" * 32,
        "From": "+15155550123",
        "To": SENDER,
        "Body": body,
        "NumMedia": "0",
        "SmsStatus": "received",
    }


def test_a_signed_incoming_text_is_decoded(twilio, stub):
    params, headers = stub.signed_webhook(WEBHOOK_URL, inbound("Stop texting me"))

    message = twilio.parse_webhook(url=WEBHOOK_URL, params=params, headers=headers)

    assert isinstance(message, InboundMessage)
    assert (message.from_, message.to, message.body) == ("+15155550123", SENDER, "Stop texting me")


def test_a_django_querydict_verifies_like_a_dict(twilio, stub, rf):
    params, headers = stub.signed_webhook(WEBHOOK_URL, inbound())
    request = rf.post("/sms/twilio/inbound/?campaign=7", params)

    message = twilio.parse_webhook(url=WEBHOOK_URL, params=request.POST, headers=headers)

    assert message.body == "STOP"


def test_a_status_callback_is_a_delivery_report(twilio, stub):
    fields = {"MessageSid": "SM" + "c" * 32, "MessageStatus": "undelivered", "ErrorCode": "30003", "To": "+15155550123"}
    params, headers = stub.signed_webhook(WEBHOOK_URL, fields)

    report = twilio.parse_webhook(url=WEBHOOK_URL, params=params, headers=headers)

    assert isinstance(report, DeliveryReport)
    assert (report.status, report.error_code) == ("undelivered", "30003")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda params, headers, url: ({**params, "Body": "YES"}, headers, url),  # a changed field
        lambda params, headers, url: (params, headers, url.replace("campaign=7", "campaign=8")),  # another URL
        lambda params, headers, url: (params, {}, url),  # no signature at all
    ],
    ids=["field", "url", "unsigned"],
)
def test_a_webhook_that_does_not_verify_is_refused(twilio, stub, tamper):
    params, headers, url = tamper(*stub.signed_webhook(WEBHOOK_URL, inbound()), WEBHOOK_URL)

    with pytest.raises(WebhookSignatureError):
        twilio.parse_webhook(url=url, params=params, headers=headers)


def test_a_webhook_signed_with_another_accounts_token_is_refused(stub):
    other = TwilioProvider(account_sid=stub.account_sid, auth_token="another", from_number=SENDER, api_base=stub.url)
    params, headers = stub.signed_webhook(WEBHOOK_URL, inbound())

    with pytest.raises(WebhookSignatureError):
        other.parse_webhook(url=WEBHOOK_URL, params=params, headers=headers)
