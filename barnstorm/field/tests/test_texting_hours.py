"""Texting hours: daytime where the recipient is, from their area code, their ZIP, or the site's zone."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError

from barnstorm.field.models import SendingNumber
from barnstorm.field.services import contacts_lease
from barnstorm.field.texting import text_initial_send
from barnstorm.field.texting_hours import clock, recipient_zone, texting_hours, texting_window
from barnstorm.lib.models import SandboxMessage
from barnstorm.people.services import AddressInput, PersonInput, person_upsert

# 17:00 UTC in June: 1 p.m. in New York, 10 a.m. in Seattle, 7 a.m. in Honolulu.
AFTERNOON_UTC = datetime(2025, 6, 10, 17, 0, tzinfo=UTC)
# 01:30 UTC the next day: 9:30 p.m. in New York, 6:30 p.m. in Seattle, 3:30 p.m. in Honolulu.
EVENING_UTC = datetime(2025, 6, 11, 1, 30, tzinfo=UTC)

PHONES = {"new_york": "+12125550142", "honolulu": "+18085550142", "seattle": "+12065550142"}


@pytest.fixture
def contacts(db, make_campaign, make_volunteer):
    """One contact in each of three zones, held by Vera in a texting campaign."""
    for place, phone in PHONES.items():
        person_upsert(
            data=PersonInput(
                email=f"{place}@example.com", given_name=place, phone=phone, sms_consent=True, tags=("call",)
            )
        )
    campaign = make_campaign("text", initial_message="Hi {{ person.given_name }}", lease_minutes=24 * 60)
    SendingNumber.objects.create(number="+15155550101").campaigns.add(campaign)
    vera = make_volunteer("vera")
    held = contacts_lease(campaign=campaign, volunteer=vera, now=AFTERNOON_UTC).contacts
    return vera, {c.person.given_name: c for c in held}


def send(contacts, place, now):
    vera, held = contacts
    return text_initial_send(contact=held[place], volunteer=vera, now=now)


def test_a_morning_in_honolulu_is_too_early_while_new_york_and_seattle_are_open(contacts):
    assert send(contacts, "new_york", AFTERNOON_UTC)
    assert send(contacts, "seattle", AFTERNOON_UTC)

    with pytest.raises(ValidationError) as refused:
        send(contacts, "honolulu", AFTERNOON_UTC)

    assert refused.value.messages == ["It's 7:00 a.m. in Honolulu's time zone: texting opens at 9:00 a.m."]
    assert not SandboxMessage.objects.filter(to_number=PHONES["honolulu"]).exists()


def test_an_evening_in_new_york_is_too_late_while_the_west_is_open(contacts):
    with pytest.raises(ValidationError) as refused:
        send(contacts, "new_york", EVENING_UTC)

    assert refused.value.messages == [
        "It's 9:30 p.m. in New York's time zone: texting closed at 9:00 p.m. and opens again at 9:00 a.m."
    ]
    assert send(contacts, "seattle", EVENING_UTC)
    assert send(contacts, "honolulu", EVENING_UTC)


def test_a_refused_text_can_go_once_it_is_daytime_there(contacts):
    with pytest.raises(ValidationError):
        send(contacts, "honolulu", AFTERNOON_UTC)

    assert send(contacts, "honolulu", datetime(2025, 6, 10, 19, 0, tzinfo=UTC))  # 9:00 a.m. there


def test_the_hours_are_a_setting(contacts, settings):
    settings.TEXTING_HOURS = "10:30-18"

    with pytest.raises(
        ValidationError, match="It's 10:00 a.m. in Los Angeles's time zone: texting opens at 10:30 a.m."
    ):
        send(contacts, "seattle", AFTERNOON_UTC)
    assert send(contacts, "new_york", AFTERNOON_UTC)


@pytest.mark.parametrize("raw", ["9", "21-9", "9-25", "nine-five", "9:75-21"])
def test_a_malformed_hours_setting_is_refused(settings, raw):
    settings.TEXTING_HOURS = raw

    with pytest.raises(ImproperlyConfigured):
        texting_hours()


def test_the_default_hours_are_nine_to_nine(settings):
    del settings.TEXTING_HOURS
    assert texting_hours() == (9 * 60, 21 * 60)


def test_an_area_code_in_two_zones_is_settled_by_the_zip_code(db):
    # 208 is Idaho: Boise keeps Mountain time, the panhandle Pacific.
    assert recipient_zone(number="+12085550142", zip_code="83814") == ZoneInfo("America/Los_Angeles")
    assert recipient_zone(number="+12085550142", zip_code="83201") == ZoneInfo("America/Boise")


def test_without_a_zip_an_unclear_number_falls_back_to_the_sites_zone(settings):
    settings.TIME_ZONE = "America/Denver"

    assert recipient_zone(number="+12085550142") == ZoneInfo("America/Denver")
    assert recipient_zone(number="+18005550142", zip_code="00000") == ZoneInfo("America/Denver")  # toll-free


def test_the_area_code_wins_over_the_zip_code():
    assert recipient_zone(number="+12125550142", zip_code="96813") == ZoneInfo("America/New_York")


def test_a_contacts_zip_code_is_read_from_their_primary_address(make_campaign, make_volunteer):
    person_upsert(
        data=PersonInput(
            email="idaho@example.com",
            given_name="Ida",
            phone="+12085550142",
            sms_consent=True,
            tags=("call",),
            address=AddressInput(zip_code="83814"),
        )
    )
    campaign = make_campaign("text", initial_message="Hi")
    SendingNumber.objects.create(number="+15155550101").campaigns.add(campaign)
    vera = make_volunteer("vera")
    [contact] = contacts_lease(campaign=campaign, volunteer=vera, now=AFTERNOON_UTC).contacts

    # 17:00 UTC is 10 a.m. in Coeur d'Alene (Pacific); at 15:30 UTC it is 8:30 a.m. there, 9:30 a.m. in Boise.
    with pytest.raises(ValidationError, match="8:30 a.m. in Los Angeles"):
        text_initial_send(contact=contact, volunteer=vera, now=datetime(2025, 6, 10, 15, 30, tzinfo=UTC))
    assert text_initial_send(contact=contact, volunteer=vera, now=AFTERNOON_UTC)


def test_winter_time_is_accounted_for():
    january = datetime(2025, 1, 14, 2, 30, tzinfo=UTC)  # 9:30 p.m. EST, 8:30 p.m. CST

    assert not texting_window(zone=ZoneInfo("America/New_York"), now=january).is_open
    assert texting_window(zone=ZoneInfo("America/Chicago"), now=january).is_open


@pytest.mark.parametrize(
    "minutes, text", [(0, "12:00 a.m."), (9 * 60, "9:00 a.m."), (12 * 60, "12:00 p.m."), (20 * 60 + 12, "8:12 p.m.")]
)
def test_times_read_as_a_clock_does(minutes, text):
    assert clock(minutes) == text
