"""Background work for the people app. Tasks take ids and are safe to run twice."""

from celery import shared_task

from barnstorm.people.imports import import_job_run


@shared_task
def import_job_run_task(job_id: int) -> None:
    import_job_run(job_id=job_id)
