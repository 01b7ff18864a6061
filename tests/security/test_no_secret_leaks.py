"""No token, secret or code reaches what people and backups read (issue 6, item 3).

One story, end to end over real HTTP against the sandbox: a manager connects the sandbox
with a self-client code from its API console page; an operator runs a 39-record job in
this process (four batches, one failing record of each kind, a 500 retried, two token
refreshes in the middle of the job) and then its retry in a real Celery worker process
(one more refresh there). Every secret that existed is then collected — the client secret,
the code, the refresh token and every access token the sandbox issued (read off the wire
of the token endpoint and checked against the sandbox's own tables, which keep only their
hashes), Django's SECRET_KEY and the encryption keys — and looked for, whole or in part,
in:

* the database: every table of crmadmin as stored (all but the sandbox's own, which
  holds what it issued), the sessions decoded, and ``dumpdata``;
* the logs: every record of this process at DEBUG (caplog, before any filter), what the
  configured handlers write (the root's and ``django.server``'s, request lines of the
  server included), and the worker process's own output;
* the pages an operator, a manager and an admin read, and every export.
"""

import io
import json
import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.management import call_command
from django.core.servers.basehttp import WSGIRequestHandler
from django.db import connection as db
from django.test import Client
from django.test.testcases import LiveServerThread
from django.urls import reverse

from crmadmin.celery import app as celery_app
from crmadmin.massupdate.models import Batch, Job, JobEvent
from crmadmin.sandbox import faults
from crmadmin.sandbox import oauth as sandbox_oauth
from crmadmin.sandbox.models import (
    AccessToken,
    GrantCode,
    OAuthClient,
    Record,
    RefreshToken,
    SandboxUser,
    hash_secret,
)
from crmadmin.sandbox.seed import LOCKED_LEAD, MISSING_IDS, NOT_APPROVED_LEAD, seed
from crmadmin.zoho import crypto
from crmadmin.zoho.datacentres import CUSTOM
from crmadmin.zoho.models import Connection
from crmadmin.zoho.redaction import REDACTED, RedactSecretsFilter
from tests.conftest import signed_in_browser
from tests.massupdate.conftest import (
    confirm_fields,
    post_change,
    post_selection,
    start_job,
    writable,
)

# An Authorization value that is not "[REDACTED]", whatever the scheme.
UNREDACTED_CREDENTIAL = re.compile(
    r"(?i)\b(?:Zoho-oauthtoken|Bearer)\s+(?!\[REDACTED\])[A-Za-z0-9._~+/=-]+"
)
# A secret shown in part (cut short, or only its end) is a leak too.
FRAGMENT = 16
NEW_TITLE = "Checked for leaks"
WORKER_DEADLINE_SECONDS = 120


def leaks(text: str, secrets: dict[str, str], *, fragments: set[str] = frozenset()) -> list[str]:
    """Which ``secrets`` (name → value) ``text`` shows, and any unredacted credential.

    The secrets named in ``fragments`` also count when only their first or last 16
    characters appear.
    """
    found = []
    for name, value in secrets.items():
        pieces = [value]
        if name in fragments and len(value) >= 2 * FRAGMENT:
            pieces += [value[:FRAGMENT], value[-FRAGMENT:]]
        if any(piece in text for piece in pieces):
            found.append(name)
    found += [f"credential {m.group(0)[:30]}" for m in UNREDACTED_CREDENTIAL.finditer(text)]
    return found


def test_the_scan_finds_a_planted_secret_whole_or_in_part_and_any_unredacted_header():
    token = sandbox_oauth.new_token()
    secrets = {"access token": token, "secret key": "k" * 50}

    assert leaks(f"detail: {token}.", secrets) == ["access token"]
    assert leaks(f"shown as {token[:20]}…", secrets, fragments={"access token"}) == ["access token"]
    assert leaks(f"ends …{token[-16:]}", secrets, fragments={"access token"}) == ["access token"]
    assert leaks(f"shown as {token[:20]}…", secrets) == []
    assert leaks("Authorization: Zoho-oauthtoken 1000.abc", {}) == [
        "credential Zoho-oauthtoken 1000.abc"
    ]
    assert leaks("authorization: bearer xyz", {}) == ["credential bearer xyz"]
    assert leaks(f"Authorization: Zoho-oauthtoken {REDACTED}", secrets) == []


# --- A live server that logs its request lines and keeps the tokens it grants ------------


