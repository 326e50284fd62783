"""Demo field campaigns (`barnstorm seed`): a phone bank, texting and a canvass at work, recorded by
the field services, with the volunteers who did it."""

import datetime
import io
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Count, Q

from barnstorm.accounts.models import Role, User
from barnstorm.activity.models import Activity
from barnstorm.events.models import EventKind
from barnstorm.field import seed as field_seed
from barnstorm.field.models import (
    Answer,
    Attempt,
    CampaignKind,
    CampaignStatus,
    Contact,
    ContactStatus,
    Disposition,
    Door,
    FieldCampaign,
    Step,
    TextDirection,
    TextMessage,
    Turf,
    TurfStatus,
)
from barnstorm.field.texting import is_opt_out, text_initial_send
from barnstorm.lib import seeding
from barnstorm.lib.management.commands.seed import DEFAULT_PASSWORD
from barnstorm.lib.models import SandboxMessage
from barnstorm.people.models import PhoneNumber

pytestmark = pytest.mark.django_db

# A fixed "now" in the past, 1 p.m. on a Wednesday in Des Moines: anything dated after it would be made up.
NOW = datetime.datetime(2026, 5, 20, 18, 0, tzinfo=datetime.UTC)
PEOPLE = 300
STEPS = ("people", "events", "field")


def seed_demo(people: int = PEOPLE) -> str:
    out = io.StringIO()
    context = seeding.SeedContext(people=people, seed=2026, now=NOW, out=out)
    for step in seeding.seed_steps():
        if step.name in STEPS:
            step.demo(context)
    return out.getvalue()


