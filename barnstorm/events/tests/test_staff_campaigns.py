"""Event campaigns: a banner over many events, created and edited by organizers, with their stats."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from barnstorm.events.models import Event, EventCampaign
from barnstorm.events.services import rsvp_check_in, rsvp_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign():
    return EventCampaign.objects.create(name="Day of action", slug="day-of-action")


def test_an_organizer_creates_and_edits_a_campaign(staff_client):
    response = staff_client.post(reverse("events:campaign_new"), {"name": "Summer of organizing", "slug": "summer"})
    campaign = EventCampaign.objects.get()
    assert response["Location"] == reverse("events:campaign_detail", args=[campaign.pk])
    staff_client.post(
        reverse("events:campaign_edit", args=[campaign.pk]),
        {"name": "Summer of organizing 2027", "slug": "summer", "description": "Every weekend"},
    )
    campaign.refresh_from_db()
    assert (campaign.name, campaign.description) == ("Summer of organizing 2027", "Every weekend")


def test_two_campaigns_cannot_share_an_address(staff_client, campaign):
    response = staff_client.post(reverse("events:campaign_new"), {"name": "Another", "slug": "day-of-action"})
    assert response.status_code == 400 and "Another campaign has this address" in response.content.decode()
    assert EventCampaign.objects.count() == 1


def test_deleting_a_campaign_keeps_its_events(staff_client, campaign, make_event):
    event = make_event(campaign_id=campaign.pk)
    staff_client.post(reverse("events:campaign_delete", args=[campaign.pk]))
    assert not EventCampaign.objects.exists()
    event.refresh_from_db()
    assert event.campaign is None


def test_campaign_stats_add_up_its_events(staff_client, campaign, make_event, attendee, organizer, make_person):
    first = make_event(campaign_id=campaign.pk, title="First")
    second = make_event(campaign_id=campaign.pk, title="Second")
    make_event(title="Not in the campaign")
    checked = rsvp_create(event=first, data=attendee(1), notify=False).rsvp
    rsvp_create(event=first, data=attendee(2), notify=False)
    rsvp_create(event=second, data=attendee(3), notify=False)
    rsvp_check_in(rsvp_id=checked.pk, actor=organizer)
    stats = staff_client.get(reverse("events:campaign_detail", args=[campaign.pk])).context["stats"]
    assert (stats.events, stats.published, stats.going, stats.checked_in, stats.new_people) == (2, 2, 3, 1, 3)
    listed = staff_client.get(reverse("events:campaigns")).context["campaigns"]
    assert [(c.name, c.stats.events, c.stats.going) for c in listed] == [("Day of action", 2, 3)]
    assert Event.objects.count() == 3


def test_the_campaign_list_makes_the_same_queries_for_2_or_20_campaigns(staff_client, make_event, attendee):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            staff_client.get(reverse("events:campaigns"))
        return len(captured)

    def add(n):
        campaign = EventCampaign.objects.create(name=f"Campaign {n}", slug=f"c{n}")
        event = make_event(title=f"Event {n}", campaign_id=campaign.pk)
        rsvp_create(event=event, data=attendee(n), notify=False)

    for n in range(2):
        add(n)
    few = queries()
    for n in range(2, 20):
        add(n)
    assert queries() == few
