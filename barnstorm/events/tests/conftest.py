import datetime

import pytest

from barnstorm.events.services import EventInput, event_create
from barnstorm.people.services import AddressInput, PersonInput, person_upsert

START = datetime.datetime(2027, 1, 15, 23, 0, tzinfo=datetime.UTC)  # 5 pm in Des Moines


@pytest.fixture
def host(db):
    return person_upsert(data=PersonInput(email="host@example.com", given_name="Hana", family_name="Host")).person


@pytest.fixture
def make_event(host, organizer):
    def make(title="House party for Rivera", zip_code="50309", capacity=None, actor=None, host_person=None, **extra):
        data = EventInput(
            title=title,
            kind=extra.pop("kind", "house_party"),
            starts_at=extra.pop("starts_at", START),
            ends_at=extra.pop("ends_at", START + datetime.timedelta(hours=2)),
            zip_code=zip_code,
            street=extra.pop("street", "12 Elm St"),
            capacity=capacity,
            **extra,
        )
        return event_create(data=data, host=host_person or host, actor=actor or organizer)

    return make


@pytest.fixture
def attendee():
    def attendee(n=1, **extra):
        return PersonInput(
            email=f"guest{n}@example.com",
            given_name=f"Guest{n}",
            family_name="Smith",
            address=AddressInput(zip_code="50310"),
            **extra,
        )

    return attendee
