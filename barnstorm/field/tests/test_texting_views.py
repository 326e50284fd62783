"""Texting pages: a volunteer's batch and conversations (theirs alone), and the SMS provider's webhook,
through the sandbox and through the Twilio adapter against the local Twilio stub."""

from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from barnstorm.field.models import (
    Answer,
    Attempt,
    CannedResponse,
    Contact,
    ContactStatus,
    SendingNumber,
    Step,
    TextDirection,
    TextMessage,
)
from barnstorm.field.services import contacts_lease
from barnstorm.field.texting import text_initial_send
from barnstorm.lib.models import SandboxMessage
from barnstorm.lib.sms.sandbox import SandboxProvider
from barnstorm.lib.tests.sms_stub import TwilioStub
from barnstorm.people.models import PhoneNumber

FIRST_TEXT = "Hi {{ person.given_name }}, it's {{ volunteer.given_name }}. Can we count on you?"
LINE = "+15155550101"


@pytest.fixture(autouse=True)
def _daytime_everywhere(settings):
    """The pages run on the real clock: every hour is a texting hour here (test_texting_hours checks hours)."""
    settings.TEXTING_HOURS = "0-24"


@pytest.fixture
def campaign(callable_people, make_campaign):
    campaign = make_campaign("text", initial_message=FIRST_TEXT, batch_size=3)
    SendingNumber.objects.create(number=LINE).campaigns.add(campaign)
    CannedResponse.objects.create(campaign=campaign, title="Thanks", body="Thank you, {{ person.given_name }}!")
    return campaign


@pytest.fixture
def held(campaign, vera):
    return contacts_lease(campaign=campaign, volunteer=vera).contacts


@pytest.fixture
def texted(held, vera):
    text_initial_send(contact=held[0], volunteer=vera)
    return held[0]


def url(name, campaign, contact=None):
    args = [campaign.pk] + ([contact.pk] if contact is not None else [])
    return reverse(f"field:{name}", args=args)


def webhook_url(settings):
    return settings.SITE_URL.rstrip("/") + reverse("field:texting_inbound")


def sandbox_webhook(client, settings, params, signature=None):
    if signature is None:
        signature = SandboxProvider().webhook_signature(url=webhook_url(settings), params=params)
    return client.post(reverse("field:texting_inbound"), params, headers={"X-Twilio-Signature": signature})


# Who may see what ---------------------------------------------------------------------------------


def test_anonymous_visitors_are_asked_to_sign_in(client, campaign, held):
    for response in (
        client.get(url("texting_home", campaign)),
        client.get(url("texting_conversation", campaign, held[0])),
        client.post(url("texting_send", campaign, held[0])),
    ):
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:magic_start"))
    assert not SandboxMessage.objects.exists()


def test_another_volunteer_finds_nothing_of_someone_elses_batch(client, campaign, texted, make_volunteer):
    client.force_login(make_volunteer("will"))

    assert client.get(url("texting_conversation", campaign, texted)).status_code == 404
    assert client.get(url("texting_thread", campaign, texted)).status_code == 404
    for name in ("texting_send", "texting_reply", "texting_record", "texting_opt_out"):
        assert client.post(url(name, campaign, texted), {"body": "hi", "disposition": "reached"}).status_code == 404
    assert TextMessage.objects.count() == 1
    assert PhoneNumber.objects.get(number=texted.phone).sms_opted_out_at is None
    assert Contact.objects.get(pk=texted.pk).status == ContactStatus.LEASED


def test_an_organizer_can_read_any_conversation(staff_client, campaign, texted):
    response = staff_client.get(url("texting_conversation", campaign, texted))

    assert response.status_code == 200
    assert "Can we count on you?" in response.content.decode()


def test_a_phone_bank_is_not_a_texting_campaign(vera_client, make_campaign, callable_people):
    phone_bank = make_campaign("phone")

    assert vera_client.get(url("texting_home", phone_bank)).status_code == 404


# The batch ---------------------------------------------------------------------------------------------


def test_give_me_more_leases_a_batch_with_each_first_text_ready(vera_client, campaign):
    response = vera_client.post(url("texting_more", campaign), follow=True)

    page = response.content.decode()
    assert "3 more people to text." in page
    for contact in Contact.objects.filter(leased_to__username="vera"):
        assert f"Hi {contact.person.given_name}, it&#x27;s Vera. Can we count on you?" in page
    assert page.count(">Send</button>") == 3


def test_give_me_more_adds_to_the_conversations_going_on(vera_client, campaign, texted):
    vera_client.post(url("texting_more", campaign))

    assert Contact.objects.filter(leased_to__username="vera", status=ContactStatus.LEASED).count() == 6


