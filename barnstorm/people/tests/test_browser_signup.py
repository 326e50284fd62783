"""End to end in Debian's Chromium: a visitor signs up, then an organizer finds them."""

import pytest
from playwright.sync_api import expect

from barnstorm.accounts.models import Role, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_visitor_signs_up_and_an_organizer_finds_them(live_server, browser):
    User.objects.create_user("olivia", password="pw-organizer-1", role=Role.ORGANIZER)

    visitor = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    visitor.goto(f"{live_server.url}/signup/?refcode=e2e")
    visitor.get_by_label("First name").fill("Rosa")
    visitor.get_by_label("Last name").fill("Parks")
    visitor.get_by_label("Email").fill("Rosa.Parks@Example.com")
    visitor.get_by_label("ZIP code").fill("29201")
    visitor.get_by_label("Mobile phone (optional)").fill("803 555 0199")
    visitor.get_by_text("Text me campaign updates").click()
    visitor.get_by_role("button", name="Join us").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Thank you, Rosa!")

    staff = browser.new_page()
    staff.goto(f"{live_server.url}/people/")
    expect(staff).to_have_url(f"{live_server.url}/login/?next=/people/")
    staff.get_by_label("Username").fill("olivia")
    staff.get_by_label("Password").fill("pw-organizer-1")
    staff.get_by_role("button", name="Log in").click()
    staff.get_by_label("Search by name, email, phone or ZIP").fill("rosa.parks@example.com")
    staff.get_by_role("button", name="Search").click()
    staff.get_by_role("link", name="Rosa Parks").click()
    expect(staff.get_by_role("heading", level=1)).to_contain_text("Rosa Parks")
    expect(staff.locator("body")).to_contain_text("rosa.parks@example.com")
    expect(staff.locator("body")).to_contain_text("+18035550199")
    expect(staff.locator("body")).to_contain_text("texts OK")
    expect(staff.locator("body")).to_contain_text("Columbia, SC 29201")
