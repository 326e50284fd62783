"""A script with a question, a segment of callable people, and campaigns of each kind."""

import pytest

from barnstorm.accounts.models import Role, User
from barnstorm.field.models import Choice, FieldCampaign, Script, Step, StepKind
from barnstorm.field.services import campaign_launch
from barnstorm.people.services import PersonInput, person_upsert
from barnstorm.segments.services import segment_save


@pytest.fixture
def script(db, organizer):
    script = Script.objects.create(name="ID call", created_by=organizer)
    Step.objects.create(
        script=script, position=0, kind=StepKind.TEXT, text="Hi {{ person.given_name }}, I'm a volunteer."
    )
    support = Step.objects.create(
        script=script, position=1, kind=StepKind.SINGLE, name="Support", text="Can we count on you?"
    )
    for i, label in enumerate(("Strong support", "Lean support", "Undecided", "Against")):
        Choice.objects.create(step=support, position=i, label=label)
    issues = Step.objects.create(
        script=script, position=2, kind=StepKind.MULTIPLE, name="Issues", text="What matters most?"
    )
    for i, label in enumerate(("Jobs", "Health care", "Climate")):
        Choice.objects.create(step=issues, position=i, label=label)
    Step.objects.create(script=script, position=3, kind=StepKind.FREE, name="Notes", text="Anything else?")
    return script


@pytest.fixture
def callable_people(db):
    """Thirty people tagged 'call' with a mobile number and text consent."""
    people = []
    for i in range(30):
        data = PersonInput(
            email=f"voter{i}@example.com",
            given_name=f"Voter{i}",
            phone=f"+1515555{i:04d}",
            sms_consent=True,
            tags=("call",),
        )
        people.append(person_upsert(data=data).person)
    return people


@pytest.fixture
def call_segment(db, organizer):
    return segment_save(name="Call list", query={"type": "has_tag", "tag": "call"}, actor=organizer)


@pytest.fixture
def make_campaign(db, organizer, script, call_segment):
    def make(kind="phone", launch=True, **fields):
        campaign = FieldCampaign.objects.create(
            name=f"{kind} campaign", kind=kind, script=script, segment=call_segment, created_by=organizer, **fields
        )
        return campaign_launch(campaign=campaign, actor=organizer) if launch else campaign

    return make


@pytest.fixture
def make_volunteer(db):
    def make(name="vera"):
        person = person_upsert(data=PersonInput(email=f"{name}@volunteers.test", given_name=name.title())).person
        return User.objects.create_user(name, f"{name}@volunteers.test", None, role=Role.VOLUNTEER, person=person)

    return make


@pytest.fixture
def vera(make_volunteer):
    """A volunteer (test_calls.py gives its own Vera a phone)."""
    return make_volunteer("vera")


@pytest.fixture
def vera_client(client, vera):
    client.force_login(vera)
    return client


@pytest.fixture
def phone_bank_party(db):
    """An online phone bank party on the calendar, for campaigns that call together."""
    import datetime

    from barnstorm.events.models import Event, EventStatus

    host = person_upsert(data=PersonInput(email="hana@example.com", given_name="Hana")).person
    start = datetime.datetime(2027, 3, 1, 0, 0, tzinfo=datetime.UTC)
    return Event.objects.create(
        title="Phone bank party for Rivera",
        kind="phone_bank",
        is_virtual=True,
        status=EventStatus.PUBLISHED,
        host=host,
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=2),
        timezone="America/Chicago",
    )
