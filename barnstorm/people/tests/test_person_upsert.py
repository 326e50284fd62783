import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from barnstorm.activity.models import Activity
from barnstorm.people.models import EmailAddress, EmailStatus, Person, PhoneNumber, PostalAddress
from barnstorm.people.selectors import person_id_by_email
from barnstorm.people.services import AddressInput, PersonInput, person_upsert, person_upsert_many

pytestmark = pytest.mark.django_db


def upsert(**fields):
    return person_upsert(data=PersonInput(**fields))


def test_it_creates_a_person_with_normalised_contact_points():
    result = upsert(
        email="  Ann.Lee@Example.COM ",
        phone="(515) 555-0134",
        given_name="Ann",
        family_name="Lee",
        address=AddressInput(line1="1 Main St", zip_code="50309-1234"),
    )
    assert result.created
    person = result.person
    assert person.emails.get().address == "ann.lee@example.com"
    assert person.emails.get().is_primary
    assert person.phones.get().number == "+15155550134"
    address = person.addresses.get()
    assert (address.zip_code, address.city, address.state) == ("50309", "Des Moines", "IA")
    assert address.county == "Polk County"
    assert address.latitude == pytest.approx(41.5887) and address.longitude == pytest.approx(-93.6212)
    assert Activity.objects.get(person=person).kind == "signup"


def test_it_matches_by_email_case_insensitively():
    first = upsert(email="ann@example.com", given_name="Ann").person
    second = upsert(email="ANN@example.com ", family_name="Lee")
    assert not second.created
    assert second.person.pk == first.pk
    assert Person.objects.count() == 1
    person = Person.objects.get()
    assert (person.given_name, person.family_name) == ("Ann", "Lee")


def test_a_person_is_found_by_email_written_in_any_case(django_assert_num_queries):
    ann = upsert(email="ann@example.com", given_name="Ann").person
    upsert(email="bob@example.com", given_name="Bob")
    with django_assert_num_queries(1):
        assert person_id_by_email(address=" ANN@Example.com") == ann.pk
    assert person_id_by_email(address="nobody@example.com") is None


def test_it_matches_by_phone_when_the_email_is_new():
    first = upsert(email="ann@example.com", phone="515-555-0134").person
    second = upsert(email="ann.work@example.org", phone="+1 515 555 0134")
    assert second.person.pk == first.pk
    assert set(first.emails.values_list("address", flat=True)) == {"ann@example.com", "ann.work@example.org"}
    assert first.emails.filter(is_primary=True).count() == 1


def test_it_merges_without_erasing_what_was_known():
    person = upsert(
        email="ann@example.com",
        given_name="Ann",
        family_name="Lee",
        employer="Acme",
        source="rally",
        custom_fields={"shirt": "M"},
    ).person
    upsert(
        email="ann@example.com",
        given_name="",
        employer="",
        occupation="Nurse",
        source="import",
        custom_fields={"team": "blue"},
    )
    person.refresh_from_db()
    assert person.given_name == "Ann"
    assert person.employer == "Acme"  # blank never erases
    assert person.occupation == "Nurse"
    assert person.source == "rally"  # first touch is kept
    assert person.custom_fields == {"shirt": "M", "team": "blue"}


def test_a_new_job_replaces_the_old_one():
    person = upsert(email="ann@example.com", employer="Acme", occupation="Clerk").person
    upsert(email="ann@example.com", employer="Initech", occupation="Engineer")
    person.refresh_from_db()
    assert (person.employer, person.occupation) == ("Initech", "Engineer")


def test_a_new_address_becomes_primary_and_the_old_one_stays():
    person = upsert(email="ann@example.com", address=AddressInput(line1="1 Main St", zip_code="50309")).person
    upsert(email="ann@example.com", address=AddressInput(line1="1 main st", zip_code="50309", line2="Apt 2"))
    assert person.addresses.count() == 1
    assert person.addresses.get().line2 == "Apt 2"
    upsert(email="ann@example.com", address=AddressInput(line1="9 Elm St", zip_code="03301"))
    addresses = list(PostalAddress.objects.filter(person=person).order_by("id"))
    assert len(addresses) == 2
    assert [a.is_primary for a in addresses] == [False, True]
    assert addresses[1].state == "NH"


def test_it_adds_tags_and_lists_once():
    person = upsert(email="ann@example.com", tags=["Volunteer", "  rally 2026 "], lists=["Iowa"]).person
    upsert(email="ann@example.com", tags=["volunteer"], lists=["Iowa"])
    assert sorted(person.tags.values_list("name", flat=True)) == ["Volunteer", "rally 2026"]
    assert list(person.lists.values_list("name", flat=True)) == ["Iowa"]


