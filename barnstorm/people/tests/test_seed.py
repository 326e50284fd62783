"""`barnstorm seed`: a demo campaign that went through the services, and --fast benchmark data."""

import io

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from barnstorm.accounts.models import Role, User
from barnstorm.activity.models import Activity
from barnstorm.donations.models import (
    ComplianceCase,
    Contribution,
    PaymentAttempt,
    RecurringPlan,
    Refund,
    SavedPaymentMethod,
)
from barnstorm.events.models import Event
from barnstorm.people.models import (
    EmailAddress,
    EmailStatus,
    GroupMembership,
    GroupRole,
    LocalGroup,
    PeopleList,
    Person,
    PhoneNumber,
    PostalAddress,
    Tagging,
)
from barnstorm.people.normalize import normalize_phone
from barnstorm.people.selectors import person_search

pytestmark = pytest.mark.django_db


def seed(*args) -> str:
    out = io.StringIO()
    call_command("seed", *args, stdout=out)
    return out.getvalue()


def test_it_seeds_a_demo_campaign_in_the_four_early_states():
    seed("--people", "200")

    assert Person.objects.count() == 200
    states = set(PostalAddress.objects.values_list("state", flat=True))
    assert states == {"IA", "NH", "NV", "SC"}
    assert not PostalAddress.objects.filter(latitude=None).exists()
    assert EmailAddress.objects.count() == 200
    domains = {address.split("@")[1] for address in EmailAddress.objects.values_list("address", flat=True)}
    assert all(d.endswith(("example.com", "example.org", "example.net")) for d in domains)


def test_phone_numbers_are_valid_fictional_and_some_may_be_texted():
    seed("--people", "200")

    numbers = list(PhoneNumber.objects.values_list("number", flat=True))
    assert len(numbers) > 80
    assert all(normalize_phone(n) == n and n[5:8] == "555" for n in numbers)
    assert PhoneNumber.objects.filter(sms_consent=True).exists()


def test_demo_people_have_tags_lists_groups_and_activity():
    seed("--people", "200")

    assert Tagging.objects.filter(tag__name="volunteer").exists()
    assert PeopleList.objects.filter(name="Iowa caucus volunteers").exists()
    assert LocalGroup.objects.count() >= 12
    assert GroupMembership.objects.filter(role=GroupRole.LEADER).exists()
    kinds = dict(Activity.objects.values_list("kind").annotate(n=Count("id")))
    assert kinds["signup"] == 200
    assert kinds.get("group_joined", 0) == GroupMembership.objects.count()
    assert EmailAddress.objects.exclude(status=EmailStatus.SUBSCRIBED).count() < 30


def test_history_is_spread_over_the_past_year():
    seed("--people", "200")

    now = timezone.now()
    created = sorted(Person.objects.values_list("created_at", flat=True))
    assert (now - created[0]).days > 180
    assert created[-1] <= now
    assert len({c.date() for c in created}) > 60
    # A signup happened when the person arrived; nothing happened before it.
    for person in Person.objects.all()[:50]:
        signup = Activity.objects.get(person=person, kind="signup")
        assert signup.occurred_at == person.created_at
        assert all(a.occurred_at >= person.created_at for a in Activity.objects.filter(person=person))


def test_the_same_seed_gives_the_same_people():
    seed("--people", "30", "--seed", "7")
    first = list(Person.objects.order_by("id").values_list("given_name", "family_name", "emails__address"))
    for model in (Refund, ComplianceCase, PaymentAttempt, Contribution, RecurringPlan, SavedPaymentMethod, Event):
        model.objects.all().delete()  # the demo's gifts and events protect their donors and hosts
    Person.objects.all().delete()

    seed("--people", "30", "--seed", "7")

    assert list(Person.objects.order_by("id").values_list("given_name", "family_name", "emails__address")) == first


def test_it_creates_the_demo_logins_once(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "letmein-demo-42")

    out = seed("--people", "0")
    seed("--people", "0")

    organizer, admin = User.objects.get(username="organizer"), User.objects.get(username="admin")
    assert organizer.role == Role.ORGANIZER and organizer.is_organizer and not organizer.is_superuser
    assert admin.role == Role.ADMIN and admin.is_superuser
    assert organizer.check_password("letmein-demo-42") and admin.check_password("letmein-demo-42")
    assert User.objects.count() == 2
    assert (
        "Log in at http://127.0.0.1:8000/login/ as organizer / letmein-demo-42 (admin: admin / letmein-demo-42)" in out
    )


def test_if_empty_adds_no_one_to_a_database_with_people():
    seed("--people", "50")

    out = seed("--people", "50", "--if-empty")

    assert Person.objects.count() == 50
    assert "Log in at" in out


def test_a_second_seed_adds_new_people_without_merging_them_into_the_first():
    seed("--people", "50")
    seed("--people", "50", "--seed", "2026")

    assert Person.objects.count() == 100
    assert Activity.objects.filter(kind="signup").count() == 100


def test_fast_mode_bulk_loads_people_with_unique_emails_that_search_finds():
    seed("--people", "500", "--fast")

    assert Person.objects.count() == 500
    addresses = list(EmailAddress.objects.values_list("address", flat=True))
    assert len(addresses) == len(set(addresses)) == 500
    assert PostalAddress.objects.count() == 500
    assert set(PostalAddress.objects.values_list("state", flat=True)) == {"IA", "NH", "NV", "SC"}
    assert not Activity.objects.exists()

    person = Person.objects.order_by("?").first()
    email = person.emails.get()
    assert list(person_search(query=email.address.upper())) == [person]
    assert person in person_search(query=person.family_name[:3])
    phone = PhoneNumber.objects.first()
    assert phone.person in person_search(query=phone.number)
    # The next person added the ordinary way gets a fresh id.
    assert Person.objects.create(given_name="After").pk > 500


def test_fast_mode_tops_up_with_new_unique_people():
    seed("--people", "300", "--fast")
    seed("--people", "300", "--fast")

    assert Person.objects.count() == 600
    assert EmailAddress.objects.values("address").distinct().count() == 600
