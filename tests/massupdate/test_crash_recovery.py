"""A job survives ``kill -9`` of its worker: its row lets another worker resume it.

The first tests start a real ``celery worker`` (prefork, in a process group of its own),
let it preview and run a 2,000-record job against the sandbox served by ``live_server``,
with latency so that calls are in flight, and kill the whole group with SIGKILL: once
while previewing, twice while sending. A new worker resumes the job each time, found by
beat's periodic check or, with no beat, when the worker starts. With the file-system
broker and with Redis, neither of which gives the killed task back in time.

The others check the rules one at a time, in this process: which jobs the recoverer
queues again, that one queues a job only once however many look, that a task stands
down while a job's runner is alive, and that a runner taken for dead stops while the
one that takes over sends or reads only what is left.
"""

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.db import connections
from django.db.models import Count
from django.utils import timezone

from crmadmin.celery import app as celery_app
from crmadmin.celery import filesystem_broker_options
from crmadmin.massupdate import operations
from crmadmin.massupdate.models import Batch, Job, JobEvent, JobRecord, Outcome
from crmadmin.massupdate.recovery import recover_stalled_jobs
from crmadmin.massupdate.tasks import preview_job_task, run_job_task
from crmadmin.sandbox import credits, faults
from crmadmin.sandbox.models import Record
from crmadmin.sandbox.seed import seed
from tests.conftest import (
    _forget_broker_connections,
    make_sandbox_connection,
    start_worker,
)

from .conftest import build_job, writable

ROOT = Path(__file__).resolve().parents[2]
RESUMED = JobEvent.Kind.RESUMED
VALUES = {"Designation": {"value": "Survived a crash"}, "City": {"value": "Phoenix"}}
# Short beats for the worker processes, so that a killed worker's job stalls in seconds.
WORKER_SETTINGS = {
    "CRMADMIN_HEARTBEAT_SECONDS": "1",
    # Longer than a worker takes to start, so that a worker started at once after a kill
    # finds the job still alive, and beat's check is what finds it stalled.
    "CRMADMIN_STALE_AFTER_SECONDS": "5",
    "CRMADMIN_RECOVERY_SECONDS": "1",
    "CRMADMIN_BATCH_SIZE": "100",
}
STALE = timedelta(seconds=int(WORKER_SETTINGS["CRMADMIN_STALE_AFTER_SECONDS"]))
RECORDS = 2000
CONCURRENCY = 4
# Seconds each sandbox call takes: 20 reads and 40 writes, 4 at a time, last seconds.
LATENCY = 0.4
# Generous: a slow machine must not fail the test, only a stuck job.
DEADLINE_SECONDS = 90


# --- Worker processes that can be killed ------------------------------------------------


class Workers:
    """``celery worker`` processes on one broker, started and killed one after another."""

    def __init__(self, folder: Path, broker_url: str) -> None:
        self.folder = folder
        self.broker_url = broker_url
        self.started: list[subprocess.Popen] = []

    @property
    def current(self) -> subprocess.Popen:
        return self.started[-1]

    def start(self, *, beat: bool) -> subprocess.Popen:
        n = len(self.started)
        options = ["--pool=prefork", "--concurrency=2"]
        if beat:
            options += ["--beat", f"--schedule={self.folder / f'beat-{n}'}"]
        log_path = self.folder / f"worker-{n}.log"
        with log_path.open("w") as log:
            # A group of its own: SIGKILL to the group reaches the pool's children too.
            process = start_worker(
                self.folder,
                self.broker_url,
                options,
                log,
                env=WORKER_SETTINGS,
                start_new_session=True,
            )
        process.log_path = log_path
        self.started.append(process)
        return process

    def kill(self) -> None:
        os.killpg(self.current.pid, signal.SIGKILL)
        self.current.wait()

    def logs(self) -> str:
        return "\n".join(
            f"--- worker {n} ---\n" + p.log_path.read_text()[-4000:]
            for n, p in enumerate(self.started)
        )

    def stop_all(self) -> None:
        for process in self.started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(params=["filesystem", "redis"])
