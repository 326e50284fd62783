"""Fixtures every test can use: an organizer, an admin, and an outsider who must be refused."""

import pytest

from barnstorm.accounts.models import Role, User
from barnstorm.people.services import AddressInput, PersonInput, person_upsert


@pytest.fixture
def organizer(db):
    return User.objects.create_user("olivia", "olivia@campaign.test", "pw-organizer-1", role=Role.ORGANIZER)


@pytest.fixture
def outsider(db):
    """A logged-in volunteer: has an account, but no business in staff pages."""
    return User.objects.create_user("victor", "victor@example.test", "pw-volunteer-1", role=Role.VOLUNTEER)


@pytest.fixture
def staff_client(client, organizer):
    client.force_login(organizer)
    return client


@pytest.fixture
def outsider_client(client, outsider):
    client.force_login(outsider)
    return client


@pytest.fixture
def make_person(db):
    def make(email="ann@example.com", given_name="Ann", family_name="Lee", zip_code="50309", **extra):
        data = PersonInput(
            email=email,
            given_name=given_name,
            family_name=family_name,
            address=AddressInput(zip_code=zip_code) if zip_code else None,
            **extra,
        )
        return person_upsert(data=data).person

    return make


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and cached aggregates must not leak from one test to the next."""
    from django.core.cache import cache

    from barnstorm.donations.compliance import limits_forget
    from barnstorm.donations.selectors import donor_pages_forget

    cache.clear()
    limits_forget()
    donor_pages_forget()
    yield
    cache.clear()
    limits_forget()
    donor_pages_forget()
