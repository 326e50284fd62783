"""The donor's pages over HTTP: prefill, give, declines, refusals, express giving, managing a plan."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from barnstorm.donations import links
from barnstorm.donations.models import (
    Contribution,
    PaymentAttempt,
    PlanStatus,
    RecurringPlan,
    TestProcessorCharge,
)
from barnstorm.donations.tests.stubs import StripeStub

pytestmark = pytest.mark.django_db


def form_data(client, url, **overrides):
    """What a donor's browser posts: the form as rendered (its attempt token), filled in."""
    page = client.get(url).content.decode()
    attempt = re.search(r'name="attempt" value="([^"]+)"', page).group(1)
    data = {
        "attempt": attempt,
        "amount": "27",
        "other_amount": "",
        "frequency": "one_time",
        "given_name": "Dana",
        "family_name": "Whitfield",
        "email": "dana@example.com",
        "street1": "12 Elm St",
        "city": "Ames",
        "state": "ia",
        "zip_code": "50010",
        "employer": "Ames Public Library",
        "occupation": "Librarian",
        "card_number": "4242 4242 4242 4242",
        "card_expiry": "12/30",
        "card_cvc": "123",
        "attest": "on",
        "pay_with": "card",
        "refcode": re.search(r'name="refcode" value="([^"]*)"', page).group(1)
        if 'name="refcode" value' in page
        else "",
        "refcode2": re.search(r'name="refcode2" value="([^"]*)"', page).group(1)
        if 'name="refcode2" value' in page
        else "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def give(client, django_capture_on_commit_callbacks):
    """Post the donation form as a server does: what runs after its commit (the recorder) runs too."""

    def post(url, data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data)

    return post


def test_the_page_prefills_amount_frequency_and_refcodes_from_the_link(client, page):
    response = client.get("/donate/chip-in/?amount=50&refcode=email_0130&refcode2=footer&recurring=monthly")
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'value="50" checked', html)
    assert 'name="refcode" value="email_0130"' in html and 'name="refcode2" value="footer"' in html
    assert re.search(r'value="monthly"[^>]*checked', html)
    assert "best efforts" in html and "federal contractor" in html


def test_an_amount_not_on_the_page_goes_in_the_other_box(client, page):
    html = client.get("/donate/chip-in/?amount=12.50").content.decode()
    assert re.search(r'name="other_amount" value="12.50"', html)


def test_a_donor_gives_27_dollars_and_gets_thanked_and_a_receipt(client, page, django_capture_on_commit_callbacks):
    url = "/donate/chip-in/?refcode=email_0130&refcode2=footer"
    data = form_data(client, url)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302 and response.url.startswith(
        reverse("donations:thanks", args=["chip-in"]) + "?r="
    )
    contribution = Contribution.objects.get()
    assert (contribution.amount_cents, contribution.refcode, contribution.refcode2) == (2700, "email_0130", "footer")
    assert contribution.state == "IA" and contribution.attested
    thanks = client.get(response.url).content.decode()
    assert "Thank you, Dana!" in thanks and "$27" in thanks
    # A first-time donor with no event nearby is asked to host one (the ladder's next step).
    assert "Host an event of your own" in thanks and reverse("events:host") in thanks
    assert [m.to for m in mail.outbox] == [["dana@example.com"]]


def test_a_double_clicked_give_button_records_one_contribution(client, page, give):
    data = form_data(client, "/donate/chip-in/")
    give("/donate/chip-in/", data)
    give("/donate/chip-in/", data)
    assert Contribution.objects.count() == 1
    assert TestProcessorCharge.objects.count() == 1


def test_a_custom_amount_within_the_page_bounds(client, page, give):
    give("/donate/chip-in/", form_data(client, "/donate/chip-in/", amount="", other_amount="$12.34"))
    assert Contribution.objects.get().amount_cents == 1234
    response = give("/donate/chip-in/", form_data(client, "/donate/chip-in/", amount="", other_amount="0.50"))
    assert response.status_code == 400 and "The minimum is $1.00" in response.content.decode()
    response = give("/donate/chip-in/", form_data(client, "/donate/chip-in/", amount="", other_amount="12.345"))
    assert "Enter an amount in dollars" in response.content.decode()


def test_a_declined_card_says_why_and_the_next_try_is_a_new_attempt(client, page, give):
    data = form_data(client, "/donate/chip-in/", card_number="4000 0000 0000 0002")
    response = give("/donate/chip-in/", data)
    html = response.content.decode()
    assert response.status_code == 400 and "Your card was declined." in html
    new_attempt = re.search(r'name="attempt" value="([^"]+)"', html).group(1)
    assert new_attempt != data["attempt"]
    give("/donate/chip-in/", {**data, "attempt": new_attempt, "card_number": "4242424242424242"})
    assert Contribution.objects.count() == 1


def test_the_eligibility_statements_must_be_confirmed(client, page):
    data = form_data(client, "/donate/chip-in/")
    del data["attest"]
    response = client.post("/donate/chip-in/", data)
    assert response.status_code == 400 and "Please confirm the statements" in response.content.decode()
    assert not TestProcessorCharge.objects.exists()


def test_an_over_limit_gift_is_refused_at_the_form(client, page, give):
    page.max_amount_cents = 1000000
    page.save()
    give("/donate/chip-in/", form_data(client, "/donate/chip-in/", amount="", other_amount="3400"))
    response = give("/donate/chip-in/", form_data(client, "/donate/chip-in/", amount="", other_amount="500"))
    assert response.status_code == 400
    assert "you can give up to $100.00 more" in response.content.decode()
    assert Contribution.objects.count() == 1 and TestProcessorCharge.objects.count() == 1


