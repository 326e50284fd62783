"""Launching takes the target's reachable people once: the right number for the channel."""

from barnstorm.field.models import Contact
from barnstorm.field.services import campaign_launch
from barnstorm.people.services import AddressInput, PersonInput, person_upsert, phone_do_not_call_set, phone_sms_opt_out


def test_a_phone_bank_skips_do_not_call_and_texting_skips_opt_outs(callable_people, make_campaign):
    phone_do_not_call_set(number="+15155550001")
    phone_sms_opt_out(number="+15155550002")
    person_upsert(data=PersonInput(email="voter3@example.com", phone="+15155559999", sms_consent=False))

    phone = make_campaign("phone")
    text = make_campaign("text")

    phone_numbers = set(Contact.objects.filter(campaign=phone).values_list("phone", flat=True))
    text_numbers = set(Contact.objects.filter(campaign=text).values_list("phone", flat=True))
    assert len(phone_numbers) == 29 and "+15155550001" not in phone_numbers
    assert len(text_numbers) == 29 and "+15155550002" not in text_numbers
    # One row a person: voter3's second number (no consent) is neither texted nor a second contact.
    assert Contact.objects.filter(campaign=phone, person=callable_people[3]).count() == 1
    assert "+15155559999" not in text_numbers


def test_a_canvass_takes_people_with_a_known_address(callable_people, make_campaign):
    for person in callable_people[:5]:
        person_upsert(
            data=PersonInput(
                email=person.emails.first().address, address=AddressInput(line1="1 Main St", zip_code="50309")
            )
        )
    canvass = make_campaign("canvass")
    assert Contact.objects.filter(campaign=canvass).count() == 5


def test_launching_twice_adds_nobody_twice(callable_people, make_campaign, organizer):
    campaign = make_campaign()
    campaign_launch(campaign=campaign, actor=organizer)
    assert Contact.objects.filter(campaign=campaign).count() == 30
