"""Staff fundraising pages: refused to outsiders, refunds, check and cash batches, the compliance queue."""

import pytest
from django.urls import reverse

from barnstorm.activity.models import Activity
from barnstorm.donations.compliance import Split
from barnstorm.donations.models import CaseKind, ComplianceCase, Contribution, ContributionStatus, TestProcessorCharge
from barnstorm.donations.processors.embedded import TestProcessor
from barnstorm.donations.services import CardCheckout, contribution_record, donation_checkout

pytestmark = pytest.mark.django_db

PAGES = [
    ("donations:contributions", {}),
    ("donations:contribution_detail", {"contribution_id": 1}),
    ("donations:check_entry", {}),
    ("donations:compliance", {}),
]
ACTIONS = [
    ("donations:contribution_refund", {"contribution_id": 1}),
    ("donations:compliance_resolve", {"case_id": 1}),
]


@pytest.mark.parametrize("name,kwargs", PAGES + ACTIONS)
def test_outsiders_are_refused(client, outsider, committee, gift, name, kwargs):
    contribution_record(data=gift(committee))
    url = reverse(name, kwargs=kwargs)
    send = client.get if (name, kwargs) in PAGES else client.post
    response = send(url)
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(outsider)
    assert send(url).status_code == 403
    assert Contribution.objects.get().refunded_cents == 0


def charged(gift, committee, amount_cents=5000):
    return donation_checkout(
        checkout=CardCheckout(data=gift(committee, amount_cents=amount_cents), token="tok_4242424242424242"),
        processor=TestProcessor(),
    ).contribution


def test_a_partial_then_a_full_refund_go_to_the_processor_and_the_timeline(staff_client, committee, gift, organizer):
    contribution = charged(gift, committee)
    url = reverse("donations:contribution_refund", args=[contribution.pk])
    staff_client.post(url, {"amount": "20", "reason": "asked", "kind": "refund"})
    contribution.refresh_from_db()
    assert (contribution.refunded_cents, contribution.status) == (2000, ContributionStatus.PARTIALLY_REFUNDED)
    staff_client.post(url, {"amount": "", "reason": "", "kind": "refund"})
    contribution.refresh_from_db()
    assert (contribution.refunded_cents, contribution.status) == (5000, ContributionStatus.REFUNDED)
    assert TestProcessorCharge.objects.get().refunded_cents == 5000
    assert contribution.line_items.get().refunded_cents == 5000
    refunds = Activity.objects.filter(kind="donation_refunded", actor=organizer)
    assert sorted(a.data["amount_cents"] for a in refunds) == [2000, 3000]


def test_a_refund_larger_than_what_is_left_is_refused_with_a_message(staff_client, committee, gift):
    contribution = charged(gift, committee)
    url = reverse("donations:contribution_refund", args=[contribution.pk])
    response = staff_client.post(url, {"amount": "60", "kind": "refund"}, follow=True)
    assert "between $0.01 and $50.00" in response.content.decode()
    assert TestProcessorCharge.objects.get().refunded_cents == 0


def test_a_chargeback_is_recorded_without_refunding_at_the_processor(staff_client, committee, gift):
    contribution = charged(gift, committee)
    staff_client.post(reverse("donations:contribution_refund", args=[contribution.pk]), {"kind": "chargeback"})
    contribution.refresh_from_db()
    assert contribution.status == ContributionStatus.CHARGED_BACK
    assert TestProcessorCharge.objects.get().refunded_cents == 0


def row(n, **values):
    base = {
        "given_name": "Pat",
        "family_name": f"Check{n}",
        "street1": "1 Main",
        "city": "Ames",
        "state": "IA",
        "zip_code": "50010",
        "amount": "50",
        "method": "check",
        "check_number": str(1000 + n),
        "received_on": "2026-03-02",
        "employer": "Self",
        "occupation": "Farmer",
        "email": f"pat{n}@example.com",
    }
    base.update(values)
    return {f"rows-{n}-{k}": v for k, v in base.items()}


def batch(committee, *rows):
    data = {
        "committee": committee.pk,
        "batch": "b1",
        "rows-TOTAL_FORMS": "5",
        "rows-INITIAL_FORMS": "0",
        "rows-MIN_NUM_FORMS": "0",
        "rows-MAX_NUM_FORMS": "50",
    }
    for r in rows:
        data.update(r)
    return data


