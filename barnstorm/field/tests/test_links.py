"""Every field page can be reached by a link: the volunteers' home lists each kind of campaign,
the organizers' campaign page leads to its volunteer and turf pages, an event page to its phone
banks, and the navigation to the volunteers' home."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from barnstorm.field.models import CampaignStatus, FieldCampaign


def _named(campaign, name, **changes):
    FieldCampaign.objects.filter(pk=campaign.pk).update(name=name, **changes)
    return campaign


# The volunteers' home --------------------------------------------------------------------------


def test_the_home_lists_every_kind_of_open_campaign_with_its_own_link(vera_client, callable_people, make_campaign):
    calling = _named(make_campaign("phone"), "Call Iowa")
    texting = _named(make_campaign("text"), "Text Iowa")
    canvass = _named(make_campaign("canvass"), "Knock Des Moines")

    page = vera_client.get(reverse("field:home")).content.decode()

    assert "Phone banks" in page and "Texting" in page and "Canvassing" in page
    assert "Call Iowa" in page and reverse("field:campaign", args=[calling.pk]) in page
    assert "Text Iowa" in page and reverse("field:texting_home", args=[texting.pk]) in page
    assert "Knock Des Moines" in page and reverse("field:canvass_turfs", args=[canvass.pk]) in page
    assert f'href="{reverse("field:campaign", args=[texting.pk])}"' not in page
    assert f'href="{reverse("field:campaign", args=[canvass.pk])}"' not in page
    assert "30 people left to text" in page


def test_the_home_leaves_out_campaigns_that_are_not_taking_volunteers(vera_client, callable_people, make_campaign):
    _named(make_campaign("text", launch=False), "Draft texts")
    _named(make_campaign("canvass"), "Paused canvass", status=CampaignStatus.PAUSED)
    _named(make_campaign("text"), "Closed texts", status=CampaignStatus.CLOSED)

    page = vera_client.get(reverse("field:home")).content.decode()

    assert "Draft texts" not in page and "Paused canvass" not in page and "Closed texts" not in page
    assert "Nothing is open right now" in page


def test_the_home_does_not_grow_in_queries_with_campaigns_of_every_kind(
    vera_client, callable_people, make_campaign, phone_bank_party
):
    for kind in ("phone", "text", "canvass"):
        make_campaign(kind, event=phone_bank_party)
    with CaptureQueriesContext(connection) as few:
        assert vera_client.get(reverse("field:home")).status_code == 200
    for _ in range(3):
        for kind in ("phone", "text", "canvass"):
            make_campaign(kind, event=phone_bank_party)
    with CaptureQueriesContext(connection) as many:
        response = vera_client.get(reverse("field:home"))

    assert sum(len(campaigns) for _kind, campaigns in response.context["groups"]) == 12
    assert len(many) == len(few)


# Navigation ------------------------------------------------------------------------------------


def test_volunteers_have_a_volunteer_link_in_the_navigation(vera_client):
    page = vera_client.get(reverse("field:home")).content.decode()

    assert f'href="{reverse("field:home")}">Volunteer</a>' in page


def test_organizers_keep_their_field_link_instead(staff_client):
    page = staff_client.get(reverse("field:home")).content.decode()

    assert f'href="{reverse("field:staff_campaigns")}">Field</a>' in page
    assert f'href="{reverse("field:home")}">Volunteer</a>' not in page


# The organizers' campaign page -----------------------------------------------------------------


def test_a_canvass_page_links_to_cutting_turfs_and_the_turf_map(staff_client, callable_people, make_campaign):
    canvass = make_campaign("canvass")

    page = staff_client.get(reverse("field:staff_campaign", args=[canvass.pk])).content.decode()

    assert reverse("field:canvass_cut", args=[canvass.pk]) in page
    assert reverse("field:canvass_map", args=[canvass.pk]) in page


def test_a_texting_page_links_to_the_volunteers_view(staff_client, callable_people, make_campaign):
    texting = make_campaign("text")

    page = staff_client.get(reverse("field:staff_campaign", args=[texting.pk])).content.decode()

    assert reverse("field:texting_home", args=[texting.pk]) in page
    assert reverse("field:canvass_cut", args=[texting.pk]) not in page


def test_a_phone_bank_page_links_to_the_volunteers_view_once_launched(staff_client, callable_people, make_campaign):
    launched, draft = make_campaign("phone"), make_campaign("phone", launch=False)

    launched_page = staff_client.get(reverse("field:staff_campaign", args=[launched.pk])).content.decode()
    draft_page = staff_client.get(reverse("field:staff_campaign", args=[draft.pk])).content.decode()

    assert f'href="{reverse("field:campaign", args=[launched.pk])}"' in launched_page
    assert f'href="{reverse("field:campaign", args=[draft.pk])}"' not in draft_page  # it would be a 404


# The event page --------------------------------------------------------------------------------


def test_the_event_page_shows_its_phone_bank(client, callable_people, make_campaign, phone_bank_party):
    calling = _named(make_campaign("phone", event=phone_bank_party), "Call for Rivera")
    _named(make_campaign("phone"), "Elsewhere")

    page = client.get(reverse("events:detail", args=[phone_bank_party.pk])).content.decode()

    assert "Call for Rivera" in page and "Start calling" in page
    assert reverse("field:campaign", args=[calling.pk]) in page
    assert "Elsewhere" not in page


def test_an_event_without_a_phone_bank_shows_none(client, phone_bank_party):
    page = client.get(reverse("events:detail", args=[phone_bank_party.pk])).content.decode()

    assert "event-phonebanks" not in page


def test_the_event_page_does_not_grow_in_queries_with_its_phone_banks(
    client, callable_people, make_campaign, phone_bank_party
):
    make_campaign("phone", event=phone_bank_party)
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("events:detail", args=[phone_bank_party.pk])).status_code == 200
    for _ in range(3):
        make_campaign("phone", event=phone_bank_party)
    with CaptureQueriesContext(connection) as four:
        response = client.get(reverse("events:detail", args=[phone_bank_party.pk]))

    assert len(response.context["phonebanks"]) == 4
    assert len(four) == len(one)
