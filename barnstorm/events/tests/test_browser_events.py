"""End to end in Debian's Chromium on a phone: find an event near a ZIP code, RSVP, get the ticket."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from barnstorm.events.models import Rsvp, RsvpStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def snap(page, path):
    """A full-page screenshot, to look at how the page sits on a phone, once everything has loaded."""
    page.wait_for_load_state("networkidle")
    page.screenshot(path=path, full_page=True)


@pytest.fixture
def phone(open_page, live_server, settings):
    # Tiles from a path of the test server that answers 404: the page must work without them,
    # and the browser is refused everything that is not the test server.
    settings.MAP_TILE_URL = f"{live_server.url}/no-tiles/{{z}}/{{x}}/{{y}}.png"
    return open_page(
        viewport=PHONE,
        geolocation={"latitude": 41.60, "longitude": -93.61},  # Des Moines
        permissions=["geolocation"],
    )


def test_a_supporter_finds_an_event_on_the_map_rsvps_and_gets_the_ics(live_server, phone, make_event):
    soon = (timezone.now() + datetime.timedelta(days=5)).replace(hour=23, minute=30, second=0, microsecond=0)
    event = make_event(
        title="Barnstorm for Rivera",
        kind="barnstorm",
        zip_code="50309",
        street="12 Elm St",
        is_private_home=True,
        capacity=30,
        starts_at=soon,
        ends_at=soon + datetime.timedelta(hours=2),
        description="Meet your neighbors and plan the next month.",
    )
    make_event(title="Too far away", zip_code="89501", starts_at=soon, ends_at=soon + datetime.timedelta(hours=1))

    phone.goto(f"{live_server.url}/events/")
    phone.get_by_label("ZIP code").fill("50310")
    phone.get_by_label("Within").select_option("25")
    phone.get_by_role("button", name="Search").click()

    results = phone.locator(".event-list")
    expect(results).to_contain_text("Barnstorm for Rivera")
    expect(results).not_to_contain_text("Too far away")
    marker = phone.locator("#event-map .leaflet-marker-icon")
    expect(marker).to_have_count(1)
    expect(marker).to_have_attribute("title", "Barnstorm for Rivera")
    # The marker image comes from the installed Leaflet package, not from the internet.
    phone.wait_for_function("() => document.querySelector('.leaflet-marker-icon').naturalWidth > 0", timeout=5000)
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    snap(phone, "/tmp/events_search.png")

    marker.click()
    expect(phone.locator(".leaflet-popup")).to_contain_text("Barnstorm for Rivera")

    results.get_by_role("link", name=re.compile("Barnstorm for Rivera")).click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Barnstorm for Rivera")
    expect(phone.locator(".event-facts")).to_contain_text("30 spots left")
    expect(phone.locator(".event-facts")).not_to_contain_text("12 Elm St")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    snap(phone, "/tmp/events_detail.png")

    phone.get_by_label("First name").fill("Rosa")
    phone.get_by_label("Last name").fill("Diaz")
    phone.get_by_label("Email").fill("rosa@example.com")
    phone.get_by_label("ZIP code").fill("50310")
    phone.get_by_label("Mobile phone (optional)").fill("515 555 0134")
    phone.get_by_text("Text me campaign updates").click()
    phone.get_by_label("Guests you're bringing").fill("1")
    phone.get_by_role("button", name="RSVP").click()

    expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you, Rosa!")
    expect(phone.locator(".rsvp-status")).to_contain_text("You're going to Barnstorm for Rivera.")
    expect(phone.locator("svg.qr")).to_be_visible()
    expect(phone.locator(".event-facts")).to_contain_text("12 Elm St")  # now an attendee
    expect(phone.get_by_role("link", name="Add to calendar")).to_have_attribute("href", f"/events/{event.pk}/event.ics")
    expect(phone.get_by_role("link", name="Host an event")).to_have_attribute("href", "/events/host/")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    snap(phone, "/tmp/events_thanks.png")

    rsvp = Rsvp.objects.get(event=event)
    assert (rsvp.person.given_name, rsvp.status, rsvp.guests) == ("Rosa", RsvpStatus.GOING, 1)
    [message] = mail.outbox
    assert message.to == ["rosa@example.com"]
    [(filename, calendar, mimetype)] = message.attachments
    assert filename == "event.ics" and mimetype.startswith("text/calendar")
    assert "SUMMARY:Barnstorm for Rivera" in calendar and "12 Elm St" in calendar

    phone.get_by_role("link", name="Change or cancel your RSVP").click()
    expect(phone.locator(".rsvp-status")).to_have_text("You're going. With 1 guest.")
    expect(phone.locator("svg.qr")).to_be_visible()
    snap(phone, "/tmp/events_manage.png")


def test_use_my_location_finds_events_near_the_phone_and_a_shift_is_picked(live_server, phone, make_event):
    day = (timezone.now() + datetime.timedelta(days=2)).date()
    soon = datetime.datetime.combine(day, datetime.time(9), tzinfo=ZoneInfo("America/Chicago"))
    hour = datetime.timedelta(hours=1)
    event = make_event(
        title="Des Moines canvass",
        kind="canvass",
        zip_code="50309",
        starts_at=soon,
        ends_at=soon + 6 * hour,
        shifts=((soon, soon + 3 * hour, 12), (soon + 3 * hour, soon + 6 * hour, 12)),
    )
    phone.goto(f"{live_server.url}/events/")
    phone.get_by_role("button", name="Use my location").click()
    expect(phone.get_by_role("heading", level=2).first).to_contain_text("of your location")
    expect(phone.locator("#event-map .leaflet-marker-icon")).to_have_count(1)
    phone.locator(".event-list").get_by_role("link", name=re.compile("Des Moines canvass")).click()

    phone.get_by_label("First name").fill("Sam")
    phone.get_by_label("Last name").fill("Ortiz")
    phone.get_by_label("Email").fill("sam@example.com")
    phone.get_by_label("ZIP code").fill("50311")
    phone.get_by_text(re.compile(r"12:00 PM – 3:00 PM C[SD]T · 12 spots left")).click()  # the afternoon shift
    snap(phone, "/tmp/events_shifts.png")
    phone.get_by_role("button", name="RSVP").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you, Sam!")
    assert Rsvp.objects.get(event=event).shift == event.shifts.order_by("starts_at").last()