def test_sms_consent_is_recorded_only_when_given():
    person = upsert(email="ann@example.com", phone="5155550134").person
    assert not PhoneNumber.objects.get(person=person).sms_consent
    upsert(email="ann@example.com", phone="5155550134", sms_consent=True)
    phone = PhoneNumber.objects.get(person=person)
    assert phone.sms_consent and phone.sms_consent_at is not None
    upsert(email="ann@example.com", phone="5155550134", sms_consent=None)
    assert PhoneNumber.objects.get(person=person).sms_consent


def test_only_an_explicit_opt_in_resubscribes():
    person = upsert(email="ann@example.com").person
    EmailAddress.objects.filter(person=person).update(status=EmailStatus.UNSUBSCRIBED)
    upsert(email="ann@example.com")
    assert EmailAddress.objects.get().status == EmailStatus.UNSUBSCRIBED
    person_upsert(data=PersonInput(email="ann@example.com", resubscribe=True))
    assert EmailAddress.objects.get().status == EmailStatus.SUBSCRIBED


def test_a_bounce_is_never_undone_by_a_signup():
    upsert(email="ann@example.com")
    EmailAddress.objects.update(status=EmailStatus.BOUNCING)
    person_upsert(data=PersonInput(email="ann@example.com", resubscribe=True))
    assert EmailAddress.objects.get().status == EmailStatus.BOUNCING


def test_it_names_every_bad_field():
    with pytest.raises(ValidationError) as caught:
        upsert(email="not-an-email", phone="12", address=AddressInput(zip_code="99999"))
    errors = caught.value.message_dict
    assert set(errors) == {"email", "phone", "zip_code"}
    assert Person.objects.count() == 0


def test_it_needs_an_email_or_a_phone():
    with pytest.raises(ValidationError) as caught:
        upsert(given_name="Ann")
    assert "email" in caught.value.message_dict


def test_rows_of_one_batch_that_share_an_email_are_one_person():
    results = person_upsert_many(
        rows=[
            PersonInput(email="a@example.com", given_name="Ann"),
            PersonInput(email="b@example.com", phone="5155550100"),
            PersonInput(email="A@example.com", family_name="Lee"),
            PersonInput(phone="515 555 0100", given_name="Bo"),
        ]
    )
    assert results[0].person.pk == results[2].person.pk
    assert results[1].person.pk == results[3].person.pk
    assert Person.objects.count() == 2
    assert Person.objects.get(emails__address="a@example.com").family_name == "Lee"
    assert [r.created for r in results] == [True, True, True, True]


def test_it_takes_a_constant_number_of_queries_per_batch():
    from django.test.utils import CaptureQueriesContext

    def batch(start, size):
        return [
            PersonInput(
                email=f"p{i}@example.com", phone=f"515555{i:04d}", tags=["t"], address=AddressInput(zip_code="50309")
            )
            for i in range(start, start + size)
        ]

    person_upsert_many(rows=batch(0, 1))  # creates the tag, once
    with CaptureQueriesContext(connection) as small:
        person_upsert_many(rows=batch(1, 9))
    with CaptureQueriesContext(connection) as large:
        person_upsert_many(rows=batch(10, 300))
    assert Person.objects.count() == 310
    assert len(large.captured_queries) == len(small.captured_queries) <= 40


@pytest.mark.django_db(transaction=True)
def test_two_racing_requests_create_one_person(race):
    """Many threads sign the same new address up at once: one person, one email row."""
    race(6, lambda n: person_upsert(data=PersonInput(email="race@example.com", given_name=f"R{n}")))
    assert Person.objects.count() == 1
    assert EmailAddress.objects.filter(address="race@example.com").count() == 1
    assert Activity.objects.filter(kind="signup").count() == 6


def test_a_value_too_long_for_its_column_is_refused_by_name():
    with pytest.raises(ValidationError) as caught:
        upsert(email="ann@example.com", given_name="A" * 129, address=AddressInput(city="C" * 101, zip_code="50309"))
    assert caught.value.message_dict == {
        "given_name": ["First name is longer than 128 characters"],
        "city": ["City is longer than 100 characters"],
    }
    assert Person.objects.count() == 0


def test_someone_who_comes_through_a_share_link_credits_the_sharer():
    sharer = person_upsert(data=PersonInput(email="sharer@example.com")).person
    recruit = person_upsert(data=PersonInput(email="new@example.com", referral_code=f"share_{sharer.pk}")).person
    credited = Activity.objects.get(kind="recruited")
    assert (credited.person_id, credited.data) == (sharer.pk, {"recruit_id": recruit.pk})
    # Known people, unknown sharers and other refcodes credit nobody.
    person_upsert(data=PersonInput(email="new@example.com", referral_code=f"share_{sharer.pk}"))
    person_upsert(data=PersonInput(email="other@example.com", referral_code="share_999999"))
    person_upsert(data=PersonInput(email="third@example.com", referral_code="email_0130"))
    assert Activity.objects.filter(kind="recruited").count() == 1