def test_one_click_sends_one_text_and_a_double_click_no_second(vera_client, campaign, held):
    send = url("texting_send", campaign, held[0])

    first = vera_client.post(send, headers={"HX-Request": "true"})
    second = vera_client.post(send, headers={"HX-Request": "true"})

    assert first.status_code == second.status_code == 200
    assert "Open the conversation" in first.content.decode()
    assert "Open the conversation" in second.content.decode() and 'role="alert"' not in second.content.decode()
    assert SandboxMessage.objects.filter(to_number=held[0].phone).count() == 1
    assert TextMessage.objects.filter(contact=held[0]).count() == 1


def test_without_htmx_sending_comes_back_to_the_batch(vera_client, campaign, held):
    response = vera_client.post(url("texting_send", campaign, held[0]))

    assert response.status_code == 302 and response.url == url("texting_home", campaign)
    assert SandboxMessage.objects.filter(to_number=held[0].phone).count() == 1


def test_a_refusal_is_shown_on_the_contacts_row(vera_client, campaign, held):
    PhoneNumber.objects.filter(number=held[0].phone).update(sms_consent=False)

    response = vera_client.post(url("texting_send", campaign, held[0]), headers={"HX-Request": "true"})

    assert "hasn&#x27;t agreed to get texts" in response.content.decode()
    assert not SandboxMessage.objects.exists()


def test_the_batch_page_costs_the_same_queries_for_three_contacts_or_thirty(vera_client, campaign, vera):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert vera_client.get(url("texting_home", campaign)).status_code == 200
        return len(captured)

    contacts_lease(campaign=campaign, volunteer=vera, count=3)
    few = queries()
    contacts_lease(campaign=campaign, volunteer=vera, count=30)
    text_initial_send(contact=Contact.objects.filter(leased_to=vera).first(), volunteer=vera)

    assert queries() == few


# A conversation -------------------------------------------------------------------------------------


def test_the_conversation_shows_the_thread_the_replies_and_the_script(vera_client, campaign, texted, settings):
    sandbox_webhook(vera_client, settings, {"MessageSid": "SMr1", "From": texted.phone, "To": LINE, "Body": "Sure!"})

    page = vera_client.get(url("texting_conversation", campaign, texted)).content.decode()
    thread = vera_client.get(url("texting_thread", campaign, texted)).content.decode()

    assert "Can we count on you?" in page and "Sure!" in page
    assert "Sure!" in thread and 'hx-trigger="every 4s"' in thread
    assert "Thanks" in page  # the canned response
    assert "Can we count on you?" in page and "Strong support" in page  # the script's question


def test_a_canned_response_is_sent_personalised(vera_client, campaign, texted):
    canned = CannedResponse.objects.get()

    vera_client.post(url("texting_reply", campaign, texted), {"canned": canned.pk, "key": "k1"})

    reply = TextMessage.objects.filter(contact=texted).last()
    assert reply.body == f"Thank you, {texted.person.given_name}!"
    assert SandboxMessage.objects.filter(to_number=texted.phone).count() == 2


def test_a_reply_form_submitted_twice_sends_once(vera_client, campaign, texted):
    for _ in range(2):
        response = vera_client.post(url("texting_reply", campaign, texted), {"body": "See you there", "key": "k2"})
        assert response.status_code == 302

    assert TextMessage.objects.filter(contact=texted, body="See you there").count() == 1


def test_recording_the_conversation_saves_the_answers_and_finishes_it(vera_client, campaign, texted):
    support = Step.objects.get(name="Support")
    notes = Step.objects.get(name="Notes")
    strong = support.choices.get(label="Strong support")

    response = vera_client.post(
        url("texting_record", campaign, texted),
        {"disposition": "reached", f"q{support.pk}": strong.pk, f"q{notes.pk}": "Wants a yard sign"},
    )

    assert response.status_code == 302 and response.url == url("texting_home", campaign)
    attempt = Attempt.objects.get(contact=texted)
    assert (attempt.channel, attempt.disposition) == ("text", "reached")
    assert {(a.step_id, a.choice_id, a.text) for a in Answer.objects.filter(attempt=attempt)} == {
        (support.pk, strong.pk, ""),
        (notes.pk, None, "Wants a yard sign"),
    }
    assert Contact.objects.get(pk=texted.pk).status == ContactStatus.DONE
    assert vera_client.get(url("texting_conversation", campaign, texted)).status_code == 404


def test_the_opt_out_button_stops_texts_from_every_campaign(
    vera_client, campaign, texted, make_campaign, make_volunteer
):
    vera_client.post(url("texting_opt_out", campaign, texted))

    assert PhoneNumber.objects.get(number=texted.phone).sms_opted_out_at is not None
    response = vera_client.post(url("texting_reply", campaign, texted), {"body": "One more thing"}, follow=True)
    assert "has opted out of texts" in response.content.decode()
    assert TextMessage.objects.filter(contact=texted).count() == 1


# The webhook, through the sandbox -------------------------------------------------------------------