def workers(request, transactional_db, tmp_path):
    """Workers on the file-system broker or on Redis; this process sends to the same one."""
    conf = celery_app.conf
    previous = conf.broker_url, conf.broker_transport_options
    if request.param == "redis":
        # A database of the session's server that nothing else uses, emptied first.
        url = request.getfixturevalue("redis_url").rsplit("/", 1)[0] + "/3"
        redis.Redis.from_url(url).flushdb()
        conf.broker_url, conf.broker_transport_options = url, {}
    else:
        url = "filesystem://"
        conf.broker_url = url
        conf.broker_transport_options = filesystem_broker_options(tmp_path / "broker")
    _forget_broker_connections()
    started = Workers(tmp_path, url)
    yield started
    started.stop_all()
    conf.broker_url, conf.broker_transport_options = previous
    _forget_broker_connections()


def wait_for(
    condition: Callable[[], bool], what: str, workers: Workers, *, worker_up: bool = True
) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {DEADLINE_SECONDS} s\n{workers.logs()}")
        if worker_up and workers.current.poll() is not None:
            raise AssertionError(f"{what}: the worker died on its own\n{workers.logs()}")
        time.sleep(0.05)


def fresh(job: Job) -> Job:
    job.refresh_from_db()
    return job


@pytest.mark.timeout(4 * DEADLINE_SECONDS)
def test_a_job_whose_worker_is_killed_three_times_completes_with_each_outcome_once(
    workers, live_server, operator
):
    seed(leads=RECORDS + 100)
    connection = make_sandbox_connection(live_server.url, concurrency_limit=CONCURRENCY)
    ids = writable("Leads", RECORDS)
    job = build_job(operator, connection, "Leads", VALUES, ids)
    faults.configure(latency=LATENCY)
    spent_before = credits.used()

    workers.start(beat=True)
    operations.start_preview(job=job, user=operator)
    wait_for(lambda: fresh(job).preview_done >= 400, "a fifth of the preview", workers)
    workers.kill()
    assert fresh(job).status == Job.Status.PREVIEWING, "the preview ended before the kill"
    # At once: the new worker finds the job's heartbeat still fresh, and beat's check
    # finds it stalled a few seconds later.
    workers.start(beat=True)
    wait_for(lambda: fresh(job).status != Job.Status.PREVIEWING, "the resumed preview", workers)
    assert job.status == Job.Status.PREVIEWED, job.error_message
    assert job.preview_counts["to_send"] == RECORDS

    assert operations.submit(job=job, user=operator, reason="Crash test", token=job.submit_token)
    wait_for(lambda: fresh(job).calls_done >= 8, "a fifth of the batches", workers)
    workers.kill()
    workers.start(beat=True)
    wait_for(lambda: fresh(job).calls_done >= 24, "three fifths of the batches", workers)
    workers.kill()
    assert fresh(job).status == Job.Status.RUNNING, "the job ended before the second kill"
    # This time the job has stalled before a worker (without beat) starts: the worker's
    # own check at start finds it.
    wait_for(
        lambda: fresh(job).heartbeat_at < timezone.now() - STALE,
        "a stale job",
        workers,
        worker_up=False,
    )
    workers.start(beat=False)
    wait_for(lambda: fresh(job).is_final, "the resumed run", workers)

    assert job.status == Job.Status.COMPLETED, job.error_message
    assert job.outcome_counts == {"SUCCESS": RECORDS}
    # Every record's outcome recorded exactly once per step (one step a field, in Leads).
    outcomes = Outcome.objects.filter(job=job)
    assert outcomes.count() == RECORDS * 2
    assert outcomes.values("record_id", "step").distinct().count() == RECORDS * 2
    assert set(outcomes.values_list("code", flat=True)) == {"SUCCESS"}
    # Each batch recorded once, however often it went out.
    assert job.calls_total == job.calls_done == 40
    assert set(Batch.objects.filter(job=job).values_list("status", flat=True)) == {"done"}
    assert job.events.filter(kind=JobEvent.Kind.BATCH_SENT).count() == 40
    # Sent again: only what was in flight at each kill, never a batch already recorded.
    minimum = 20 + 40 + 20  # preview reads, mass updates, read-back reads
    assert minimum <= credits.used() - spent_before <= minimum + 3 * CONCURRENCY
    assert job.verification == {"checked": RECORDS, "mismatched": 0, "unreadable": 0}
    values = Counter(
        (r.data.get("Designation"), r.data.get("City")) for r in Record.objects.filter(pk__in=ids)
    )
    assert values == {("Survived a crash", "Phoenix"): RECORDS}

    resumes = list(job.events.filter(kind=RESUMED).order_by("pk"))
    assert len(resumes) >= 3, [e.message for e in resumes]
    assert [e.detail["found_by"] for e in resumes[:2]] == ["periodic check"] * 2
    assert resumes[-1].detail["found_by"] == "worker start"
    assert job.runner == "" and job.heartbeat_at is None


