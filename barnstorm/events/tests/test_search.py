"""Radius search: nearest first, then soonest; virtual events for everyone; the box changes nothing."""

import datetime

import pytest

from barnstorm.events import geo
from barnstorm.events.selectors import events_search, place_for_zip
from barnstorm.events.tests.conftest import START

pytestmark = pytest.mark.django_db


@pytest.fixture
def spread(make_event):
    return {
        "des_moines": make_event(title="Des Moines", zip_code="50309"),
        "des_moines_later": make_event(
            title="Des Moines later",
            zip_code="50309",
            starts_at=START + datetime.timedelta(days=2),
            ends_at=START + datetime.timedelta(days=2, hours=1),
        ),
        "ames": make_event(title="Ames", zip_code="50010", kind="canvass"),
        "iowa_city": make_event(title="Iowa City", zip_code="52240"),
        "reno": make_event(title="Reno", zip_code="89501"),
        "online": make_event(
            title="Online phone bank",
            zip_code="",
            is_virtual=True,
            virtual_url="https://meet.example/x",
            kind="phone_bank",
        ),
        "past": make_event(
            title="Past",
            zip_code="50309",
            starts_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
            ends_at=datetime.datetime(2020, 1, 1, 2, tzinfo=datetime.UTC),
        ),
    }


def search(**kwargs):
    kwargs.setdefault("date_from", datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC))
    return events_search(**kwargs)


def test_nearest_first_then_soonest_then_virtual(spread):
    found = search(place=place_for_zip("50309"), miles=50)
    assert [e.title for e in found] == ["Des Moines", "Des Moines later", "Ames", "Online phone bank"]
    assert found[0].distance_miles == pytest.approx(0, abs=0.01)
    assert found[2].distance_miles == pytest.approx(
        geo.haversine_miles(found[0].latitude, found[0].longitude, found[2].latitude, found[2].longitude), rel=1e-6
    )
    assert found[3].distance_miles is None


def test_filters_by_type_and_virtual(spread):
    place = place_for_zip("50309")
    assert [e.title for e in search(place=place, miles=50, kinds=["canvass"])] == ["Ames"]
    assert [e.title for e in search(place=place, miles=500, virtual=True)] == ["Online phone bank"]
    assert "Online phone bank" not in [e.title for e in search(place=place, miles=500, virtual=False)]


def test_the_bounding_box_prefilter_gives_the_same_answer_as_none(spread):
    place = place_for_zip("52241")
    for miles in (5, 30, 120, 2000):
        with_box = [(e.pk, round(e.distance_miles or 0, 6)) for e in search(place=place, miles=miles)]
        without = [(e.pk, round(e.distance_miles or 0, 6)) for e in search(place=place, miles=miles, prefilter=False)]
        assert with_box == without


def test_an_unknown_zip_has_no_place():
    assert place_for_zip("00000") is None and place_for_zip("") is None
