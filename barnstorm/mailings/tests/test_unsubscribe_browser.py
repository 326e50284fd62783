"""End to end in Debian's Chromium: a supporter unsubscribes from a message, and the next mailing skips them."""

from urllib.parse import urlsplit

import pytest
from django.core import mail
from playwright.sync_api import expect

from barnstorm.mailings import services

# live_server answers from another thread, so the data must be committed: a transactional test.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_supporter_unsubscribes_and_the_next_mailing_leaves_them_out(
    live_server, browser, supporters, make_mailing, organizer
):
    # Outside a test transaction on_commit runs at once, and tasks run inline: this sends.
    services.mailing_start(mailing=make_mailing(), actor=organizer)
    assert len(mail.outbox) == 12
    message = next(m for m in mail.outbox if m.to == ["fan4@example.com"])
    link = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert urlsplit(link).path in message.body  # the footer's link is the same address

    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    page.goto(live_server.url + urlsplit(link).path)  # links name SITE_URL; this server is elsewhere
    expect(page.get_by_role("heading", level=1)).to_have_text("Unsubscribe?")
    expect(page.locator("main")).to_contain_text("fan4@example.com")
    page.get_by_role("button", name="Unsubscribe me").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're unsubscribed")
    expect(page.locator("main")).to_contain_text("fan4@example.com")
    expect(page.get_by_role("link", name="Email preferences")).to_be_visible()

    mail.outbox.clear()
    services.mailing_start(mailing=make_mailing(subjects=["Second update"]), actor=organizer)
    to = sorted(m.to[0] for m in mail.outbox)
    assert to == sorted(f"fan{i}@example.com" for i in range(12) if i != 4)
