"""Peer-to-peer texting: first texts sent once each, on a volunteer's click, within the sending
numbers' caps; replies threaded into their conversation; opt-outs honoured at once, everywhere."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from barnstorm.field.models import (
    CampaignStatus,
    Contact,
    ContactStatus,
    Disposition,
    NumberUsage,
    SendingNumber,
    TextDirection,
    TextMessage,
)
from barnstorm.field.services import attempt_record, contacts_expire_leases, contacts_lease
from barnstorm.field.texting import (
    is_opt_out,
    text_delivery_record,
    text_inbound_record,
    text_initial_send,
    text_opt_out,
    text_reply_send,
)
from barnstorm.lib.models import SandboxMessage
from barnstorm.people.models import PhoneNumber

# 17:00 UTC on a June Tuesday: noon in Des Moines, where the test people's 515 numbers are.
NOON = datetime(2025, 6, 10, 17, 0, tzinfo=UTC)
FIRST_TEXT = "Hi {{ person.given_name }}, it's {{ volunteer.given_name }} with the campaign. Can we count on you?"


@pytest.fixture
def make_texting(make_campaign):
    def make(numbers=(("+15155550101", 200),), **fields):
        campaign = make_campaign("text", initial_message=FIRST_TEXT, **fields)
        for number, cap in numbers:
            SendingNumber.objects.get_or_create(number=number, defaults={"daily_cap": cap})[0].campaigns.add(campaign)
        return campaign

    return make


@pytest.fixture
def campaign(callable_people, make_texting):
    return make_texting()


def lease(campaign, volunteer, count=5):
    return contacts_lease(campaign=campaign, volunteer=volunteer, count=count, now=NOON).contacts


def inbound(contact, body, provider_id="SMinbound1", to=""):
    last = contact.texts.filter(direction=TextDirection.OUT).last()
    return text_inbound_record(
        from_number=contact.phone, to_number=to or last.from_number, body=body, provider_id=provider_id
    )


# The first text ---------------------------------------------------------------------------------


def test_the_first_text_is_personal_and_goes_from_the_campaigns_number(campaign, vera):
    contact = lease(campaign, vera)[0]

    message = text_initial_send(contact=contact, volunteer=vera, now=NOON)

    expected = f"Hi {contact.person.given_name}, it's Vera with the campaign. Can we count on you?"
    assert (message.direction, message.body, message.sent_by, message.campaign) == ("out", expected, vera, campaign)
    assert (message.from_number, message.to_number) == ("+15155550101", contact.phone)
    phone = SandboxMessage.objects.get(to_number=contact.phone)
    assert (phone.body, phone.from_number, phone.message_id) == (expected, "+15155550101", message.provider_id)


def test_names_are_not_html_escaped(campaign, vera):
    contact = lease(campaign, vera)[0]
    contact.person.given_name = "D'Andre"
    contact.person.save(update_fields=["given_name"])

    assert text_initial_send(contact=contact, volunteer=vera, now=NOON).body.startswith("Hi D'Andre,")


@pytest.mark.parametrize("mistake", ["Hi {% if %}", 'Hi {% include "base.html" %}', "Hi {{ person.given_name|nope }}"])
def test_a_first_text_with_a_mistake_is_refused_not_sent(callable_people, make_texting, vera, mistake):
    campaign = make_texting()
    campaign.initial_message = mistake
    campaign.save(update_fields=["initial_message"])
    contact = lease(campaign, vera)[0]

    with pytest.raises(ValidationError, match="mistake"):
        text_initial_send(contact=contact, volunteer=vera, now=NOON)
    assert not SandboxMessage.objects.exists()


def test_a_double_click_sends_the_first_text_once(campaign, vera):
    contact = lease(campaign, vera)[0]
    text_initial_send(contact=contact, volunteer=vera, now=NOON)

    with pytest.raises(ValidationError, match="already been sent the first text"):
        text_initial_send(contact=contact, volunteer=vera, now=NOON)

    assert TextMessage.objects.filter(contact=contact).count() == 1
    assert SandboxMessage.objects.filter(to_number=contact.phone).count() == 1
    assert NumberUsage.objects.get().sent == 1


def test_the_first_text_stays_sent_once_even_after_the_contact_comes_back(campaign, vera, make_volunteer, settings):
    settings.TEXTING_HOURS = "0-24"  # attempts are stamped with the real clock: so is this test
    contact = lease(campaign, vera)[0]
    text_initial_send(contact=contact, volunteer=vera, now=NOON)
    attempt_record(contact=contact, volunteer=vera, disposition=Disposition.NO_ANSWER, now=NOON + timedelta(minutes=5))
    later = timezone.now() + timedelta(days=2)
    will = make_volunteer("will")
    again = contacts_lease(campaign=campaign, volunteer=will, count=30, now=later).contacts
    assert contact.pk in {c.pk for c in again}

    with pytest.raises(ValidationError, match="already been sent"):
        text_initial_send(contact=contact, volunteer=will, now=later)


@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_send_one_text(callable_people, make_texting, make_volunteer, race):
    campaign = make_texting()
    vera = make_volunteer("vera")
    contact = lease(campaign, vera)[0]
    outcomes = race(
        4, lambda n: text_initial_send(contact=contact, volunteer=vera, now=NOON), refused=(ValidationError,)
    )

    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert (len(outcomes) - len(refused), len(refused)) == (1, 3)
    assert TextMessage.objects.filter(contact=contact).count() == 1
    assert SandboxMessage.objects.filter(to_number=contact.phone).count() == 1


def test_only_the_volunteer_holding_the_contact_can_text_it(campaign, vera, make_volunteer):
    contact = lease(campaign, vera)[0]

    with pytest.raises(PermissionDenied):
        text_initial_send(contact=contact, volunteer=make_volunteer("will"), now=NOON)
    with pytest.raises(PermissionDenied):  # the lease ran out
        text_initial_send(contact=contact, volunteer=vera, now=NOON + timedelta(minutes=31))
    assert not TextMessage.objects.exists()


def test_sending_keeps_the_conversation_with_the_volunteer(campaign, vera):
    contact = lease(campaign, vera)[0]

    text_initial_send(contact=contact, volunteer=vera, now=NOON + timedelta(minutes=20))

    contact.refresh_from_db()
    assert (contact.status, contact.leased_to) == (ContactStatus.LEASED, vera)
    assert contact.leased_until == NOON + timedelta(minutes=20, days=7)  # replies come when they come
    assert contact.attempts == 0  # finishing it is the volunteer's call, with attempt_record

    # Three hours later the volunteer's other contacts may have gone back, this conversation not.
    later = NOON + timedelta(hours=3)
    assert contacts_expire_leases(campaign=campaign, now=later) == 4
    inbound(contact, "Sure, what's up?")
    text_reply_send(contact=contact, volunteer=vera, body="Thanks! Can we count on your vote?", now=later)
    assert contacts_lease(campaign=campaign, volunteer=vera, now=later).contacts[0].pk == contact.pk


def test_a_campaign_that_is_paused_sends_nothing(campaign, vera):
    contact = lease(campaign, vera)[0]
    campaign.status = CampaignStatus.PAUSED
    campaign.save(update_fields=["status"])

    with pytest.raises(ValidationError, match="isn't sending texts"):
        text_initial_send(contact=contact, volunteer=vera, now=NOON)


def test_a_number_without_consent_is_not_texted(campaign, vera):
    contact = lease(campaign, vera)[0]
    PhoneNumber.objects.filter(number=contact.phone).update(sms_consent=False)

    with pytest.raises(ValidationError, match="hasn't agreed to get texts"):
        text_initial_send(contact=contact, volunteer=vera, now=NOON)
    assert not SandboxMessage.objects.exists()


def test_a_campaign_without_numbers_says_so(callable_people, make_texting, vera):
    campaign = make_texting(numbers=())
    contact = lease(campaign, vera)[0]

    with pytest.raises(ValidationError, match="no number to text from"):
        text_initial_send(contact=contact, volunteer=vera, now=NOON)
    # Nothing was claimed: once a number is added, the text can go.
    SendingNumber.objects.create(number="+15155550109").campaigns.add(campaign)
    assert text_initial_send(contact=contact, volunteer=vera, now=NOON).from_number == "+15155550109"


# Sending numbers ----------------------------------------------------------------------------------


def test_texts_spread_over_the_numbers_and_stop_at_their_caps(callable_people, make_texting, vera):
    campaign = make_texting(numbers=(("+15155550101", 2), ("+15155550102", 2)))
    contacts = lease(campaign, vera, count=6)

    senders = [text_initial_send(contact=c, volunteer=vera, now=NOON).from_number for c in contacts[:4]]

    assert senders == ["+15155550101", "+15155550102", "+15155550101", "+15155550102"]
    with pytest.raises(ValidationError, match="sending numbers have all sent their texts for today"):
        text_initial_send(contact=contacts[4], volunteer=vera, now=NOON)
    assert not TextMessage.objects.filter(contact=contacts[4]).exists()
    assert sorted(NumberUsage.objects.values_list("sent", flat=True)) == [2, 2]
    # The refused contact was not used up: with another number it goes.
    SendingNumber.objects.create(number="+15155550103", daily_cap=2).campaigns.add(campaign)
    assert text_initial_send(contact=contacts[4], volunteer=vera, now=NOON).from_number == "+15155550103"


def test_a_new_day_brings_a_fresh_cap(callable_people, make_texting, vera):
    campaign = make_texting(numbers=(("+15155550101", 1),))
    first, second = lease(campaign, vera, count=2)
    text_initial_send(contact=first, volunteer=vera, now=NOON)
    with pytest.raises(ValidationError, match="for today"):
        text_initial_send(contact=second, volunteer=vera, now=NOON)

    tomorrow = NOON + timedelta(days=1)
    Contact.objects.filter(pk=second.pk).update(leased_until=tomorrow + timedelta(minutes=30))
    assert text_initial_send(contact=second, volunteer=vera, now=tomorrow)


def test_an_inactive_number_is_not_used(callable_people, make_texting, vera):
    campaign = make_texting(numbers=(("+15155550101", 200), ("+15155550102", 200)))
    SendingNumber.objects.filter(number="+15155550101").update(is_active=False)

    senders = {text_initial_send(contact=c, volunteer=vera, now=NOON).from_number for c in lease(campaign, vera, 3)}

    assert senders == {"+15155550102"}


@pytest.mark.django_db(transaction=True)
def test_racing_sends_never_take_more_than_the_cap(callable_people, make_texting, make_volunteer, race):
    campaign = make_texting(numbers=(("+15155550101", 3),))
    volunteers = [make_volunteer(f"racer{i}") for i in range(6)]
    contacts = [lease(campaign, v, count=1)[0] for v in volunteers]
    outcomes = race(
        6,
        lambda n: text_initial_send(contact=contacts[n], volunteer=volunteers[n], now=NOON),
        refused=(ValidationError,),
    )

    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert (len(outcomes) - len(refused), len(refused)) == (3, 3)
    assert NumberUsage.objects.get().sent == 3
    assert SandboxMessage.objects.count() == 3


# When the provider refuses -------------------------------------------------------------------------


def _give_number(contact, number):
    Contact.objects.filter(pk=contact.pk).update(phone=number)
    PhoneNumber.objects.create(person_id=contact.person_id, number=number, sms_consent=True)
    contact.refresh_from_db()


def test_an_invalid_number_is_recorded_as_failed_and_not_retried(campaign, vera, settings):
    settings.TIME_ZONE = "America/Chicago"  # the 500 test numbers have no zone of their own
    contact = lease(campaign, vera)[0]
    _give_number(contact, "+15005550001")

    with pytest.raises(ValidationError, match="can't be sent"):
        text_initial_send(contact=contact, volunteer=vera, now=NOON)

    failed = TextMessage.objects.get(contact=contact)
    assert (failed.status, failed.provider_id) == ("failed", None) and "not a valid phone number" in failed.error
    assert NumberUsage.objects.get().sent == 0  # the slot was given back
    with pytest.raises(ValidationError, match="already been sent"):
        text_initial_send(contact=contact, volunteer=vera, now=NOON)


def test_a_number_that_said_stop_at_the_carrier_is_opted_out_everywhere(campaign, vera, settings):
    settings.TIME_ZONE = "America/Chicago"
    contact = lease(campaign, vera)[0]
    _give_number(contact, "+15005550004")

    with pytest.raises(ValidationError):
        text_initial_send(contact=contact, volunteer=vera, now=NOON)

    assert PhoneNumber.objects.get(number="+15005550004").sms_opted_out_at is not None


# Replies --------------------------------------------------------------------------------------------


def test_a_reply_threads_into_the_conversation_and_the_volunteer_answers(campaign, vera):
    contact = lease(campaign, vera)[0]
    text_initial_send(contact=contact, volunteer=vera, now=NOON)

    reply = inbound(contact, "Yes! Count me in.")
    answer = text_reply_send(contact=contact, volunteer=vera, body="Thank you!", now=NOON + timedelta(minutes=5))

    assert (reply.direction, reply.contact, reply.campaign, reply.person_id) == (
        "in", contact, campaign, contact.person_id
    )  # fmt: skip
    assert (answer.direction, answer.from_number, answer.to_number) == ("out", "+15155550101", contact.phone)
    assert list(contact.texts.values_list("body", flat=True)) == [
        TextMessage.objects.filter(contact=contact).first().body,
        "Yes! Count me in.",
        "Thank you!",
    ]


def test_a_reply_comes_before_any_first_text_only_by_mistake(campaign, vera):
    contact = lease(campaign, vera)[0]

    with pytest.raises(ValidationError, match="Send the first text"):
        text_reply_send(contact=contact, volunteer=vera, body="Hello?", now=NOON)


def test_a_reply_submitted_twice_goes_once(campaign, vera):
    contact = lease(campaign, vera)[0]
    text_initial_send(contact=contact, volunteer=vera, now=NOON)

    text_reply_send(contact=contact, volunteer=vera, body="Thanks!", key="form-1", now=NOON)
    with pytest.raises(ValidationError) as second:
        text_reply_send(contact=contact, volunteer=vera, body="Thanks!", key="form-1", now=NOON)

    assert second.value.code == "already_sent"
    assert contact.texts.filter(body="Thanks!").count() == 1


def test_replies_count_against_the_cap_too(callable_people, make_texting, vera):
    campaign = make_texting(numbers=(("+15155550101", 2),))
    contact = lease(campaign, vera)[0]
    text_initial_send(contact=contact, volunteer=vera, now=NOON)
    text_reply_send(contact=contact, volunteer=vera, body="One", now=NOON)

    with pytest.raises(ValidationError, match="for today"):
        text_reply_send(contact=contact, volunteer=vera, body="Two", now=NOON)


def test_an_inbound_webhook_delivered_twice_is_one_message(campaign, vera):
    contact = lease(campaign, vera)[0]
    text_initial_send(contact=contact, volunteer=vera, now=NOON)

    first = inbound(contact, "Who is this?", provider_id="SMdup")
    second = inbound(contact, "Who is this?", provider_id="SMdup")

    assert first.pk == second.pk
    assert TextMessage.objects.filter(direction=TextDirection.IN).count() == 1


def test_a_reply_finds_the_conversation_of_the_line_it_was_sent_to(callable_people, make_texting, make_volunteer, vera):
    first = make_texting(numbers=(("+15155550101", 200),))
    second = make_texting(numbers=(("+15155550102", 200),))
    will = make_volunteer("will")
    in_first = lease(first, vera, count=1)[0]
    in_second = next(c for c in lease(second, will, count=30) if c.person_id == in_first.person_id)
    text_initial_send(contact=in_first, volunteer=vera, now=NOON)
    text_initial_send(contact=in_second, volunteer=will, now=NOON)

    to_first = inbound(in_first, "Hi Vera", provider_id="SM1", to="+15155550101")
    to_second = inbound(in_first, "Hi Will", provider_id="SM2", to="+15155550102")

    assert (to_first.contact, to_second.contact) == (in_first, in_second)


def test_a_text_from_a_stranger_is_kept_without_a_conversation(db):
    message = text_inbound_record(
        from_number="+15155559999", to_number="+15155550101", body="Who's this?", provider_id="SMx"
    )

    assert (message.contact, message.campaign, message.direction) == (None, None, "in")


def test_delivery_reports_move_a_text_forward_only(campaign, vera):
    contact = lease(campaign, vera)[0]
    message = text_initial_send(contact=contact, volunteer=vera, now=NOON)
    TextMessage.objects.filter(pk=message.pk).update(
        status="queued"
    )  # as Twilio answers (the sandbox delivers at once)

    assert text_delivery_record(provider_id=message.provider_id, status="sent") == 1
    assert text_delivery_record(provider_id=message.provider_id, status="undelivered", error_code="30003") == 1
    assert text_delivery_record(provider_id=message.provider_id, status="sent") == 0
    assert text_delivery_record(provider_id="SMnot-ours", status="delivered") == 0

    message.refresh_from_db()
    assert (message.status, message.error) == ("undelivered", "30003")


# Opting out ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    ["STOP", "stop", "Stop texting me", "STOPALL", "unsubscribe", "Cancel", "end", "QUIT", "Please STOP.", "stop!!"],
)
def test_an_opt_out_keyword_stops_every_campaign_at_once(callable_people, make_texting, make_volunteer, vera, body):
    first, second = make_texting(), make_texting()
    contact = lease(first, vera, count=1)[0]
    text_initial_send(contact=contact, volunteer=vera, now=NOON)
    will = make_volunteer("will")
    elsewhere = next(c for c in lease(second, will, count=30) if c.person_id == contact.person_id)

    inbound(contact, body)

    assert PhoneNumber.objects.get(number=contact.phone).sms_opted_out_at is not None
    with pytest.raises(ValidationError, match="opted out"):
        text_initial_send(contact=elsewhere, volunteer=will, now=NOON)
    with pytest.raises(ValidationError, match="opted out"):
        text_reply_send(contact=contact, volunteer=vera, body="Sorry to bother you", now=NOON)
    assert SandboxMessage.objects.filter(to_number=contact.phone).count() == 1


@pytest.mark.parametrize(
    "body", ["Yes, count me in", "Stopping by the office later", "See you this weekend", "Cancelled my plans"]
)
def test_words_that_only_contain_a_keyword_are_not_an_opt_out(body):
    assert not is_opt_out(body)


def test_a_volunteers_opt_out_stops_every_campaign_too(callable_people, make_texting, make_volunteer, vera):
    first, second = make_texting(), make_texting()
    contact = lease(first, vera, count=1)[0]
    will = make_volunteer("will")
    elsewhere = next(c for c in lease(second, will, count=30) if c.person_id == contact.person_id)

    text_opt_out(contact=contact, volunteer=vera, now=NOON)

    with pytest.raises(ValidationError, match="opted out"):
        text_initial_send(contact=elsewhere, volunteer=will, now=NOON)
    with pytest.raises(ValidationError, match="opted out"):
        text_initial_send(contact=contact, volunteer=vera, now=NOON)
    assert not SandboxMessage.objects.exists()


def test_only_the_holder_or_an_organizer_may_opt_a_contact_out(campaign, vera, make_volunteer, organizer):
    contact = lease(campaign, vera)[0]

    with pytest.raises(PermissionDenied):
        text_opt_out(contact=contact, volunteer=make_volunteer("will"))
    assert text_opt_out(contact=contact, volunteer=organizer) == 1


def test_do_not_contact_finishes_the_conversation_and_opts_out(campaign, vera):
    contact = lease(campaign, vera)[0]
    text_initial_send(contact=contact, volunteer=vera, now=NOON)

    attempt_record(contact=contact, volunteer=vera, disposition=Disposition.DO_NOT_CONTACT, now=NOON)

    contact.refresh_from_db()
    assert contact.status == ContactStatus.DONE
    assert PhoneNumber.objects.get(number=contact.phone).sms_opted_out_at is not None
