"""Click-to-call through the campaign line, against the local Twilio stub taught the Calls API:
who may call whom, the numbers never to ring, what Twilio is asked, and the caller page's button."""

import base64
import re
import secrets
import socket

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from barnstorm.accounts.models import Role, User
from barnstorm.field.calls import call_bridge_start
from barnstorm.field.models import Contact, SendingNumber
from barnstorm.field.services import contacts_lease
from barnstorm.lib.tests.sms_stub import TwilioStub, _error
from barnstorm.people.services import PersonInput, person_upsert, phone_do_not_call_set

LINE = "+15155550100"
VERA_PHONE = "+15155559001"
_CALLS = re.compile(r"/2010-04-01/Accounts/(?P<account>AC[0-9a-f]{32})/Calls\.json")
_E164 = re.compile(r"\+[1-9]\d{6,14}")


class CallsStub(TwilioStub):
    """The shared Twilio stub, also answering `POST …/Calls.json` as Twilio does (201 and a Call)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: dict[str, dict] = {}  # sid -> the form Twilio was sent, in creation order

    def _route(self, method: str, path: str, authorization: str, form: dict[str, str]) -> tuple[int, dict]:
        match = _CALLS.fullmatch(path)
        if not match:
            return super()._route(method, path, authorization, form)
        if authorization != self._basic_auth():
            return 401, _error(401, 20003, "Authenticate")
        if match["account"] != self.account_sid:
            return 403, _error(403, 20003, "Account SID does not match the credentials")
        if method != "POST":
            return 405, _error(405, 20004, "Method not allowed")
        to, sender = form.get("To", ""), form.get("From", "")
        if not _E164.fullmatch(to):
            return 400, _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not sender:
            return 400, _error(400, 21213, "Caller phone number is required")
        if not form.get("Url") and not form.get("Twiml") and not form.get("ApplicationSid"):
            return 400, _error(400, 21205, "Url parameter is required")
        sid = "CA" + secrets.token_hex(16)
        self.calls[sid] = form
        return 201, {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": to,
            "from": sender,
            "status": "queued",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}.json",
        }

    def _basic_auth(self) -> str:
        return "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()


@pytest.fixture
def stub():
    with CallsStub() as twilio_stub:
        yield twilio_stub


@pytest.fixture
def twilio(settings, stub):
    settings.TWILIO_ACCOUNT_SID = stub.account_sid
    settings.TWILIO_AUTH_TOKEN = stub.auth_token
    settings.TWILIO_API_BASE = stub.url
    settings.TWILIO_FROM_NUMBER = LINE
    return stub


def _volunteer(username: str, phone: str = "", role: str = Role.VOLUNTEER) -> User:
    data = PersonInput(email=f"{username}@volunteers.test", given_name=username.title(), phone=phone)
    person = person_upsert(data=data).person
    return User.objects.create_user(username, f"{username}@volunteers.test", None, role=role, person=person)


@pytest.fixture
def vera(db):
    return _volunteer("vera", VERA_PHONE)


@pytest.fixture
def phone_bank(callable_people, make_campaign):
    return make_campaign("phone")


@pytest.fixture
def contact(phone_bank, vera):
    return contacts_lease(campaign=phone_bank, volunteer=vera, count=1).contacts[0]


def _call_url(contact):
    return reverse("field:call", args=[contact.campaign_id, contact.pk])


def _bridge_url(contact):
    return reverse("field:call_bridge", args=[contact.campaign_id, contact.pk])


# The service -----------------------------------------------------------------------------------


def test_twilio_rings_the_volunteer_from_the_campaign_line_and_dials_the_contact(twilio, vera, contact):
    sid = call_bridge_start(contact=contact, volunteer=vera)

    sent = twilio.calls[sid]
    assert sid.startswith("CA")
    assert (sent["To"], sent["From"]) == (VERA_PHONE, LINE)
    assert f'<Dial callerId="{LINE}"><Number>{contact.phone}</Number></Dial>' in sent["Twiml"]
    assert twilio.requests == [("POST", f"/2010-04-01/Accounts/{twilio.account_sid}/Calls.json")]


def test_a_double_tap_rings_once(twilio, vera, contact):
    call_bridge_start(contact=contact, volunteer=vera)
    with pytest.raises(ValidationError, match="already ringing"):
        call_bridge_start(contact=contact, volunteer=vera)
    assert len(twilio.calls) == 1


def test_without_a_twilio_number_the_line_is_the_campaigns_first_sending_number(
    twilio, settings, vera, phone_bank, contact
):
    settings.TWILIO_FROM_NUMBER = ""
    for number in ("+15155550201", "+15155550202"):
        SendingNumber.objects.create(number=number).campaigns.add(phone_bank)

    sid = call_bridge_start(contact=contact, volunteer=vera)

    assert twilio.calls[sid]["From"] == "+15155550201"
    assert 'callerId="+15155550201"' in twilio.calls[sid]["Twiml"]


def test_a_campaign_without_any_line_is_refused(twilio, settings, vera, contact):
    settings.TWILIO_FROM_NUMBER = ""

    with pytest.raises(ValidationError, match="no phone line"):
        call_bridge_start(contact=contact, volunteer=vera)

    assert twilio.requests == []


def test_a_do_not_call_number_is_refused_without_asking_twilio(twilio, vera, contact):
    phone_do_not_call_set(number=contact.phone)

    with pytest.raises(ValidationError, match="do-not-call"):
        call_bridge_start(contact=contact, volunteer=vera)

    assert twilio.requests == []


def test_a_contact_without_a_phone_is_refused(twilio, vera, contact):
    Contact.objects.filter(pk=contact.pk).update(phone="")

    with pytest.raises(ValidationError, match="no phone number to call"):
        call_bridge_start(contact=contact, volunteer=vera)

    assert twilio.requests == []


def test_a_volunteer_without_a_phone_of_their_own_is_told_so(twilio, phone_bank):
    otto = _volunteer("otto")  # an email only
    theirs = contacts_lease(campaign=phone_bank, volunteer=otto, count=1).contacts[0]

    with pytest.raises(ValidationError) as refused:
        call_bridge_start(contact=theirs, volunteer=otto)

    assert "We don't have a phone number for you" in refused.value.messages[0]
    assert twilio.requests == []


def test_nobody_calls_a_contact_another_volunteer_holds(twilio, contact):
    otto = _volunteer("otto", "+15155559002")

    with pytest.raises(PermissionDenied):
        call_bridge_start(contact=contact, volunteer=otto)

    assert twilio.requests == []


def test_a_contact_whose_lease_ran_out_cannot_be_called(twilio, vera, contact):
    Contact.objects.filter(pk=contact.pk).update(leased_until=timezone.now())

    with pytest.raises(PermissionDenied):
        call_bridge_start(contact=contact, volunteer=vera)

    assert twilio.requests == []


def test_an_organizer_may_call_any_contact(twilio, contact):
    olga = _volunteer("olga", "+15155559003", role=Role.ORGANIZER)

    sid = call_bridge_start(contact=contact, volunteer=olga)

    assert twilio.calls[sid]["To"] == "+15155559003"


def test_a_twilio_refusal_is_a_readable_error(twilio, settings, vera, contact):
    settings.TWILIO_AUTH_TOKEN = "wrong"

    with pytest.raises(ValidationError) as refused:
        call_bridge_start(contact=contact, volunteer=vera)

    assert refused.value.messages == ["Twilio couldn't place the call: Authenticate (error 20003)."]
    assert twilio.calls == {}


def test_twilio_out_of_reach_is_a_readable_error(twilio, settings, vera, contact):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        settings.TWILIO_API_BASE = f"http://127.0.0.1:{probe.getsockname()[1]}"

    with pytest.raises(ValidationError, match="Twilio didn't answer"):
        call_bridge_start(contact=contact, volunteer=vera)


# The caller page -------------------------------------------------------------------------------


def test_the_caller_page_offers_the_campaign_line_when_twilio_is_set_up(twilio, vera_client, contact):
    page = vera_client.get(_call_url(contact)).content.decode()

    assert "Call through the campaign line" in page
    assert f'action="{_bridge_url(contact)}"' in page


def test_the_caller_page_has_no_campaign_line_button_without_twilio(settings, vera_client, contact):
    settings.TWILIO_ACCOUNT_SID = ""

    page = vera_client.get(_call_url(contact)).content.decode()

    assert "Call through the campaign line" not in page
    assert _bridge_url(contact) not in page


def test_pressing_the_button_rings_and_comes_back_to_the_caller_page(twilio, vera_client, contact):
    response = vera_client.post(_bridge_url(contact), follow=True)

    assert response.redirect_chain == [(_call_url(contact), 302)]
    assert "Your phone will ring; answer it to be connected to Voter" in response.content.decode()
    assert [form["To"] for form in twilio.calls.values()] == [VERA_PHONE]


def test_a_refused_call_comes_back_with_the_reason(twilio, vera_client, contact):
    phone_do_not_call_set(number=contact.phone)

    response = vera_client.post(_bridge_url(contact), follow=True)

    assert response.redirect_chain == [(_call_url(contact), 302)]
    assert "is on the do-not-call list" in response.content.decode()
    assert twilio.requests == []


def test_the_bridge_is_only_for_the_volunteers_own_contacts(twilio, client, contact):
    client.force_login(_volunteer("otto", "+15155559002"))

    assert client.post(_bridge_url(contact)).status_code == 404
    assert twilio.requests == []


def test_the_bridge_takes_a_post_from_a_signed_in_volunteer_only(twilio, client, vera_client, contact):
    assert vera_client.get(_bridge_url(contact)).status_code == 405
    vera_client.logout()
    response = client.post(_bridge_url(contact))

    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:magic_start"))
    assert twilio.requests == []
