"""End to end in Debian's Chromium on a phone: a host signs in by emailed link and checks people in."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from barnstorm.events.models import Rsvp
from barnstorm.events.services import rsvp_create
from barnstorm.people.services import PersonInput

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_host_signs_in_from_their_email_and_checks_people_in_on_a_phone(live_server, browser, make_event):
    event = make_event()
    rosa_input = PersonInput(email="rosa@example.com", given_name="Rosa", family_name="Parks")
    rosa = rsvp_create(event=event, data=rosa_input, notify=False).rsvp
    ann_input = PersonInput(email="ann@example.com", given_name="Ann", family_name="Lee")
    rsvp_create(event=event, data=ann_input, notify=False)

    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.goto(f"{live_server.url}/events/{event.pk}/checkin/")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Sign in")
    phone.get_by_label("Your email address").fill("host@example.com")
    phone.get_by_role("button", name="Email me a sign-in link").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Check your email")

    link = re.search(r"https?://[^/\s]+(/sign-in/\S+/)", mail.outbox[-1].body).group(1)
    phone.goto(live_server.url + link)
    phone.get_by_role("button", name="Sign me in").click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Check in")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    phone.get_by_label("Ticket code").fill(rosa.ticket)
    phone.locator("#ticket-form button").click()
    expect(phone.locator("#result")).to_contain_text("Checked in: Rosa Parks")
    expect(phone.get_by_label("Ticket code")).to_have_value("")  # ready for the next one

    phone.get_by_label("Ticket code").fill(rosa.ticket)
    phone.locator("#ticket-form button").click()
    expect(phone.locator("#result")).to_contain_text("Rosa Parks already checked in at")

    phone.get_by_label("Find by name").fill("ann")
    expect(phone.locator("#matches")).to_contain_text("Ann Lee")
    phone.locator("#matches button").click()
    expect(phone.locator("#result")).to_contain_text("Checked in: Ann Lee")

    assert Rsvp.objects.filter(event=event, checked_in_at__isnull=False).count() == 2
