import datetime

import pytest
from django.core import mail

from barnstorm.activity.models import Activity
from barnstorm.donations.compliance import ContributionRefused, Split, split_amount
from barnstorm.donations.models import (
    CaseAction,
    CaseKind,
    ComplianceCase,
    Contribution,
    LineItem,
    OverLimitPolicy,
)
from barnstorm.donations.services import DonorInput, contribution_record
from barnstorm.people.models import Person

pytestmark = pytest.mark.django_db


def test_it_records_a_contribution_with_its_line_item_and_donor(committee, gift):
    result = contribution_record(data=gift(committee))
    contribution = result.contribution
    assert result.created
    assert contribution.amount_cents == 2700
    assert contribution.person.emails.get().address == "dana@example.com"
    item = contribution.line_items.get()
    assert (item.committee, item.amount_cents, item.election, item.cycle) == (committee, 2700, "P2026", 2026)
    assert item.itemized is False


def test_it_records_the_same_attempt_once(committee, gift):
    first = contribution_record(data=gift(committee, key="same"))
    second = contribution_record(data=gift(committee, key="same"))
    assert second.created is False
    assert second.contribution.pk == first.contribution.pk
    assert Contribution.objects.count() == 1
    assert LineItem.objects.count() == 1


def test_it_splits_to_the_cent_with_the_remainder_to_the_first_recipient(committee, second_committee, gift):
    assert split_amount(1001, [Split(1, 3333), Split(2, 3333), Split(3, 3334)]) == [335, 333, 333]
    data = gift(committee, amount_cents=2701, splits=[Split(committee.pk, 5000), Split(second_committee.pk, 5000)])
    contribution = contribution_record(data=data).contribution
    amounts = dict(contribution.line_items.values_list("committee_id", "amount_cents"))
    assert amounts == {committee.pk: 1351, second_committee.pk: 1350}


def test_it_designates_to_the_general_after_the_primary_date(committee, gift):
    after = datetime.datetime(2026, 6, 3, 15, tzinfo=datetime.UTC)
    item = contribution_record(data=gift(committee, received_at=after)).contribution.line_items.get()
    assert item.election == "G2026"


def test_it_refuses_a_gift_over_the_limit_before_money_moves(committee, gift):
    contribution_record(data=gift(committee, amount_cents=340000, key="a"))
    with pytest.raises(ContributionRefused) as refused:
        contribution_record(data=gift(committee, amount_cents=20000, key="b", method="check", source="staff"))
    assert "$100.00 more" in str(refused.value.message)
    assert Contribution.objects.count() == 1
    case = ComplianceCase.objects.get()
    assert (case.kind, case.action, case.amount_cents) == (CaseKind.OVER_LIMIT, CaseAction.REFUSED, 10000)
    assert case.person == Contribution.objects.get().person


def test_it_queues_the_excess_of_a_charged_card_for_refund_even_when_the_policy_refuses(committee, gift):
    contribution_record(data=gift(committee, amount_cents=340000, key="a", charge_id="ch_1", processor="test"))
    second = contribution_record(data=gift(committee, amount_cents=20000, key="b", charge_id="ch_2", processor="test"))
    items = list(second.contribution.line_items.order_by("id").values_list("amount_cents", "memo"))
    assert items == [(10000, ""), (10000, "Excess, to be refunded")]
    case = ComplianceCase.objects.get()
    assert case.action == CaseAction.REFUND_QUEUED
    assert case.due_on == datetime.date(2026, 4, 30)


def test_it_redesignates_the_excess_to_the_general_by_policy(committee, gift, set_policy):
    set_policy(committee, OverLimitPolicy.REDESIGNATE)
    contribution_record(data=gift(committee, amount_cents=300000, key="a"))
    second = contribution_record(data=gift(committee, amount_cents=100000, key="b")).contribution
    items = list(second.line_items.order_by("id").values_list("election", "amount_cents"))
    assert items == [("P2026", 50000), ("G2026", 50000)]
    assert ComplianceCase.objects.get().action == CaseAction.REDESIGNATED


def test_a_refund_makes_room_under_the_limit_again(committee, gift):
    from barnstorm.donations.services import contribution_refund

    first = contribution_record(data=gift(committee, amount_cents=350000, key="a")).contribution
    contribution_refund(contribution=first, amount_cents=50000, at_processor=False)
    contribution_record(data=gift(committee, amount_cents=50000, key="b"))
    assert Contribution.objects.count() == 2


