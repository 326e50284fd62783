"""Canvassing services: doors from households, turfs cut and re-cut, claimed alone, knocked, adjusted."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from barnstorm.activity.models import Activity
from barnstorm.field.canvass import door_move, door_record, household_key, turf_claim, turf_release, turfs_cut
from barnstorm.field.models import (
    Answer,
    Attempt,
    Contact,
    ContactStatus,
    Disposition,
    Door,
    DoorResult,
    FieldCampaign,
    Turf,
    TurfStatus,
)
from barnstorm.field.services import AnswerInput, campaign_launch, contacts_expire_leases
from barnstorm.field.turfs import path_meters
from barnstorm.people.services import AddressInput, PersonInput, person_upsert
from barnstorm.segments.services import segment_save

STREETS = ["Elm Street", "Oak Avenue", "Grand Ave", "Ingersoll Avenue", "Cottage Grove Avenue"]
ZIPS = ["50309", "50310", "50312"]


def _resident(n, line1, zip_code, given_name=None, tags=("knock",)):
    data = PersonInput(
        email=f"resident{n}@example.com",
        given_name=given_name or f"Resident{n}",
        family_name="Doe",
        tags=tags,
        address=AddressInput(line1=line1, city="Des Moines", state="IA", zip_code=zip_code),
    )
    return person_upsert(data=data).person


def residents_create():
    """60 households in three Des Moines ZIP codes (each geocoded to its centroid); at 12 Elm
    Street a couple who write the address differently; one supporter with a ZIP code only."""
    people = []
    for n in range(60):
        people.append(_resident(n, f"{100 + 2 * n} {STREETS[n % len(STREETS)]}", ZIPS[n % len(ZIPS)]))
    people.append(_resident(100, "12 Elm Street", "50309", given_name="Ann"))
    people.append(_resident(101, "12 elm st.", "50309", given_name="Bob"))
    zip_only = PersonInput(email="ziponly@example.com", tags=("knock",), address=AddressInput(zip_code="50309"))
    people.append(person_upsert(data=zip_only).person)
    return people


def canvass_launch(organizer, script):
    """A launched canvass of everyone `residents_create` made."""
    segment = segment_save(name="Knock list", query={"type": "has_tag", "tag": "knock"}, actor=organizer)
    campaign = FieldCampaign.objects.create(
        name="Doors in Des Moines", kind="canvass", script=script, segment=segment, created_by=organizer
    )
    return campaign_launch(campaign=campaign, actor=organizer)


@pytest.fixture
def canvass(db, organizer, script):
    residents_create()
    return canvass_launch(organizer, script)


@pytest.fixture
def cut(canvass, organizer):
    turfs_cut(campaign=canvass, doors_per_turf=10, actor=organizer)
    return canvass


def couple_door(campaign):
    return Door.objects.get(campaign=campaign, line1__iexact="12 Elm Street")


def _answers(script, support="Strong support"):
    step = script.steps.get(name="Support")
    return [AnswerInput(step_id=step.pk, choice_ids=[step.choices.get(label=support).pk])]


# Cutting ---------------------------------------------------------------------------------------


def test_households_are_one_door_each(cut):
    assert Door.objects.filter(campaign=cut).count() == 61
    couple = couple_door(cut)
    assert sorted(c.person.given_name for c in couple.contacts.select_related("person")) == ["Ann", "Bob"]
    assert household_key("12 Elm Street", "50309") == household_key("12 elm st.", "50309-1234")


def test_contacts_without_a_street_get_no_door(cut):
    summary = turfs_cut(campaign=cut, doors_per_turf=10, actor=None)
    assert summary.unplaced == 1
    assert Contact.objects.filter(campaign=cut, door__isnull=True).count() == 1


def test_turfs_are_balanced_and_routed(cut):
    turfs = list(Turf.objects.filter(campaign=cut).prefetch_related("doors"))
    assert [t.number for t in turfs] == [1, 2, 3, 4, 5, 6]
    for turf in turfs:
        doors = sorted(turf.doors.all(), key=lambda d: d.position)
        assert 9 <= len(doors) <= 12
        assert [d.position for d in doors] == list(range(1, len(doors) + 1))
        assert turf.route_meters > 0 and turf.latitude is not None


def test_households_sharing_a_zip_centroid_get_distinct_points(cut):
    points = list(Door.objects.filter(campaign=cut).values_list("latitude", "longitude"))
    assert len(set(points)) == len(points)


def test_recutting_replaces_open_turfs_and_keeps_claimed_and_knocked_ones(cut, organizer, make_volunteer):
    vera, will = make_volunteer("vera"), make_volunteer("will")
    claimed = turf_claim(turf=Turf.objects.get(campaign=cut, number=2), volunteer=vera)
    walked = turf_claim(turf=Turf.objects.get(campaign=cut, number=5), volunteer=will)
    knocked = walked.doors.order_by("position").first()
    door_record(door=knocked, volunteer=will, result=DoorResult.NOT_HOME)
    turf_release(turf=walked, actor=will)
    kept = {
        turf.number: list(turf.doors.order_by("position").values_list("pk", flat=True)) for turf in (claimed, walked)
    }

    summary = turfs_cut(campaign=cut, doors_per_turf=20, actor=organizer)

    assert summary.kept == 2
    for number, doors in kept.items():
        turf = Turf.objects.get(campaign=cut, number=number)
        assert list(turf.doors.order_by("position").values_list("pk", flat=True)) == doors
    new = Turf.objects.filter(campaign=cut).exclude(number__in=kept)
    assert summary.turfs == new.count() == 2
    assert sorted(new.values_list("number", flat=True)) == [1, 3]
    assert Door.objects.filter(campaign=cut, turf__isnull=True).count() == 0
    assert Door.objects.filter(campaign=cut).count() == 61


def test_only_a_canvass_is_cut(make_campaign, callable_people, organizer):
    with pytest.raises(ValidationError):
        turfs_cut(campaign=make_campaign("phone"), actor=organizer)


def test_turf_size_is_bounded(canvass, organizer):
    with pytest.raises(ValidationError):
        turfs_cut(campaign=canvass, doors_per_turf=1, actor=organizer)


# Claiming --------------------------------------------------------------------------------------


def test_a_turf_has_one_claimer(cut, make_volunteer):
    vera, will = make_volunteer("vera"), make_volunteer("will")
    turf = Turf.objects.get(campaign=cut, number=1)
    turf_claim(turf=turf, volunteer=vera)
    with pytest.raises(ValidationError):
        turf_claim(turf=turf, volunteer=will)
    turf.refresh_from_db()
    assert turf.claimed_by == vera and turf.status == TurfStatus.CLAIMED
    turf_claim(turf=turf, volunteer=vera)  # asking again is harmless


def test_claiming_leases_the_turfs_people_to_the_claimer(cut, make_volunteer):
    vera = make_volunteer("vera")
    turf = turf_claim(turf=Turf.objects.get(campaign=cut, number=1), volunteer=vera)
    people = Contact.objects.filter(door__turf=turf)
    assert people.exists()
    assert set(people.values_list("status", "leased_to")) == {(ContactStatus.LEASED, vera.pk)}

    turf_release(turf=turf, actor=vera)
    assert set(people.values_list("status", "leased_to")) == {(ContactStatus.AVAILABLE, None)}
    assert Turf.objects.get(pk=turf.pk).status == TurfStatus.OPEN


def test_the_rest_of_the_turf_stays_leased_for_the_day_after_a_door(cut, make_volunteer):
    vera = make_volunteer("vera")
    turf = turf_claim(turf=Turf.objects.get(campaign=cut, number=1), volunteer=vera)
    first, *others = turf.doors.order_by("position")
    door_record(door=first, volunteer=vera, result=DoorResult.NOT_HOME)
    later = timezone.now() + timedelta(hours=6)
    assert contacts_expire_leases(campaign=cut, now=later) == 0
    rest = Contact.objects.filter(door__in=others)
    assert set(rest.values_list("status", "leased_to")) == {(ContactStatus.LEASED, vera.pk)}


@pytest.mark.django_db(transaction=True)
def test_volunteers_claiming_at_once_get_one_claimer(organizer, script, make_volunteer, race):
    residents_create()
    campaign = canvass_launch(organizer, script)
    turfs_cut(campaign=campaign, doors_per_turf=10, actor=organizer)
    turf = Turf.objects.get(campaign=campaign, number=1)
    volunteers = [make_volunteer(f"racer{i}") for i in range(6)]

    outcomes = race(6, lambda n: turf_claim(turf=turf, volunteer=volunteers[n]), refused=(ValidationError,))

    won = [v.pk for v, outcome in zip(volunteers, outcomes, strict=True) if not isinstance(outcome, ValidationError)]
    assert len(won) == 1 and sum(isinstance(o, ValidationError) for o in outcomes) == 5
    assert Turf.objects.get(pk=turf.pk).claimed_by_id == won[0]
    assert set(Contact.objects.filter(door__turf=turf).values_list("leased_to", flat=True)) == {won[0]}


def test_only_the_claimer_or_staff_releases(cut, make_volunteer):
    vera, will = make_volunteer("vera"), make_volunteer("will")
    turf = turf_claim(turf=Turf.objects.get(campaign=cut, number=1), volunteer=vera)
    with pytest.raises(PermissionDenied):
        turf_release(turf=turf, actor=will)


# Knocking --------------------------------------------------------------------------------------


def test_talking_records_answers_for_the_people_spoken_to(cut, script, make_volunteer):
    vera = make_volunteer("vera")
    door = couple_door(cut)
    turf_claim(turf=door.turf, volunteer=vera)
    ann = door.contacts.get(person__given_name="Ann")
    bob = door.contacts.get(person__given_name="Bob")

    door_record(door=door, volunteer=vera, result=DoorResult.TALKED, answers_by_contact={ann.pk: _answers(script)})

    door.refresh_from_db()
    assert door.result == DoorResult.TALKED and door.knocked_by == vera and door.knocked_at
    ann_attempt = Attempt.objects.get(contact=ann)
    assert ann_attempt.disposition == Disposition.REACHED and ann_attempt.channel == "canvass"
    assert [a.choice.label for a in Answer.objects.filter(attempt=ann_attempt)] == ["Strong support"]
    assert Attempt.objects.get(contact=bob).disposition == Disposition.NOT_HOME
    assert Contact.objects.get(pk=ann.pk).status == ContactStatus.DONE
    assert Activity.objects.filter(person_id=ann.person_id, kind="field_answer").exists()


def test_talking_at_a_door_of_several_needs_to_know_who(cut, make_volunteer):
    vera = make_volunteer("vera")
    door = couple_door(cut)
    turf_claim(turf=door.turf, volunteer=vera)
    with pytest.raises(ValidationError):
        door_record(door=door, volunteer=vera, result=DoorResult.TALKED)


def test_a_refusal_is_recorded_for_everyone_at_the_door(cut, make_volunteer):
    vera = make_volunteer("vera")
    door = couple_door(cut)
    turf_claim(turf=door.turf, volunteer=vera)
    door_record(door=door, volunteer=vera, result=DoorResult.REFUSED)
    assert set(Attempt.objects.filter(contact__door=door).values_list("disposition", flat=True)) == {"refused"}
    assert Attempt.objects.filter(contact__door=door).count() == 2


def test_an_unreachable_door_records_no_attempt(cut, make_volunteer):
    vera = make_volunteer("vera")
    door = couple_door(cut)
    turf_claim(turf=door.turf, volunteer=vera)
    door_record(door=door, volunteer=vera, result=DoorResult.INACCESSIBLE)
    assert not Attempt.objects.filter(contact__door=door).exists()
    assert Door.objects.get(pk=door.pk).result == DoorResult.INACCESSIBLE


def test_only_the_claimer_records_doors(cut, make_volunteer):
    vera, will = make_volunteer("vera"), make_volunteer("will")
    door = couple_door(cut)
    turf_claim(turf=door.turf, volunteer=vera)
    with pytest.raises(PermissionDenied):
        door_record(door=door, volunteer=will, result=DoorResult.NOT_HOME)
    assert not Attempt.objects.exists()


def test_the_turf_is_done_when_every_door_is_knocked(cut, make_volunteer):
    vera = make_volunteer("vera")
    turf = turf_claim(turf=Turf.objects.get(campaign=cut, number=3), volunteer=vera)
    doors = list(turf.doors.order_by("position"))
    for door in doors[:-1]:
        door_record(door=door, volunteer=vera, result=DoorResult.NOT_HOME)
    assert Turf.objects.get(pk=turf.pk).status == TurfStatus.CLAIMED
    door_record(door=doors[-1], volunteer=vera, result=DoorResult.MOVED)
    assert Turf.objects.get(pk=turf.pk).status == TurfStatus.DONE
    assert Attempt.objects.filter(contact__door__turf=turf).count() == Contact.objects.filter(door__turf=turf).count()


def test_a_claim_outlasting_its_lease_still_records(cut, make_volunteer):
    vera = make_volunteer("vera")
    door = couple_door(cut)
    turf_claim(turf=door.turf, volunteer=vera)
    Contact.objects.filter(door=door).update(status=ContactStatus.AVAILABLE, leased_to=None, leased_until=None)
    door_record(door=door, volunteer=vera, result=DoorResult.NOT_HOME)
    assert Attempt.objects.filter(contact__door=door, volunteer=vera).count() == 2


# Adjusting -------------------------------------------------------------------------------------


def test_moving_a_door_reroutes_both_turfs(cut, organizer):
    source = Turf.objects.get(campaign=cut, number=1)
    target = Turf.objects.get(campaign=cut, number=2)
    door = source.doors.order_by("position")[2]
    before = {turf.pk: turf.doors.count() for turf in (source, target)}

    door_move(door=door, to_turf=target, actor=organizer)

    source.refresh_from_db()
    target.refresh_from_db()
    assert source.doors.count() == before[source.pk] - 1
    assert target.doors.count() == before[target.pk] + 1
    for turf in (source, target):
        positions = list(turf.doors.order_by("position").values_list("position", flat=True))
        assert positions == list(range(1, len(positions) + 1))
        order = list(turf.doors.order_by("position").values_list("pk", "latitude", "longitude"))
        assert turf.route_meters == pytest.approx(path_meters(order))
    assert door.pk in target.doors.values_list("pk", flat=True)


def test_a_door_moved_into_a_claimed_turf_follows_its_claimer(cut, organizer, make_volunteer):
    vera = make_volunteer("vera")
    target = turf_claim(turf=Turf.objects.get(campaign=cut, number=2), volunteer=vera)
    door = Turf.objects.get(campaign=cut, number=1).doors.first()
    door_move(door=door, to_turf=target, actor=organizer)
    assert set(Contact.objects.filter(door=door).values_list("leased_to", flat=True)) == {vera.pk}


def test_only_organizers_move_doors(cut, make_volunteer):
    door = Turf.objects.get(campaign=cut, number=1).doors.first()
    with pytest.raises(PermissionDenied):
        door_move(door=door, to_turf=Turf.objects.get(campaign=cut, number=2), actor=make_volunteer("vera"))