class TokenRecorder:
    """WSGI middleware that keeps every answer of the token endpoint, as sent on the wire."""

    def __init__(self, app) -> None:
        self.app = app
        self.answers: list[dict] = []

    def __call__(self, environ, start_response):
        response = self.app(environ, start_response)
        if not environ.get("PATH_INFO", "").endswith("/oauth/v2/token"):
            return response
        try:
            body = b"".join(response)
        finally:
            response.close()
        self.answers.append(json.loads(body))
        return [body]

    def granted(self, key: str) -> list[str]:
        return [answer[key] for answer in self.answers if answer.get(key)]


class LoggingLiveServerThread(LiveServerThread):
    """``live_server``'s thread, but logging each request line to ``django.server`` as
    ``runserver`` does (``live_server`` uses a handler that logs nothing)."""

    def _create_server(self, connections_override=None):
        return self.server_class(
            (self.host, self.port),
            WSGIRequestHandler,
            allow_reuse_address=False,
            connections_override=connections_override,
        )


@pytest.fixture
def configured_log_output() -> Iterator[dict[str, io.StringIO]]:
    """What the handlers of ``settings.LOGGING`` write (redaction filter and formatter
    included), into buffers instead of stderr: the root's and ``django.server``'s."""
    outputs = {}
    for name in ("root", "django.server"):
        logger = logging.getLogger() if name == "root" else logging.getLogger(name)
        configured = [
            h for h in logger.handlers if any(isinstance(f, RedactSecretsFilter) for f in h.filters)
        ]
        assert len(configured) == 1, f"the {name} logger's configured handler is missing"
        outputs[name] = (configured[0], io.StringIO())
    previous = {name: handler.setStream(buffer) for name, (handler, buffer) in outputs.items()}
    yield {name: buffer for name, (_, buffer) in outputs.items()}
    for name, (handler, _) in outputs.items():
        handler.setStream(previous[name])


@pytest.fixture
def sandbox_server(transactional_db, configured_log_output):
    recorder = None

    def handler(app):
        nonlocal recorder
        recorder = TokenRecorder(StaticFilesHandler(app))
        return recorder

    thread = LoggingLiveServerThread("localhost", static_handler=handler)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    thread.url = f"http://localhost:{thread.port}"
    thread.recorder = recorder
    yield thread
    thread.terminate()


@contextmanager
def tasks_run_here() -> Iterator[None]:
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous


# --- The story ----------------------------------------------------------------------------


class FirstForm(HTMLParser):
    """The CSRF token of a page's form, as a browser would send it back."""

    def __init__(self) -> None:
        super().__init__()
        self.csrf = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "input" and attr.get("name") == "csrfmiddlewaretoken" and not self.csrf:
            self.csrf = attr.get("value") or ""


def self_client_code(server_url: str, manager: User) -> dict[str, str]:
    """A Self Client and a code from the sandbox's API console page, read as a person would
    (signed in as a manager: the console shows client secrets to no one else)."""
    browser = signed_in_browser(Client(), manager)
    url = f"{server_url}/sandbox/oauth/v2/self-client"
    form = FirstForm()
    form.feed(browser.get(url, timeout=10).text)
    page = browser.post(
        url,
        data={
            "csrfmiddlewaretoken": form.csrf,
            "client": "",
            "scopes": ",".join(sandbox_oauth.ALL_SCOPES),
            "user": SandboxUser.default().id,
            "duration": "180",
        },
        timeout=10,
    )
    assert page.status_code == 200, page.text[:2000]
    return {
        key: re.search(rf'id="{key}">([^<]+)<', page.text).group(1)
        for key in ("client-id", "client-secret", "grant-code")
    }


