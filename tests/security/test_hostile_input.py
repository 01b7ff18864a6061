"""Issue 6: hostile and malformed input on every form, filter and upload.

Each entry of ``hostile_corpus.CORPUS`` is one test case: the value is sent through the test
client to the page that takes it, against the sandbox CRM over HTTP, and the answer must be
no 5xx, must say the entry's message, must show no hostile markup unescaped, and must leave
every job and connection exactly as it was (the few valid values are taken whole instead).

Then formulas: values a spreadsheet would run go into a job that really runs, and every CSV
export they reach must neutralise them, while the JSON exports keep them as they were.

The sandbox, the people, the connection and one job in each state are made once for the
module (``world``), not for each of some 250 cases: a refused input must change nothing, and
each case checks exactly that, so the next one finds them as they were. A case whose input is
valid gets a job of its own. The database is emptied when the module ends, as a
transactional test leaves it.
"""

import csv
import html
import io
import json
import re
import tracemalloc
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connection as db_connection
from django.test import Client
from django.urls import NoReverseMatch, get_resolver, reverse
from pytest_django.live_server_helper import LiveServer

from crmadmin.celery import app as celery_app
from crmadmin.massupdate.models import ApprovalPolicy, Batch, Job, JobEvent, JobRecord
from crmadmin.sandbox.seed import seed
from crmadmin.zoho.models import Connection
from crmadmin.zoho.views import OAUTH_SESSION_KEY
from tests.conftest import make_sandbox_connection
from tests.massupdate import conftest as massupdate
from tests.massupdate.conftest import (
    SEED_LEADS,
    SUCCESS_IDS,
    confirm_fields,
    post_change,
    post_selection,
    set_sandbox_value,
    start_job,
)

from .hostile_corpus import (
    AWAITING,
    CONNECTION,
    CORPUS,
    DRAFT,
    FINISHED,
    FORMULAS,
    MANAGER,
    NEW_JOB,
    NOTHING,
    OPERATOR,
    PREVIEWED,
    BigUpload,
    Entry,
    LookAlikePk,
    Upload,
)

# The hostile markup of the corpus; pages have scripts of their own, never this one.
HOSTILE_MARKUP = ("<script>alert", "<img src=x")
# A 50 MB upload must reach the form as a file on disk, never as one string in memory.
UPLOAD_MEMORY_LIMIT = 16 * 1024 * 1024
TRANSIENT = (Job.Status.PREVIEWING, Job.Status.QUEUED, Job.Status.RUNNING)
# What a page may change as a side effect: timestamps, and the CRM's short-lived tokens.
CONNECTION_VOLATILE = {"updated_at", "access_token", "access_token_expires_at"}


def test_the_corpus_holds_over_a_hundred_named_entries_on_every_input_of_the_product():
    names = [entry.name for entry in CORPUS]
    assert len(names) >= 100
    assert len(set(names)) == len(names), "entry names repeat"
    assert all(entry.message for entry in CORPUS)
    # Every page of the product that reads input (all but these three) has entries.
    plain = {"massupdate:home", "audit:overview", "zoho:connection-list"}
    covered = {entry.url for entry in CORPUS}
    missing = {name for name in _product_url_names() if name not in covered | plain}
    assert not missing, f"no hostile input for {sorted(missing)}"


def _product_url_names() -> set[str]:
    names = set()
    for namespace in ("massupdate", "audit", "zoho"):
        resolver = get_resolver().namespace_dict[namespace][1]
        names |= {f"{namespace}:{name}" for name in resolver.reverse_dict if isinstance(name, str)}
    return names


# --- The world the cases share ----------------------------------------------------------


@dataclass
class World:
    users: dict[str, User]
    connection: Connection
    jobs: dict[str, Job]  # one job in each state, for the inputs that must change nothing


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    # Not pytest-django's live_server fixture: it would empty the database after each case.
    server = LiveServer("localhost")
    server._live_server_modified_settings.enable()
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        with django_db_blocker.unblock():
            # Only ever the test database: this module commits, and empties it at the end.
            assert Path(str(db_connection.settings_dict["NAME"])).name.startswith("test")
            seed(leads=SEED_LEADS)
            users = {OPERATOR: _person("olivia", "Operator"), MANAGER: _person("maria", "Manager")}
            callback = "http://testserver" + reverse("zoho:oauth-callback")
            connection = make_sandbox_connection(server.url, redirect_uri=callback)
            people = {role: _client_of(user) for role, user in users.items()}
            jobs = {
                on: _job(on, people, connection, f"Met at Expo ({on})")
                for on in (DRAFT, PREVIEWED, AWAITING, FINISHED)
            }
            yield World(users, connection, jobs)
    finally:
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)
        celery_app.conf.task_always_eager = eager
        server._live_server_modified_settings.disable()
        server.stop()