def test_it_caps_cash_at_100_dollars_per_election(committee, gift):
    contribution_record(data=gift(committee, amount_cents=6000, key="a", method="cash", source="staff"))
    with pytest.raises(ContributionRefused) as refused:
        contribution_record(data=gift(committee, amount_cents=5000, key="b", method="cash", source="staff"))
    assert refused.value.kind == CaseKind.CASH_LIMIT
    # A check from the same donor is not cash.
    contribution_record(data=gift(committee, amount_cents=5000, key="c", method="check", source="staff"))
    assert ComplianceCase.objects.get().kind == CaseKind.CASH_LIMIT


def test_crossing_200_dollars_itemizes_the_earlier_contributions_of_the_cycle(committee, gift):
    first = contribution_record(data=gift(committee, amount_cents=15000, key="a")).contribution
    assert first.line_items.get().itemized is False
    second = contribution_record(data=gift(committee, amount_cents=6000, key="b")).contribution
    assert second.line_items.get().cycle_aggregate_cents == 21000
    assert set(LineItem.objects.values_list("itemized", flat=True)) == {True}
    assert not ComplianceCase.objects.filter(kind=CaseKind.BEST_EFFORTS).exists()


def test_an_itemized_gift_without_employer_gets_one_best_efforts_follow_up(
    committee, gift, django_capture_on_commit_callbacks
):
    donor = DonorInput(
        given_name="Lee",
        family_name="Park",
        email="lee@example.com",
        street1="1 A St",
        city="Ames",
        state="IA",
        zip_code="50010",
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        contribution_record(data=gift(committee, amount_cents=25000, key="a", donor=donor))
    case = ComplianceCase.objects.get()
    assert (case.kind, case.action) == (CaseKind.BEST_EFFORTS, CaseAction.FOLLOW_UP_SENT)
    subjects = [m.subject for m in mail.outbox]
    assert sum("One more thing" in s for s in subjects) == 1
    assert "occupation" in next(m.body for m in mail.outbox if "One more thing" in m.subject)


def test_web_gifts_need_the_eligibility_statements(committee, gift):
    with pytest.raises(ContributionRefused):
        contribution_record(data=gift(committee, attested=False))
    assert not Person.objects.exists()
    # Staff entering a check vouch for it differently; no attestation needed.
    contribution_record(data=gift(committee, attested=False, source="staff", method="check"))


def test_it_logs_the_donation_and_emails_a_receipt(committee, gift, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        contribution = contribution_record(data=gift(committee, refcode="email_0130")).contribution
    activity = Activity.objects.get(kind="donation")
    assert activity.person_id == contribution.person_id
    assert activity.data["amount_cents"] == 2700 and activity.data["refcode"] == "email_0130"
    receipt = mail.outbox[-1]
    assert receipt.to == ["dana@example.com"]
    assert "$27.00" in receipt.body and "Rivera for Iowa" in receipt.body
    assert "not tax deductible" in receipt.body
    contribution.refresh_from_db()
    assert contribution.receipt_sent_at is not None


def test_the_receipt_task_sends_once_however_often_it_runs(committee, gift, django_capture_on_commit_callbacks):
    from barnstorm.donations.tasks import contribution_receipt_send

    with django_capture_on_commit_callbacks(execute=True):
        contribution = contribution_record(data=gift(committee)).contribution
    assert len(mail.outbox) == 1
    mail.outbox.clear()
    assert contribution_receipt_send(contribution.pk) is False
    assert mail.outbox == []


def test_a_second_gift_updates_the_donor_instead_of_duplicating(committee, gift):
    contribution_record(data=gift(committee, key="a"))
    moved = DonorInput(
        given_name="Dana",
        family_name="Whitfield",
        email="DANA@example.com",
        employer="Iowa State",
        occupation="Professor",
        street1="9 Oak",
        city="Ames",
        state="IA",
        zip_code="50010",
    )
    contribution_record(data=gift(committee, key="b", donor=moved))
    person = Person.objects.get()
    assert person.employer == "Iowa State"
    assert person.contributions.count() == 2


def test_limits_come_from_the_table_and_the_law(db):
    from barnstorm.donations.compliance import limit_cents, limits_forget
    from barnstorm.donations.models import ContributionLimit

    assert limit_cents(2024) == 330000 and limit_cents(2025) == 330000
    ContributionLimit.objects.all().delete()
    from django.core.cache import cache

    cache.clear()
    limits_forget()
    assert limit_cents(2026) == 350000  # the statutory table, when the rows are gone
    ContributionLimit.objects.create(cycle=2028, amount_cents=360000)
    assert limit_cents(2028) == 360000 and limit_cents(2030) == 360000