def connect(manager_client: Client, server_url: str, console: dict[str, str]) -> Connection:
    """The manager adds the connection and exchanges the self-client code, through the pages."""
    response = manager_client.post(
        reverse("zoho:connection-create"),
        {
            "name": "Sandbox",
            "data_centre": CUSTOM,
            "accounts_url": f"{server_url}/sandbox",
            "api_domain": f"{server_url}/sandbox",
            "client_id": console["client-id"],
            "client_secret": console["client-secret"],
            # One call at a time: the queued faults meet the calls in a known order.
            "concurrency_limit": "1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    connection = Connection.objects.get(name="Sandbox")
    response = manager_client.post(
        reverse("zoho:connection-self-client", args=[connection.pk]),
        {"code": console["grant-code"]},
    )
    assert response.status_code == 302
    manager_client.post(reverse("zoho:connection-test", args=[connection.pk]))
    connection.refresh_from_db()
    assert connection.is_connected and connection.last_check_ok, connection.last_check_message
    return connection


def wait_until_final(job: Job, worker) -> Job:
    deadline = time.monotonic() + WORKER_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_final or job.status == Job.Status.PREVIEWED:
            return job
        assert worker.poll() is None, "the worker died:\n" + worker.log_path.read_text()
        time.sleep(0.2)
    raise AssertionError(f"job {job.pk} still {job.status}:\n" + worker.log_path.read_text())


def wait_for_log(worker, line: re.Pattern) -> str:
    """The worker's output once a line matches (it may follow the job row's last update)."""
    deadline = time.monotonic() + WORKER_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        log = worker.log_path.read_text()
        if line.search(log):
            return log
        time.sleep(0.2)
    raise AssertionError(f"the worker never logged {line.pattern}:\n" + worker.log_path.read_text())


def submit(client: Client, job: Job) -> None:
    url = reverse("massupdate:job-confirm", args=[job.pk])
    response = client.post(url, {"reason": "Leak check", **confirm_fields(client, job)})
    assert response.status_code == 302


def body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def client_of(user: User) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


# --- Where secrets could end up -----------------------------------------------------------


def stored_tables() -> dict[str, str]:
    """Every row of every crmadmin table as the database holds it (the sandbox's excepted:
    it is the CRM, and keeps the secrets it issued)."""
    tables = {}
    with db.cursor() as cursor:
        names = [n for n in db.introspection.table_names(cursor) if not n.startswith("sandbox_")]
        for name in names:
            cursor.execute(f"SELECT * FROM {db.ops.quote_name(name)}")  # noqa: S608 - our table names
            tables[name] = repr(cursor.fetchall())
    return tables


def dumped(*args: str, **options) -> str:
    output = io.StringIO()
    call_command("dumpdata", *args, stdout=output, **options)
    return output.getvalue()


def pages(
    operator: Client, manager: Client, admin: Client, jobs: list[Job], connection: Connection
) -> dict[str, str]:
    """Every page and export that shows the jobs, their exchanges or the connection."""
    wanted: list[tuple[str, Client, str, dict]] = []
    for job in jobs:
        pk = job.pk
        detail = reverse("massupdate:job-detail", args=[pk])
        audit = reverse("audit:job-detail", args=[pk])
        wanted += [
            (f"job {pk} page", operator, detail, {}),
            *[(f"job {pk} results {c}", operator, detail, {"code": c}) for c in job.outcome_counts],
            (f"job {pk} preview", operator, reverse("massupdate:job-preview", args=[pk]), {}),
            (f"job {pk} audit page", operator, audit, {}),
            (f"job {pk} results CSV", operator, reverse("massupdate:job-export", args=[pk]), {}),
            (
                f"job {pk} failures CSV",
                operator,
                reverse("massupdate:job-export", args=[pk]),
                {"failures": "on"},
            ),
            (f"job {pk} audit JSON", operator, reverse("audit:job-export-json", args=[pk]), {}),
            (f"admin job {pk}", admin, reverse("admin:massupdate_job_change", args=[pk]), {}),
            (
                f"admin events of job {pk}",
                admin,
                reverse("admin:massupdate_jobevent_changelist"),
                {"q": pk},
            ),
        ]
        sent = job.events.filter(kind=JobEvent.Kind.BATCH_SENT).count()
        assert sent
        exchanges = reverse("audit:job-exchanges", args=[pk])
        wanted += [
            (f"job {pk} exchanges page {n}", operator, exchanges, {"page": n})
            for n in range(1, sent + 1)
        ]
        wanted += [
            (f"admin event {e}", admin, reverse("admin:massupdate_jobevent_change", args=[e]), {})
            for e in job.events.values_list("pk", flat=True)
        ]
    for who, browser in (("operator", operator), ("manager", manager)):
        export = reverse("audit:job-list-export")
        wanted += [
            (f"{who}: jobs", browser, reverse("massupdate:job-list"), {}),
            (f"{who}: audit list", browser, reverse("audit:job-list"), {}),
            (f"{who}: audit list CSV", browser, export, {"format": "csv"}),
            (f"{who}: audit list JSON", browser, export, {"format": "json"}),
        ]
    search = reverse("audit:record-search")
    wanted += [
        (f"record search {rid}", operator, search, {"record_id": rid})
        for rid in (LOCKED_LEAD, NOT_APPROVED_LEAD, MISSING_IDS[0])
    ]
    wanted += [
        ("overview", manager, reverse("audit:overview"), {}),
        ("connections", manager, reverse("zoho:connection-list"), {}),
        ("connection", manager, reverse("zoho:connection-detail", args=[connection.pk]), {}),
        ("admin jobs", admin, reverse("admin:massupdate_job_changelist"), {}),
        ("admin connections", admin, reverse("admin:zoho_connection_changelist"), {}),
        (
            "admin connection",
            admin,
            reverse("admin:zoho_connection_change", args=[connection.pk]),
            {},
        ),
    ]
    read = {}
    for label, browser, url, params in wanted:
        response = browser.get(url, params)
        assert response.status_code == 200, (label, response.status_code, response.get("Location"))
        read[label] = body(response)
    # The results table alone, as htmx asks for it when paging.
    for job in jobs:
        response = operator.get(
            reverse("audit:job-detail", args=[job.pk]),
            headers={"HX-Request": "true", "HX-Target": "job-records"},
        )
        assert response.status_code == 200
        read[f"job {job.pk} audit results table"] = body(response)
    return read


# --- The test -----------------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_no_secret_reaches_the_database_logs_pages_or_exports(
    request, sandbox_server, configured_log_output, caplog, operator, manager, settings
):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")
    # Four batches of ten records: four calls whose exchanges are stored.
    settings.CRMADMIN_BATCH_SIZE = 10
    seed(leads=60)
    server = sandbox_server.url
    operator_client, manager_client = client_of(operator), client_of(manager)
    admin_client = client_of(User.objects.create_superuser("sam", password="not-used"))

    console = self_client_code(server, manager)
    connection = connect(manager_client, server, console)
    free = writable("Leads", 36)
    ids = [*free, LOCKED_LEAD, NOT_APPROVED_LEAD, MISSING_IDS[0]]

    # The first job runs in this process, where every log record is seen before any filter.
    with tasks_run_here():
        job = start_job(operator_client, connection)
        changed = post_change(operator_client, job, "Designation", {"value": NEW_TITLE})
        assert changed.status_code == 302
        selected = post_selection(operator_client, job, "paste", {"ids": "\n".join(ids)})
        assert selected.status_code == 302
        operator_client.post(reverse("massupdate:job-preview", args=[job.pk]))
        job.refresh_from_db()
        assert job.status == Job.Status.PREVIEWED, job.error_message
        # The token crmadmin holds dies unknown to it (as when Zoho revokes it): the first
        # call is refused and the token refreshed. Then a 500, retried, and a second refusal.
        assert sandbox_oauth.expire_all_access_tokens() == 1
        faults.queue("ok", "500", "ok", "invalid_token")
        submit(operator_client, job)
    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED_WITH_ERRORS, job.error_message
    assert job.outcome_counts == {
        "SUCCESS": 36,
        "RECORD_LOCKED": 1,
        "NOT_APPROVED": 1,
        "INVALID_DATA": 1,
    }
    assert job.client_stats["refreshes"] == {"invalid_token": 2}
    assert job.client_stats["retries"] == {"server_error": 1}
    assert Batch.objects.filter(job=job).count() == 4

    # Its retry runs in a real worker process, whose token has died too.
    Record.objects.filter(pk=LOCKED_LEAD).update(locked_action="")
    worker = request.getfixturevalue("celery_worker_process")
    # The two tokens of the first job's refreshes.
    assert sandbox_oauth.expire_all_access_tokens() == 2
    response = operator_client.post(reverse("massupdate:job-retry", args=[job.pk]))
    assert response.status_code == 302
    retry = Job.objects.get(retry_of=job)
    assert wait_until_final(retry, worker).status == Job.Status.PREVIEWED, retry.error_message
    submit(operator_client, retry)
    wait_until_final(retry, worker)
    assert retry.outcome_counts == {"SUCCESS": 1, "NOT_APPROVED": 1}, retry.error_message
    worker_log = wait_for_log(worker, re.compile(r"massupdate\.run_job\[[^]]+\] succeeded"))
    assert "access token refreshed (invalid_token)" in worker_log

    # --- Every secret that existed ---------------------------------------------------------
    recorder = sandbox_server.recorder
    access_tokens = recorder.granted("access_token")
    (refresh_token,) = recorder.granted("refresh_token")
    sandbox_client = OAuthClient.objects.get(client_id=console["client-id"])
    # The wire held every token the sandbox issued, and nothing else.
    assert len(access_tokens) == 4 == AccessToken.objects.count()
    assert {hash_secret(t) for t in access_tokens} == set(
        AccessToken.objects.filter(client=sandbox_client).values_list("token_hash", flat=True)
    )
    assert RefreshToken.objects.get().token_hash == hash_secret(refresh_token)
    grant = GrantCode.objects.get()
    assert grant.code_hash == hash_secret(console["grant-code"]) and grant.used_at
    assert sandbox_client.client_secret == console["client-secret"]
    issued = {
        "client secret": console["client-secret"],
        "self-client code": console["grant-code"],
        "refresh token": refresh_token,
        **{f"access token {n}": token for n, token in enumerate(access_tokens, start=1)},
    }
    secrets = {
        **issued,
        "SECRET_KEY": settings.SECRET_KEY,
        **{f"encryption key {n}": k for n, k in enumerate(settings.CRMADMIN_ENCRYPTION_KEYS)},
    }
    assert len(set(secrets.values())) == len(secrets)

    def scan(where: str, text: str) -> None:
        assert leaks(text, secrets, fragments=set(issued)) == [], where

    # --- The stored exchanges ---------------------------------------------------------------
    exchanges = [
        exchange
        for detail in JobEvent.objects.values_list("detail", flat=True)
        for exchange in detail.get("exchanges", [])
    ]
    scan("stored exchanges", json.dumps(exchanges))
    api_calls = [e for e in exchanges if "/crm/" in e["url"]]
    refreshes = [e for e in exchanges if e["url"].endswith("/oauth/v2/token")]
    assert all(e["request_headers"]["Authorization"] == REDACTED for e in api_calls)
    assert [e["http_status"] for e in api_calls].count(401) == 2
    assert [e["http_status"] for e in api_calls].count(500) == 1
    # The first job's two refreshes (the worker's came in its preview, whose calls are not
    # stored).
    assert len(refreshes) == 2
    for exchange in refreshes:
        assert "client_secret=[REDACTED]" in exchange["request_body"]
        assert "refresh_token=[REDACTED]" in exchange["request_body"]
        assert json.loads(exchange["response_body"])["access_token"] == REDACTED

    # --- The database: as stored, the sessions decoded, and dumpdata ------------------------
    tables = stored_tables()
    assert {"massupdate_jobevent", "massupdate_batch", "zoho_connection", "django_session"} <= set(
        tables
    )
    for name, rows in tables.items():
        scan(f"table {name}", rows)
    with db.cursor() as cursor:
        cursor.execute("SELECT client_secret, refresh_token, access_token FROM zoho_connection")
        (stored,) = cursor.fetchall()
    assert all(value.startswith(crypto.PREFIX) for value in stored)
    sessions = repr([s.get_decoded() for s in Session.objects.all()])
    scan("sessions", sessions)
    dump = dumped(exclude=["sandbox"])
    scan("dumpdata", dump)
    assert '"model": "massupdate.jobevent"' in dump and '"model": "massupdate.batch"' in dump
    assert '"model": "zoho.connection"' in dump and '"client_secret": "fernet:' in dump
    # The sandbox's own tables do hold the client secret: the scan sees it there.
    assert "client secret" in leaks(dumped("sandbox"), secrets)

    # --- The logs -----------------------------------------------------------------------------
    scan("log records of this process", caplog.text)
    for name, output in configured_log_output.items():
        scan(f"{name} log output", output.getvalue())
    scan("worker output", worker_log)
    server_log = configured_log_output["django.server"].getvalue()
    assert '"POST /sandbox/oauth/v2/token HTTP/1.1" 200' in server_log
    assert '"POST /sandbox/crm/v2.1/Leads/actions/mass_update HTTP/1.1" 401' in server_log
    app_log = configured_log_output["root"].getvalue()
    assert "access token refreshed (invalid_token)" in app_log
    assert "mass_update -> 500" in app_log
    assert any(r.levelno == logging.DEBUG for r in caplog.records)

    # --- The pages and exports ----------------------------------------------------------------
    read = pages(operator_client, manager_client, admin_client, [job, retry], connection)
    for where, text in read.items():
        assert len(text) > 200, where
        scan(where, text)
    assert REDACTED in read[f"job {job.pk} exchanges page 1"]
    assert LOCKED_LEAD in read[f"job {job.pk} results CSV"]
    assert f'"id": {job.pk}' in read["operator: audit list JSON"]

    logs = {
        "caplog": caplog.text,
        **{k: v.getvalue() for k, v in configured_log_output.items()},
        "worker": worker_log,
    }
    lines = "; ".join(
        f"{k}: {len(v.splitlines()):,} lines, {len(v):,} chars" for k, v in logs.items()
    )
    print(
        f"\nscanned {len(exchanges)} exchanges; {len(tables)} tables "
        f"({sum(map(len, tables.values())):,} chars); sessions ({len(sessions):,}); "
        f"dumpdata ({len(dump):,}); logs: {lines}; "
        f"{len(read)} pages and exports ({sum(map(len, read.values())):,} chars)"
    )