@pytest.fixture
def transactional_db(django_db_blocker):
    """The database, open to a case as pytest-django's fixture of this name opens it (which
    also makes pytest-django create the test database), but not emptied after it."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def people(world, transactional_db) -> dict[str, Client]:
    """The operator and the manager, each signed in on a fresh client (no leftover messages)."""
    return {role: _client_of(user) for role, user in world.users.items()}


def _person(username: str, group: str) -> User:
    user = User.objects.create_user(username=username)
    user.groups.add(Group.objects.get(name=group))
    return user


def _client_of(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _job(on: str, people: dict[str, Client], connection: Connection, title: str) -> Job:
    """A job setting the Title of three leads to ``title``, taken through the pages to ``on``."""
    operator = people[OPERATOR]
    job = start_job(operator, connection)
    assert post_change(operator, job, "Designation", {"value": title}).status_code == 302
    ids = "\n".join(SUCCESS_IDS)
    assert post_selection(operator, job, "paste", {"ids": ids}).status_code == 302
    if on != DRAFT:
        assert operator.post(reverse("massupdate:job-preview", args=[job.pk])).status_code == 302
    if on in (AWAITING, FINISHED):
        confirm = {"reason": "Met at the expo", **confirm_fields(operator, job)}
        with _approval_threshold(1 if on == AWAITING else None):
            response = operator.post(reverse("massupdate:job-confirm", args=[job.pk]), confirm)
        assert response.status_code == 302
    job.refresh_from_db()
    expected = {
        DRAFT: Job.Status.DRAFT,
        PREVIEWED: Job.Status.PREVIEWED,
        AWAITING: Job.Status.AWAITING_APPROVAL,
        FINISHED: Job.Status.COMPLETED,
    }
    assert job.status == expected[on], (job.status, job.preview_counts)
    return job


# --- The corpus, one case each -----------------------------------------------------------


@pytest.mark.parametrize("entry", CORPUS, ids=[entry.name for entry in CORPUS])
def test_hostile_input_gets_a_clear_message_and_leaves_no_half_made_job(
    entry: Entry, world, people, tmp_path
):
    connection = world.connection
    target = _starting_point(entry, world, people)
    before = _snapshot()

    with _approval_threshold(entry.approval_threshold):
        response, peak = _send(people[entry.by], entry, target, connection, tmp_path)
    body = _body(response)

    assert response.status_code < 500, body[:3000]
    said = entry.message in html.unescape(body)
    assert said, f"the answer ({response.status_code}) does not say so: {_visible(body)}"
    if response["Content-Type"].startswith("text/html"):  # CSV and JSON keep data as it is
        _assert_no_hostile_markup(body, entry.value)
    after = _snapshot()
    _assert_nothing_half_made(after)
    if entry.accepted is None:
        assert after == before, "a refused input changed a job or a connection"
    else:
        _assert_taken_whole(entry, target, people)
    if isinstance(entry.value, BigUpload):
        assert peak < UPLOAD_MEMORY_LIMIT, f"the upload took {peak / 2**20:.1f} MB of memory"


@contextmanager
def _approval_threshold(threshold: int | None):
    """The approval policy's threshold set to ``threshold`` meanwhile (None: left alone)."""
    if threshold is None:
        yield
        return
    policy = ApprovalPolicy.current()
    usual = policy.threshold
    policy.threshold = threshold
    policy.save()
    try:
        yield
    finally:
        policy.threshold = usual
        policy.save()


def _starting_point(entry: Entry, world: World, people: dict[str, Client]):
    """The job or connection the entry is sent to: a valid input gets a job of its own."""
    if entry.on in (NOTHING, NEW_JOB):
        return None
    if entry.on == CONNECTION:
        return world.connection
    if entry.accepted is None:
        return world.jobs[entry.on]
    # A title no lead holds yet, so that there is something to send.
    return _job(entry.on, people, world.connection, f"Met at Expo ({entry.name})")


