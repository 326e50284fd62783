"""End to end in Debian's Chromium: a volunteer claims a turf on a phone and knocks from the walk
list (numbered markers in route order, htmx swaps the door); an organizer moves a door between
turfs from a marker's popup on the turf map."""

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from barnstorm.field.canvass import turfs_cut
from barnstorm.field.models import Attempt, Door, DoorResult, Turf
from barnstorm.field.tests.test_canvass import canvass_launch, couple_door, residents_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 900}


def sign_in(page, live_server, user):
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


@pytest.fixture
def cut(organizer, script, settings, live_server):
    # Tiles from a path of the test server that answers 404: the maps must work without them.
    settings.MAP_TILE_URL = f"{live_server.url}/no-tiles/{{z}}/{{x}}/{{y}}.png"
    residents_create()
    campaign = canvass_launch(organizer, script)
    turfs_cut(campaign=campaign, doors_per_turf=10, actor=organizer)
    return campaign


def test_a_volunteer_claims_a_turf_and_knocks_from_the_phone(open_page, live_server, cut, make_volunteer):
    page = open_page(viewport=PHONE)
    vera = make_volunteer("vera")
    sign_in(page, live_server, vera)
    door = couple_door(cut)

    page.goto(f"{live_server.url}/field/{cut.pk}/turfs/?zip=50309")
    expect(page.locator("#turfs-map .canvass-pin")).to_have_count(6)
    page.screenshot(path="/tmp/canvass_turfs.png", full_page=True)
    page.locator(f"#turf-{door.turf.number}").get_by_role("button", name="Claim this turf").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Turf {door.turf.number}")
    doors = door.turf.doors.count()
    expect(page.locator("#walk-map .canvass-pin")).to_have_count(doors)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path="/tmp/canvass_walk.png", full_page=True)

    # The couple's door: a tap on its marker opens it; Ann answered, Bob wasn't there.
    page.locator("#walk-map .canvass-pin", has_text=str(door.position)).first.click()
    item = page.locator(f"#door-{door.position}")
    expect(item.locator("form")).to_be_visible()
    item.get_by_text("Spoke with Ann Doe").click()
    item.locator(".person", has_text="Ann Doe").get_by_text("Strong support").click()
    page.screenshot(path="/tmp/canvass_door.png", full_page=False)
    item.get_by_role("button", name="Talked").click()
    expect(item.get_by_role("status")).to_have_text("Saved: Talked.")
    assert Door.objects.get(pk=door.pk).result == DoorResult.TALKED
    assert set(Attempt.objects.filter(contact__door=door).values_list("disposition", flat=True)) == {
        "reached",
        "not_home",
    }


def test_an_organizer_moves_a_door_from_the_map(open_page, live_server, cut, organizer):
    page = open_page(viewport=LAPTOP)
    sign_in(page, live_server, organizer)
    source = Turf.objects.get(campaign=cut, number=1)
    page.goto(f"{live_server.url}/field/{cut.pk}/turfs/map/?turf=1")
    door = source.doors.order_by("position").first()
    marker = page.locator(f'#cut-map [title="1. {door.line1}"]')
    expect(marker).to_be_visible()
    page.screenshot(path="/tmp/canvass_map.png", full_page=True)
    marker.click()
    popup = page.locator(".leaflet-popup form")
    expect(popup).to_contain_text(door.line1)
    target_number = popup.locator("select option").first.inner_text().split()[-1]
    popup.get_by_role("button", name="Move").click()
    expect(page.locator(".messages")).to_contain_text(f"is in turf {target_number} now")
    assert Door.objects.get(pk=door.pk).turf.number == int(target_number)
