"""Personalisation: each person's own fields with fallbacks, their ask, their nearest event."""

import pytest
from django.core import mail
from django.utils import timezone

from barnstorm.donations.models import Contribution
from barnstorm.events.tests.conftest import host, make_event  # noqa: F401 - fixtures
from barnstorm.mailings import render, services
from barnstorm.people.services import AddressInput, PersonInput, person_upsert


def _give(person, cents, key):
    Contribution.objects.create(
        person=person, amount_cents=cents, method="card", source="web", received_at=timezone.now(), idempotency_key=key
    )


@pytest.fixture
def sent(supporters, make_mailing, organizer, django_capture_on_commit_callbacks):
    def send(html):
        mailing = make_mailing(html_body=html)
        with django_capture_on_commit_callbacks(execute=True):
            services.mailing_start(mailing=mailing, actor=organizer)
        return {m.to[0]: m for m in mail.outbox}

    return send


def test_a_missing_name_falls_back_and_the_ask_steps_up_from_the_largest_gift(supporters, sent):
    person_upsert(data=PersonInput(email="fan5@example.com", given_name=""))
    supporters[5].given_name = ""
    supporters[5].save(update_fields=["given_name"])
    _give(supporters[2], 2500, "g1")
    _give(supporters[2], 4000, "g2")

    messages = sent('<p>Dear {{ person.given_name|default:"Friend" }}, give ${{ suggested_amount }}</p>')

    assert "Dear Friend, give $27" in messages["fan5@example.com"].body
    assert "Dear Fan2, give $50" in messages["fan2@example.com"].body  # a step above $40
    assert "Dear Fan3, give $27" in messages["fan3@example.com"].body


def test_the_nearest_upcoming_event_is_named_and_linked(supporters, sent, make_event):  # noqa: F811
    for person in supporters[:2]:
        person_upsert(data=PersonInput(email=person.emails.first().address, address=AddressInput(zip_code="50309")))
    make_event(title="Des Moines canvass", zip_code="50310")

    messages = sent(
        "{% if event %}<p>Join us: {{ event.title }} {{ event.url }}</p>{% else %}<p>No event</p>{% endif %}"
    )

    body = messages["fan0@example.com"].body
    assert "Join us: Des Moines canvass http://127.0.0.1:8000/events/" in body


def test_it_knows_which_variables_a_template_uses():
    assert render.uses("{{ event.title }}", "event")
    assert render.uses("{% if event %}x{% endif %}", "event")
    assert not render.uses("<a href='http://x/events/'>events near you</a>", "event")
    assert not render.uses("{{ person.event_count }}", "event")


def test_the_preview_personalises_like_the_send(supporters, make_mailing, make_event):  # noqa: F811
    from barnstorm.mailings.selectors import mailing_preview

    person_upsert(data=PersonInput(email="fan0@example.com", address=AddressInput(zip_code="50309")))
    make_event(title="Des Moines canvass", zip_code="50310")
    mailing = make_mailing(html_body="<p>{% if event %}{{ event.title }}{% endif %} / {{ next_step.title }}</p>")

    first = mailing_preview(mailing=mailing)[0]

    assert first.address == "fan0@example.com"
    assert "Des Moines canvass /" in first.text
    assert first.text.split("/")[1].strip()  # the ask has a title too


def test_a_batch_looks_up_each_zips_nearest_event_once(supporters, make_mailing, make_event):  # noqa: F811
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for person in supporters[:4]:
        person_upsert(data=PersonInput(email=person.emails.first().address, address=AddressInput(zip_code="50309")))
    make_event(title="Des Moines canvass", zip_code="50310")
    compiled = render.Compiled(make_mailing(html_body="<p>{{ event.title }}</p>"), track=False)
    rows = [(0, p.pk, p.emails.first().address, 0) for p in supporters[:4]]

    with CaptureQueriesContext(connection) as first:
        render.recipients_for(compiled, rows[:2])
    with CaptureQueriesContext(connection) as second:  # the next chunk, same ZIP
        recipients = render.recipients_for(compiled, rows[2:])

    assert len(second) < len(first)
    assert recipients[0].extras["event"]["title"] == "Des Moines canvass"