def _url(entry: Entry, target) -> str:
    args: list = []
    if entry.field == "pk":
        args = [entry.value]
    elif target is not None and _takes_an_id(entry.url):
        args = [target.pk]
    if entry.path:
        args.append(entry.path)
    return reverse(entry.url, args=args)


def _takes_an_id(url_name: str) -> bool:
    try:
        reverse(url_name)
    except NoReverseMatch:
        return True
    return False


def _send(client: Client, entry: Entry, target, connection: Connection, tmp_path: Path):
    url = _url(entry, target)
    value = entry.value
    if isinstance(value, LookAlikePk):
        value = value.of(connection.pk)
    data = {**entry.data}
    if entry.field != "pk":
        data[entry.field] = value
    if entry.url == "massupdate:job-confirm" and "token" not in data and target is not None:
        data["token"] = str(target.submit_token)
    if entry.oauth_pending:
        session = client.session
        session[OAUTH_SESSION_KEY] = {
            "state": "hostile-state",
            "connection": target.pk,
            "redirect_uri": target.redirect_uri,
        }
        session.save()
        data.setdefault("state", "hostile-state")
    if isinstance(value, BigUpload):
        return _post_streamed(client, url, entry, value, tmp_path)
    if isinstance(value, Upload):
        data[entry.field] = massupdate.upload(value.name, value.content)
    if entry.method == "GET":
        return client.get(url, data, follow=True), 0
    if entry.query:
        url += "?" + "&".join(f"{k}={v}" for k, v in entry.query.items())
    return client.post(url, data, follow=True), 0