# --- The rules, one at a time -------------------------------------------------------------


@pytest.fixture
def broker_queue(tmp_path):
    """A file-system broker folder nobody consumes: the tasks queued land there, to be read."""
    conf = celery_app.conf
    previous = conf.broker_url, conf.broker_transport_options, conf.task_always_eager
    conf.broker_url = "filesystem://"
    conf.broker_transport_options = filesystem_broker_options(tmp_path / "broker")
    conf.task_always_eager = False
    _forget_broker_connections()
    yield tmp_path / "broker" / "queue"
    conf.broker_url, conf.broker_transport_options, conf.task_always_eager = previous
    _forget_broker_connections()


def queued(folder: Path) -> Counter[tuple[str, str]]:
    """How many messages of each (task name, arguments) the broker folder holds."""
    messages = [json.loads(path.read_text()) for path in folder.iterdir()]
    return Counter((m["headers"]["task"], m["headers"]["argsrepr"]) for m in messages)


def make_job(owner, connection, status: str, **fields) -> Job:
    return Job.objects.create(
        owner=owner, connection=connection, module="Leads", status=status, **fields
    )


def test_the_recoverer_queues_again_the_jobs_whose_worker_stopped_and_no_other(
    operator, broker_queue, django_capture_on_commit_callbacks
):
    connection = make_sandbox_connection("http://sandbox.invalid")
    now = timezone.now()
    long_ago = now - timedelta(minutes=10)
    S = Job.Status
    dead_run = make_job(operator, connection, S.RUNNING, runner="w1:1:a", heartbeat_at=long_ago)
    live_run = make_job(operator, connection, S.RUNNING, runner="w2:2:b", heartbeat_at=now)
    dead_preview = make_job(operator, connection, S.PREVIEWING, runner="", heartbeat_at=long_ago)
    live_preview = make_job(operator, connection, S.PREVIEWING, runner="w3:3:c", heartbeat_at=now)
    lost_queued = make_job(operator, connection, S.QUEUED, submitted_at=long_ago)
    approved_now = make_job(operator, connection, S.QUEUED, submitted_at=long_ago, decided_at=now)
    finished = make_job(operator, connection, S.COMPLETED, runner="w1:1:a", heartbeat_at=long_ago)
    waiting = make_job(operator, connection, S.AWAITING_APPROVAL, submitted_at=long_ago)

    with django_capture_on_commit_callbacks(execute=True):
        resumed = recover_stalled_jobs()

    assert resumed == [dead_run.pk, dead_preview.pk, lost_queued.pk]
    assert queued(broker_queue) == {
        ("massupdate.run_job", f"({dead_run.pk},)"): 1,
        ("massupdate.preview_job", f"({dead_preview.pk},)"): 1,
        ("massupdate.run_job", f"({lost_queued.pk},)"): 1,
    }
    events = dict(JobEvent.objects.filter(kind=RESUMED).values_list("job_id", "message"))
    assert set(events) == set(resumed)
    assert events[lost_queued.pk].startswith("No worker took it since")
    assert events[dead_run.pk].startswith("Its worker stopped")
    for job in (dead_run, dead_preview, lost_queued):
        job.refresh_from_db()
        # No runner until a worker claims it; the clock starts again.
        assert job.runner == "" and job.heartbeat_at >= now
    for job in (live_run, live_preview, approved_now, finished, waiting):
        assert (job.runner, job.heartbeat_at) == Job.objects.values_list(
            "runner", "heartbeat_at"
        ).get(pk=job.pk)
        assert not job.events.exists()

    # A second look right after finds nothing: the first restarted the jobs' clocks.
    with django_capture_on_commit_callbacks(execute=True):
        assert recover_stalled_jobs() == []
    assert queued(broker_queue).total() == 3


