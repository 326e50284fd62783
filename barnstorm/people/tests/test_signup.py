import pytest
from django.test import override_settings
from django.urls import reverse

from barnstorm.activity.models import Activity
from barnstorm.people.models import Person, PhoneNumber

pytestmark = pytest.mark.django_db

GOOD = {"given_name": "Ann", "family_name": "Lee", "email": "Ann@Example.com", "zip_code": "29201"}


def test_a_visitor_signs_up_and_is_asked_for_the_next_step(client):
    response = client.post(reverse("people:signup") + "?refcode=fb_0130&source=facebook", GOOD)
    assert response["Location"] == reverse("people:signup_thanks")
    person = Person.objects.get(emails__address="ann@example.com")
    assert (person.referral_code, person.source) == ("fb_0130", "facebook")
    assert person.addresses.get().state == "SC"
    assert Activity.objects.get(person=person).kind == "signup"
    thanks = client.get(response["Location"]).content.decode()
    assert "Thank you, Ann!" in thanks and "What's next?" in thanks


def test_sms_consent_needs_the_box_ticked(client):
    client.post(reverse("people:signup"), {**GOOD, "phone": "803-555-0111"})
    assert not PhoneNumber.objects.get().sms_consent
    client.post(reverse("people:signup"), {**GOOD, "phone": "803-555-0111", "sms_consent": "on"})
    assert PhoneNumber.objects.get().sms_consent


def test_bad_input_gets_clear_errors_and_stores_nothing(client):
    response = client.post(reverse("people:signup"), {**GOOD, "email": "ann@", "zip_code": "123", "phone": "12"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "valid email" in errors["email"][0]
    assert "not a ZIP code" in errors["zip_code"][0]
    assert "not a valid phone number" in errors["phone"][0]
    assert not Person.objects.exists()


def test_the_honeypot_catches_bots_without_telling_them(client):
    response = client.post(reverse("people:signup"), {**GOOD, "website": "http://spam.example"})
    assert response.status_code == 302
    assert not Person.objects.exists()


@override_settings(SIGNUP_RATE_LIMIT=3)
def test_too_many_signups_from_one_address_are_refused(client):
    for i in range(3):
        assert client.post(reverse("people:signup"), {**GOOD, "email": f"p{i}@example.com"}).status_code == 302
    response = client.post(reverse("people:signup"), {**GOOD, "email": "p9@example.com"})
    assert response.status_code == 400
    assert "Too many signups" in response.content.decode()
    assert Person.objects.count() == 3
    other = client.post(reverse("people:signup"), {**GOOD, "email": "q@example.com"}, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302


def test_the_form_can_be_embedded_in_other_sites(client):
    response = client.get(reverse("people:signup") + "?embed=1")
    assert "X-Frame-Options" not in response
    assert 'class="topbar"' not in response.content.decode()
    assert client.get(reverse("accounts:home"))["X-Frame-Options"] == "DENY"


def test_the_thank_you_page_asks_for_the_next_step(client, db):
    from barnstorm.donations.models import DonationPage

    DonationPage.objects.create(slug="first-gift", title="First gift")
    client.post(
        reverse("people:signup"),
        {"given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.com", "zip_code": "50309"},
    )
    html = client.get(reverse("people:signup_thanks")).content.decode()
    # No event nearby yet: a new supporter is asked for a first gift, and shown where events are.
    assert "Chip in to the campaign" in html and "/donate/first-gift/" in html and reverse("events:search") in html
