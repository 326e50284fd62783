from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from barnstorm.activity.services import activity_record
from barnstorm.people.models import GroupMembership, GroupRole, LocalGroup
from barnstorm.segments import ladder, tasks
from barnstorm.segments.models import Engagement, Level, LevelChange

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=1)


def act(person, kind, days_ago=0):
    activity_record(person_id=person.pk, kind=kind, occurred_at=NOW - timedelta(days=days_ago))


def engagement(person):
    return Engagement.objects.get(person=person)


def test_levels_follow_the_highest_recent_rung(make_person):
    supporter = make_person(email="s@example.com")
    donor = make_person(email="d@example.com")
    volunteer = make_person(email="v@example.com")
    host = make_person(email="h@example.com")
    act(donor, "donation", 3)
    act(volunteer, "donation", 3)
    act(volunteer, "attended", 10)
    act(host, "hosted_event", 30)
    ladder.engagement_update(person_ids=[supporter.pk, donor.pk, volunteer.pk, host.pk], now=NOW)
    assert [engagement(p).level for p in (supporter, donor, volunteer, host)] == [
        Level.SUPPORTER,
        Level.DONOR,
        Level.VOLUNTEER,
        Level.LEADER,
    ]


def test_a_group_leader_is_on_the_top_rung(make_person):
    person = make_person()
    group = LocalGroup.objects.create(name="Des Moines", slug="dsm")
    GroupMembership.objects.create(person=person, group=group, role=GroupRole.LEADER)
    ladder.engagement_update(person_ids=[person.pk], now=NOW)
    assert engagement(person).level == Level.LEADER


def test_an_action_older_than_the_level_window_no_longer_counts(make_person):
    person = make_person()
    act(person, "attended", 400)
    ladder.engagement_update(person_ids=[person.pk], now=NOW)
    assert engagement(person).level == Level.SUPPORTER


def test_the_score_decays_with_a_90_day_half_life(make_person):
    person = make_person()
    person.activities.all().delete()  # the signup, recorded "now" rather than at NOW
    act(person, "attended", 0)  # 5
    act(person, "attended", 90)  # 2.5
    act(person, "donation", 180)  # 3 × 0.25
    act(person, "tag_added", 0)  # no weight
    ladder.engagement_update(person_ids=[person.pk], now=NOW)
    assert engagement(person).score == pytest.approx(5 + 2.5 + 0.75)


def test_two_actions_the_same_day_both_count(make_person):
    person = make_person()
    person.activities.all().delete()
    act(person, "rsvp", 0)
    act(person, "rsvp", 0)
    ladder.engagement_update(person_ids=[person.pk], now=NOW)
    assert engagement(person).score == pytest.approx(4.0)


def test_the_ladder_table_and_names_come_from_settings(settings, make_person):
    settings.ENGAGEMENT_LADDER = {"rsvp": Level.LEADER, "donation": 0}
    settings.ENGAGEMENT_LEVEL_NAMES = {1: "Giver"}
    giver, rsvper = make_person(email="g@example.com"), make_person(email="r@example.com")
    act(giver, "donation")
    act(rsvper, "rsvp")
    ladder.engagement_update(person_ids=[giver.pk, rsvper.pk], now=NOW)
    assert engagement(giver).level == Level.SUPPORTER
    assert engagement(rsvper).level == Level.LEADER
    assert ladder.level_name(1) == "Giver"
    assert ladder.level_name(2) == "Volunteer"


def test_a_move_is_recorded_once_as_a_level_change(make_person):
    person = make_person()
    act(person, "donation", 1)
    ladder.engagement_update(person_ids=[person.pk], now=NOW)
    ladder.engagement_update(person_ids=[person.pk], now=NOW)  # again: nothing new
    act(person, "attended", 0)
    ladder.engagement_update(person_ids=[person.pk], now=NOW)
    moves = list(LevelChange.objects.filter(person=person).order_by("id").values_list("from_level", "to_level"))
    assert moves == [(Level.SUPPORTER, Level.DONOR), (Level.DONOR, Level.VOLUNTEER)]
    assert engagement(person).level_changed_at == NOW