def test_two_recoverers_at_once_queue_a_stalled_job_again_only_once(
    transactional_db, operator, broker_queue
):
    connection = make_sandbox_connection("http://sandbox.invalid")
    job = make_job(
        operator,
        connection,
        Job.Status.RUNNING,
        runner="w1:1:a",
        heartbeat_at=timezone.now() - timedelta(minutes=10),
    )
    start = threading.Barrier(2)
    found: list[list[int]] = []

    def recoverer() -> None:
        try:
            start.wait()
            found.append(recover_stalled_jobs())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=recoverer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(found) == [[], [job.pk]]
    assert queued(broker_queue) == {("massupdate.run_job", f"({job.pk},)"): 1}
    assert job.events.filter(kind=RESUMED).count() == 1


# --- With the sandbox: standing down, stopping, and resuming where the last runner stopped


@pytest.fixture
def sandbox(transactional_db, live_server):
    """A sandbox of 600 leads served over HTTP, one call at a time and slow enough to watch."""
    seed(leads=600)
    connection = make_sandbox_connection(live_server.url, concurrency_limit=1)
    yield connection
    faults.reset()


def in_thread(work: Callable[[], None]) -> threading.Thread:
    def target() -> None:
        try:
            work()
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    return thread


def until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "not within 30 s"
        time.sleep(0.02)


def take_over(job: Job, runner: str = "elsewhere:9:new") -> None:
    """What another worker's claim writes: its token, and a heartbeat of now."""
    Job.objects.filter(pk=job.pk).update(runner=runner, heartbeat_at=timezone.now())


def let_stall(job: Job) -> None:
    """The runner that has the job stops beating (as a killed worker does)."""
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=10))


def test_a_task_stands_down_while_the_jobs_runner_is_alive_and_takes_over_once_it_is_not(
    sandbox, operator, broker_queue
):
    ids = writable("Leads", 20)
    job = build_job(operator, sandbox, "Leads", {"City": {"value": "Ghent"}}, ids)
    operations.start_preview(job=job, user=operator)
    preview_job_task(job.pk)
    assert fresh(job).status == Job.Status.PREVIEWED
    assert operations.submit(job=job, user=operator, reason="test", token=job.submit_token)
    # A worker claimed it and is alive, say, when the task is delivered a second time.
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started_at=timezone.now())
    take_over(job, "elsewhere:1:alive")
    events_before = job.events.count()

    run_job_task(job.pk)

    assert fresh(job).status == Job.Status.RUNNING
    assert job.runner == "elsewhere:1:alive"
    assert not Batch.objects.filter(job=job).exists()
    assert job.events.count() == events_before
    assert not Record.objects.filter(pk__in=ids, data__City="Ghent").exists()

    let_stall(job)
    run_job_task(job.pk)

    assert fresh(job).status == Job.Status.COMPLETED
    resumed = job.events.get(kind=RESUMED)
    assert resumed.detail["previous_runner"] == "elsewhere:1:alive"
    assert Record.objects.filter(pk__in=ids, data__City="Ghent").count() == 20


