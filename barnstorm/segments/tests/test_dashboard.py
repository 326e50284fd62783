import itertools
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from barnstorm.activity.services import activity_record
from barnstorm.donations.models import Contribution, Method, Source
from barnstorm.events.models import Event, EventKind, EventStatus, Rsvp, RsvpStatus
from barnstorm.lib import charts
from barnstorm.segments import dashboard, ladder, tasks
from barnstorm.segments.models import Level

pytestmark = pytest.mark.django_db

NOW = timezone.now() - timedelta(minutes=1)
_keys = itertools.count(1)


def give(person, cents, *, refcode="", days_ago=0, refunded=0):
    return Contribution.objects.create(
        person=person,
        amount_cents=cents,
        refunded_cents=refunded,
        method=Method.CARD,
        source=Source.WEB,
        received_at=NOW - timedelta(days=days_ago),
        idempotency_key=f"test-{next(_keys)}",
        refcode=refcode,
    )


def event(host, title, *, days_ahead=5):
    return Event.objects.create(
        title=title,
        kind=EventKind.CANVASS,
        host=host,
        status=EventStatus.PUBLISHED,
        starts_at=NOW + timedelta(days=days_ahead),
        ends_at=NOW + timedelta(days=days_ahead, hours=2),
    )


def test_recent_figures_per_day_and_tops(make_person):
    ann, bob, cat = (make_person(email=f"{n}@example.com") for n in ("ann", "bob", "cat"))
    give(ann, 2700, refcode="email1")
    give(bob, 5000, refcode="email1", refunded=1000)
    give(cat, 1000, refcode="sms", days_ago=2)
    give(cat, 9900, refcode="old", days_ago=45)  # before the 30 days
    small, big = event(ann, "Small canvass"), event(ann, "Big rally")
    Rsvp.objects.create(event=big, person=bob, status=RsvpStatus.GOING)
    Rsvp.objects.create(event=big, person=cat, status=RsvpStatus.GOING)
    Rsvp.objects.create(event=small, person=cat, status=RsvpStatus.CANCELLED)
    activity_record(person_id=bob.pk, kind="rsvp", occurred_at=NOW - timedelta(days=1))
    activity_record(person_id=cat.pk, kind="attended", occurred_at=NOW - timedelta(days=1))

    recent = dashboard.recent_figures(now=timezone.now())

    assert len(recent.days) == 30
    assert recent.days[-1].day == timezone.localdate(NOW)
    today, yesterday, two_days_ago = recent.days[-1], recent.days[-2], recent.days[-3]
    assert (today.signups, today.contributions, today.net_cents) == (3, 2, 2700 + 4000)
    assert (two_days_ago.contributions, two_days_ago.net_cents) == (1, 1000)
    assert (yesterday.rsvps, yesterday.attended) == (1, 1)
    assert recent.net_cents == 7700
    assert [(r.refcode, r.net_cents, r.contributions) for r in recent.top_refcodes] == [
        ("email1", 6700, 2),
        ("sms", 1000, 1),
    ]
    assert [(e.title, e.going) for e in recent.top_events] == [("Big rally", 2), ("Small canvass", 0)]


def test_base_figures_count_the_ladder_and_zips(make_person):
    people = [make_person(email=f"p{i}@example.com", zip_code="50309" if i < 3 else "10001") for i in range(5)]
    activity_record(person_id=people[0].pk, kind="donation")
    activity_record(person_id=people[1].pk, kind="attended")
    ladder.engagement_update(person_ids=[p.pk for p in people[:3]])  # the others have no row yet

    base = dashboard.base_figures()

    assert base.people == 5
    assert [(r.level, r.people) for r in base.funnel] == [
        (Level.SUPPORTER, 3),
        (Level.DONOR, 1),
        (Level.VOLUNTEER, 1),
        (Level.LEADER, 0),
    ]
    assert [(z.zip_code, z.people) for z in base.zips] == [("50309", 3), ("10001", 2)]
    assert base.zips[0].latitude == pytest.approx(41.6, abs=0.2)


def test_the_refresh_task_fills_the_cache(make_person):
    make_person()
    tasks.dashboard_refresh()
    assert cache.get(dashboard.BASE_KEY).people == 1
    assert cache.get(dashboard.RECENT_KEY).signups == 1


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("accounts:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_volunteer_is_refused(outsider_client):
    assert outsider_client.get(reverse("accounts:home")).status_code == 403


def test_the_dashboard_draws_charts_and_the_index(staff_client, make_person):
    donor = make_person(email="d@example.com")
    give(donor, 2700)
    activity_record(person_id=donor.pk, kind="donation")
    activity_record(person_id=donor.pk, kind="attended")
    ladder.engagement_update(person_ids=[donor.pk])
    response = staff_client.get(reverse("accounts:home"))
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("<svg") == 5  # activity, contributions, dollars, funnel, movement
    assert "100%" in page  # the one donor also attended
    assert response.context["recent"].atm.engaged_donors == 1
    assert response.context["markers"][0]["zip"] == "50309"


def _queries_for(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("accounts:home")).status_code == 200
    return len(captured)


def test_a_warm_dashboard_costs_the_same_few_queries_however_much_data(staff_client, make_person):
    make_person(email="first@example.com")
    dashboard.dashboard_refresh()
    few = _queries_for(staff_client)
    for i in range(20):
        person = make_person(email=f"more{i}@example.com", zip_code=f"5031{i % 5}")
        give(person, 1000 + i, refcode=f"r{i}")
        activity_record(person_id=person.pk, kind="attended")
    dashboard.dashboard_refresh()
    assert _queries_for(staff_client) == few
    assert few <= 3  # the session and the user: no figure is computed on a warm page


def test_a_cold_page_computes_only_the_bounded_figures_and_queues_the_rest(staff_client, make_person, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks.dashboard_refresh, "delay", lambda: queued.append(1))
    make_person(email="first@example.com")
    cold_small = _queries_for(staff_client)
    for i in range(15):
        make_person(email=f"more{i}@example.com")
    cache.clear()
    queued.clear()
    page_queries = _queries_for(staff_client)
    assert page_queries == cold_small  # a fixed number of bounded queries, not per row
    assert queued == [1]
    assert cache.get(dashboard.BASE_KEY) is None  # the full counts are left to the task
    assert _queries_for(staff_client) <= 3  # the bounded part is now cached; the task is queued once
    assert queued == [1]


def test_count_charts_label_counts_not_dollars():
    chart = charts.bar_chart([charts.Point("Mon", 3), charts.Point("Tue", 7)], title="RSVPs", counts=True)
    assert [t.label for t in chart.ticks][-1] == "8"
    assert "$" not in chart.bars[0].tooltip
    funnel = charts.funnel_chart([charts.Stage("Supporter", 80), charts.Stage("Donor", 20)], title="Ladder")
    assert funnel.bars[1].width == pytest.approx(funnel.bars[0].width / 4)
    assert funnel.bars[1].share == "20.0%"