def test_a_bot_filling_the_hidden_field_is_thanked_and_nothing_is_stored(client, page):
    response = client.post("/donate/chip-in/", form_data(client, "/donate/chip-in/", website="spam.example"))
    assert response.status_code == 302
    assert not Contribution.objects.exists() and not TestProcessorCharge.objects.exists()


def test_an_unknown_or_closed_page_is_not_found(client, page):
    assert client.get("/donate/nope/").status_code == 404
    page.is_active = False
    page.save()
    assert client.get("/donate/chip-in/").status_code == 404


def test_express_giving_charges_the_saved_card_with_one_click(client, page):
    client.post("/donate/chip-in/", form_data(client, "/donate/chip-in/", save_method="on"))
    person_id = Contribution.objects.get().person_id
    url = links.express_url(slug="chip-in", person_id=person_id, amount_cents=1000, refcode="express_1")
    path = url.split("8000", 1)[-1]
    html = client.get(path).content.decode()
    assert "ending 4242" in html and "Give $10.00 now" in html
    attempt = re.search(r'name="attempt" value="([^"]+)"', html).group(1)
    response = client.post(path, {"attempt": attempt, "amount": "10"})
    assert response.status_code == 302
    client.post(path, {"attempt": attempt, "amount": "10"})  # the same click, twice
    express = Contribution.objects.filter(source="express").get()
    assert (express.amount_cents, express.refcode, express.person_id) == (1000, "express_1", person_id)


def test_an_express_link_with_a_bad_token_is_not_found(client, page):
    assert client.get("/donate/chip-in/express/?amount=10&token=forged").status_code == 404


def test_a_donor_changes_and_cancels_a_recurring_gift_from_the_signed_link(client, page):
    client.post("/donate/chip-in/", form_data(client, "/donate/chip-in/", frequency="monthly"))
    plan = RecurringPlan.objects.get()
    url = reverse("donations:recurring_manage", args=[links.recurring_manage_token(plan.pk)])
    assert "$27.00 monthly" in client.get(url).content.decode()
    client.post(url, {"amount": "35", "change": "1"})
    plan.refresh_from_db()
    assert plan.amount_cents == 3500
    client.post(url, {"cancel": "1"})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.CANCELLED
    assert client.get("/donate/recurring/forged-token/").status_code == 404


def test_the_thank_you_page_names_the_donor_only_from_a_genuine_link(client, page):
    response = client.post("/donate/chip-in/", form_data(client, "/donate/chip-in/"))
    assert "dana@example.com" in client.get(response.url).content.decode()
    forged = client.get("/donate/chip-in/thanks/?r=1").content.decode()
    assert "dana@example.com" not in forged and "Thank you!" in forged


def test_a_donor_is_asked_to_the_nearest_event_on_the_thank_you_page(client, page, give, make_person):
    import datetime

    from django.utils import timezone

    from barnstorm.events.services import EventInput, event_create

    host = make_person(email="host@example.com")
    start = timezone.now() + datetime.timedelta(days=3)
    event = event_create(
        data=EventInput(
            title="Ames canvass kickoff",
            kind="canvass",
            starts_at=start,
            ends_at=start + datetime.timedelta(hours=2),
            zip_code="50010",
            street="5 Main St",
        ),
        host=host,
        actor=None,
    )
    assert event.status == "pending"
    from barnstorm.events.services import event_approve

    event_approve(event=event, actor=None)
    response = give("/donate/chip-in/", form_data(client, "/donate/chip-in/"))
    thanks = client.get(response.url).content.decode()
    assert "Ames canvass kickoff" in thanks and reverse("events:detail", args=[event.pk]) in thanks


@pytest.fixture
def with_stripe(settings):
    """Cards go to Stripe (a local stub of its API): the page takes them with Stripe.js."""
    with StripeStub() as stub:
        settings.STRIPE_SECRET_KEY = stub.api_key
        settings.STRIPE_PUBLISHABLE_KEY = "pk_test_barnstorm"
        settings.STRIPE_API_BASE = stub.url
        yield stub


def test_with_stripe_the_card_field_is_stripe_js_and_not_ours(client, page, with_stripe):
    html = client.get("/donate/chip-in/").content.decode()
    assert '<script src="https://js.stripe.com/v3/"></script>' in html
    assert 'data-stripe-key="pk_test_barnstorm"' in html and 'id="card-element"' in html
    assert 'name="card_number"' not in html and 'name="card_cvc"' not in html


def test_with_stripe_a_card_number_posted_to_us_is_never_read_or_charged(client, page, give, with_stripe):
    response = give("/donate/chip-in/", form_data(client, "/donate/chip-in/"))  # number, no payment method
    assert response.status_code == 400 and "Enter your card details." in response.content.decode()
    assert not PaymentAttempt.objects.exists() and with_stripe.posted == []


def test_with_stripe_the_payment_method_made_by_stripe_js_is_charged_once(client, page, give, with_stripe):
    declined = give("/donate/chip-in/", form_data(client, "/donate/chip-in/", payment_token="pm_card_chargeDeclined"))
    html = declined.content.decode()
    assert declined.status_code == 400 and "Your card was declined." in html
    # The spent payment method is not sent back: the next press makes a new one.
    assert '<input type="hidden" name="payment_token" value="">' in html

    data = form_data(client, "/donate/chip-in/", payment_token="pm_card_visa")
    response = give("/donate/chip-in/", data)
    assert response.status_code == 302
    give("/donate/chip-in/", data)  # pressed twice
    contribution = Contribution.objects.get()
    assert contribution.amount_cents == 2700
    charged = [i for i in with_stripe.payment_intents.values() if i["status"] == "succeeded"]
    assert contribution.processor == "stripe"
    assert [(i["id"], i["amount"]) for i in charged] == [(contribution.charge_id, 2700)]
