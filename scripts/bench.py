"""`make bench`: how long a 50,000-record mass update takes against what Zoho's API allows.

    make bench                                   # the defaults below, about 7 minutes
    make bench BENCH_ARGS="--records 10000 --latencies 0.5"
    make load                                    # only the load test (item 6)
    .venv/bin/python scripts/bench.py --help

Everything runs as in production, each part in its own process, on a throwaway SQLite
database (WAL) in a temporary folder, or on ``--database-url`` (an empty PostgreSQL
database), with ``DJANGO_DEBUG=false``:

* the CRM: the built-in sandbox served by gunicorn (one process, threads) from a SQLite
  database of its own, as Zoho's data lives apart from crmadmin's; it answers every API
  call after ``L`` seconds (``--latencies``, first value; default 1 s, about what a real
  500-record mass update takes) and with 429 above ``C`` calls at once (``--concurrency``,
  default 10, Zoho's limit for heavy calls);
* the job: a real Celery worker (prefork, two children, the file-system broker of
  ``make demo``), whose peak memory (VmHWM) is read from /proc;
* the pages: timed in this process through Django's test client (server time, no network);
  under load, a gunicorn serving the app as the Dockerfile does (3 workers × 4 threads).

For each latency it previews and runs one job on ``--records`` leads (50,000) and prints
the API-bound floors, ``ceil(N/100) / C × L`` for the preview and ``ceil(N/500) / C × L``
for the run's writes, the measured wall times and their ratios. The run also reads every
changed record back (100 ids a GET) after its writes: that read-back is printed beside the
writes with its own floor, ``ceil(records read back / 100) / C × L``, and the run's total
against both floors together and against the writes' floor alone. API calls and their
time in the sandbox are read from the sandbox's access log: "CRM s" is that time over C,
the floor were the CRM exactly as slow as the sandbox was, so wall ÷ CRM s is crmadmin's
own overhead. CPU seconds per process show who used the machine's cores (other processes
included: on a shared machine they slow everything). The same writes are then sent the
way a plain script would, one call at a time, for the speed-up. At the first latency it
times the results pages, the audit pages (when an ``audit`` app provides ``audit:job-list``
and ``audit:job-detail``) and the CSV export of the 50,000-record job.

The load test (``--load-users`` users, default 20, think time uniform 0-2 s) logs in over
HTTP and browses the finished job's results pages, a running job's page and its live
progress, and the audit pages, for ``--load-seconds`` (60) or until a new 50,000-record
job, running at the first latency, ends; it prints p50/p95 latency and errors (see
scripts/load.py).

Targets at the defaults (PASS/FAIL printed): ratio ≤ 1.25 for the preview and the run,
API calls = the minimum, worker peak memory < 300 MB, each page < 150 ms of server time
(p95), CSV export < 3 s. The second latency (0.2 s) shows crmadmin's own overhead; its
ratios are printed without a verdict. ``--keep`` keeps the folder with the databases and
every process's log.
"""

import argparse
import logging
import math
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scripts.load import LoadResult, browse, log_in_all  # noqa: E402 - needs the path above

FIELD = "Designation"
MODULE = "Leads"
GET_IDS = 100  # crmadmin.zoho.client.GET_IDS_PER_CALL, before Django is set up
MASS_UPDATE_IDS = 500
TARGET_RATIO = 1.25
TARGET_MEMORY_MB = 300
TARGET_PAGE_MS = 150
TARGET_CSV_SECONDS = 3.0
LOAD_PASSWORD = "bench-load-password-not-a-secret"
ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(L)s"


