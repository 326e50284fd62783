"""A target segment of tagged supporters and a mailing to them, for every mailings test."""

import pytest

from barnstorm.mailings.services import mailing_save
from barnstorm.people.services import PersonInput, person_upsert
from barnstorm.segments.services import segment_save


@pytest.fixture
def supporters(db):
    """Twelve people tagged 'iowa' (the target) and three others."""
    people = []
    for i in range(15):
        tags = ("iowa",) if i < 12 else ()
        data = PersonInput(email=f"fan{i}@example.com", given_name=f"Fan{i}", family_name="Lee", tags=tags)
        people.append(person_upsert(data=data).person)
    return people


@pytest.fixture
def iowa(db, organizer):
    return segment_save(name="Iowa", query={"type": "has_tag", "tag": "iowa"}, actor=organizer)


@pytest.fixture
def make_mailing(db, organizer, iowa):
    def make(subjects=("Hello {{ person.given_name|default:'Friend' }}",), **fields):
        values = {
            "name": "Weekly update",
            "from_name": "Team Barnstorm",
            "from_address": "team@barnstorm.test",
            "html_body": '<p>Hi {{ person.given_name|default:"Friend" }}!</p>'
            '<p><a href="http://127.0.0.1:8000/donate/main/">Give</a> or '
            '<a href="https://news.example.org/story">read</a></p>',
            "segment": iowa,
            **fields,
        }
        return mailing_save(fields=values, subjects=list(subjects), actor=organizer)

    return make
