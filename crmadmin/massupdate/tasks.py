"""Celery tasks: thin wrappers; the domain functions claim the job and are safe to re-run."""

from celery import shared_task

from . import operations


@shared_task(name="massupdate.preview_job")
def preview_job_task(job_id: int) -> None:
    operations.run_preview(job_id=job_id)


@shared_task(name="massupdate.run_job")
def run_job_task(job_id: int) -> None:
    operations.run_job(job_id=job_id)
