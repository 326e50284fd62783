"""End to end in Debian's Chromium: an organizer builds a segment with the form, watches the count, saves it."""

import re

import pytest
from playwright.sync_api import expect

from barnstorm.accounts.models import Role, User
from barnstorm.people.models import Person, Tag, Tagging
from barnstorm.segments.models import Segment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_organizer_builds_counts_and_saves_a_segment(live_server, browser, make_person):
    User.objects.create_user("olivia", password="pw-organizer-1", role=Role.ORGANIZER)
    volunteer = Tag.objects.create(name="volunteer")
    teacher = Tag.objects.create(name="teacher")
    people = [make_person(email=f"p{n}@example.com", given_name=f"P{n}") for n in range(5)]
    for person in people[:3]:
        Tagging.objects.create(person=person, tag=volunteer)
    Tagging.objects.create(person=people[4], tag=teacher)
    assert Person.objects.count() == 5

    page = browser.new_page()
    page.goto(f"{live_server.url}/segments/new/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/segments/new/")
    page.get_by_label("Username").fill("olivia")
    page.get_by_label("Password").fill("pw-organizer-1")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New segment")
    count = page.locator("#count")
    expect(count).to_contain_text("5 people")  # an empty "and" is everyone

    # A condition's inputs arrive by htmx when its type is chosen, and change with it.
    page.get_by_label("Condition").select_option(label="Is on a list")
    expect(page.locator("#params #param_list")).to_be_visible()
    page.get_by_label("Condition").select_option(label="Has a tag")
    tag_input = page.locator("#params #param_tag")
    expect(tag_input).to_be_visible()
    expect(page.locator("#param_list")).to_have_count(0)
    tag_input.fill("Volunteer")  # names match in any case
    page.get_by_role("button", name="Add", exact=True).click()

    query = page.get_by_role("textbox", name="Query", exact=True)
    expect(query).to_have_value(re.compile(r'"type": "has_tag"'))
    expect(count).to_contain_text("3 people")
    expect(count).to_contain_text("p0@example.com")
    expect(count).not_to_contain_text("p3@example.com")

    page.get_by_label("Name", exact=True).fill("Volunteers")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Saved.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Volunteers")
    segment = Segment.objects.get()
    expect(page).to_have_url(f"{live_server.url}/segments/{segment.pk}/")
    assert segment.name == "Volunteers"
    assert segment.query == {"and": [{"type": "has_tag", "tag": "Volunteer"}]}
    expect(page.locator("#count")).to_contain_text("3 people")
    expect(page.locator("#audit")).to_contain_text("created")
    expect(page.locator("#audit")).to_contain_text("olivia")
