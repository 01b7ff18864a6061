"""One connection, three worker processes, one concurrency limit.

Three separate processes (``manage.py shell -c``, each as a worker would be) send mass
updates through ``parallel_calls`` at the same moment, each wanting as many calls at once
as the connection allows. The sandbox, served by ``live_server``, answers 429 to any call
beyond that limit and counts the most calls it ever had in flight. With the shared limiter
the three together never exceed the limit, yet fill it; with a limiter of their own each,
the same processes are refused.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crmadmin.sandbox import faults
from crmadmin.sandbox.models import Record
from crmadmin.zoho.client import ZohoClient
from tests.conftest import _database_url_of_test_db

from .conftest import writable

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 3
PROCESSES = 3
CALLS_EACH = 6
# Each call stays in flight this long, so that calls of different processes meet.
LATENCY = 0.4

WORKLOAD = """
import json, os, time
from pathlib import Path
from crmadmin.massupdate.calls import ClientPool, parallel_calls
from crmadmin.zoho.models import Connection

spec = json.loads(os.environ["WORKLOAD"])
connection = Connection.objects.get(pk=spec["connection"])
pool = ClientPool.sized(connection, len(spec["batches"]))
Path(spec["ready"]).touch()
while not Path(spec["go"]).exists():
    time.sleep(0.005)
started = time.time()
results = list(
    parallel_calls(
        connection,
        spec["batches"],
        lambda client, ids: client.mass_update("Leads", ids, {"Designation": spec["value"]}),
        pool=pool,
    )
)
Path(spec["out"]).write_text(json.dumps({
    "pool_size": pool.size,
    "started": started,
    "finished": time.time(),
    "errors": [repr(r.error) for r in results if r.error is not None],
    "statuses": [e.http_status for r in results for e in r.exchanges],
    "codes": sorted({o.code for r in results if r.value for o in r.value.outcomes}),
    "retries": pool.stats()["retries"],
}))
"""


@pytest.fixture
def limited_connection(connection):
    """The sandbox connection with a limit of LIMIT, its token fetched once up front."""
    connection.concurrency_limit = LIMIT
    connection.save(update_fields=["concurrency_limit"])
    ZohoClient(connection).ensure_token()
    faults.configure(concurrency=LIMIT, latency=LATENCY)
    faults.reset_counters()
    return connection


def run_workers(connection, tmp_path: Path, limiter_urls: list[str], **env: str) -> list[dict]:
    """Start the workers, let them go at once, and return what each one reports."""
    ids = writable("Leads", PROCESSES * CALLS_EACH)
    go = tmp_path / "go"
    workers = []
    for n, url in enumerate(limiter_urls):
        spec = {
            "connection": connection.pk,
            "batches": [[record_id] for record_id in ids[n * CALLS_EACH : (n + 1) * CALLS_EACH]],
            "value": f"worker {n}",
            "ready": str(tmp_path / f"ready-{n}"),
            "go": str(go),
            "out": str(tmp_path / f"out-{n}.json"),
        }
        log = (tmp_path / f"worker-{n}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", WORKLOAD],
            cwd=ROOT,
            env={
                **os.environ,
                "DATABASE_URL": _database_url_of_test_db(),
                "CRMADMIN_DATA_DIR": str(tmp_path / "data"),
                "CRMADMIN_LIMITER_URL": url,
                "WORKLOAD": json.dumps(spec),
                **env,
            },
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        workers.append((process, spec, log))
    try:
        deadline = time.monotonic() + 60
        while not all(Path(spec["ready"]).exists() for _, spec, _ in workers):
            for n, (process, _, _) in enumerate(workers):
                assert process.poll() is None, worker_log(tmp_path, n)
            assert time.monotonic() < deadline, "the workers did not start within 60 s"
            time.sleep(0.02)
        go.touch()
        for n, (process, _, _) in enumerate(workers):
            assert process.wait(timeout=120) == 0, worker_log(tmp_path, n)
    finally:
        for process, _, log in workers:
            if process.poll() is None:
                process.kill()
                process.wait()
            log.close()
    return [
        {**json.loads(Path(spec["out"]).read_text()), "ids": spec["batches"]}
        for _, spec, _ in workers
    ]


def worker_log(tmp_path: Path, n: int) -> str:
    return (tmp_path / f"worker-{n}.log").read_text()[-3000:]


def test_three_worker_processes_together_keep_to_the_connections_limit_without_a_429(
    limited_connection, limiter_url, tmp_path
):
    reports = run_workers(limited_connection, tmp_path, [limiter_url] * PROCESSES)

    # Each worker on its own would have LIMIT calls in flight: three times the limit in all.
    assert [r["pool_size"] for r in reports] == [LIMIT] * PROCESSES
    # The three workloads ran at the same time...
    assert max(r["started"] for r in reports) < min(r["finished"] for r in reports)
    # ...and the sandbox had the limit in flight, never more, and answered no 429.
    assert faults.peak_in_flight() == LIMIT
    assert faults.answered_429() == 0
    for report in reports:
        assert report["errors"] == []
        assert report["statuses"] == [200] * CALLS_EACH
        assert report["retries"] == {}
        assert report["codes"] == ["SUCCESS"]
    for n, report in enumerate(reports):
        for [record_id] in report["ids"]:
            assert Record.objects.get(pk=record_id).data["Designation"] == f"worker {n}"


def test_the_same_workers_with_a_limiter_each_are_refused_by_the_sandbox(
    limited_connection, tmp_path
):
    # The control: the sandbox really refuses calls beyond the limit when the workers
    # share nothing, so the test above would see it. One attempt each: no retries to wait.
    own_limiters = [(tmp_path / f"limits-{n}").as_uri() for n in range(PROCESSES)]

    reports = run_workers(
        limited_connection, tmp_path, own_limiters, CRMADMIN_HTTP_MAX_ATTEMPTS="1"
    )

    assert faults.peak_in_flight() > LIMIT
    assert faults.answered_429() > 0
    assert 429 in [status for r in reports for status in r["statuses"]]