@pytest.fixture
def demo(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    seed_demo()
    return {c.kind: c for c in FieldCampaign.objects.all()}


def test_the_field_runs_after_people_events_and_mailings_and_before_the_ladder():
    names = [step.name for step in seeding.seed_steps()]

    assert names.index("events") < names.index("mailings") < names.index("field") < names.index("engagement")


def test_three_active_campaigns_follow_one_script_that_branches(demo):
    assert set(demo) == {CampaignKind.PHONE, CampaignKind.TEXT, CampaignKind.CANVASS}
    for campaign in demo.values():
        assert campaign.status == CampaignStatus.ACTIVE
        assert campaign.segment_id and campaign.snapshot_id
        assert campaign.snapshot.created_at < NOW and campaign.contacts.exists()
    assert len({c.script_id for c in demo.values()}) == 1

    steps = list(Step.objects.filter(script=demo[CampaignKind.PHONE].script).order_by("position"))
    assert [s.kind for s in steps] == ["text", "single", "multiple", "free", "text"]
    labels = [c.label for c in steps[1].choices.all()]
    assert labels == ["Strong support", "Lean support", "Undecided", "Lean against", "Against"]
    against = steps[1].choices.get(label="Against")
    assert against.goto == steps[-1]  # to the thank-you, past the other questions


def test_the_phone_bank_belongs_to_an_upcoming_phone_bank_party(demo):
    event = demo[CampaignKind.PHONE].event

    assert event is not None
    assert event.kind == EventKind.PHONE_BANK and event.starts_at > NOW


def test_calls_over_two_weeks_by_several_volunteers_with_answers_for_the_reached(demo):
    attempts = Attempt.objects.filter(campaign=demo[CampaignKind.PHONE])
    count = attempts.count()

    assert count >= field_seed.MIN_CALLS
    assert not attempts.filter(Q(created_at__gte=NOW) | Q(created_at__lt=NOW - datetime.timedelta(days=15))).exists()
    assert attempts.values("volunteer").distinct().count() >= 3
    reached = attempts.filter(disposition=Disposition.REACHED).count()
    assert 0.15 < reached / count < 0.45
    assert attempts.filter(disposition=Disposition.NO_ANSWER).count() > reached
    answers = Answer.objects.filter(attempt__campaign=demo[CampaignKind.PHONE])
    assert answers.exists()
    assert not answers.exclude(attempt__disposition=Disposition.REACHED).exists()
    # "Against" ends the script: no issues or remarks after it.
    against = answers.filter(choice__label="Against").values("attempt")
    assert not Answer.objects.filter(attempt__in=against).exclude(choice__label="Against").exists()
    # Whoever wasn't reached waited the retry time before the next call.
    for contact in Contact.objects.filter(campaign=demo[CampaignKind.PHONE], attempts__gt=1):
        times = list(contact.attempt_set.order_by("created_at").values_list("created_at", flat=True))
        assert all(
            later - earlier >= datetime.timedelta(hours=24) for earlier, later in zip(times, times[1:], strict=False)
        )


def test_the_activity_log_has_every_attempt_and_answer_when_it_happened(demo):
    for kind, rows in (("field_attempt", Attempt.objects.all()), ("field_answer", Answer.objects.all())):
        logged = Activity.objects.filter(kind=kind)
        assert logged.count() == rows.count() > 0
        assert not logged.filter(occurred_at__gte=NOW).exists()
    volunteered = Activity.objects.filter(kind="field_volunteered").values("person").annotate(n=Count("pk"))
    assert {row["person"] for row in volunteered} <= set(User.objects.values_list("person", flat=True))
    # Each at the moment of its attempt.
    logged = Activity.objects.filter(kind="field_attempt").values_list("person_id", "occurred_at")
    assert Counter(logged) == Counter(Attempt.objects.values_list("person_id", "created_at"))


def test_first_texts_from_the_pool_replies_and_canned_responses(demo):
    campaign = demo[CampaignKind.TEXT]
    numbers = set(campaign.sending_numbers.values_list("number", flat=True))
    texts = TextMessage.objects.filter(campaign=campaign)
    sent = texts.filter(direction=TextDirection.OUT)

    assert len(numbers) == 4 and campaign.canned_responses.count() >= 3
    assert set(sent.values_list("from_number", flat=True)) == numbers
    texted = Contact.objects.filter(campaign=campaign, texts__direction=TextDirection.OUT).distinct()
    # As many as planned, or (a small demo) most of the people there are to text.
    assert texted.count() >= min(field_seed.MIN_FIRST_TEXTS, 0.6 * campaign.contacts.count())
    replied = Contact.objects.filter(campaign=campaign, texts__direction=TextDirection.IN).distinct()
    assert 0 < replied.count() < texted.count()
    assert not texts.filter(created_at__gte=NOW).exists()
    # Every text went through the sandbox, never the network.
    assert SandboxMessage.objects.filter(direction="outbound").count() == sent.count()
    # A canned response answered someone.
    assert sent.filter(body__contains="okafor.example.org").exists()
    # Each first text went on a daytime click in Iowa (9 a.m.–9 p.m. Central).
    for created_at in sent.values_list("created_at", flat=True):
        assert 9 <= created_at.astimezone(field_seed.IOWA).hour < 21


def test_a_stop_opts_the_number_out_and_a_later_first_text_is_refused(demo):
    campaign = demo[CampaignKind.TEXT]
    stops = TextMessage.objects.filter(campaign=campaign, direction=TextDirection.IN)
    stopped = {m.from_number for m in stops if is_opt_out(m.body)}
    assert stopped
    opted_out = PhoneNumber.objects.filter(number__in=stopped, sms_opted_out_at__isnull=False)
    assert opted_out.count() == len(stopped)
    assert all(campaign.snapshot.created_at < p.sms_opted_out_at < NOW for p in opted_out)
    assert Activity.objects.filter(kind="sms_opt_out", person__in=opted_out.values("person")).count() == len(stopped)

    # A conversation left open after its STOP: the volunteer holding it can't text the number again.
    held = Contact.objects.filter(campaign=campaign, status=ContactStatus.LEASED, phone__in=stopped).first()
    assert held is not None
    texts_before = TextMessage.objects.count()
    with pytest.raises(ValidationError, match="opted out"):
        text_initial_send(contact=held, volunteer=held.leased_to, now=NOW)
    assert TextMessage.objects.count() == texts_before


def test_a_canvass_in_turfs_with_claimed_turfs_and_knocked_doors(demo):
    campaign = demo[CampaignKind.CANVASS]
    turfs = Turf.objects.filter(campaign=campaign)
    doors = Door.objects.filter(campaign=campaign)

    assert turfs.exists() and doors.exists()
    assert not doors.filter(turf=None).exists()
    claimed = turfs.exclude(status=TurfStatus.OPEN)
    assert claimed.exists()
    knocked = doors.exclude(knocked_at=None)
    assert knocked.exists()
    for door in knocked.select_related("turf"):
        assert door.knocked_by_id == door.turf.claimed_by_id
        assert door.turf.claimed_at < door.knocked_at < NOW
    attempts = Attempt.objects.filter(campaign=campaign)
    assert attempts.exists()
    assert set(attempts.values_list("contact__door", flat=True)) <= set(knocked.values_list("pk", flat=True))


def test_the_volunteer_login_is_a_supporter_with_work_in_progress(demo):
    volunteer = User.objects.get(username=field_seed.DEMO_LOGIN)

    assert volunteer.role == Role.VOLUNTEER and not volunteer.is_organizer
    assert volunteer.check_password(DEFAULT_PASSWORD)
    assert volunteer.person is not None
    assert Turf.objects.filter(campaign=demo[CampaignKind.CANVASS], claimed_by=volunteer).exists()
    assert Contact.objects.filter(
        campaign=demo[CampaignKind.TEXT], leased_to=volunteer, status=ContactStatus.LEASED
    ).exists()
    others = User.objects.filter(role=Role.VOLUNTEER).exclude(pk=volunteer.pk)
    assert others.exists() and not any(user.has_usable_password() for user in others)


def test_running_the_step_again_adds_nothing(demo):
    before = (FieldCampaign.objects.count(), Attempt.objects.count(), TextMessage.objects.count(), User.objects.count())

    context = seeding.SeedContext(people=PEOPLE, seed=2026, now=NOW, out=io.StringIO())
    context.shared["people.person_ids"] = list(Contact.objects.values_list("person_id", flat=True).distinct())
    field_seed.seed_field_demo(context)

    after = (FieldCampaign.objects.count(), Attempt.objects.count(), TextMessage.objects.count(), User.objects.count())
    assert after == before
    assert "already" in context.out.getvalue()
