"""The supporter's pages: search (HTML and JSON), the event page, RSVP, ticket, calendar, manage link."""

import datetime
import re

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from barnstorm.events import links
from barnstorm.events.models import Event, Rsvp, RsvpStatus
from barnstorm.events.services import rsvp_create
from barnstorm.events.tests.conftest import START
from barnstorm.people.models import Person, PhoneNumber
from barnstorm.people.services import local_group_create

pytestmark = pytest.mark.django_db

SEARCH = reverse("events:search")
GOOD = {
    "given_name": "Rosa",
    "family_name": "Diaz",
    "email": "Rosa.Diaz@Example.com",
    "zip_code": "50310",
    "guests": "0",
}


def later(days, hours=0):
    return {
        "starts_at": START + datetime.timedelta(days=days, hours=hours),
        "ends_at": START + datetime.timedelta(days=days, hours=hours + 2),
    }


@pytest.fixture
def spread(make_event):
    return {
        "dsm_later": make_event(title="Des Moines later", zip_code="50309", **later(2)),
        "dsm": make_event(title="Des Moines", zip_code="50309"),
        "ames": make_event(title="Ames canvass", zip_code="50010", kind="canvass"),
        "reno": make_event(title="Reno", zip_code="89501"),
        "online": make_event(
            title="Online phone bank",
            zip_code="",
            is_virtual=True,
            virtual_url="https://meet.example/x",
            kind="phone_bank",
        ),
    }


def titles(response):
    return [event.title for event in response.context["events"]]


# --- Search ------------------------------------------------------------------------------------


def test_the_search_lists_nearest_first_then_soonest_with_online_events_for_everyone(client, spread):
    response = client.get(SEARCH, {"zip": "50309", "miles": "50"})
    assert response.status_code == 200
    assert titles(response) == ["Des Moines", "Des Moines later", "Ames canvass", "Online phone bank"]
    page = response.content.decode()
    assert 'id="event-map"' in page and "js_lib_leaflet/leaflet.js" in page and "events/map.js" in page
    markers = response.context["markers"]
    assert [m["title"] for m in markers] == ["Des Moines", "Des Moines later", "Ames canvass"]  # no pin for online
    assert markers[0]["url"] == reverse("events:detail", args=[spread["dsm"].pk])
    assert "Fri, Jan 15, 5:00 PM CST" in markers[0]["when"]


def test_the_search_without_a_place_shows_online_events(client, spread):
    response = client.get(SEARCH)
    assert titles(response) == ["Online phone bank"]
    assert "Enter your ZIP code" in response.content.decode()
    assert 'id="event-map"' not in response.content.decode()


def test_the_search_filters_by_type_and_virtual(client, spread):
    assert titles(client.get(SEARCH, {"zip": "50309", "miles": "50", "type": "canvass"})) == ["Ames canvass"]
    assert titles(client.get(SEARCH, {"zip": "50309", "miles": "50", "type": "virtual"})) == ["Online phone bank"]
    assert titles(client.get(SEARCH, {"zip": "50309", "miles": "5"})) == [
        "Des Moines",
        "Des Moines later",
        "Online phone bank",
    ]


def test_the_search_filters_by_date(client, make_event):
    soon = timezone.now() + datetime.timedelta(days=3)
    make_event(title="In three days", starts_at=soon, ends_at=soon + datetime.timedelta(hours=2))
    make_event(
        title="In twenty days",
        starts_at=soon + datetime.timedelta(days=17),
        ends_at=soon + datetime.timedelta(days=17, hours=2),
    )
    assert titles(client.get(SEARCH, {"zip": "50309", "when": "week"})) == ["In three days"]
    assert titles(client.get(SEARCH, {"zip": "50309", "when": "month"})) == ["In three days", "In twenty days"]
    assert titles(client.get(SEARCH, {"zip": "50309", "when": "today"})) == []


def test_the_search_near_the_browsers_location(client, spread):
    response = client.get(SEARCH, {"lat": "42.03", "lng": "-93.63", "miles": "10"})  # Ames
    assert titles(response) == ["Ames canvass", "Online phone bank"]
    assert "of your location" in response.content.decode()
    # A typed ZIP code wins over coordinates left from an earlier "use my location".
    assert titles(client.get(SEARCH, {"zip": "89501", "lat": "42.03", "lng": "-93.63", "miles": "10"}))[0] == "Reno"


