"""Giving with PayPal through the donation page, against the PayPal stub."""

import pytest
from django.test import override_settings

from barnstorm.donations.models import Contribution, PaymentAttempt
from barnstorm.donations.tests.stubs import PayPalStub
from barnstorm.donations.tests.test_donate_page import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def paypal():
    with (
        PayPalStub() as stub,
        override_settings(
            PAYPAL_CLIENT_ID=stub.client_id,
            PAYPAL_CLIENT_SECRET=stub.client_secret,
            PAYPAL_WEBHOOK_ID=stub.webhook_id,
            PAYPAL_API_BASE=stub.url,
            SITE_URL="http://testserver",
        ),
    ):
        yield stub


def paypal_form(client):
    return form_data(client, "/donate/chip-in/", pay_with="paypal", card_number="", card_expiry="", card_cvc="")


def start(client, paypal):
    response = client.post("/donate/chip-in/", paypal_form(client))
    assert response.status_code == 302 and response.url.startswith(paypal.url)
    order_id = PaymentAttempt.objects.get().order_id
    assert order_id in paypal.orders
    return order_id


def test_a_donor_gives_with_paypal_once_however_often_they_come_back(client, page, paypal):
    assert "PayPal" in client.get("/donate/chip-in/").content.decode()
    order_id = start(client, paypal)
    paypal.approve(order_id)
    back = f"/donate/chip-in/paypal/return/?token={order_id}&PayerID=PAYER1"
    response = client.get(back)
    assert response.status_code == 302 and response.url.startswith("/donate/chip-in/thanks/?r=")
    assert client.get(back).status_code == 302  # reloaded
    contribution = Contribution.objects.get()
    assert (contribution.method, contribution.processor, contribution.amount_cents) == ("paypal", "paypal", 2700)
    assert contribution.charge_id in paypal.captures
    assert len(paypal.captures) == 1


def test_a_payment_paypal_declines_records_nothing(client, page, paypal):
    order_id = start(client, paypal)
    paypal.approve(order_id, outcome="instrument_declined")
    response = client.get(f"/donate/chip-in/paypal/return/?token={order_id}")
    assert response.status_code == 400 and "declined" in response.content.decode()
    assert not Contribution.objects.exists()


def test_paypal_gives_once_only(client, page, paypal):
    data = {**paypal_form(client), "frequency": "monthly"}
    response = client.post("/donate/chip-in/", data)
    assert response.status_code == 400 and "Recurring gifts need a card" in response.content.decode()
    assert not paypal.orders


def test_an_unknown_return_token_is_not_found(client, page, paypal):
    assert client.get("/donate/chip-in/paypal/return/?token=NOPE").status_code == 404


def test_paypal_is_not_offered_without_configuration(client, page):
    html = client.get("/donate/chip-in/").content.decode()
    assert 'value="paypal"' not in html and "Give now" in html
