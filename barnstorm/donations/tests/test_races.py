"""Gifts that race: the limit holds and nothing is recorded twice, on SQLite and PostgreSQL alike."""

import pytest

from barnstorm.donations.compliance import ContributionRefused
from barnstorm.donations.models import CaseAction, ComplianceCase, Contribution, LineItem
from barnstorm.donations.services import contribution_record

pytestmark = [
    pytest.mark.django_db(transaction=True),
]


def test_racing_checks_from_one_donor_never_pass_the_limit_together(committee, gift, race):
    # Four $1,000 checks at once against a $3,500 limit: three fit, the fourth is refused.
    outcomes = race(
        4,
        lambda n: contribution_record(
            data=gift(committee, amount_cents=100000, key=f"k{n}", method="check", source="staff")
        ),
        refused=(ContributionRefused,),
    )
    assert sum(isinstance(o, ContributionRefused) for o in outcomes) == 1
    assert Contribution.objects.count() == 3
    assert sum(LineItem.objects.values_list("amount_cents", flat=True)) == 300000
    assert ComplianceCase.objects.get().action == CaseAction.REFUSED


def test_the_same_attempt_recorded_by_racing_paths_is_one_contribution(committee, gift, race):
    # The request, the webhook and a retry all record the same charge at once.
    outcomes = race(
        3, lambda n: contribution_record(data=gift(committee, key="same", charge_id="ch_1", processor="test"))
    )
    assert len({o.contribution.pk for o in outcomes}) == 1
    assert sum(o.created for o in outcomes) == 1
    assert Contribution.objects.count() == 1 and LineItem.objects.count() == 1
