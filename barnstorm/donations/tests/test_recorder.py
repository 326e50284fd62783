"""Gifts charged by the donation page and recorded by the worker, a batch at a time."""

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from barnstorm.donations.models import (
    AttemptStatus,
    CaseAction,
    CaseKind,
    ComplianceCase,
    Contribution,
    LineItem,
    PaymentAttempt,
)
from barnstorm.donations.processors.embedded import TestProcessor
from barnstorm.donations.services import (
    RECORDER_DUE_KEY,
    CardCheckout,
    attempt_complete,
    attempts_record,
    contribution_record,
    donation_checkout,
)
from barnstorm.donations.tests.conftest import donor_input
from barnstorm.donations.tests.test_donate_page import form_data
from barnstorm.people.models import Person

pytestmark = pytest.mark.django_db


def charged(gift, committee, amount_cents, key, **donor_fields):
    """A gift the donation page charged and left to the recorder (its task not run)."""
    data = gift(committee, amount_cents=amount_cents, key=key, donor=donor_input(**donor_fields))
    outcome = donation_checkout(
        checkout=CardCheckout(data=data, token="tok_4242424242424242"), processor=TestProcessor(), record_later=True
    )
    assert outcome.recording and outcome.contribution is None
    return PaymentAttempt.objects.get(pk=outcome.attempt_id)


def test_the_donor_is_thanked_at_once_and_the_worker_records_the_gift(client, page, django_capture_on_commit_callbacks):
    response = client.post("/donate/chip-in/", form_data(client, "/donate/chip-in/"))
    assert response.status_code == 302
    attempt = PaymentAttempt.objects.get()
    assert attempt.status == AttemptStatus.CHARGED and not Contribution.objects.exists()
    waiting = client.get(response.url).content.decode()
    assert "Thank you, Dana!" in waiting and "$27" in waiting and "dana@example.com" in waiting

    with django_capture_on_commit_callbacks(execute=True):
        assert attempts_record() == 1
    attempt.refresh_from_db()
    contribution = Contribution.objects.get()
    assert (attempt.status, attempt.contribution_id) == (AttemptStatus.SUCCEEDED, contribution.pk)
    assert contribution.received_at == attempt.created_at  # when the donor gave, not when recorded
    assert contribution.charge_id == attempt.charge_id and contribution.charge_id.startswith("tch_")
    assert [m.to for m in mail.outbox] == [["dana@example.com"]]
    recorded = client.get(response.url).content.decode()
    assert "Thank you, Dana!" in recorded and f"refcode=share_{contribution.person_id}" in recorded
    assert attempts_record() == 0  # nothing left, nothing recorded twice


def test_a_batch_decides_each_donors_gifts_in_order_as_one_at_a_time_would(committee, gift):
    # Dana has given $3,400 of the $3,500 primary limit; a $50 gift fits, the next $100 is $50 over.
    contribution_record(data=gift(committee, amount_cents=340000, key="earlier", charge_id="ch_0", processor="test"))
    first = charged(gift, committee, 5000, "a1")
    second = charged(gift, committee, 10000, "a2")
    # A new donor gives twice in the same batch: $150 then $100, crossing $200 on the second.
    charged(gift, committee, 15000, "b1", email="lee@example.com", given_name="Lee")
    charged(gift, committee, 10000, "b2", email="lee@example.com", given_name="Lee")

    assert attempts_record() == 4

    assert Person.objects.filter(emails__address="lee@example.com").count() == 1
    lee = LineItem.objects.filter(person__emails__address="lee@example.com").order_by("id")
    assert [(i.amount_cents, i.cycle_aggregate_cents, i.itemized) for i in lee] == [
        (15000, 15000, True),  # itemized once the cycle's total passed $200
        (10000, 25000, True),
    ]
    dana_first = LineItem.objects.get(contribution=first.__class__.objects.get(pk=first.pk).contribution)
    assert (dana_first.amount_cents, dana_first.memo) == (5000, "")
    over = LineItem.objects.filter(contribution__attempt=second).order_by("id")
    assert [(i.amount_cents, i.memo) for i in over] == [(5000, ""), (5000, "Excess, to be refunded")]
    case = ComplianceCase.objects.get()
    assert (case.action, case.amount_cents, case.contribution.attempt.pk) == (CaseAction.REFUND_QUEUED, 5000, second.pk)


def test_a_webhook_that_records_first_takes_the_attempt_out_of_the_queue(committee, gift):
    attempt = charged(gift, committee, 2700, "w1")
    card = "tok_4242424242424242"
    result = TestProcessor().charge(amount_cents=2700, token=card, idempotency_key="w1", description="")
    attempt_complete(attempt=attempt, result=result)
    assert attempts_record() == 0
    assert Contribution.objects.count() == 1
    assert PaymentAttempt.objects.get().status == AttemptStatus.SUCCEEDED