def test_a_signed_reply_is_threaded_and_answered_with_empty_twiml(client, settings, texted):
    params = {"MessageSid": "SMreply1", "From": texted.phone, "To": LINE, "Body": "Who is this?"}

    response = sandbox_webhook(client, settings, params)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.decode() == '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    reply = TextMessage.objects.get(provider_id="SMreply1")
    assert (reply.direction, reply.contact_id, reply.body) == (TextDirection.IN, texted.pk, "Who is this?")


def test_a_webhook_delivered_twice_is_one_message(client, settings, texted):
    params = {"MessageSid": "SMreply2", "From": texted.phone, "To": LINE, "Body": "Yes"}

    sandbox_webhook(client, settings, params)
    sandbox_webhook(client, settings, params)

    assert TextMessage.objects.filter(direction=TextDirection.IN).count() == 1


def test_a_bad_or_missing_signature_is_refused(client, settings, texted):
    params = {"MessageSid": "SMforged", "From": texted.phone, "To": LINE, "Body": "STOP"}

    assert sandbox_webhook(client, settings, params, signature="forged").status_code == 403
    assert client.post(reverse("field:texting_inbound"), params).status_code == 403
    tampered = SandboxProvider().webhook_signature(url=webhook_url(settings), params={**params, "Body": "Hi"})
    assert sandbox_webhook(client, settings, params, signature=tampered).status_code == 403
    assert not TextMessage.objects.filter(direction=TextDirection.IN).exists()
    assert PhoneNumber.objects.get(number=texted.phone).sms_opted_out_at is None


def test_stop_through_the_webhook_opts_the_number_out(client, settings, texted):
    sandbox_webhook(
        client, settings, {"MessageSid": "SMstop", "From": texted.phone, "To": LINE, "Body": "Stop texting me"}
    )

    assert PhoneNumber.objects.get(number=texted.phone).sms_opted_out_at is not None


def test_a_delivery_report_updates_the_text(client, settings, texted):
    message = TextMessage.objects.get(contact=texted)
    TextMessage.objects.filter(pk=message.pk).update(status="queued")

    response = sandbox_webhook(client, settings, {"MessageSid": message.provider_id, "MessageStatus": "delivered"})

    assert response.status_code == 200
    message.refresh_from_db()
    assert message.status == "delivered"


# The webhook and sending, through the Twilio adapter and the local Twilio stub -----------------------


@pytest.fixture
def twilio(settings):
    with TwilioStub() as stub:
        settings.TWILIO_ACCOUNT_SID = stub.account_sid
        settings.TWILIO_AUTH_TOKEN = stub.auth_token
        settings.TWILIO_FROM_NUMBER = "+15155550100"
        settings.TWILIO_API_BASE = stub.url
        yield stub


def twilio_post(client, params, headers):
    """A webhook as Twilio POSTs it: form-encoded, signed."""
    signature = {k: v for k, v in headers.items() if k != "Content-Type"}
    return client.post(
        reverse("field:texting_inbound"),
        urlencode(params),
        content_type=headers["Content-Type"],
        headers=signature,
    )


def test_with_twilio_texts_go_from_the_pool_and_replies_come_back_signed(vera_client, campaign, held, twilio, settings):
    vera_client.post(url("texting_send", campaign, held[0]))

    [sent] = twilio.messages.values()
    assert (sent["to"], sent["from"]) == (held[0].phone, LINE)
    message = TextMessage.objects.get(contact=held[0])
    assert (message.provider_id, message.status) == (sent["sid"], "queued")

    params, headers = twilio.signed_webhook(
        webhook_url(settings), {"MessageSid": "SM" + "1" * 32, "From": held[0].phone, "To": LINE, "Body": "QUIT"}
    )
    response = twilio_post(vera_client, params, headers)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
    assert TextMessage.objects.get(provider_id="SM" + "1" * 32).contact_id == held[0].pk
    assert PhoneNumber.objects.get(number=held[0].phone).sms_opted_out_at is not None

    params, headers = twilio.signed_webhook(
        webhook_url(settings), {"MessageSid": sent["sid"], "MessageStatus": "delivered", "To": held[0].phone}
    )
    twilio_post(vera_client, params, headers)
    message.refresh_from_db()
    assert message.status == "delivered"


def test_with_twilio_a_webhook_signed_with_another_key_is_refused(client, settings, texted, twilio):
    params = {"MessageSid": "SM" + "2" * 32, "From": texted.phone, "To": LINE, "Body": "STOP"}
    sandbox_signed = SandboxProvider().webhook_signature(url=webhook_url(settings), params=params)

    response = client.post(reverse("field:texting_inbound"), params, headers={"X-Twilio-Signature": sandbox_signed})

    assert response.status_code == 403
    assert PhoneNumber.objects.get(number=texted.phone).sms_opted_out_at is None