def test_a_runner_taken_for_dead_stops_and_the_next_sends_only_the_batches_left(
    sandbox, operator, broker_queue, settings
):
    settings.CRMADMIN_BATCH_SIZE = 5
    ids = writable("Leads", 50)
    job = build_job(operator, sandbox, "Leads", {"City": {"value": "Leuven"}}, ids)
    operations.start_preview(job=job, user=operator)
    preview_job_task(job.pk)
    assert operations.submit(job=job, user=operator, reason="t", token=fresh(job).submit_token)
    faults.configure(latency=0.3)
    spent_before = credits.used()

    first = in_thread(lambda: run_job_task(job.pk))
    until(lambda: fresh(job).calls_done >= 3)
    take_over(job)
    first.join(timeout=30)

    # It stopped at its next write: nothing recorded or finished after the takeover.
    done = fresh(job).calls_done
    assert job.status == Job.Status.RUNNING
    assert 3 <= done < 10
    assert Batch.objects.filter(job=job, status=Batch.Status.PENDING).count() == 10 - done
    assert not job.events.filter(kind=JobEvent.Kind.FINISHED).exists()

    let_stall(job)
    assert recover_stalled_jobs() == [job.pk]
    # Queued a second time: by submit, and now by the recoverer.
    assert queued(broker_queue)[("massupdate.run_job", f"({job.pk},)")] == 2
    run_job_task(job.pk)

    assert fresh(job).status == Job.Status.COMPLETED
    assert job.outcome_counts == {"SUCCESS": 50}
    assert job.events.filter(kind=JobEvent.Kind.BATCH_SENT).count() == 10
    per_record = Outcome.objects.filter(job=job).values("record_id").annotate(n=Count("pk"))
    assert sorted(r["n"] for r in per_record) == [1] * 50
    # 10 mass updates and 1 read-back, plus at most the one call in flight at the takeover.
    assert 11 <= credits.used() - spent_before <= 12
    assert Record.objects.filter(pk__in=ids, data__City="Leuven").count() == 50


def test_a_resumed_preview_reads_only_the_records_not_read_yet(sandbox, operator, broker_queue):
    ids = writable("Leads", 500)
    job = build_job(operator, sandbox, "Leads", {"Designation": {"value": "Buyer"}}, ids)
    faults.configure(latency=0.3)
    operations.start_preview(job=job, user=operator)
    spent_before = credits.used()

    first = in_thread(lambda: preview_job_task(job.pk))
    until(lambda: fresh(job).preview_done >= 200)
    take_over(job)
    first.join(timeout=30)
    read = JobRecord.objects.filter(job=job).exclude(found=None).count()
    assert read == fresh(job).preview_done
    assert 200 <= read < 500

    # The CRM changes meanwhile: a record read again would show it.
    for record in Record.objects.filter(pk__in=ids):
        record.data["Designation"] = "Changed since"
        record.save(update_fields=["data"])
    let_stall(job)
    assert recover_stalled_jobs() == [job.pk]
    assert queued(broker_queue)[("massupdate.preview_job", f"({job.pk},)")] == 2
    preview_job_task(job.pk)

    assert fresh(job).status == Job.Status.PREVIEWED
    assert job.preview_done == 500
    befores = Counter(
        r["Designation"] == "Changed since"
        for r in JobRecord.objects.filter(job=job).values_list("before", flat=True)
    )
    assert befores == {False: read, True: 500 - read}
    # 5 reads of 100, plus at most the one in flight at the takeover.
    assert 5 <= credits.used() - spent_before <= 6
    assert job.events.filter(kind=RESUMED).count() == 1