def test_a_gift_the_batch_cannot_take_is_set_aside_and_the_others_are_recorded(committee, gift, staff_client):
    good = charged(gift, committee, 2700, "g1")
    bad = charged(gift, committee, 2700, "g2", email="ray@example.com", given_name="Ray")
    # Its form, as stored, no longer attests eligibility: the compliance service refuses it.
    PaymentAttempt.objects.filter(pk=bad.pk).update(payload={**bad.payload, "attested": False})

    assert attempts_record() == 1

    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.status == AttemptStatus.SUCCEEDED and good.contribution is not None
    assert bad.status == AttemptStatus.REFUSED and bad.message.startswith("Charged, not recorded")
    assert Contribution.objects.count() == 1
    queue = staff_client.get("/fundraising/compliance/").content.decode()
    assert "Charged but not recorded" in queue and bad.charge_id in queue and "ray@example.com" in queue


def test_a_gift_refused_in_a_batch_is_one_compliance_case(committee, gift):
    charged(gift, committee, 2700, "c1")
    odd = charged(gift, committee, 15000, "c2", email="ray@example.com", given_name="Ray")
    # Stored as $150 in cash: over the $100 cash limit, which no policy redesignates.
    PaymentAttempt.objects.filter(pk=odd.pk).update(payload={**odd.payload, "method": "cash"})

    assert attempts_record() == 1

    case = ComplianceCase.objects.get()  # the batch's refusal left nothing behind; the retry's stands
    assert (case.kind, case.action) == (CaseKind.CASH_LIMIT, CaseAction.REFUSED)
    assert PaymentAttempt.objects.get(pk=odd.pk).status == AttemptStatus.REFUSED


@pytest.mark.django_db(transaction=True)
def test_recorders_running_at_once_record_each_gift_once(committee, gift, race):
    cache.set(RECORDER_DUE_KEY, 1)  # a recorder is on its way: the gifts below queue none of their own
    attempts = [charged(gift, committee, 1000 + n, f"r{n}", email=f"d{n}@example.com") for n in range(30)]
    counts = race(3, lambda n: attempts_record(batch_size=4))
    assert sum(counts) == 30
    assert Contribution.objects.count() == 30
    assert set(PaymentAttempt.objects.values_list("status", flat=True)) == {AttemptStatus.SUCCEEDED}
    assert sorted(Contribution.objects.values_list("amount_cents", flat=True)) == [a.amount_cents for a in attempts]


def test_a_batchs_receipts_go_out_once_over_one_connection(committee, gift, django_capture_on_commit_callbacks):
    for n in range(3):
        charged(gift, committee, 2700, f"m{n}", email=f"donor{n}@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        attempts_record()
    assert sorted(m.to[0] for m in mail.outbox) == ["donor0@example.com", "donor1@example.com", "donor2@example.com"]
    assert all("$27.00" in m.body for m in mail.outbox)
    assert not Contribution.objects.filter(receipt_sent_at=None).exists()
    from barnstorm.donations.tasks import contribution_receipts_send

    assert contribution_receipts_send(list(Contribution.objects.values_list("pk", flat=True))) == 0  # claimed once
    assert len(mail.outbox) == 3


def test_a_batch_of_returning_donors_takes_as_many_queries_as_a_small_one(committee, gift):
    def batch_queries(emails):
        for email in emails:
            contribution_record(data=gift(committee, key=f"before-{email}", donor=donor_input(email=email)))
        for email in emails:
            charged(gift, committee, 1000, f"now-{email}", email=email)
        with CaptureQueriesContext(connection) as queries:
            assert attempts_record() == len(emails)
        return len(queries.captured_queries)

    small = batch_queries([f"s{n}@example.com" for n in range(2)])
    large = batch_queries([f"l{n}@example.com" for n in range(8)])
    assert large == small  # the donors' locks, earlier gifts and totals are one query each, not one a donor


@pytest.mark.django_db(transaction=True)
def test_two_runs_given_the_same_receipts_at_once_send_each_once(committee, gift, race):
    from barnstorm.donations.tasks import contribution_receipts_send

    ids = [
        contribution_record(
            data=gift(committee, key=f"rc{n}", donor=donor_input(email=f"r{n}@example.com"))
        ).contribution.pk
        for n in range(6)
    ]
    Contribution.objects.update(receipt_sent_at=None)  # as if their receipts were still to go
    mail.outbox.clear()
    sent = race(3, lambda n: contribution_receipts_send(ids))
    assert sum(sent) == 6
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"r{n}@example.com" for n in range(6))
