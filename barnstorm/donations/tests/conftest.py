import datetime

import pytest

from barnstorm.donations.models import Committee, DonationPage, Frequency, OverLimitPolicy, PageRecipient
from barnstorm.donations.services import ContributionInput, DonorInput, Split


@pytest.fixture
def committee(db):
    return Committee.objects.create(
        name="Rivera for Iowa",
        fec_id="C00123456",
        candidate_name="Ana Rivera",
        office="H",
        office_state="IA",
        office_district="03",
        election_year=2026,
        primary_date=datetime.date(2026, 6, 2),
        street1="100 Main St",
        city="Des Moines",
        state="IA",
        zip_code="50309",
        treasurer_given_name="Sam",
        treasurer_family_name="Ortiz",
    )


@pytest.fixture
def second_committee(db):
    return Committee.objects.create(
        name="Iowa Victory Fund", fec_id="C00654321", office="S", office_state="IA", election_year=2026
    )


@pytest.fixture
def page(committee):
    page = DonationPage.objects.create(
        slug="chip-in",
        title="Chip in $27",
        body="People-powered.",
        suggested_amounts_cents=[1000, 2700, 5000, 10000],
        highlighted_amount_cents=2700,
        frequencies=[Frequency.ONE_TIME, Frequency.MONTHLY, Frequency.WEEKLY],
    )
    PageRecipient.objects.create(page=page, committee=committee)
    return page


@pytest.fixture
def set_policy():
    def set_policy(committee, policy: OverLimitPolicy):
        committee.over_limit_policy = policy
        committee.save(update_fields=["over_limit_policy"])

    return set_policy


def donor_input(email="dana@example.com", given_name="Dana") -> DonorInput:
    """Dana Whitfield of Ames, or another donor of that name and address."""
    return DonorInput(
        given_name=given_name,
        family_name="Whitfield",
        email=email,
        street1="12 Elm St",
        city="Ames",
        state="IA",
        zip_code="50010",
        employer="Ames Public Library",
        occupation="Librarian",
    )


@pytest.fixture
def gift():
    """A ContributionInput builder: a $27 card gift from Dana to one committee, attested."""

    def gift(committee, amount_cents=2700, key="k1", **extra):
        donor = extra.pop("donor", None) or donor_input()
        values = {
            "donor": donor,
            "amount_cents": amount_cents,
            "method": "card",
            "source": "web",
            "splits": [Split(committee.pk, 10000)],
            "idempotency_key": key,
            "attested": True,
            "received_at": datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC),
        }
        values.update(extra)
        return ContributionInput(**values)

    return gift