def test_an_unknown_zip_gets_a_clear_message(client, spread):
    response = client.get(SEARCH, {"zip": "00000"})
    assert response.status_code == 200
    assert "We don&#x27;t know the ZIP code “00000”" in response.content.decode()
    assert response.context["events"] == []


def test_the_search_answers_json_for_other_sites(client, spread):
    response = client.get(SEARCH, {"zip": "50309", "miles": "50", "format": "json"})
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    rows = response.json()
    assert [row["title"] for row in rows] == ["Des Moines", "Des Moines later", "Ames canvass", "Online phone bank"]
    first = rows[0]
    assert set(first) == {"id", "title", "type", "virtual", "start", "latitude", "longitude", "distance_miles", "url"}
    assert first["start"] == "2027-01-15T17:00:00-06:00"  # the event's own offset, not UTC
    assert datetime.datetime.fromisoformat(first["start"]) == START
    assert (first["type"], first["virtual"], first["distance_miles"]) == ("house_party", False, 0.0)
    assert first["url"].startswith("http") and first["url"].endswith(f"/events/{spread['dsm'].pk}/")
    assert rows[2]["type"] == "canvass" and 20 < rows[2]["distance_miles"] < 40
    online = rows[3]
    assert (online["type"], online["virtual"]) == ("phone_bank", True)
    assert (online["latitude"], online["longitude"], online["distance_miles"]) == (None, None, None)


def test_the_json_search_explains_an_unknown_zip(client, spread):
    response = client.get(SEARCH, {"zip": "00000", "format": "json"})
    assert response.status_code == 400
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "We don't know the ZIP code" in response.json()["error"]


@pytest.mark.parametrize("fmt", ["html", "json"])
def test_the_search_query_count_does_not_grow_with_the_events(client, make_event, django_assert_max_num_queries, fmt):
    def count_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            response = client.get(SEARCH, {"zip": "50309", "miles": "100", "format": fmt})
        assert response.status_code == 200
        return len(queries)

    make_event(title="First", zip_code="50309")
    few = count_queries()
    for n in range(25):
        make_event(title=f"Event {n}", zip_code="50010" if n % 2 else "50309", **later(n % 5))
        make_event(title=f"Online {n}", zip_code="", is_virtual=True, virtual_url="https://meet.example/y")
    with django_assert_max_num_queries(few):
        response = client.get(SEARCH, {"zip": "50309", "miles": "100", "format": fmt})
    assert len(response.json() if fmt == "json" else response.context["events"]) == 50


# --- The event page ----------------------------------------------------------------------------


def test_the_event_page_shows_the_time_in_the_events_own_zone(client, make_event, host):
    dsm = make_event(title="Des Moines", zip_code="50309")
    reno = make_event(title="Reno", zip_code="89501")
    page = client.get(reverse("events:detail", args=[dsm.pk])).content.decode()
    assert "Friday, January 15, 2027" in page and "5:00 PM – 7:00 PM CST" in page
    assert "Hana" in page and "Hana Host" not in page  # the host's first name only
    reno_page = client.get(reverse("events:detail", args=[reno.pk])).content.decode()
    assert "3:00 PM – 5:00 PM PST" in reno_page


def test_the_event_page_shows_spots_left(client, make_event, attendee):
    event = make_event(capacity=3)
    rsvp_create(event=event, data=attendee(1), guests=1, notify=False)
    page = client.get(reverse("events:detail", args=[event.pk])).content.decode()
    assert "1 spot left" in page
    rsvp_create(event=event, data=attendee(2), notify=False)
    page = client.get(reverse("events:detail", args=[event.pk])).content.decode()
    assert "Full: RSVP to join the waitlist" in page and "Join the waitlist</button>" in page


def test_pending_events_are_not_public(client, host):
    event = Event.objects.create(title="Waiting", kind="canvass", host=host, starts_at=START, ends_at=START)
    assert event.status == "pending"
    assert client.get(reverse("events:detail", args=[event.pk])).status_code == 404
    assert client.get(reverse("events:ics", args=[event.pk])).status_code == 404