def test_lapsing_moves_a_person_down(make_person):
    person = make_person()
    act(person, "attended", 360)
    ladder.engagement_update(person_ids=[person.pk], now=NOW)
    ladder.engagement_update(person_ids=[person.pk], now=NOW + timedelta(days=10))
    assert engagement(person).level == Level.SUPPORTER
    assert LevelChange.objects.filter(person=person, from_level=Level.VOLUNTEER, to_level=Level.SUPPORTER).exists()


def test_people_merged_away_are_skipped(make_person):
    person = make_person()
    gone = person.pk + 1000
    assert ladder.engagement_update(person_ids=[person.pk, gone], now=NOW) == 0
    assert list(Engagement.objects.values_list("person_id", flat=True)) == [person.pk]


def _state():
    return sorted(Engagement.objects.values_list("person_id", "level", "score"))


def test_incremental_refresh_agrees_with_the_full_recompute(make_person):
    people = [make_person(email=f"p{i}@example.com") for i in range(6)]
    tasks.engagement_refresh_recent()  # the signups
    act(people[0], "donation", 5)
    act(people[1], "rsvp", 2)
    tasks.engagement_refresh_recent()
    act(people[1], "hosted_event", 1)
    act(people[2], "attended", 40)
    act(people[3], "donation", 100)
    tasks.engagement_refresh_recent()
    incremental = _state()
    Engagement.objects.all().delete()
    call_command("engagement_recompute", "--batch-size", "2", verbosity=0)
    full = _state()
    assert [row[:2] for row in incremental] == [row[:2] for row in full]
    assert [row[2] for row in incremental] == pytest.approx([row[2] for row in full], rel=1e-3)
    assert {row[1] for row in full} == {Level.SUPPORTER, Level.DONOR, Level.LEADER, Level.VOLUNTEER}


def test_the_refresh_picks_up_only_new_activity(make_person):
    first, second = make_person(email="a@example.com"), make_person(email="b@example.com")
    assert tasks.engagement_refresh_recent() == 2
    act(second, "donation")
    assert tasks.engagement_refresh_recent() == 2  # the overlap below the mark re-reads recent ids
    cache.set(tasks.MARK_KEY, 10**9)  # far above: nothing new
    assert tasks.engagement_refresh_recent() == 0
    assert engagement(second).level == Level.DONOR
    assert engagement(first).level == Level.SUPPORTER


def test_a_lost_mark_is_rebuilt_from_the_last_update(make_person, monkeypatch):
    person = make_person()
    tasks.engagement_refresh_recent()
    cache.delete(tasks.MARK_KEY)
    monkeypatch.setattr(tasks, "OVERLAP_IDS", 0)
    act(person, "attended")
    queued = []
    monkeypatch.setattr(tasks.engagement_refresh, "delay", queued.append)
    tasks.engagement_refresh_recent()
    assert queued == [[person.pk]]


def test_the_sweep_finds_people_whose_actions_just_lapsed(make_person, monkeypatch):
    person, fresh = make_person(email="a@example.com"), make_person(email="b@example.com")
    act(person, "attended", 364)
    act(fresh, "attended", 10)
    ladder.engagement_update(person_ids=[person.pk, fresh.pk], now=NOW)
    later = NOW + timedelta(days=2)
    cache.set(tasks.SWEEP_KEY, NOW)
    assert list(tasks.people_with_lapsed_actions(now=later)) == [person.pk]


def test_recruiting_a_new_supporter_makes_a_leader(db):
    from barnstorm.people.services import PersonInput, person_upsert
    from barnstorm.segments.ladder import engagement_update
    from barnstorm.segments.models import Engagement, Level

    sharer = person_upsert(data=PersonInput(email="sharer@example.com")).person
    person_upsert(data=PersonInput(email="friend@example.com", referral_code=f"share_{sharer.pk}"))
    engagement_update(person_ids=[sharer.pk])
    assert Engagement.objects.get(person=sharer).level == Level.LEADER
