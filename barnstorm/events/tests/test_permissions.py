"""Who may run which events, and see whose RSVPs: one place, and every page asks it."""

import pytest
from django.test import Client
from django.urls import reverse

from barnstorm.accounts.models import Role, User
from barnstorm.events.models import EventCampaign, EventStatus, Rsvp
from barnstorm.events.permissions import attendees_visible_to, can_manage_event, events_manageable_by
from barnstorm.events.services import rsvp_create
from barnstorm.people.models import GroupMembership, GroupRole, LocalGroup

pytestmark = pytest.mark.django_db


@pytest.fixture
def host_user(host):
    return User.objects.create_user("hana", "host@example.com", "pw-host-12345", role=Role.VOLUNTEER, person=host)


@pytest.fixture
def other_host(make_person, make_event):
    """A supporter who hosts an event of their own: a host, just not of the first event."""
    person = make_person(email="otto@example.com", given_name="Otto")
    user = User.objects.create_user("otto", "otto@example.com", role=Role.VOLUNTEER, person=person)
    make_event(title="Otto's phone bank", host_person=person)
    return user


@pytest.fixture
def event(make_event, attendee):
    event = make_event()
    rsvp_create(event=event, data=attendee(1))
    return event


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_host_manages_their_own_events_only(host_user, other_host, event):
    assert list(events_manageable_by(host_user)) == [event]
    assert can_manage_event(host_user, event)
    assert not can_manage_event(other_host, event)


def test_a_group_leader_manages_their_groups_events_and_a_member_does_not(make_event, make_person, host):
    group = LocalGroup.objects.create(name="Polk County", slug="polk")
    event = make_event(group_id=group.pk)
    leader = make_person(email="lee@example.com")
    member = make_person(email="mo@example.com")
    GroupMembership.objects.create(person=leader, group=group, role=GroupRole.LEADER)
    GroupMembership.objects.create(person=member, group=group, role=GroupRole.MEMBER)
    leader_user = User.objects.create_user("lee", person=leader)
    member_user = User.objects.create_user("mo", person=member)
    assert can_manage_event(leader_user, event)
    assert not can_manage_event(member_user, event)


def test_organizers_manage_everything_and_accounts_without_a_person_nothing(organizer, outsider, event):
    assert can_manage_event(organizer, event)
    assert not events_manageable_by(outsider).exists()


def test_an_inactive_host_manages_nothing(host_user, event):
    host_user.is_active = False
    assert not can_manage_event(host_user, event)


def test_a_host_never_sees_another_events_attendees(host_user, other_host, event, attendee):
    others = other_host.person.hosted_events.get()
    rsvp_create(event=others, data=attendee(2))
    mine = attendees_visible_to(host_user, event)
    assert [r.person.emails.get().address for r in mine] == ["guest1@example.com"]
    assert not attendees_visible_to(host_user, others).exists()
    assert not attendees_visible_to(other_host, event).exists()
    assert Rsvp.objects.count() == 2


# Every host page of one event, and what an outsider must not be able to do there.
HOST_PAGES = [
    ("get", "events:manage", {}),
    ("get", "events:edit", {}),
    ("post", "events:edit", {"title": "Hijacked", "date": "2027-01-15", "start_time": "17:00", "end_time": "19:00"}),
    ("post", "events:cancel", {}),
    ("get", "events:message", {}),
    ("post", "events:message", {"subject": "Hi", "body": "Spam"}),
    ("get", "events:checkin", {}),
    ("post", "events:checkin", {"ticket": "x"}),
    ("get", "events:checkin_search", {"q": "guest"}),
    ("post", "events:walk_in", {"given_name": "W", "family_name": "I", "email": "walk@example.com"}),
]
STAFF_PAGES = [
    ("get", "events:staff_events", None),
    ("get", "events:moderation", None),
    ("get", "events:staff_event", "event"),
    ("post", "events:approve", "event"),
    ("post", "events:reject", "event"),
    ("get", "events:campaigns", None),
    ("get", "events:campaign_new", None),
    ("post", "events:campaign_new", None),
    ("get", "events:campaign_detail", "campaign"),
    ("get", "events:campaign_edit", "campaign"),
    ("post", "events:campaign_delete", "campaign"),
]


def _unchanged(event):
    event.refresh_from_db()
    assert event.status == EventStatus.PUBLISHED and event.title == "House party for Rivera"
    assert not Rsvp.objects.filter(event=event, checked_in_at__isnull=False).exists()
    assert Rsvp.objects.filter(event=event).count() == 1


@pytest.mark.parametrize(("method", "name", "data"), HOST_PAGES)
def test_host_pages_send_anonymous_visitors_to_sign_in(client, event, method, name, data):
    url = reverse(name, args=[event.pk])
    response = getattr(client, method)(url, data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:magic_start") + "?next=")
    _unchanged(event)


@pytest.mark.parametrize(("method", "name", "data"), HOST_PAGES)
def test_host_pages_are_not_found_for_a_supporter_who_is_not_the_host(other_host, outsider, event, method, name, data):
    for user in (other_host, outsider):
        response = getattr(login(user), method)(reverse(name, args=[event.pk]), data)
        assert response.status_code == 404
    _unchanged(event)


@pytest.mark.parametrize(("method", "name", "arg"), STAFF_PAGES)
def test_staff_pages_refuse_anonymous_visitors_and_supporters(client, host_user, event, method, name, arg):
    campaign = EventCampaign.objects.create(name="Day of action", slug="day")
    args = {"event": [event.pk], "campaign": [campaign.pk], None: []}[arg]
    url = reverse(name, args=args)
    anonymous = getattr(client, method)(url, {"reason": "no", "name": "X", "slug": "x"})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("accounts:login"))
    # Even the event's own host is no organizer.
    refused = getattr(login(host_user), method)(url, {"reason": "no", "name": "X", "slug": "x"})
    assert refused.status_code == 403
    assert EventCampaign.objects.get().name == "Day of action"
    _unchanged(event)


def test_hosting_needs_a_sign_in_and_then_any_supporter_may(client, outsider):
    for name in ("events:host", "events:mine"):
        response = client.get(reverse(name))
        assert response["Location"] == reverse("accounts:magic_start") + "?next=" + reverse(name)
        assert login(outsider).get(reverse(name)).status_code == 200
