import smtplib

from celery import shared_task

from barnstorm.mailings import services


# A refused connection or a 4xx answer: the batch put its rows back, so trying again is safe.
@shared_task(autoretry_for=(smtplib.SMTPException, OSError), retry_backoff=5, max_retries=6)
def mailing_send_batch(mailing_id: int, first_id: int, last_id: int) -> int:
    return services.batch_send(mailing_id=mailing_id, first_id=first_id, last_id=last_id).sent


@shared_task
def mailing_start(mailing_id: int) -> None:
    from barnstorm.mailings.models import Mailing

    mailing = Mailing.objects.get(pk=mailing_id)
    services.mailing_start(mailing=mailing, actor=mailing.created_by)


@shared_task
def mailings_due() -> None:
    """Every minute: start scheduled mailings, pick A/B winners, requeue work of dead workers."""
    services.mailings_start_due()
    services.mailings_ab_decide_due()
    services.mailings_recover()
