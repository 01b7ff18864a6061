"""How fast one big mass-update job goes, end to end, against the sandbox over real HTTP.

    .venv/bin/python scripts/bench_job.py [--records 10000] [--latency 0.05] [--requests 20]

Everything happens in a throwaway SQLite database in a temporary folder: migrate, seed the
sandbox, serve it from a thread over HTTP, preview and run a job by calling the domain
functions the Celery tasks call, then time the results pages and the CSV export through
Django's test client. Nothing outside the temporary folder is read or written.
"""

import argparse
import logging
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scripts.bench import PageTiming, environment, new_job, submit  # noqa: E402 - needs the path above

NEW_TITLE = "Met at Expo 2026"
FIELD = "Designation"


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="crmadmin-bench-") as folder:
        os.environ.update(environment(Path(folder), None))
        import django

        django.setup()
        run(args)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000, help="records in the job")
    parser.add_argument(
        "--latency", type=float, default=None, help="seconds the sandbox adds to each API call"
    )
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    args = parser.parse_args()
    if not 1 <= args.records <= 50_000:
        parser.error("--records must be between 1 and 50,000 (the selection's limit)")
    if args.requests < 2:
        parser.error("--requests must be at least 2")
    return args


class CountingApp:
    """The sandbox's WSGI app, counting the requests it serves and the status they get."""

    def __init__(self, app: Callable) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        kind = "api" if environ.get("PATH_INFO", "").startswith("/sandbox/crm/") else "other"

        def counting_start_response(status: str, headers: list, *args) -> Callable:
            with self.lock:
                self.calls[kind] += 1
                self.calls[f"{kind} {status[:3]}"] += 1
            return start_response(status, headers, *args)

        return self.app(environ, counting_start_response)

    def snapshot(self) -> Counter[str]:
        with self.lock:
            return Counter(self.calls)