def _post_streamed(client: Client, url: str, entry: Entry, upload: BigUpload, tmp_path: Path):
    """POST a multipart body written to disk first, and the peak memory the request took."""
    boundary = "hostile-boundary"
    body = tmp_path / "body"
    with body.open("wb") as out:
        for name, value in entry.data.items():
            out.write(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{entry.field}"; '
            f'filename="{upload.name}"\r\nContent-Type: text/csv\r\n\r\nId\n'.encode()
        )
        line = b"738964000002131264\n" * 2**14
        written = 0
        while written < upload.size:
            out.write(line[: upload.size - written])
            written += len(line)
        out.write(f"\r\n--{boundary}--\r\n".encode())
    with body.open("rb") as stream:
        tracemalloc.start()
        try:
            response = client.generic(
                "POST",
                url,
                **{
                    "CONTENT_TYPE": f"multipart/form-data; boundary={boundary}",
                    "CONTENT_LENGTH": str(body.stat().st_size),
                    "wsgi.input": stream,
                },
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return response, peak


def _visible(body: str) -> str:
    """The page's main text, for failure messages."""
    main = body.split('<main id="main">')[-1]
    return html.unescape(re.sub(r"<[^>]+>|\s+", " ", main))[:1500]


def _body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def _assert_no_hostile_markup(body: str, value) -> None:
    for markup in HOSTILE_MARKUP:
        assert markup not in body, f"{markup!r} is on the page unescaped"
    if isinstance(value, str) and "<" in value:
        assert value not in body, "the value is on the page unescaped"


def _snapshot() -> dict:
    """Every job with all it holds, and every connection: what a refused input must keep."""
    job_fields = [f.attname for f in Job._meta.concrete_fields if f.attname != "updated_at"]
    connection_fields = [
        f.attname for f in Connection._meta.concrete_fields if f.attname not in CONNECTION_VOLATILE
    ]
    return {
        "jobs": list(Job.objects.order_by("pk").values(*job_fields)),
        "records": list(
            JobRecord.objects.order_by("job_id", "position").values_list(
                "job_id", "record_id", "included", "status", "code", "before", "after"
            )
        ),
        "events": list(JobEvent.objects.order_by("pk").values_list("job_id", "kind", "message")),
        "batches": list(Batch.objects.order_by("pk").values_list("job_id", "status")),
        "connections": list(Connection.objects.order_by("pk").values(*connection_fields)),
    }


def _assert_nothing_half_made(snapshot: dict) -> None:
    """Whatever happened, every job is whole: its records all there, no step left midway."""
    for job in snapshot["jobs"]:
        records = sum(1 for r in snapshot["records"] if r[0] == job["id"])
        assert records == job["record_count"], f"job {job['id']}: records and count differ"
        assert job["status"] not in TRANSIENT, f"job {job['id']} was left {job['status']}"
        assert any(e[0] == job["id"] and e[1] == JobEvent.Kind.DRAFTED for e in snapshot["events"])


def _assert_taken_whole(entry: Entry, target, people: dict[str, Client]) -> None:
    """A valid hostile value is stored as it was typed and shown escaped where it appears."""
    assert entry.accepted is not None
    if target is None:  # a new connection
        target = Connection.objects.latest("pk")
    target.refresh_from_db()
    for name, expected in entry.accepted.items():
        assert getattr(target, name) == expected, name
    for url_name in entry.shown_on:
        args = [target.pk] if _takes_an_id(url_name) else []
        page = people[_viewer(url_name)].get(reverse(url_name, args=args))
        body = _body(page)
        assert page.status_code == 200, url_name
        shown = entry.message in html.unescape(body)
        assert shown, f"{url_name} does not show the value: {_visible(body)}"
        _assert_no_hostile_markup(body, entry.value)


def _viewer(url_name: str) -> str:
    """Who reads a page: the job's owner in the workflow, a manager elsewhere."""
    if url_name.startswith("massupdate:") and url_name != "massupdate:job-approval":
        return OPERATOR
    return MANAGER


# --- Formulas in CSV exports --------------------------------------------------------------


@pytest.mark.parametrize(("name", "formula"), FORMULAS, ids=[name for name, _ in FORMULAS])
def test_a_formula_is_neutralised_in_every_csv_export_and_kept_as_it_was_in_json(
    name, formula, world, people
):
    connection = world.connection
    operator, manager = people[OPERATOR], people[MANAGER]
    # In the CRM already, as the first lead's current Title (so its "before")...
    set_sandbox_value(SUCCESS_IDS[0], "Designation", formula)
    job = start_job(operator, connection)
    # ...and typed as the new Title, the reason and the review note (forms strip spaces).
    typed = formula.strip()
    assert post_change(operator, job, "Designation", {"value": formula}).status_code == 302
    assert (
        post_selection(operator, job, "paste", {"ids": "\n".join(SUCCESS_IDS)}).status_code == 302
    )
    assert operator.post(reverse("massupdate:job-preview", args=[job.pk])).status_code == 302
    reason, note = f"{formula} is the reason", f"{formula} was checked"
    confirm = {"reason": reason, **confirm_fields(operator, job)}
    assert (
        operator.post(reverse("massupdate:job-confirm", args=[job.pk]), confirm).status_code == 302
    )
    review = manager.post(reverse("audit:job-review", args=[job.pk]), {"note": note})
    assert review.status_code == 302
    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED, job.outcome_counts
    reason, note = reason.strip(), note.strip()
    assert (job.reason, job.review_note) == (reason, note)

    records = _csv_rows(operator.get(reverse("massupdate:job-export", args=[job.pk])))
    assert [row["record_id"] for row in records] == SUCCESS_IDS
    assert _neutralised(records[0]["Title before"]) == formula
    assert [_neutralised(row["Title after"]) for row in records] == [typed] * 3

    listed = _csv_rows(manager.get(reverse("audit:job-list-export"), {"format": "csv"}))
    (listed,) = [row for row in listed if row["id"] == str(job.pk)]
    assert _neutralised(listed["reason"]) == reason
    assert _neutralised(listed["review_note"]) == note

    exported = json.loads(_body(manager.get(reverse("audit:job-export-json", args=[job.pk]))))
    assert exported["job"]["reason"] == reason
    assert exported["job"]["review_note"] == note
    assert exported["job"]["changes"] == [{"field": "Designation", "value": typed, "mode": ""}]
    assert exported["records"][0]["before"] == {"Designation": formula}
    jobs = json.loads(_body(manager.get(reverse("audit:job-list-export"), {"format": "json"})))
    (summary,) = [row for row in jobs["jobs"] if row["id"] == job.pk]
    assert (summary["reason"], summary["review_note"]) == (reason, note)


def _csv_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    text = _body(response).removeprefix("\ufeff")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _neutralised(cell: str) -> str:
    """The value a CSV cell holds, which must come behind the apostrophe that disarms it."""
    assert cell.startswith("'"), f"{cell!r} would run as a formula"
    return cell[1:]
