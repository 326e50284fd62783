"""Canvassing pages: who sees which turf, claiming, knocking from the phone, the walk sheet, the map."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from barnstorm.field.canvass import turf_claim, turfs_cut
from barnstorm.field.models import Answer, Attempt, Door, DoorResult, Turf, TurfStatus
from barnstorm.field.tests.test_canvass import canvass_launch, couple_door, residents_create


@pytest.fixture
def canvass(db, organizer, script):
    residents_create()
    return canvass_launch(organizer, script)


@pytest.fixture
def cut(canvass, organizer):
    turfs_cut(campaign=canvass, doors_per_turf=10, actor=organizer)
    return canvass


def _turf(campaign, number=1):
    return Turf.objects.get(campaign=campaign, number=number)


# Who may open what -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["canvass_turfs", "canvass_walk", "canvass_sheet"])
def test_volunteer_pages_send_anonymous_visitors_to_sign_in(client, cut, name):
    args = [cut.pk] if name == "canvass_turfs" else [cut.pk, _turf(cut).pk]
    response = client.get(reverse(f"field:{name}", args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:magic_start"))


@pytest.mark.parametrize("name", ["canvass_cut", "canvass_map"])
def test_organizer_pages_refuse_volunteers_and_send_anonymous_to_log_in(client, cut, vera, name):
    url = reverse(f"field:{name}", args=[cut.pk])
    response = client.get(url)
    assert response.status_code == 302 and "login" in response["Location"]
    client.force_login(vera)
    assert client.get(url).status_code == 403


def test_moving_a_door_is_refused_to_volunteers(vera_client, cut):
    door = _turf(cut).doors.first()
    response = vera_client.post(reverse("field:canvass_move", args=[cut.pk, door.pk]), {"to_turf": _turf(cut, 2).pk})
    assert response.status_code == 403
    assert Door.objects.get(pk=door.pk).turf_id == _turf(cut).pk


def test_a_volunteer_cannot_open_another_volunteers_walk_list(vera_client, cut, make_volunteer):
    turf = turf_claim(turf=_turf(cut), volunteer=make_volunteer("will"))
    for name in ("canvass_walk", "canvass_sheet"):
        assert vera_client.get(reverse(f"field:{name}", args=[cut.pk, turf.pk])).status_code == 404
    open_turf = _turf(cut, 2)
    assert vera_client.get(reverse("field:canvass_walk", args=[cut.pk, open_turf.pk])).status_code == 404


def test_staff_open_any_walk_list(staff_client, cut, make_volunteer):
    turf = turf_claim(turf=_turf(cut), volunteer=make_volunteer("will"))
    assert staff_client.get(reverse("field:canvass_walk", args=[cut.pk, turf.pk])).status_code == 200


# Volunteers ------------------------------------------------------------------------------------


def test_open_turfs_are_listed_nearest_first_with_a_map(vera_client, cut):
    response = vera_client.get(reverse("field:canvass_turfs", args=[cut.pk]), {"zip": "50312"})
    assert response.status_code == 200
    turfs = response.context["turfs"]
    assert len(turfs) == 6
    distances = [t.distance_km for t in turfs]
    assert distances == sorted(distances)
    assert b'id="turfs-map"' in response.content and b"js_lib_leaflet/leaflet.js" in response.content


def test_without_a_place_the_open_turfs_are_listed_by_number(vera_client, cut):
    response = vera_client.get(reverse("field:canvass_turfs", args=[cut.pk]))
    assert [t.number for t in response.context["turfs"]] == [1, 2, 3, 4, 5, 6]
    assert "km away" not in response.content.decode()


def test_the_turf_list_takes_a_constant_number_of_queries(vera_client, cut, organizer):
    url = reverse("field:canvass_turfs", args=[cut.pk])
    vera_client.get(url)
    with CaptureQueriesContext(connection) as few:
        vera_client.get(url)
    turfs_cut(campaign=cut, doors_per_turf=5, actor=organizer)
    with CaptureQueriesContext(connection) as many:
        vera_client.get(url)
    assert Turf.objects.filter(campaign=cut).count() > 6
    assert len(many) == len(few)


def test_claiming_leads_to_the_walk_list_and_a_second_claim_is_refused(client, cut, vera, make_volunteer):
    turf = _turf(cut)
    client.force_login(vera)
    response = client.post(reverse("field:canvass_claim", args=[cut.pk, turf.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("field:canvass_walk", args=[cut.pk, turf.pk])

    client.force_login(make_volunteer("will"))
    response = client.post(reverse("field:canvass_claim", args=[cut.pk, turf.pk]), follow=True)
    assert "Someone else has claimed this turf." in response.content.decode()
    assert Turf.objects.get(pk=turf.pk).claimed_by == vera


def test_the_walk_list_shows_the_doors_in_route_order_with_a_map(vera_client, vera, cut):
    turf = turf_claim(turf=_turf(cut), volunteer=vera)
    response = vera_client.get(reverse("field:canvass_walk", args=[cut.pk, turf.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    doors = list(turf.doors.order_by("position"))
    positions = [html.index(f'id="door-{d.position}"') for d in doors]
    assert positions == sorted(positions)
    assert [m["position"] for m in response.context["markers"]] == [d.position for d in doors]
    assert 'id="walk-map"' in html and "Can we count on you?" in html


def test_the_walk_list_takes_a_constant_number_of_queries(vera_client, vera, cut, organizer):
    turf = turf_claim(turf=_turf(cut), volunteer=vera)
    url = reverse("field:canvass_walk", args=[cut.pk, turf.pk])
    vera_client.get(url)
    with CaptureQueriesContext(connection) as few:
        vera_client.get(url)
    for door in Door.objects.filter(turf=_turf(cut, 2)):
        door.turf = turf
        door.save(update_fields=["turf"])
    with CaptureQueriesContext(connection) as many:
        vera_client.get(url)
    assert len(many) == len(few)


def test_knocking_from_the_phone_records_answers(vera_client, vera, cut, script):
    door = couple_door(cut)
    turf = turf_claim(turf=door.turf, volunteer=vera)
    ann = door.contacts.get(person__given_name="Ann")
    support = script.steps.get(name="Support")
    issues = script.steps.get(name="Issues")
    url = reverse("field:canvass_door", args=[cut.pk, turf.pk, door.pk])
    response = vera_client.post(
        url,
        {
            "result": DoorResult.TALKED,
            "spoke": [ann.pk],
            f"c{ann.pk}-step-{support.pk}": support.choices.get(label="Lean support").pk,
            f"c{ann.pk}-step-{issues.pk}": [
                issues.choices.get(label="Jobs").pk,
                issues.choices.get(label="Climate").pk,
            ],
            "notes": "Has a dog",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Saved: Talked." in response.content.decode()
    attempt = Attempt.objects.get(contact=ann)
    assert attempt.disposition == "reached" and attempt.notes == "Has a dog"
    assert sorted(a.choice.label for a in Answer.objects.filter(attempt=attempt)) == ["Climate", "Jobs", "Lean support"]
    assert Door.objects.get(pk=door.pk).result == DoorResult.TALKED


def test_a_door_without_a_result_says_what_is_missing(vera_client, vera, cut):
    door = couple_door(cut)
    turf = turf_claim(turf=door.turf, volunteer=vera)
    url = reverse("field:canvass_door", args=[cut.pk, turf.pk, door.pk])
    response = vera_client.post(url, {"result": DoorResult.TALKED}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Tick who you spoke with." in response.content.decode()
    assert not Attempt.objects.exists()


def test_the_last_door_sends_the_phone_to_the_finished_turf(vera_client, vera, cut):
    turf = turf_claim(turf=_turf(cut, 4), volunteer=vera)
    doors = list(turf.doors.order_by("position"))
    for door in doors:
        response = vera_client.post(
            reverse("field:canvass_door", args=[cut.pk, turf.pk, door.pk]),
            {"result": DoorResult.NOT_HOME},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("field:canvass_walk", args=[cut.pk, turf.pk])
    assert Turf.objects.get(pk=turf.pk).status == TurfStatus.DONE
    page = vera_client.get(reverse("field:canvass_walk", args=[cut.pk, turf.pk]))
    assert "Every door knocked" in page.content.decode()


def test_another_volunteers_door_cannot_be_recorded(vera_client, cut, make_volunteer):
    door = couple_door(cut)
    turf = turf_claim(turf=door.turf, volunteer=make_volunteer("will"))
    response = vera_client.post(
        reverse("field:canvass_door", args=[cut.pk, turf.pk, door.pk]), {"result": DoorResult.NOT_HOME}
    )
    assert response.status_code == 404
    assert not Attempt.objects.exists()


def test_the_walk_sheet_is_a_pdf(vera_client, vera, cut):
    turf = turf_claim(turf=couple_door(cut).turf, volunteer=vera)
    response = vera_client.get(reverse("field:canvass_sheet", args=[cut.pk, turf.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert len(response.content) > 1000


def test_giving_a_turf_back_opens_it_again(vera_client, vera, cut):
    turf = turf_claim(turf=_turf(cut), volunteer=vera)
    response = vera_client.post(reverse("field:canvass_release", args=[cut.pk, turf.pk]))
    assert response.status_code == 302
    assert Turf.objects.get(pk=turf.pk).status == TurfStatus.OPEN


# Organizers ------------------------------------------------------------------------------------


def test_organizers_cut_turfs_from_the_form(staff_client, canvass):
    url = reverse("field:canvass_cut", args=[canvass.pk])
    assert staff_client.get(url).status_code == 200
    response = staff_client.post(url, {"doors_per_turf": 20})
    assert response.status_code == 302
    assert response["Location"] == reverse("field:canvass_map", args=[canvass.pk])
    assert Turf.objects.filter(campaign=canvass).count() == 3


def test_the_cut_form_refuses_silly_sizes(staff_client, canvass):
    response = staff_client.post(reverse("field:canvass_cut", args=[canvass.pk]), {"doors_per_turf": 2})
    assert response.status_code == 200
    assert not Turf.objects.filter(campaign=canvass).exists()


def test_the_map_shows_every_turf_and_moves_a_door(staff_client, cut):
    url = reverse("field:canvass_map", args=[cut.pk])
    response = staff_client.get(url)
    assert response.status_code == 200
    assert len(response.context["turf_markers"]) == 6
    assert len(response.context["door_markers"]) == 61  # a small campaign: every door at once
    assert b'id="cut-map"' in response.content

    source, target = _turf(cut, 1), _turf(cut, 2)
    door = source.doors.order_by("position").first()
    picked = staff_client.get(url, {"turf": 1})
    assert f'action="{reverse("field:canvass_move", args=[cut.pk, door.pk])}"' in picked.content.decode()
    response = staff_client.post(reverse("field:canvass_move", args=[cut.pk, door.pk]), {"to_turf": target.pk})
    assert response.status_code == 302
    assert response["Location"].endswith("?turf=2")
    assert Door.objects.get(pk=door.pk).turf_id == target.pk
    assert list(target.doors.order_by("position").values_list("position", flat=True)) == list(
        range(1, target.doors.count() + 1)
    )


def test_the_map_takes_a_constant_number_of_queries(staff_client, cut, organizer):
    url = reverse("field:canvass_map", args=[cut.pk])
    staff_client.get(url)
    with CaptureQueriesContext(connection) as few:
        staff_client.get(url)
    turfs_cut(campaign=cut, doors_per_turf=5, actor=organizer)
    with CaptureQueriesContext(connection) as many:
        staff_client.get(url)
    assert len(many) == len(few)