def test_a_check_batch_records_the_good_rows_and_keeps_the_bad_ones_with_reasons(staff_client, committee, organizer):
    url = reverse("donations:check_entry")
    data = batch(committee, row(0), row(1, amount="150", method="cash"), row(2, amount="abc"))
    response = staff_client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Cash contributions are limited to $100" in html and "Enter the amount in dollars" in html
    recorded = Contribution.objects.get()
    assert (recorded.amount_cents, recorded.check_number, recorded.entered_by) == (5000, "1000", organizer)
    # The same batch, fixed and sent again: the recorded row is not entered twice.
    staff_client.post(url, batch(committee, row(0), row(1, amount="90", method="cash"), row(2, amount="25")))
    assert sorted(Contribution.objects.values_list("amount_cents", flat=True)) == [2500, 5000, 9000]
    assert ComplianceCase.objects.get().kind == CaseKind.CASH_LIMIT


def test_the_compliance_queue_shows_open_cases_and_resolves_them(staff_client, committee, gift, organizer):
    contribution_record(data=gift(committee, amount_cents=340000, key="a", charge_id="c1", processor="test"))
    contribution_record(data=gift(committee, amount_cents=20000, key="b", charge_id="c2", processor="test"))
    case = ComplianceCase.objects.get()
    html = staff_client.get(reverse("donations:compliance")).content.decode()
    assert "queued for refund" in html and "$100" in html
    staff_client.post(reverse("donations:compliance_resolve", args=[case.pk]))
    case.refresh_from_db()
    assert case.resolved_by == organizer


def test_the_contribution_list_searches_and_its_queries_do_not_grow(
    staff_client, committee, gift, django_assert_max_num_queries
):
    for n in range(30):
        contribution_record(data=gift(committee, key=f"k{n}", amount_cents=100 + n, refcode=f"r{n % 3}"))
    with django_assert_max_num_queries(6):
        response = staff_client.get(reverse("donations:contributions"), {"q": "r1"})
    assert len(response.context["contributions"]) == 10
    response = staff_client.get(reverse("donations:contributions"), {"q": "dana@example.com"})
    assert len(response.context["contributions"]) == 30


def test_a_refund_of_a_split_can_come_from_the_recipient_staff_choose(staff_client, committee, second_committee, gift):
    split = [Split(committee.pk, 5000), Split(second_committee.pk, 5000)]
    contribution = donation_checkout(
        checkout=CardCheckout(data=gift(committee, amount_cents=6000, splits=split), token="tok_4242424242424242"),
        processor=TestProcessor(),
    ).contribution
    detail = staff_client.get(reverse("donations:contribution_detail", args=[contribution.pk])).content.decode()
    assert "The last-designated part first" in detail and f"{second_committee.name} (30.00 left)" in detail

    url = reverse("donations:contribution_refund", args=[contribution.pk])
    staff_client.post(url, {"amount": "10", "kind": "refund", "committee": committee.pk})
    staff_client.post(url, {"amount": "", "kind": "refund", "committee": committee.pk})  # the rest of its part
    refunded = dict(contribution.line_items.values_list("committee_id", "refunded_cents"))
    assert refunded == {committee.pk: 3000, second_committee.pk: 0}
    assert TestProcessorCharge.objects.get().refunded_cents == 3000

    response = staff_client.post(url, {"amount": "5", "kind": "refund", "committee": committee.pk}, follow=True)
    assert "$5.00 more than is left of a recipient&#x27;s part" in response.content.decode()
    assert TestProcessorCharge.objects.get().refunded_cents == 3000  # nothing went to the processor
    response = staff_client.post(url, {"amount": "", "kind": "refund", "committee": committee.pk}, follow=True)
    assert "A refund must be between $0.01 and $30.00" in response.content.decode()  # nothing left of that part
    assert TestProcessorCharge.objects.get().refunded_cents == 3000


def test_a_contribution_to_one_committee_offers_no_choice_of_recipient(staff_client, committee, gift):
    contribution = charged(gift, committee)
    detail = staff_client.get(reverse("donations:contribution_detail", args=[contribution.pk])).content.decode()
    assert 'name="committee"' not in detail
