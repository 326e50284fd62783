"""End to end in Debian's Chromium: a supporter gives $27 on a phone and gets the receipt."""

from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import expect

from barnstorm.conftest import PHONE
from barnstorm.donations.models import Contribution, PaymentAttempt
from barnstorm.donations.tests.stubs import StripeStub

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def fill_in_rosa(phone):
    """The donor's part of the form, as a supporter on a phone types it."""
    phone.get_by_label("First name").fill("Rosa")
    phone.get_by_label("Last name").fill("Parks")
    phone.get_by_label("Email").fill("rosa@example.com")
    phone.get_by_label("Street address").fill("1 Bus Way")
    phone.get_by_label("City").fill("Columbia")
    phone.get_by_role("textbox", name="State:").fill("SC")
    phone.get_by_label("ZIP code").fill("29201")
    phone.get_by_label("Employer").fill("Self")
    phone.get_by_label("Occupation").fill("Seamstress")


def test_a_supporter_gives_27_dollars_on_a_phone_and_gets_the_receipt(live_server, browser, page):
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.goto(f"{live_server.url}/donate/chip-in/?refcode=e2e_sms")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Chip in $27")
    # Nothing on the page is wider than the phone.
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    expect(phone.get_by_role("radio", name="$27")).to_be_checked()  # the highlighted amount

    fill_in_rosa(phone)
    phone.get_by_label("Card number").fill("4000 0000 0000 0002")
    phone.get_by_label("Expires (MM/YY)").fill("12/30")
    phone.get_by_label("CVC").fill("123")
    phone.get_by_text("I confirm that the statements above are true.").click()
    phone.get_by_role("button", name="Give now").click()
    expect(phone.locator(".errorlist")).to_contain_text("Your card was declined.")

    # The donor keeps what they typed and tries another card.
    expect(phone.get_by_label("Email")).to_have_value("rosa@example.com")
    phone.get_by_label("Card number").fill("4242 4242 4242 4242")
    phone.get_by_label("CVC").fill("123")
    phone.get_by_role("button", name="Give now").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you, Rosa!")
    expect(phone.locator(".receipt-line")).to_contain_text("$27")

    contribution = Contribution.objects.get()
    assert (contribution.amount_cents, contribution.refcode) == (2700, "e2e_sms")
    receipts = [m for m in mail.outbox if m.to == ["rosa@example.com"]]
    assert len(receipts) == 1
    assert "$27.00" in receipts[0].body and "Rivera for Iowa" in receipts[0].body


STRIPE_JS_STUB = (Path(__file__).parent / "stripe_js_stub.js").read_text()


def test_with_stripe_the_card_is_typed_into_stripe_js_and_only_its_payment_method_is_posted(
    live_server, open_page, page, settings
):
    with StripeStub() as stripe_api:
        settings.STRIPE_SECRET_KEY = stripe_api.api_key
        settings.STRIPE_PUBLISHABLE_KEY = "pk_test_barnstorm"
        settings.STRIPE_API_BASE = stripe_api.url
        phone = open_page(viewport=PHONE)
        # Stripe.js comes from js.stripe.com, which this machine cannot reach: a local stand-in answers.
        stand_in = {"body": STRIPE_JS_STUB, "content_type": "text/javascript"}
        phone.route(settings.STRIPE_JS_URL, lambda route: route.fulfill(**stand_in))
        posted = []
        phone.on("request", lambda r: posted.append(r.post_data or "") if r.method == "POST" else None)
        phone.goto(f"{live_server.url}/donate/chip-in/")
        assert phone.evaluate("window.stripeStubCalls.key") == "pk_test_barnstorm"

        fill_in_rosa(phone)
        phone.get_by_text("I confirm that the statements above are true.").click()
        phone.get_by_role("button", name="Give now").click()
        # Stripe.js says what is missing, and nothing is sent.
        expect(phone.locator("#card-errors")).to_have_text("Your card number is incomplete.")
        assert posted == [] and not PaymentAttempt.objects.exists()
        billing = phone.evaluate("window.stripeStubCalls.billing[0]")  # for the bank's address check
        assert (billing["name"], billing["address"]["postal_code"]) == ("Rosa Parks", "29201")

        phone.get_by_label("Card number").fill("4000 0000 0000 0002")
        phone.get_by_role("button", name="Give now").click()
        expect(phone.locator(".errorlist").first).to_contain_text("Your card was declined.")
        phone.get_by_label("Card number").fill("4242 4242 4242 4242")
        phone.get_by_role("button", name="Give now").click()
        expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you, Rosa!")

    assert len(posted) == 2 and all("payment_token=pm_card" in body and "4242" not in body for body in posted)
    contribution = Contribution.objects.get()
    assert (contribution.processor, contribution.amount_cents) == ("stripe", 2700)