def test_a_private_homes_street_is_shown_only_after_rsvp(client, make_event):
    event = make_event(is_private_home=True, street="12 Elm St")
    page = client.get(reverse("events:detail", args=[event.pk])).content.decode()
    assert "12 Elm St" not in page and "shared with people who RSVP" in page
    assert "12 Elm St" not in client.get(reverse("events:ics", args=[event.pk])).content.decode()

    response = client.post(reverse("events:detail", args=[event.pk]), GOOD)
    assert response.status_code == 302
    assert "12 Elm St" in client.get(reverse("events:detail", args=[event.pk])).content.decode()
    assert "12 Elm St" in client.get(reverse("events:ics", args=[event.pk])).content.decode()

    # A forged cookie is no RSVP.
    client.cookies[f"rsvp{event.pk}"] = "1"
    assert "12 Elm St" not in client.get(reverse("events:detail", args=[event.pk])).content.decode()


def test_an_online_events_link_is_given_with_the_rsvp(client, make_event):
    event = make_event(zip_code="", is_virtual=True, virtual_url="https://meet.example/rivera")
    assert "meet.example/rivera" not in client.get(reverse("events:detail", args=[event.pk])).content.decode()
    client.post(reverse("events:detail", args=[event.pk]), GOOD)
    assert "https://meet.example/rivera" in client.get(reverse("events:detail", args=[event.pk])).content.decode()


def test_a_public_places_street_is_shown_to_everyone(client, make_event):
    event = make_event(street="400 Locust St", venue="Union Hall")
    page = client.get(reverse("events:detail", args=[event.pk])).content.decode()
    assert "400 Locust St" in page and "Union Hall" in page


# --- RSVP --------------------------------------------------------------------------------------


def test_an_rsvp_matches_the_person_and_says_going(client, make_event, make_person, django_capture_on_commit_callbacks):
    rosa = make_person(email="rosa.diaz@example.com", given_name="Rosa", family_name="Diaz")
    event = make_event()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("events:detail", args=[event.pk]) + "?refcode=fb",
            {**GOOD, "phone": "515 555 0134", "sms_consent": "on", "guests": "2"},
        )
    assert response["Location"] == reverse("events:thanks", args=[event.pk])
    assert Person.objects.count() == 2  # Rosa (matched, not duplicated) and the host
    rsvp = Rsvp.objects.get(event=event)
    assert (rsvp.person_id, rsvp.status, rsvp.guests, rsvp.refcode) == (rosa.pk, RsvpStatus.GOING, 2, "fb")
    assert PhoneNumber.objects.get(person=rosa).sms_consent

    thanks = client.get(response["Location"]).content.decode()
    assert "Thank you, Rosa!" in thanks and "You're going to House party for Rivera." in thanks
    assert 'class="qr"' in thanks and rsvp.ticket in thanks
    assert reverse("events:ics", args=[event.pk]) in thanks
    assert 'href="/events/host/"' in thanks
    # The token carries its signing time, so compare what it names rather than its text.
    manage_prefix = reverse("events:rsvp_manage", args=["TOKEN"]).split("TOKEN")[0]
    tokens = re.findall(re.escape(manage_prefix) + r"([^/\"]+)/", thanks)
    assert [links.rsvp_manage_id(token) for token in tokens] == [rsvp.pk]
    assert [(m.to, m.attachments[0][0]) for m in mail.outbox] == [(["rosa.diaz@example.com"], "event.ics")]


def test_an_rsvp_creates_a_new_person(client, make_event):
    event = make_event()
    client.post(reverse("events:detail", args=[event.pk]), {**GOOD, "phone": "515 555 0134"})
    person = Person.objects.get(emails__address="rosa.diaz@example.com")
    assert (person.given_name, person.family_name) == ("Rosa", "Diaz")
    assert person.addresses.get().zip_code == "50310"
    assert not PhoneNumber.objects.get(person=person).sms_consent  # no box ticked, no texts


def test_a_full_event_puts_the_rsvp_on_the_waitlist(client, make_event, attendee):
    event = make_event(capacity=1)
    rsvp_create(event=event, data=attendee(1), notify=False)
    response = client.post(reverse("events:detail", args=[event.pk]), GOOD)
    assert Rsvp.objects.get(person__emails__address="rosa.diaz@example.com").status == RsvpStatus.WAITLISTED
    thanks = client.get(response["Location"]).content.decode()
    assert "you're on the waitlist" in thanks


