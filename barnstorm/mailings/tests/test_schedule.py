"""A scheduled mailing starts by itself once its time has come (the beat's every-minute task)."""

from datetime import timedelta

from django.core import mail
from django.utils import timezone

from barnstorm.mailings import services, tasks
from barnstorm.mailings.models import MailingStatus


def test_a_scheduled_mailing_goes_out_when_due_and_not_before(
    supporters, make_mailing, organizer, django_capture_on_commit_callbacks
):
    mailing = make_mailing()
    services.mailing_schedule(mailing=mailing, send_at=timezone.now() + timedelta(hours=1), actor=organizer)

    assert services.mailings_start_due() == []
    with django_capture_on_commit_callbacks(execute=True):
        assert services.mailings_start_due(now=timezone.now() + timedelta(hours=1, seconds=1)) == [mailing.pk]

    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENT
    assert len(mail.outbox) == 12


def test_the_beat_task_starts_due_mailings(supporters, make_mailing, organizer, django_capture_on_commit_callbacks):
    mailing = make_mailing()
    services.mailing_schedule(mailing=mailing, send_at=timezone.now() + timedelta(seconds=1), actor=organizer)
    type(mailing).objects.filter(pk=mailing.pk).update(send_at=timezone.now() - timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True):
        tasks.mailings_due()

    assert len(mail.outbox) == 12
