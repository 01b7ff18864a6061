"""A 2,000-record job previewed and run by a real Celery worker process, against the sandbox.

The other mass-update tests run tasks eagerly; here they travel through the file-system
broker to a ``celery worker`` subprocess, which reads and writes the same database and
calls the sandbox served by ``live_server`` over HTTP.
"""

import re
import time
from collections import Counter

import pytest

from crmadmin.celery import app as celery_app
from crmadmin.massupdate import operations
from crmadmin.massupdate.models import Batch, Job, JobEvent, Outcome
from crmadmin.sandbox.models import Record
from crmadmin.sandbox.seed import seed
from tests.conftest import make_sandbox_connection

from .conftest import build_job, writable

RECORDS = 2000
NEW_TITLE = "Met at Expo 2026"
# Each wait is generous: a slow machine must not fail the test, only a stuck worker.
STEP_DEADLINE_SECONDS = 120


def _wait_while(job: Job, statuses: set[str], worker) -> Job:
    """Poll the job's row until its status leaves ``statuses``; fail with the worker's log."""
    deadline = time.monotonic() + STEP_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status not in statuses:
            return job
        assert worker.poll() is None, "the worker died:\n" + worker.log_path.read_text()
        time.sleep(0.25)
    raise AssertionError(
        f"job {job.pk} still {job.status} after {STEP_DEADLINE_SECONDS} s "
        f"({job.preview_done} previewed, {job.calls_done} calls done); worker log:\n"
        + worker.log_path.read_text()
    )


@pytest.mark.timeout(2 * STEP_DEADLINE_SECONDS + 60)
def test_a_real_worker_previews_and_runs_a_2000_record_job(
    live_server, celery_worker_process, operator
):
    # The worker process must be the one that runs the tasks, not this process.
    assert not celery_app.conf.task_always_eager
    seed(leads=RECORDS + 100)
    connection = make_sandbox_connection(live_server.url)
    ids = writable("Leads", RECORDS)
    job = build_job(operator, connection, "Leads", {"Designation": {"value": NEW_TITLE}}, ids)

    operations.start_preview(job=job, user=operator)
    _wait_while(job, {Job.Status.PREVIEWING}, celery_worker_process)
    assert job.status == Job.Status.PREVIEWED, job.error_message
    assert job.preview_counts["to_send"] == RECORDS

    queued = operations.submit(
        job=job, user=operator, reason="Met them all at the fair", token=job.submit_token
    )
    assert queued
    _wait_while(job, {Job.Status.QUEUED, Job.Status.RUNNING}, celery_worker_process)

    assert job.status == Job.Status.COMPLETED, job.error_message
    assert job.outcome_counts == {"SUCCESS": RECORDS}
    assert Outcome.objects.filter(job=job).count() == RECORDS
    batches = list(Batch.objects.filter(job=job))
    assert [b.status for b in batches] == [Batch.Status.DONE] * 4
    assert [len(b.record_ids) for b in batches] == [500] * 4
    assert job.verification == {"checked": RECORDS, "mismatched": 0, "unreadable": 0}
    titles = Counter(r.data.get("Designation") for r in Record.objects.filter(pk__in=ids))
    assert titles == {NEW_TITLE: RECORDS}
    kinds = set(job.events.values_list("kind", flat=True))
    assert {JobEvent.Kind.STARTED, JobEvent.Kind.FINISHED} <= kinds

    log = celery_worker_process.log_path.read_text()
    for task in ("massupdate.preview_job", "massupdate.run_job"):
        assert re.search(rf"Task {re.escape(task)}\[[\w-]+\] succeeded", log), log