def test_an_event_with_shifts_needs_one_picked(client, make_event):
    shifts = (
        (START, START + datetime.timedelta(hours=3), 10),
        (START + datetime.timedelta(hours=3), START + datetime.timedelta(hours=6), None),
    )
    event = make_event(kind="canvass", shifts=shifts)
    page = client.get(reverse("events:detail", args=[event.pk])).content.decode()
    assert "Fri, Jan 15, 5:00 PM – 8:00 PM CST · 10 spots left" in page
    response = client.post(reverse("events:detail", args=[event.pk]), GOOD)
    assert response.status_code == 400 and not Rsvp.objects.exists()
    late = event.shifts.order_by("starts_at").last()
    client.post(reverse("events:detail", args=[event.pk]), {**GOOD, "shift": str(late.pk)})
    assert Rsvp.objects.get().shift_id == late.pk


def test_bad_input_gets_errors_and_stores_nothing(client, make_event):
    event = make_event()
    response = client.post(reverse("events:detail", args=[event.pk]), {**GOOD, "guests": "-1"})
    assert response.status_code == 400 and "guests" in response.context["form"].errors
    response = client.post(reverse("events:detail", args=[event.pk]), {**GOOD, "email": "rosa@"})  # the service says
    assert response.status_code == 400 and "valid email" in response.context["form"].errors["email"][0]
    assert not Rsvp.objects.exists() and not Person.objects.filter(given_name="Rosa").exists()


def test_the_honeypot_stores_nothing(client, make_event, django_capture_on_commit_callbacks):
    event = make_event()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("events:detail", args=[event.pk]), {**GOOD, "website": "http://spam.example"})
    assert response.status_code == 302
    assert not Rsvp.objects.exists()
    assert not Person.objects.filter(emails__address="rosa.diaz@example.com").exists()
    assert mail.outbox == []


@override_settings(SIGNUP_RATE_LIMIT=2)
def test_too_many_rsvps_from_one_address_are_refused(client, make_event):
    event = make_event()
    for i in range(2):
        client.cookies.clear()  # two people on one network, not one person twice
        response = client.post(reverse("events:detail", args=[event.pk]), {**GOOD, "email": f"p{i}@example.com"})
        assert response.status_code == 302
    client.cookies.clear()
    response = client.post(reverse("events:detail", args=[event.pk]), {**GOOD, "email": "p9@example.com"})
    assert response.status_code == 429
    assert "Too many RSVPs" in response.content.decode()
    assert Rsvp.objects.count() == 2
    other = client.post(
        reverse("events:detail", args=[event.pk]), {**GOOD, "email": "q@example.com"}, REMOTE_ADDR="10.0.0.9"
    )
    assert other.status_code == 302


def test_a_cancelled_or_past_event_takes_no_rsvp(client, make_event):
    from barnstorm.events.services import event_cancel

    cancelled = event_cancel(event=make_event(title="Off"))
    page = client.get(reverse("events:detail", args=[cancelled.pk])).content.decode()
    assert "This event is cancelled." in page and 'name="email"' not in page
    past = make_event(
        title="Over",
        starts_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
        ends_at=datetime.datetime(2020, 1, 1, 2, tzinfo=datetime.UTC),
    )
    client.post(reverse("events:detail", args=[past.pk]), GOOD)
    assert not Rsvp.objects.exists()
    assert "This event has ended" in client.get(reverse("events:detail", args=[past.pk])).content.decode()


def test_the_thanks_page_needs_an_rsvp_from_this_device(client, make_event):
    event = make_event()
    response = client.get(reverse("events:thanks", args=[event.pk]))
    assert response["Location"] == reverse("events:detail", args=[event.pk])


# --- Calendars ---------------------------------------------------------------------------------


def test_the_event_ics(client, make_event):
    event = make_event(title="Canvass, Des Moines", street="400 Locust St", description="Bring water")
    response = client.get(reverse("events:ics", args=[event.pk]))
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert f'filename="event-{event.pk}.ics"' in response["Content-Disposition"]
    body = response.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert "DTSTART:20270115T230000Z" in body and "DTEND:20270116T010000Z" in body
    assert "SUMMARY:Canvass\\, Des Moines" in body
    assert "LOCATION:400 Locust St\\, Des Moines\\, IA 50309" in body


