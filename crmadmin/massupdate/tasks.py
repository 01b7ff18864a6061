"""Celery tasks: thin wrappers; the domain functions claim the job and are safe to re-run.

``acks_late`` with ``reject_on_worker_lost``: a message is acknowledged only once its task
has returned, and one whose worker process died is handed back rather than dropped
(Redis and AMQP; the file-system broker loses it). A second delivery of a task whose
job another worker is running finds that worker alive and does nothing; a job whose
worker died is resumed by ``recover_stalled_jobs`` from its row, whatever the broker kept.
"""

from celery import shared_task

from . import operations, recovery

JOB_TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(name="massupdate.preview_job", **JOB_TASK_OPTIONS)
def preview_job_task(job_id: int) -> None:
    operations.run_preview(job_id=job_id)


@shared_task(name="massupdate.run_job", **JOB_TASK_OPTIONS)
def run_job_task(job_id: int) -> None:
    operations.run_job(job_id=job_id)


@shared_task(name="massupdate.recover_stalled_jobs")
def recover_stalled_jobs_task() -> None:
    recovery.recover_stalled_jobs()