def main() -> None:
    args = parse_args()
    started = time.monotonic()
    with ExitStack() as stack:
        if args.keep:
            folder = tempfile.mkdtemp(prefix="crmadmin-bench-")
        else:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="crmadmin-bench-"))
        env = environment(Path(folder), args.database_url)
        os.environ.update(env)
        import django

        give_the_sandbox_its_own_database(Path(folder) / "sandbox.sqlite3")
        django.setup()
        # kombu notes that the file-system broker's URL names no host; it needs none.
        logging.getLogger("kombu.connection").setLevel(logging.ERROR)
        bench = Bench(args, Path(folder), stack)
        try:
            bench.run()
        finally:
            bench.log(f"done in {time.monotonic() - started:.0f} s; stopping the processes")
    if args.keep:
        print(f"Kept {folder} (database, logs, broker).")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=50_000, help="records in each job")
    parser.add_argument(
        "--latencies",
        default="1,0.2",
        help="seconds the sandbox adds to each call, one pass each; targets apply to the first",
    )
    parser.add_argument("--concurrency", type=int, default=10, help="the connection's limit C")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    parser.add_argument("--load-users", type=int, default=20)
    parser.add_argument("--load-seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=1.0, help="users' mean think time (s)")
    parser.add_argument("--no-load", action="store_true", help="skip the load test")
    parser.add_argument("--load-only", action="store_true", help="only the load test")
    parser.add_argument("--no-plain", action="store_true", help="skip the plain-script runs")
    parser.add_argument(
        "--database-url", help="an EMPTY PostgreSQL database to use instead of SQLite"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    try:
        args.latencies = [float(x) for x in args.latencies.split(",") if x.strip()]
    except ValueError:
        parser.error("--latencies takes numbers separated by commas, e.g. 1,0.2")
    if not args.latencies or min(args.latencies) < 0:
        parser.error("--latencies needs at least one latency, none negative")
    if not 1 <= args.records <= 50_000:
        parser.error("--records must be between 1 and 50,000 (a selection's limit)")
    if args.concurrency < 1 or args.requests < 2 or args.load_users < 1:
        parser.error("--concurrency and --load-users must be at least 1, --requests 2")
    if args.no_load and args.load_only:
        parser.error("--no-load and --load-only exclude each other")
    return args


def environment(folder: Path, database_url: str | None) -> dict[str, str]:
    """The settings of every process: forced, not defaulted, so that a DATABASE_URL, broker
    or limiter in the caller's environment never receives benchmark data."""
    return {
        "DJANGO_SETTINGS_MODULE": "crmadmin.settings",
        "CRMADMIN_ENV": "development",
        "CRMADMIN_DATA_DIR": str(folder),
        "DATABASE_URL": database_url or f"sqlite:///{folder / 'bench.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://",
        "CRMADMIN_LIMITER_URL": "file:",
        "CRMADMIN_SANDBOX": "true",
        # Pages are timed as production renders them: no debug machinery.
        "DJANGO_DEBUG": "false",
        "CRMADMIN_LOG_LEVEL": os.environ.get("CRMADMIN_LOG_LEVEL", "WARNING"),
    }


SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}


class SandboxRouter:
    """The sandbox's tables in the sandbox's database, in this process."""

    def db_for_read(self, model, **hints) -> str | None:
        return "sandbox" if model._meta.app_label == "sandbox" else None

    db_for_write = db_for_read


def give_the_sandbox_its_own_database(path: Path) -> None:
    """Keep the CRM's records apart from crmadmin's tables, as Zoho's are.

    Sharing one SQLite file would make the sandbox's writes and the job's bookkeeping
    queue for the same write lock, a cost no real deployment has. The sandbox's server
    is started on this file; here, before Django is set up, a router sends the sandbox's
    models to it (seeding, OAuth clients, the fault switchboard).
    """
    from django.conf import settings

    settings.DATABASES["sandbox"] = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "CONN_MAX_AGE": 0,
        "OPTIONS": SQLITE_OPTIONS,
    }
    settings.DATABASE_ROUTERS = [SandboxRouter()]


