"""Crash recovery: which worker has a job, whether it is alive, and resuming the job if not.

A worker killed mid-job (``kill -9``, a lost machine) takes its task with it: the
file-system broker forgets a message once a worker has taken it, and Redis gives it back
only after its visibility timeout (an hour). So the job's row, not the broker, says what
must go on:

* a worker that previews or runs a job first claims it, writing a token of its own into
  ``Job.runner``, and then beats (``Job.heartbeat_at``) every
  ``CRMADMIN_HEARTBEAT_SECONDS`` from a thread for as long as it works on it;
* ``recover_stalled_jobs`` (when a worker starts, and every ``CRMADMIN_RECOVERY_SECONDS``
  from beat) queues again each previewing or running job whose heartbeat is older than
  ``CRMADMIN_STALE_AFTER_SECONDS``, and each queued job that no worker claimed within that
  time (its message was lost);
* the work resumes where it stopped: a preview reads only the records it has not read
  yet, a run sends only the batches it has not recorded (``operations``).

Each step is a conditional UPDATE of the job's row: two recoverers never both queue a
job again, two deliveries of a task never both run it, a task refuses a job whose runner
is alive, and a runner that finds another's token on its job (it was paused for longer
than the stale time and taken for dead) stops sending.
"""

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Job, JobEvent

logger = logging.getLogger("crmadmin.massupdate")

Status = Job.Status


def new_runner() -> str:
    """A token for one worker's one attempt at a job: readable in the admin, never reused."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def stale_before(now: datetime | None = None) -> datetime:
    """A heartbeat older than this is a runner's last."""
    return (now or timezone.now()) - timedelta(seconds=settings.CRMADMIN_STALE_AFTER_SECONDS)


class Superseded(Exception):
    """The job has another runner now: this one was taken for dead and must stop."""


def claim(job_id: int, runner: str, *, in_status: str, **changes: Any) -> Job | None:
    """Make ``runner`` the job's runner if the job is ``in_status`` and no live runner has it.

    ``changes`` are written with the claim. Returns the claimed job, or None. Taking a job
    over from a runner that stopped beating is a resume and goes into the audit trail; a
    job a recoverer queued again has no runner any more (the recoverer recorded it).
    """
    now = timezone.now()
    with transaction.atomic():
        job = Job.objects.select_related("connection").filter(pk=job_id).first()
        if job is None or job.status != in_status:
            return None
        alive = job.runner and job.heartbeat_at and job.heartbeat_at >= stale_before(now)
        if alive:
            logger.info(
                "job %s: %s is still running it; %s stands down", job_id, job.runner, runner
            )
            return None
        taken = Job.objects.filter(
            pk=job_id, status=in_status, runner=job.runner, heartbeat_at=job.heartbeat_at
        ).update(runner=runner, heartbeat_at=now, **changes)
        if not taken:
            return None  # another delivery of the task claimed it first
        if job.runner:
            JobEvent.objects.create(
                job=job,
                kind=JobEvent.Kind.RESUMED,
                message=f"Its worker stopped (last heartbeat {_clock(job.heartbeat_at)}); "
                "another worker continues where it left off.",
                detail={"previous_runner": job.runner, "runner": runner},
            )
        # What the UPDATE wrote, plain values all: no need to read the row again.
        for name, value in {"runner": runner, "heartbeat_at": now, **changes}.items():
            setattr(job, name, value)
    return job


def keep_claim(job_id: int, runner: str, **changes: Any) -> None:
    """Beat, and write ``changes``, if ``runner`` still has the job; else raise ``Superseded``.

    A runner makes this the first write of each transaction that records its work: the
    UPDATE locks the job's row, so once another runner has claimed the job, nothing more
    of this one's is written.
    """
    if not Job.objects.filter(pk=job_id, runner=runner).update(
        heartbeat_at=timezone.now(), **changes
    ):
        raise Superseded(f"job {job_id} is no longer run by {runner}")


def release(job_id: int, runner: str, *, in_status: str, **changes: Any) -> bool:
    """Write ``changes`` and let go of the job, if ``runner`` still has it in ``in_status``:
    the last write of a runner's work. False if another runner took it over meanwhile."""
    return bool(
        Job.objects.filter(pk=job_id, status=in_status, runner=runner).update(
            runner="", heartbeat_at=None, **changes
        )
    )


class Heartbeat:
    """Beats for ``runner`` on the job every ``CRMADMIN_HEARTBEAT_SECONDS``, from a thread,
    for the length of the ``with`` block.

    A thread rather than a beat per result: one call may take minutes (a timeout, then
    retries with backoff), and a runner is alive for all of it. A beat writes only while
    the row still names this runner, so a runner that was taken over revives nothing.
    """

    def __init__(self, job_id: int, runner: str) -> None:
        self.job_id = job_id
        self.runner = runner
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat_until_stopped, name=f"heartbeat-job-{job_id}", daemon=True
        )

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat_until_stopped(self) -> None:
        try:
            while not self._stop.wait(settings.CRMADMIN_HEARTBEAT_SECONDS):
                self.beat()
        finally:
            connections.close_all()  # this thread's own connections

    def beat(self) -> None:
        try:
            Job.objects.filter(pk=self.job_id, runner=self.runner).update(
                heartbeat_at=timezone.now()
            )
        except DatabaseError:
            # A missed beat is no harm; missing them all for the stale time would be.
            logger.warning("job %s: heartbeat not written", self.job_id, exc_info=True)


@contextmanager
def working(job_id: int, runner: str) -> Iterator[None]:
    """Beat for ``runner`` while the block works on the job; if the job turns out to have
    another runner (``Superseded``), the block ends there, quietly."""
    with Heartbeat(job_id, runner):
        try:
            yield
        except Superseded:
            logger.warning("job %s: another worker took it over; %s stops", job_id, runner)


def recover_stalled_jobs(*, reason: str = "periodic check") -> list[int]:
    """Queue again every job whose worker stopped beating, or whose queue message was lost.

    Returns the ids of the jobs queued again.
    """
    from .tasks import preview_job_task, run_job_task

    task_for = {Status.PREVIEWING: preview_job_task, Status.QUEUED: run_job_task}
    now = timezone.now()
    stalled = (
        Job.objects.running()
        # A queued job's clock starts when it was queued: submitted, or approved.
        .annotate(last_sign=Coalesce("heartbeat_at", "decided_at", "submitted_at", "created_at"))
        .filter(last_sign__lt=stale_before(now))
        .order_by("pk")
        .values_list("pk", "status", "runner", "heartbeat_at", "last_sign")
    )
    resumed = []
    for pk, status, runner, heartbeat_at, last_sign in stalled:
        with transaction.atomic():
            # Only if nobody changed the row since it was read: of two recoverers, one wins.
            taken = Job.objects.filter(
                pk=pk, status=status, runner=runner, heartbeat_at=heartbeat_at
            ).update(runner="", heartbeat_at=now)
            if not taken:
                continue
            if status == Status.QUEUED:
                message = f"No worker took it since {_clock(last_sign)}: queued again."
            else:
                message = (
                    f"Its worker stopped (last heartbeat {_clock(last_sign)}): "
                    "queued again, to continue where it left off."
                )
            JobEvent.objects.create(
                job_id=pk,
                kind=JobEvent.Kind.RESUMED,
                message=message,
                detail={"previous_runner": runner, "found_by": reason},
            )
            task = task_for.get(status, run_job_task)
            transaction.on_commit(partial(task.delay, pk))
        logger.warning("job %s (%s) stalled: queued again (%s)", pk, status, reason)
        resumed.append(pk)
    return resumed


def _clock(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else "never"