def run(args: argparse.Namespace) -> None:
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connections
    from django.test.testcases import LiveServerThread

    from crmadmin.massupdate import operations
    from crmadmin.massupdate.models import Batch, Job, JobEvent
    from crmadmin.sandbox import faults
    from crmadmin.sandbox.models import Record
    from crmadmin.sandbox.seed import seed
    from tests.conftest import make_sandbox_connection

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    migrated = time.perf_counter()
    seed(leads=args.records + 100)
    seeded = time.perf_counter()
    if args.latency is not None:
        faults.configure(latency=args.latency)
    latency = faults.get_config().latency

    server = LiveServerThread("localhost", CountingApp, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    counter: CountingApp = server.httpd.get_app()
    try:
        owner = User.objects.create_user("bench")
        owner.groups.add(Group.objects.get(name="Operator"))
        connection = make_sandbox_connection(f"http://{server.host}:{server.port}")

        # The first leads in id order, whatever their state: as in real life, a few are
        # locked, awaiting approval or converted, and fail.
        ids = list(
            Record.objects.filter(module="Leads")
            .order_by("id")
            .values_list("id", flat=True)[: args.records]
        )
        job = new_job(owner, connection, ids, NEW_TITLE)

        # start_preview and submit queue their task on commit; the message lands in the
        # throwaway broker folder, where no worker reads it: this process runs what the
        # task would run, so that the clock measures only that.
        # (kombu warns that the file-system broker URL names no host; it needs none.)
        logging.getLogger("kombu.connection").setLevel(logging.ERROR)
        operations.start_preview(job=job, user=owner)
        before = counter.snapshot()
        clock = time.perf_counter()
        operations.run_preview(job_id=job.pk)
        preview_seconds = time.perf_counter() - clock
        preview_calls = counter.snapshot() - before
        job.refresh_from_db()
        if job.status != Job.Status.PREVIEWED:
            sys.exit(f"the preview failed: {job.error_message}")

        # Above the approval threshold, a manager lets it run.
        manager = User.objects.create_user("bench-manager")
        manager.groups.add(Group.objects.get(name="Manager"))
        submit(job, owner, manager)
        before = counter.snapshot()
        clock = time.perf_counter()
        operations.run_job(job_id=job.pk)
        run_seconds = time.perf_counter() - clock
        run_calls = counter.snapshot() - before
        job.refresh_from_db()

        last_write = max(b.finished_at for b in Batch.objects.filter(job=job))
        verified_at = job.events.get(kind=JobEvent.Kind.VERIFIED).at
        writes_seconds = (last_write - job.started_at).total_seconds()
        read_back_seconds = (verified_at - last_write).total_seconds()

        pages = time_pages(job, owner, args.requests)
    finally:
        server.terminate()
        connections.close_all()

    total = time.perf_counter() - started
    print_report(
        args=args,
        latency=latency,
        concurrency=connection.concurrency_limit,
        setup=(migrated - started, seeded - migrated),
        job=job,
        phases=[
            ("preview (read before-values)", preview_seconds, job.record_count, preview_calls),
            ("run (writes + read-back)", run_seconds, job.to_send, run_calls),
        ],
        breakdown=(writes_seconds, read_back_seconds),
        pages=pages,
        total=total,
    )


def time_pages(job, owner, requests: int) -> list[PageTiming]:
    from django.db import connection as db_connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    client = Client()
    client.force_login(owner)
    detail = reverse("massupdate:job-detail", args=[job.pk])
    failures = sorted(
        ((n, code) for code, n in job.outcome_counts.items() if code != "SUCCESS"), reverse=True
    )
    pages = [("results page 1", detail), ("results page 50", detail + "?page=50")]
    pages.append(("filtered: code=SUCCESS", detail + "?code=SUCCESS"))
    if failures:
        n, code = failures[0]
        pages.append((f"filtered: code={code} ({n:,} rows)", f"{detail}?code={code}"))

    def timed(url: str, times: int, read: Callable) -> tuple[list[float], int]:
        read(client.get(url))  # warm-up: connection, templates, caches
        samples, queries = [], 0
        for _ in range(times):
            with CaptureQueriesContext(db_connection) as captured:
                clock = time.perf_counter()
                response = client.get(url)
                read(response)
                samples.append(time.perf_counter() - clock)
            assert response.status_code == 200, (url, response.status_code)
            queries = max(queries, len(captured.captured_queries))
        return samples, queries

    timings = []
    for label, url in pages:
        samples, queries = timed(url, requests, lambda response: response.content)
        timings.append(PageTiming(label, url, samples, queries))

    size = 0

    def stream(response) -> None:
        nonlocal size
        size = sum(len(chunk) for chunk in response.streaming_content)

    export = reverse("massupdate:job-export", args=[job.pk])
    samples, queries = timed(export, max(2, requests // 4), stream)
    timings.append(
        PageTiming(
            f"CSV export, all {job.record_count:,} rows",
            export,
            samples,
            queries,
            note=f"{size / 1e6:.1f} MB",
        )
    )
    return timings


def print_report(
    *,
    args: argparse.Namespace,
    latency: float,
    concurrency: int,
    setup: tuple[float, float],
    job,
    phases: list[tuple[str, float, int, Counter]],
    breakdown: tuple[float, float],
    pages: list[PageTiming],
    total: float,
) -> None:
    from django.db import connection as db_connection

    outcomes = ", ".join(f"{code} {n:,}" for code, n in sorted(job.outcome_counts.items()))
    print()
    print(
        f"Mass update of {job.record_count:,} Leads ({FIELD}); {db_connection.vendor}, "
        f"sandbox latency {latency:g} s, connection concurrency {concurrency}"
    )
    print(f"Setup: migrate {setup[0]:.1f} s, seed {args.records + 100:,} leads {setup[1]:.1f} s")
    print(f"Job {job.pk}: {job.get_status_display()}; {outcomes}")
    print(
        f"Read-back: {job.verification.get('checked', 0):,} checked, "
        f"{job.verification.get('mismatched', 0):,} mismatched"
    )
    print()
    header = f"{'Phase':<30} {'Wall s':>8} {'Records':>9} {'Records/s':>10} {'API calls':>10}"
    print(header)
    print("-" * len(header))
    for label, seconds, records, calls in phases:
        other = {k: n for k, n in calls.items() if k.startswith("api ") and k != "api 200"}
        extra = "  " + ", ".join(f"HTTP {k[4:]}: {n}" for k, n in sorted(other.items()))
        print(
            f"{label:<30} {seconds:>8.2f} {records:>9,} {records / seconds:>10,.0f} "
            f"{calls['api']:>10,}{extra if other else ''}"
        )
    writes, read_back = breakdown
    print(
        f"  of the run: {job.calls_total} write calls in {writes:.2f} s "
        f"({job.to_send / writes:,.0f} records/s), read-back {read_back:.2f} s"
    )
    print()
    header = f"{'Page (server time)':<46} {'Median ms':>10} {'p95 ms':>8} {'SQL':>5} {'n':>4}"
    print(header)
    print("-" * len(header))
    for timing in pages:
        note = f"  {timing.note}" if timing.note else ""
        print(
            f"{timing.label:<46} {timing.p50_ms:>10.1f} {timing.p95_ms:>8.1f} "
            f"{timing.queries:>5} {len(timing.samples):>4}{note}"
        )
    print()
    print(f"Total {total:.1f} s")


if __name__ == "__main__":
    main()
