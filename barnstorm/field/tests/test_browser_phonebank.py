"""End to end in Debian's Chromium on a phone: a volunteer signs in by emailed link, takes a batch,
follows the script's branching, records a call and lands on the next person."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from barnstorm.field.models import Answer, Attempt, Contact, ContactStatus
from barnstorm.field.services import contacts_held

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(open_page):
    return open_page(viewport=PHONE)


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_volunteer_signs_in_takes_a_batch_and_records_a_call(
    live_server, phone, callable_people, make_campaign, make_volunteer, script
):
    campaign = make_campaign("phone")
    vera = make_volunteer("vera")
    support, issues, notes = (script.steps.get(name=n) for n in ("Support", "Issues", "Notes"))
    against = support.choices.get(label="Against")
    against.goto = notes  # someone against: no questions about issues
    against.save(update_fields=["goto"])

    phone.goto(f"{live_server.url}/field/{campaign.pk}/")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Sign in")
    phone.get_by_label("Your email address").fill("vera@volunteers.test")
    phone.get_by_role("button", name="Email me a sign-in link").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Check your email")
    link = re.search(r"https?://[^/\s]+(/sign-in/\S+/)", mail.outbox[-1].body).group(1)
    phone.goto(live_server.url + link)
    phone.get_by_role("button", name="Sign me in").click()

    expect(phone.get_by_role("heading", level=1)).to_have_text(campaign.name)
    assert fits_the_screen(phone)
    phone.screenshot(path="/tmp/phonebank_campaign.png", full_page=True)
    phone.get_by_role("button", name="Give me 25").click()

    first, second = list(contacts_held(campaign=campaign, volunteer=vera))[:2]
    expect(phone.get_by_role("heading", level=1)).to_have_text(first.person.given_name)
    dial = phone.locator("a.dial")
    expect(dial).to_have_attribute("href", f"tel:{first.phone}")
    assert dial.bounding_box()["height"] >= 48  # thumb-sized
    expect(phone.locator(".read-aloud").first).to_have_text(f"Hi {first.person.given_name}, I'm a volunteer.")
    assert fits_the_screen(phone)
    phone.screenshot(path="/tmp/phonebank_call.png", full_page=True)

    # Branching: "Against" jumps to the last question, hiding the issues; changing the answer brings them back.
    issues_step = phone.locator(f'[data-step-id="{issues.pk}"]')
    phone.get_by_label("Against").check()
    expect(issues_step).to_be_hidden()
    phone.get_by_label("Strong support").check()
    expect(issues_step).to_be_visible()
    phone.get_by_label("Climate").check()
    phone.get_by_label("Anything else?").fill("Will host a phone bank")
    phone.get_by_role("button", name="Reached").click()

    expect(phone.get_by_role("heading", level=1)).to_have_text(second.person.given_name)
    expect(phone.locator("a.dial")).to_have_attribute("href", f"tel:{second.phone}")
    expect(phone.locator(".messages")).to_contain_text("Saved.")

    attempt = Attempt.objects.get(contact=first)
    assert (attempt.volunteer_id, attempt.disposition) == (vera.pk, "reached")
    assert sorted(a.choice.label if a.choice else a.text for a in Answer.objects.filter(attempt=attempt)) == [
        "Climate", "Strong support", "Will host a phone bank",
    ]  # fmt: skip
    assert Contact.objects.get(pk=first.pk).status == ContactStatus.DONE

    phone.get_by_text(re.compile(r"Your batch: \d+ people to call")).click()
    phone.get_by_role("button", name="Stop for now").click()
    expect(phone.locator(".messages")).to_contain_text("24 contacts went back to the list")
    phone.screenshot(path="/tmp/phonebank_stopped.png", full_page=True)
    assert not contacts_held(campaign=campaign, volunteer=vera).exists()
