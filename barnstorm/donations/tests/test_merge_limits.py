"""Two records of one donor merged: their gifts count together against the limits."""

import pytest

from barnstorm.donations.models import CaseAction, CaseKind, ComplianceCase, LineItem
from barnstorm.donations.services import DonorInput, contribution_record
from barnstorm.people.models import Person
from barnstorm.people.services import person_merge

pytestmark = pytest.mark.django_db


def given(gift, committee, email, amount_cents, key, **extra):
    donor = DonorInput(
        given_name="Dana",
        family_name="Whitfield",
        email=email,
        zip_code="50010",
        employer="Library",
        occupation="Clerk",
    )
    return contribution_record(
        data=gift(committee, amount_cents=amount_cents, key=key, donor=donor, method="check", source="staff", **extra)
    ).contribution


def test_a_merge_that_puts_a_donor_over_the_limit_queues_the_excess_for_refund(committee, gift):
    # $3,000 from each record of the same person for the same primary: $2,500 over the $3,500 limit.
    work = given(gift, committee, "dana@work.example", 300000, "w")
    home = given(gift, committee, "dana@home.example", 300000, "h")
    assert not ComplianceCase.objects.exists()

    person_merge(survivor=work.person, other=home.person)

    case = ComplianceCase.objects.get()
    assert (case.kind, case.action, case.amount_cents) == (CaseKind.OVER_LIMIT, CaseAction.REFUND_QUEUED, 250000)
    assert case.person_id == work.person_id and case.committee_id == committee.pk and case.due_on is not None
    assert f"person #{home.person_id} merged in" in case.detail
    # Merging again (another record of hers) queues only what is not queued already.
    third = given(gift, committee, "dana@old.example", 10000, "o")
    person_merge(survivor=Person.objects.get(pk=work.person_id), other=third.person)
    assert sorted(ComplianceCase.objects.values_list("amount_cents", flat=True)) == [10000, 250000]


def test_a_merge_itemizes_a_cycle_that_now_passes_200_dollars(committee, gift):
    # $150 and $100: neither record reached the itemization threshold on its own.
    first = given(gift, committee, "lee@work.example", 15000, "a")
    second = given(gift, committee, "lee@home.example", 10000, "b")
    assert not LineItem.objects.filter(itemized=True).exists()

    person_merge(survivor=first.person, other=second.person)

    assert set(LineItem.objects.values_list("itemized", flat=True)) == {True}
    assert not ComplianceCase.objects.exists()  # within the limits: nothing owed back