# --- Processes ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def process(command: list[str], log: Path, **env: str) -> Iterator[subprocess.Popen]:
    """A child process started here, stopped (by its own pid) when the block ends."""
    with log.open("w") as out:
        child = subprocess.Popen(
            command, cwd=REPO, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            yield child
        finally:
            child.terminate()
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def gunicorn(port: int, workers: int, threads: int, access_log: Path) -> list[str]:
    return [
        *(sys.executable, "-m", "gunicorn", "crmadmin.wsgi"),
        *("--bind", f"127.0.0.1:{port}", "--workers", str(workers)),
        *("--worker-class", "gthread", "--threads", str(threads)),
        *("--timeout", "300", "--keep-alive", "30"),
        *("--access-logfile", str(access_log), "--access-logformat", ACCESS_FORMAT),
    ]


def wait_for_http(url: str, child: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            sys.exit(f"{url} did not start; see {log}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own localhost server
                return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"{url} did not answer within {timeout:.0f} s; see {log}")


def wait_for_text(path: Path, pattern: str, child: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            sys.exit(f"the process stopped; see {path}:\n{path.read_text()[-2000:]}")
        if re.search(pattern, path.read_text()):
            return
        time.sleep(0.2)
    sys.exit(f"no {pattern!r} in {path} within {timeout:.0f} s")


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = [pid], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        tree += children
        frontier = children
    return tree


def cpu_seconds(pid: int, *, descendants: bool = True) -> float:
    """CPU time (user + system) used so far by ``pid`` and its descendants."""
    total = 0
    for member in process_tree(pid) if descendants else [pid]:
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time every process on the machine has used since boot, all cores together."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """Where the CPU went between ``start`` and ``stop``: our processes and everyone else."""

    def __init__(self, processes: dict[str, int]) -> None:
        self.processes = processes

    def snapshot(self) -> dict[str, float]:
        used = {name: cpu_seconds(pid) for name, pid in self.processes.items()}
        used["this script"] = cpu_seconds(os.getpid(), descendants=False)
        used["machine"] = machine_busy_seconds()
        return used

    def start(self) -> None:
        self.began = self.snapshot()
        self.clock = time.monotonic()

    def stop(self) -> str:
        now = self.snapshot()
        used = {name: now[name] - self.began[name] for name in now}
        elapsed = time.monotonic() - self.clock
        machine = used.pop("machine")
        used["other processes"] = max(0.0, machine - sum(used.values()))
        parts = ", ".join(f"{name} {seconds:.1f}" for name, seconds in used.items())
        return f"CPU s: {parts} (of {os.cpu_count()} cores × {elapsed:.1f} s)"


def memory_kb(pid: int) -> dict[str, int]:
    """VmHWM (peak resident set) and VmRSS of a process, in kB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in {"VmHWM", "VmRSS"}:
            values[name] = int(value.split()[0])
    return values


# --- What the sandbox served --------------------------------------------------------------


@dataclass(frozen=True)
class ApiCall:
    method: str
    path: str
    status: int
    seconds: float

    @property
    def kind(self) -> str:
        if self.method == "POST" and self.path.endswith("/actions/mass_update"):
            return "write"
        return "read" if self.method == "GET" else f"{self.method} other"


class AccessLog:
    """The sandbox's gunicorn access log: one line per HTTP request it answered."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def mark(self) -> int:
        time.sleep(0.3)  # gunicorn logs a request just after answering it
        return len(self.path.read_text().splitlines())

    def calls_since(self, mark: int) -> list[ApiCall]:
        time.sleep(0.3)
        calls = []
        for line in self.path.read_text().splitlines()[mark:]:
            method, path, status, seconds = line.split()
            if "/sandbox/crm/" in path:
                calls.append(ApiCall(method, path, int(status), float(seconds)))
        return calls


def describe_calls(calls: list[ApiCall]) -> str:
    statuses = Counter(c.status for c in calls)
    extra = ", ".join(f"HTTP {s} × {n}" for s, n in sorted(statuses.items()) if s >= 400)
    return f"{len(calls):,}" + (f" ({extra})" if extra else "")


# --- Results --------------------------------------------------------------------------------


@dataclass
class Phase:
    label: str
    seconds: float
    floor: float
    calls: list[ApiCall]
    minimum_calls: int
    target: bool = True  # whether the ratio target applies

    @property
    def ratio(self) -> float:
        return self.seconds / self.floor if self.floor else float("nan")


@dataclass
class Pass:
    latency: float
    job_id: int
    records: int
    outcome: str
    phases: list[Phase]
    plain_seconds: float | None = None
    plain_calls: list[ApiCall] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def phase(self, label: str) -> Phase:
        return next(p for p in self.phases if p.label.startswith(label))


def new_job(owner, connection, ids: list[str], value: str):
    """A drafted job of ``owner`` setting Designation to ``value`` on the Leads ``ids``."""
    from crmadmin.massupdate import metadata, operations
    from crmadmin.massupdate.fieldvalues import Change
    from crmadmin.massupdate.models import Job

    spec = next(s for s in metadata.fields_for(connection, MODULE) if s.api_name == FIELD)
    job = operations.create_draft(
        user=owner, connection=connection, module=MODULE, module_label=MODULE
    )
    operations.set_change(job=job, spec=spec, change=Change(field=FIELD, value=value), user=owner)
    operations.select_records(
        job=job, ids=ids, method=Job.Selection.PASTE, summary="bench", detail={}, user=owner
    )
    return job


def submit(job, owner, manager) -> None:
    """Submit as its owner and, when the approval policy holds it, approve as a manager."""
    from crmadmin.massupdate import operations
    from crmadmin.massupdate.models import Job

    if not operations.submit(job=job, user=owner, reason="bench", token=job.submit_token):
        sys.exit(f"job {job.pk} could not be submitted")
    job.refresh_from_db()
    if job.status == Job.Status.AWAITING_APPROVAL:
        operations.approve(job=job, user=manager, note="bench")


@dataclass
class PageTiming:
    label: str
    url: str
    samples: list[float] = field(default_factory=list)
    queries: int = 0
    status: int | None = 200
    note: str = ""

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.samples) * 1000

    @property
    def p95_ms(self) -> float:
        return statistics.quantiles(self.samples, n=20, method="inclusive")[-1] * 1000


@dataclass
class Verdict:
    target: str
    measured: str
    ok: bool


# --- The benchmark ---------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace, folder: Path, stack: ExitStack) -> None:
        self.args = args
        self.folder = folder
        self.stack = stack
        self.clock = time.monotonic()
        self.passes: list[Pass] = []
        self.pages: list[PageTiming] = []
        self.csv: PageTiming | None = None
        self.memory: list[tuple[int, dict[str, int]]] = []
        self.load: LoadResult | None = None
        self.load_lines: list[str] = []
        self.verdicts: list[Verdict] = []

    def log(self, message: str) -> None:
        print(f"[{time.monotonic() - self.clock:6.0f} s] {message}", file=sys.stderr, flush=True)

    def run(self) -> None:
        self.set_up()
        if not self.args.load_only:
            for n, latency in enumerate(self.args.latencies):
                self.passes.append(self.measure_pass(latency, f"bench {n + 1}"))
                if n == 0:
                    self.time_pages(self.passes[0].job_id)
        if not self.args.no_load:
            self.load_test()
        self.read_worker_memory()
        self.report()

    # --- Set-up ---------------------------------------------------------------------------

    def set_up(self) -> None:
        from django.contrib.auth.models import Group, User
        from django.core.management import call_command
        from django.db import connection as db

        from crmadmin.sandbox import faults
        from crmadmin.sandbox.models import Record
        from crmadmin.sandbox.seed import seed
        from tests.conftest import make_sandbox_connection

        if self.args.database_url and db.introspection.table_names():
            sys.exit("--database-url must name an empty database: the benchmark fills it")
        self.log(f"database: {db.vendor} ({db.settings_dict['NAME']})")
        sandbox_db = f"sqlite:///{self.folder / 'sandbox.sqlite3'}"
        migrate = [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"]
        subprocess.run(
            migrate, cwd=REPO, env={**os.environ, "DATABASE_URL": sandbox_db}, check=True
        )
        call_command("migrate", interactive=False, verbosity=0)

        # Every process starts now, on the code as it is now.
        self.sandbox_log = AccessLog(self.folder / "sandbox-access.log")
        port = free_port()
        self.sandbox_threads = self.args.concurrency + 10
        command = gunicorn(port, 1, self.sandbox_threads, self.sandbox_log.path)
        server_log = self.folder / "sandbox-server.log"
        self.sandbox = self.stack.enter_context(
            process(command, server_log, DATABASE_URL=sandbox_db)
        )
        self.web_url, web, web_log = "", None, self.folder / "web-server.log"
        if not self.args.no_load:
            web_port = free_port()
            self.web_url = f"http://127.0.0.1:{web_port}"
            command = gunicorn(web_port, 3, 4, self.folder / "web-access.log")
            web = self.stack.enter_context(process(command, web_log))
        worker_log = self.folder / "worker.log"
        worker_command = [
            *(sys.executable, "-m", "celery", "-A", "crmadmin", "worker"),
            *("--loglevel=INFO", "--concurrency=2", "--hostname=bench@%h"),
            *("--without-mingle", "--without-gossip"),
        ]
        self.worker = self.stack.enter_context(process(worker_command, worker_log))

        self.log(f"seeding {self.args.records + 100:,} leads")
        seed(leads=self.args.records + 100)
        self.sandbox_url = f"http://127.0.0.1:{port}"
        wait_for_http(self.sandbox_url + "/login/", self.sandbox, server_log)
        if web is not None:
            wait_for_http(self.web_url + "/login/", web, web_log)
        wait_for_text(worker_log, r"\bready\b", self.worker)

        self.owner = User.objects.create_user("bench-operator")
        self.owner.groups.add(Group.objects.get(name="Operator"))
        self.manager = User.objects.create_user("bench-manager")
        self.manager.groups.add(Group.objects.get(name="Manager"))
        self.connection = make_sandbox_connection(
            self.sandbox_url, concurrency_limit=self.args.concurrency
        )
        # Zoho's way: every call above C at once is refused with a 429.
        faults.configure(concurrency=self.args.concurrency)
        # The first leads in id order, whatever their state: as in real life, a few are
        # locked, awaiting approval or converted, and fail.
        self.ids = list(
            Record.objects.filter(module=MODULE)
            .order_by("id")
            .values_list("id", flat=True)[: self.args.records]
        )
        self.log(
            f"sandbox at {self.sandbox_url} (gunicorn 1 process × {self.sandbox_threads} "
            f"threads), worker pid {self.worker.pid}"
        )

    # --- One job at one latency -----------------------------------------------------------

    def new_job(self, value: str):
        return new_job(self.owner, self.connection, self.ids, value)

    def preview(self, job, timeout: float) -> None:
        from crmadmin.massupdate import operations
        from crmadmin.massupdate.models import Job

        operations.start_preview(job=job, user=self.owner)
        self.wait(job, lambda j: j.status != Job.Status.PREVIEWING, timeout)
        if job.status != Job.Status.PREVIEWED:
            sys.exit(f"the preview of job {job.pk} failed: {job.error_message}")

    def submit(self, job) -> None:
        submit(job, self.owner, self.manager)

    def wait(self, job, done: Callable, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            job.refresh_from_db()
            if done(job):
                return
            if time.monotonic() > deadline:
                sys.exit(f"job {job.pk} still {job.status} after {timeout:.0f} s")
            time.sleep(0.1)

    def measure_pass(self, latency: float, name: str) -> Pass:
        from django.db.models import Max

        from crmadmin.massupdate.models import Batch, JobEvent, JobRecord
        from crmadmin.sandbox import faults

        c, n = self.args.concurrency, self.args.records
        faults.configure(latency=latency)
        job = self.new_job(f"Met at Expo 2026 ({name}, L={latency:g} s)")
        preview_floor = math.ceil(n / GET_IDS) / c * latency
        self.log(f"L={latency:g} s: previewing job {job.pk} (floor {preview_floor:.1f} s)")
        mark = self.sandbox_log.mark()
        cpu = CpuMeter({"worker": self.worker.pid, "sandbox": self.sandbox.pid})
        cpu.start()
        self.preview(job, timeout=120 + 10 * preview_floor)
        preview_cpu = cpu.stop()
        events = {e.kind: e.at for e in job.events.all()}
        previewing = events[JobEvent.Kind.PREVIEWED] - events[JobEvent.Kind.PREVIEW_STARTED]
        preview = Phase(
            f"preview: {math.ceil(n / GET_IDS):,} reads of {GET_IDS} ids",
            previewing.total_seconds(),
            preview_floor,
            self.sandbox_log.calls_since(mark),
            math.ceil(n / GET_IDS),
        )

        to_send = job.to_send
        writes_minimum = math.ceil(to_send / MASS_UPDATE_IDS) * len(job.changes)
        writes_floor = math.ceil(n / MASS_UPDATE_IDS) / c * latency
        self.log(f"L={latency:g} s: running job {job.pk} (writes' floor {writes_floor:.1f} s)")
        mark = self.sandbox_log.mark()
        cpu.start()
        self.submit(job)
        self.wait(job, lambda j: j.is_final, timeout=300 + 20 * writes_floor + 10 * preview_floor)
        run_cpu = cpu.stop()
        calls = self.sandbox_log.calls_since(mark)
        events = {e.kind: e.at for e in job.events.all()}
        queued = events.get(JobEvent.Kind.APPROVED) or events[JobEvent.Kind.SUBMITTED]
        last_write = Batch.objects.filter(job=job).aggregate(last=Max("finished_at"))["last"]
        verified = events[JobEvent.Kind.VERIFIED]
        read_back = JobRecord.objects.filter(job=job, verified__isnull=False).count()
        read_back_minimum = math.ceil(read_back / GET_IDS)
        read_back_floor = read_back_minimum / c * latency
        writes = [call for call in calls if call.kind == "write"]
        reads = [call for call in calls if call.kind != "write"]
        total = (job.finished_at - queued).total_seconds()
        phases = [
            preview,
            Phase(
                f"run: writes, {writes_minimum:,} mass updates",
                (last_write - queued).total_seconds(),
                writes_floor,
                writes,
                writes_minimum,
            ),
            Phase(
                f"run: read-back, {read_back_minimum:,} reads",
                (verified - last_write).total_seconds(),
                read_back_floor,
                reads,
                read_back_minimum,
                target=False,
            ),
            Phase(
                "run: total (writes + read-back)",
                total,
                writes_floor + read_back_floor,
                calls,
                writes_minimum + read_back_minimum,
            ),
            Phase(
                "run: total against the writes' floor",
                total,
                writes_floor,
                [],
                0,
                target=False,
            ),
        ]
        outcome = ", ".join(f"{code} {k:,}" for code, k in sorted(job.outcome_counts.items()))
        result = Pass(latency, job.pk, n, f"{job.get_status_display()}: {outcome}", phases)
        result.notes.append(
            f"queued → started {(job.started_at - queued).total_seconds():.2f} s (broker pickup); "
            f"read-back → finished {(job.finished_at - verified).total_seconds():.2f} s; "
            f"retries {job.client_stats.get('retries') or 'none'}"
        )
        for label, served in [("preview", preview.calls), ("writes", writes), ("reads", reads)]:
            if served:
                seconds = [call.seconds for call in served]
                result.notes.append(
                    f"sandbox time per call, {label} (L + its own work): "
                    f"median {statistics.median(seconds):.3f} s, max {max(seconds):.3f} s"
                )
        result.notes.append(f"preview {preview_cpu}")
        result.notes.append(f"run {run_cpu}")
        if not self.args.no_plain:
            self.plain_script(result, latency, name)
        return result

    def plain_script(self, result: Pass, latency: float, name: str) -> None:
        """The same writes the way a plain script sends them: one call after the other."""
        from crmadmin.zoho.client import ZohoClient
        from crmadmin.zoho.models import Connection

        client = ZohoClient(Connection.objects.get(pk=self.connection.pk))
        client.ensure_token()
        self.log(f"L={latency:g} s: a plain script sends the same writes one at a time")
        mark = self.sandbox_log.mark()
        clock = time.perf_counter()
        for start in range(0, len(self.ids), MASS_UPDATE_IDS):
            batch = self.ids[start : start + MASS_UPDATE_IDS]
            client.mass_update(MODULE, batch, {FIELD: f"Plain script ({name}, L={latency:g} s)"})
        result.plain_seconds = time.perf_counter() - clock
        result.plain_calls = self.sandbox_log.calls_since(mark)

    # --- Pages ------------------------------------------------------------------------------

    def time_pages(self, job_id: int) -> None:
        from django.db import connection as db
        from django.test import Client
        from django.test.utils import CaptureQueriesContext
        from django.urls import NoReverseMatch, reverse

        from crmadmin.massupdate.models import Job

        job = Job.objects.get(pk=job_id)
        self.log(f"timing the pages of job {job.pk} ({job.record_count:,} records)")
        owner, manager = Client(), Client()
        owner.force_login(self.owner)
        manager.force_login(self.manager)
        detail = reverse("massupdate:job-detail", args=[job.pk])
        last_page = math.ceil(job.record_count / 100)
        failures = sorted(
            ((k, code) for code, k in job.outcome_counts.items() if code != "SUCCESS"),
            reverse=True,
        )
        pages = [
            (owner, "results, page 1", detail),
            (owner, f"results, page {last_page // 2}", f"{detail}?page={last_page // 2}"),
            (owner, f"results, page {last_page} (last)", f"{detail}?page={last_page}"),
            (owner, "results, code=SUCCESS, page 3", f"{detail}?code=SUCCESS&page=3"),
            (owner, "results, one record (q=id)", f"{detail}?q={self.ids[len(self.ids) // 2]}"),
        ]
        if failures:
            k, code = failures[0]
            pages.append((owner, f"results, code={code} ({k:,})", f"{detail}?code={code}"))
        pages.append((manager, "job list (manager)", reverse("massupdate:job-list")))
        for label, name, args in [
            ("audit list", "audit:job-list", []),
            ("audit: the job's page", "audit:job-detail", [job.pk]),
        ]:
            try:
                pages.append((manager, label, reverse(name, args=args)))
            except NoReverseMatch:
                pages.append((None, label, name))

        for client, label, url in pages:
            if client is None:
                self.pages.append(PageTiming(label, "", status=None, note=f"no URL {url}"))
                continue
            timing = PageTiming(label, url)
            client.get(url).content  # noqa: B018 - warm-up: connection, templates, caches
            for _ in range(self.args.requests):
                with CaptureQueriesContext(db) as captured:
                    clock = time.perf_counter()
                    response = client.get(url)
                    response.content  # noqa: B018
                    timing.samples.append(time.perf_counter() - clock)
                timing.status = response.status_code
                timing.queries = max(timing.queries, len(captured.captured_queries))
            self.pages.append(timing)

        export = reverse("massupdate:job-export", args=[job.pk])
        self.csv = PageTiming(f"CSV export, all {job.record_count:,} rows", export)
        size = 0
        for _ in range(3):
            clock = time.perf_counter()
            response = owner.get(export)
            size = sum(len(chunk) for chunk in response.streaming_content)
            self.csv.samples.append(time.perf_counter() - clock)
            self.csv.status = response.status_code
        self.csv.note = f"{size / 1e6:.1f} MB"

    # --- Load -------------------------------------------------------------------------------

    def load_test(self) -> None:
        from django.contrib.auth.models import Group, User
        from django.urls import NoReverseMatch, reverse

        from crmadmin.massupdate.models import Job
        from crmadmin.sandbox import faults

        users = self.args.load_users
        latency = self.args.latencies[0]
        # The load's job is previewed without latency (its preview is not what is measured),
        # then runs at the first latency while the users browse.
        faults.configure(latency=0)
        job = self.new_job("Met at Expo 2026 (under load)")
        self.log(f"load: previewing job {job.pk} without latency")
        self.preview(job, timeout=600)
        faults.configure(latency=latency)

        base = self.web_url
        group = Group.objects.get(name="Manager")
        hashed = User(password="")
        hashed.set_password(LOAD_PASSWORD)  # one hash for all: it is slow on purpose
        logins = []
        for n in range(1, users + 1):
            user = User.objects.create(username=f"viewer{n:02}", password=hashed.password)
            user.groups.add(group)
            logins.append((user.username, LOAD_PASSWORD))

        browsed = [job.pk] + [p.job_id for p in self.passes[:1]]
        pages = []
        for pk in browsed:
            detail = reverse("massupdate:job-detail", args=[pk])
            last = math.ceil(self.args.records / 100)
            pages += [
                ("results, page 1", detail),
                *[("results, page n", f"{detail}?page={k}") for k in range(2, last, 37)],
                ("results, code=SUCCESS", f"{detail}?code=SUCCESS&page=2"),
                ("results, one record (q=id)", f"{detail}?q={self.ids[-1]}"),
            ]
            audit = [
                ("audit list", "audit:job-list", []),
                ("audit: job page", "audit:job-detail", [pk]),
            ]
            for label, name, args in audit:
                with suppress(NoReverseMatch):
                    pages.append((label, reverse(name, args=args)))
        running = reverse("massupdate:job-detail", args=[job.pk])
        pages += [("running job: progress (htmx)", f"{running}#job-progress")] * 4
        pages.append(("job list", reverse("massupdate:job-list")))

        self.log(f"load: {users} users log in at {base}")
        sessions = log_in_all(base, logins)
        finished = threading.Event()
        outcome: dict = {}

        def load() -> None:
            outcome["result"] = browse(
                base,
                sessions,
                pages,
                seconds=self.args.load_seconds,
                think=self.args.think,
                stop=finished.is_set,
            )

        self.log(
            f"load: job {job.pk} runs at L={latency:g} s while {users} users browse "
            f"(≤ {self.args.load_seconds:.0f} s)"
        )
        self.submit(job)
        thread = threading.Thread(target=load)
        thread.start()
        writes_floor = math.ceil(self.args.records / MASS_UPDATE_IDS) / self.args.concurrency
        self.wait(job, lambda j: j.is_final, timeout=600 + 60 * writes_floor * latency)
        finished.set()
        thread.join()
        self.load = outcome["result"]
        duration = (job.finished_at - job.started_at).total_seconds()
        self.load_lines = [
            f"Job {job.pk} ({job.record_count:,} records) ran at L={latency:g} s under the load "
            f"in {duration:.1f} s ({Job.Status(job.status).label}).",
            *self.load.report(),
        ]

    # --- Memory -------------------------------------------------------------------------------

    def read_worker_memory(self) -> None:
        for pid in process_tree(self.worker.pid):
            try:
                self.memory.append((pid, memory_kb(pid)))
            except OSError:
                continue

    # --- Report -------------------------------------------------------------------------------

    def report(self) -> None:
        from django.db import connection as db

        args = self.args
        out = print
        out()
        out(
            f"crmadmin benchmark: mass update of {args.records:,} {MODULE} ({FIELD}); "
            f"C = {args.concurrency}; {db.vendor}"
            + (" (WAL, temporary folder)" if db.vendor == "sqlite" else "")
        )
        out(
            f"Processes: sandbox gunicorn 1 × {self.sandbox_threads} threads (429 above C); "
            "worker celery prefork × 2, file-system broker; pages timed in-process (server time)"
        )
        for n, result in enumerate(self.passes):
            main = n == 0
            out()
            out(
                f"== L = {result.latency:g} s per call"
                + (" (the targets apply)" if main else " (ratios only)")
                + f" == job {result.job_id}: {result.outcome}"
            )
            header = (
                f"  {'phase':<38} {'wall s':>7} {'floor s':>7} {'ratio':>5}      "
                f"{'CRM s':>6} {'ratio':>5}  {'API calls':<20} {'minimum':>7}"
            )
            out(header)
            out("  " + "-" * (len(header) - 2))
            for phase in result.phases:
                verdict = ""
                if main and phase.target:
                    ok = phase.ratio <= TARGET_RATIO
                    verdict = "PASS" if ok else "FAIL"
                    self.verdicts.append(
                        Verdict(f"{phase.label}: ratio ≤ {TARGET_RATIO}", f"{phase.ratio:.2f}", ok)
                    )
                crm = ""
                if phase.calls:
                    served = sum(call.seconds for call in phase.calls) / args.concurrency
                    crm = f"{served:>6.1f} {phase.seconds / served:>5.2f}"
                calls = describe_calls(phase.calls) if phase.calls else ""
                minimum = f"{phase.minimum_calls:,}" if phase.minimum_calls else ""
                out(
                    f"  {phase.label:<38} {phase.seconds:>7.1f} {phase.floor:>7.1f} "
                    f"{phase.ratio:>5.2f} {verdict:<4} {crm:<12}  {calls:<20} {minimum:>7}"
                )
            if main:
                for phase in (result.phases[0], result.phase("run: total (")):
                    ok = len(phase.calls) == phase.minimum_calls
                    self.verdicts.append(
                        Verdict(
                            f"{phase.label.split(':')[0]}: API calls = the minimum",
                            f"{len(phase.calls):,} of {phase.minimum_calls:,}",
                            ok,
                        )
                    )
            for note in result.notes:
                out(f"  {note}")
            if result.plain_seconds is not None:
                writes = result.phase("run: writes")
                total = result.phase("run: total (")
                out(
                    f"  plain script, one call at a time: {result.plain_seconds:.1f} s for "
                    f"{describe_calls(result.plain_calls)} calls → crmadmin's writes "
                    f"{result.plain_seconds / writes.seconds:.1f}× faster; its whole run with "
                    f"the read-back {result.plain_seconds / total.seconds:.1f}× faster"
                )

        if self.passes:
            out()
            out(
                "  floor: API-bound, calls / C × L. CRM s: the calls' time in the sandbox (L plus"
                " its own work, from its access log) / C,\n  the floor were the CRM that slow;"
                " wall ÷ CRM s is crmadmin's own overhead."
            )
        if self.pages or self.csv:
            out()
            out(f"== Pages of the {args.records:,}-record job (server time, in-process) ==")
            header = f"  {'page':<38} {'p50 ms':>8} {'p95 ms':>8} {'SQL':>4} {'n':>4}"
            out(header)
            out("  " + "-" * (len(header) - 2))
            for page in self.pages:
                if page.status is None:
                    out(f"  {page.label:<38} not available ({page.note})")
                    continue
                ok = page.status == 200 and page.p95_ms < TARGET_PAGE_MS
                status = "" if page.status == 200 else f"HTTP {page.status}"
                out(
                    f"  {page.label:<38} {page.p50_ms:>8.1f} {page.p95_ms:>8.1f} "
                    f"{page.queries:>4} {len(page.samples):>4}  {'PASS' if ok else 'FAIL'} "
                    f"{status}"
                )
                self.verdicts.append(
                    Verdict(
                        f"page '{page.label}' < {TARGET_PAGE_MS} ms (p95)",
                        f"{page.p95_ms:.0f} ms",
                        ok,
                    )
                )
            if self.csv:
                best = min(self.csv.samples)
                ok = self.csv.status == 200 and max(self.csv.samples) < TARGET_CSV_SECONDS
                out(
                    f"  {self.csv.label}: streamed in {best:.2f}–{max(self.csv.samples):.2f} s "
                    f"({self.csv.note}, {len(self.csv.samples)} runs)  {'PASS' if ok else 'FAIL'}"
                )
                self.verdicts.append(
                    Verdict(
                        f"CSV export < {TARGET_CSV_SECONDS:g} s",
                        f"{max(self.csv.samples):.2f} s",
                        ok,
                    )
                )

        if self.memory:
            out()
            out("== Worker memory (peak resident set, VmHWM) ==")
            for pid, kb in self.memory:
                role = "main" if pid == self.worker.pid else "child"
                out(
                    f"  pid {pid} ({role}): peak {kb.get('VmHWM', 0) / 1024:.0f} MB, "
                    f"now {kb.get('VmRSS', 0) / 1024:.0f} MB"
                )
            peak = max(kb.get("VmHWM", 0) for _, kb in self.memory) / 1024
            self.verdicts.append(
                Verdict(
                    f"worker memory < {TARGET_MEMORY_MB} MB (largest process)",
                    f"{peak:.0f} MB",
                    peak < TARGET_MEMORY_MB,
                )
            )

        if self.load is not None:
            out()
            out("== Load: users browsing over HTTP (gunicorn 3 × 4 threads) while a job runs ==")
            for line in self.load_lines:
                out(f"  {line}")
            latencies = self.load.all_latencies()
            p95 = f", p95 {self.load.percentile(95) * 1000:.0f} ms" if latencies else ""
            self.verdicts.append(
                Verdict(
                    f"load: {self.load.users} users browsing, no errors",
                    f"{self.load.error_count} errors in {self.load.requests:,} requests{p95}",
                    self.load.error_count == 0 and bool(latencies),
                )
            )

        out()
        out("== Targets ==")
        for verdict in self.verdicts:
            out(f"  {'PASS' if verdict.ok else 'FAIL'}  {verdict.target}: {verdict.measured}")


if __name__ == "__main__":
    main()
