"""End to end in Debian's Chromium on a phone: a volunteer takes a batch, sends first texts one tap
each (htmx swaps the row, a second tap sends nothing), and sees a reply arrive while the
conversation is open (htmx polling)."""

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from barnstorm.field.models import Contact, SendingNumber, TextMessage
from barnstorm.field.texting import text_inbound_record
from barnstorm.lib.models import SandboxMessage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(open_page):
    return open_page(viewport=PHONE)


def sign_in(page, live_server, user):
    """The session of a signed-in user, handed to the browser (signing in by link is tested elsewhere)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_volunteer_texts_a_batch_one_tap_each_and_sees_the_reply_arrive(
    live_server, phone, callable_people, make_campaign, make_volunteer, settings
):
    settings.TEXTING_HOURS = "0-24"  # the real clock: any hour will do here
    campaign = make_campaign("text", initial_message="Hi {{ person.given_name }}, it's {{ volunteer.given_name }}!")
    SendingNumber.objects.create(number="+15155550101").campaigns.add(campaign)
    vera = make_volunteer("vera")
    sign_in(phone, live_server, vera)

    phone.goto(f"{live_server.url}/field/{campaign.pk}/texts/")
    expect(phone.get_by_role("heading", level=1)).to_have_text(campaign.name)
    phone.get_by_role("button", name="Give me more").click()
    expect(phone.get_by_role("button", name="Send")).to_have_count(campaign.batch_size)
    assert fits_the_screen(phone)

    first = Contact.objects.filter(leased_to=vera).order_by("id").first()
    row = phone.locator(f"#contact-{first.pk}")
    expect(row.locator(".preview")).to_have_text(f"Hi {first.person.given_name}, it's Vera!")
    row.get_by_role("button", name="Send").dblclick()
    expect(row.get_by_role("link", name="Open the conversation")).to_be_visible()
    expect(phone.get_by_role("button", name="Send")).to_have_count(campaign.batch_size - 1)
    assert SandboxMessage.objects.filter(to_number=first.phone).count() == 1
    phone.screenshot(path="/tmp/texting_batch.png", full_page=True)

    row.get_by_role("link", name="Open the conversation").click()
    expect(phone.locator("#thread")).to_contain_text("it's Vera!")
    sent = TextMessage.objects.get(contact=first)
    text_inbound_record(from_number=first.phone, to_number=sent.from_number, body="Count me in!", provider_id="SMe2e")
    expect(phone.locator("#thread")).to_contain_text("Count me in!", timeout=10_000)

    phone.get_by_label("Reply").fill("Wonderful, thank you!")
    phone.get_by_role("button", name="Send reply").click()
    expect(phone.locator("#thread")).to_contain_text("Wonderful, thank you!")
    assert fits_the_screen(phone)
    phone.screenshot(path="/tmp/texting_conversation.png", full_page=True)
