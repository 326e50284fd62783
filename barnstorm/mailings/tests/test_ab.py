"""A/B subject tests: a sample gets the variants, the rest wait, then all get the winner."""

from datetime import timedelta

from django.core import mail
from django.utils import timezone

from barnstorm.mailings import services
from barnstorm.mailings.models import Delivery, DeliveryStatus, MailingStatus


def test_the_sample_gets_the_variants_and_the_rest_get_the_winner(
    supporters, make_mailing, organizer, django_capture_on_commit_callbacks, settings
):
    mailing = make_mailing(subjects=("Subject one", "Subject two"), ab_sample_percent=50, ab_measure="clicks")
    with django_capture_on_commit_callbacks(execute=True):
        services.mailing_start(mailing=mailing, actor=organizer)

    deliveries = Delivery.objects.filter(mailing=mailing)
    sample = deliveries.filter(status=DeliveryStatus.SENT)
    held = deliveries.filter(status=DeliveryStatus.HELD)
    assert sample.count() + held.count() == 12
    assert 0 < sample.count() < 12
    assert set(sample.values_list("variant", flat=True)) <= {0, 1}
    assert {m.subject for m in mail.outbox} <= {"Subject one", "Subject two"}
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENDING  # waiting for the winner

    # Subject two's readers click; subject one's don't.
    for delivery in sample.filter(variant=1):
        Delivery.objects.filter(pk=delivery.pk).update(clicked_at=timezone.now())
    held_count = held.count()
    too_early = services.mailing_ab_decide(mailing=mailing)
    assert too_early is None

    with django_capture_on_commit_callbacks(execute=True):
        winner = services.mailing_ab_decide(mailing=mailing, now=timezone.now() + timedelta(minutes=61))

    assert winner == 1
    assert len(mail.outbox) == 12
    assert [m.subject for m in mail.outbox[-held_count:]] == ["Subject two"] * held_count
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENT and mailing.ab_winner == 1
    assert services.mailing_ab_decide(mailing=mailing, force=True) == 1  # decided once


def test_the_winner_by_dollars_is_the_subject_that_raised_most(supporters, make_mailing, organizer):
    from barnstorm.donations.models import Contribution

    mailing = make_mailing(subjects=("One", "Two", "Three"), ab_measure="dollars", ab_sample_percent=100)
    services.mailing_start(mailing=mailing, actor=organizer)
    person = supporters[0]
    for refcode, cents in ((mailing.variant_refcode(0), 2700), (mailing.variant_refcode(2), 10000)):
        Contribution.objects.create(
            person=person,
            amount_cents=cents,
            method="card",
            source="web",
            received_at=timezone.now(),
            idempotency_key=f"ab-{refcode}",
            refcode=refcode,
        )

    assert services.variant_scores(mailing=mailing) == {0: 2700.0, 1: 0.0, 2: 10000.0}
