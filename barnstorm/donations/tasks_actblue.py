"""The ActBlue import, run by a worker. Takes the job's token; safe to run twice (the import is idempotent)."""

import uuid

from celery import shared_task

from barnstorm.donations.actblue import job_run


@shared_task
def actblue_import_task(token: str, actor_id: int | None = None) -> None:
    job_run(token=uuid.UUID(token), actor_id=actor_id)