def test_a_groups_calendar_feed_has_its_upcoming_published_events(client, make_event, host):
    group = local_group_create(name="Polk County for Rivera", zip_code="50309")
    other = local_group_create(name="Story County", zip_code="50010")
    make_event(title="Polk canvass", group_id=group.pk, kind="canvass")
    make_event(title="Polk phone bank", group_id=group.pk, kind="phone_bank", **later(3))
    make_event(title="Story canvass", group_id=other.pk)
    make_event(
        title="Polk last year",
        group_id=group.pk,
        starts_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
        ends_at=datetime.datetime(2020, 1, 1, 2, tzinfo=datetime.UTC),
    )
    Event.objects.create(
        title="Polk pending", kind="canvass", host=host, group=group, starts_at=START, ends_at=START, status="pending"
    )
    response = client.get(reverse("events:group_ics", args=[group.slug]))
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content.decode()
    assert "X-WR-CALNAME:Polk County for Rivera" in body
    summaries = [line for line in body.splitlines() if line.startswith("SUMMARY:")]
    assert summaries == ["SUMMARY:Polk canvass", "SUMMARY:Polk phone bank"]
    assert client.get(reverse("events:group_ics", args=["nobody"])).status_code == 404


# --- The manage link ---------------------------------------------------------------------------


@pytest.fixture
def full_event(make_event, attendee):
    event = make_event(capacity=2)
    first = rsvp_create(event=event, data=attendee(1), guests=1, notify=False).rsvp
    waiting = rsvp_create(event=event, data=attendee(2), notify=False).rsvp
    assert (first.status, waiting.status) == (RsvpStatus.GOING, RsvpStatus.WAITLISTED)
    return event, first, waiting


def manage_url(rsvp):
    return reverse("events:rsvp_manage", args=[links.rsvp_manage_token(rsvp.pk)])


def test_the_manage_page_shows_the_ticket_and_remembers_the_device(client, full_event):
    event, first, _ = full_event
    Event.objects.filter(pk=event.pk).update(is_private_home=True)
    page = client.get(manage_url(first)).content.decode()
    assert "You're going." in page and 'class="qr"' in page and first.ticket in page
    assert "12 Elm St" in page
    assert "12 Elm St" in client.get(reverse("events:detail", args=[event.pk])).content.decode()


def test_the_manage_page_changes_guests(client, full_event):
    event, first, waiting = full_event
    response = client.post(manage_url(first), {"guests": "0"})
    assert response.status_code == 302
    first.refresh_from_db()
    assert (first.guests, first.status) == (0, RsvpStatus.GOING)
    assert "Saved. You&#x27;re going." in client.get(response["Location"]).content.decode()


def test_the_manage_page_changes_the_shift(client, make_event, attendee):
    event = make_event(
        kind="canvass",
        shifts=(
            (START, START + datetime.timedelta(hours=2), None),
            (START + datetime.timedelta(hours=2), START + datetime.timedelta(hours=4), None),
        ),
    )
    early, late = event.shifts.order_by("starts_at")
    rsvp = rsvp_create(event=event, data=attendee(1), shift_id=early.pk, notify=False).rsvp
    client.post(manage_url(rsvp), {"guests": "0", "shift": str(late.pk)})
    rsvp.refresh_from_db()
    assert rsvp.shift_id == late.pk


def test_cancelling_from_the_manage_page_promotes_the_waitlist(client, full_event):
    event, first, waiting = full_event
    response = client.post(manage_url(first), {"cancel": "1"})
    assert response.status_code == 302
    first.refresh_from_db()
    waiting.refresh_from_db()
    assert (first.status, waiting.status) == (RsvpStatus.CANCELLED, RsvpStatus.GOING)
    page = client.get(response["Location"]).content.decode()
    assert "Your RSVP is cancelled." in page and "RSVP again" in page and 'class="qr"' not in page
    # The device no longer counts as an attendee's.
    assert client.get(reverse("events:thanks", args=[event.pk])).status_code == 302


def test_a_bad_manage_token_is_not_found(client, full_event):
    _, first, _ = full_event
    token = links.rsvp_manage_token(first.pk)
    assert client.get(reverse("events:rsvp_manage", args=[token[:-2] + "xx"])).status_code == 404
    assert client.get(reverse("events:rsvp_manage", args=["nonsense"])).status_code == 404
    assert client.get(reverse("events:rsvp_manage", args=[links.rsvp_manage_token(999999)])).status_code == 404
