"""Composing, scheduling and topics: the limits every intake path meets, at the services."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from barnstorm.mailings import services
from barnstorm.mailings.models import MailingStatus, Topic


@pytest.mark.parametrize("percent, message", [(0, "greater than or equal to 1"), (101, "less than or equal to 100")])
def test_the_ab_test_sample_is_between_1_and_100_percent(make_mailing, percent, message):
    with pytest.raises(ValidationError) as refused:
        make_mailing(ab_sample_percent=percent)

    assert message in refused.value.message_dict["ab_sample_percent"][0]


@pytest.mark.parametrize("percent", [1, 100])
def test_the_ab_test_sample_may_be_its_limits(make_mailing, percent):
    assert make_mailing(ab_sample_percent=percent).ab_sample_percent == percent


def test_an_out_of_range_sample_is_reported_with_the_other_mistakes(make_mailing):
    with pytest.raises(ValidationError) as refused:
        make_mailing(subjects=(), ab_sample_percent=0)

    assert set(refused.value.message_dict) >= {"subject_0", "ab_sample_percent"}


def test_a_changed_mailing_is_held_to_the_same_limit(make_mailing, organizer):
    mailing = make_mailing()

    with pytest.raises(ValidationError):
        services.mailing_save(fields={"ab_sample_percent": 150}, subjects=["Hello"], actor=organizer, mailing=mailing)

    mailing.refresh_from_db()
    assert mailing.ab_sample_percent == 20


@pytest.mark.parametrize("ago", [datetime.timedelta(0), datetime.timedelta(minutes=5)])
def test_a_send_time_in_the_past_is_refused(make_mailing, organizer, ago):
    mailing = make_mailing()

    with pytest.raises(ValidationError) as refused:
        services.mailing_schedule(mailing=mailing, send_at=timezone.now() - ago, actor=organizer)

    assert "future" in refused.value.message_dict["send_at"][0]
    mailing.refresh_from_db()
    assert (mailing.status, mailing.send_at) == (MailingStatus.DRAFT, None)


def test_a_send_time_in_the_future_schedules_it(make_mailing, organizer):
    send_at = timezone.now() + datetime.timedelta(hours=1)

    mailing = services.mailing_schedule(mailing=make_mailing(), send_at=send_at, actor=organizer)

    assert (mailing.status, mailing.send_at) == (MailingStatus.SCHEDULED, send_at)


def test_a_topic_is_created(organizer):
    topic = services.topic_create(name="  Events near you ", description="Invitations", actor=organizer)

    assert (topic.name, topic.description) == ("Events near you", "Invitations")
    assert Topic.objects.get() == topic


def test_a_topic_name_is_refused_the_second_time(organizer):
    services.topic_create(name="Fundraising", actor=organizer)

    with pytest.raises(ValidationError) as refused:
        services.topic_create(name="Fundraising", description="Again", actor=organizer)

    assert refused.value.message_dict["name"] == ["Topic with this Name already exists."]
    assert Topic.objects.count() == 1


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_topic_needs_a_name_that_fits(organizer, name):
    with pytest.raises(ValidationError) as refused:
        services.topic_create(name=name, actor=organizer)

    assert "name" in refused.value.message_dict
    assert not Topic.objects.exists()
