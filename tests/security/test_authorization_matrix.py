"""The authorization matrix (issue 6, item 1): every URL × every persona × every method.

The test walks the whole URL conf, Django's admin and the sandbox included, and sends each
URL every method of ``METHODS`` as each persona of ``PERSONAS``: nobody signed in; Olivia,
the operator who owns every job in the URLs; Oscar, another operator; Maria, a manager;
and an administrator (a superuser with staff status and no role, like the demo's
``admin``). ``EXPECTED`` says, URL by URL, what each of them must get. It is written from
what the product should do (DESIGN.md, the views' decorators and permission-aware fetches),
not from what it answers: a URL the walk finds without a row fails, and so does a row whose
URL is gone.

Requests carry no data: a POST is an empty form, so the statuses of the people allowed in
are those of an empty or invalid form (a page with errors, or a redirect). Each request runs
in a savepoint that is rolled back, so a cancel, a decision or a logout leaves nothing for
the next one. Every URL gets real objects: Olivia's jobs in the states its view acts on
(``JOBS``), a connection pointing at a local port nobody listens on (no call leaves the
machine, and a failing CRM must give a page, not a 500), and a real object of each model
registered in the admin.

At the time of writing: 138 URLs × 5 personas × 6 methods = 4,140 cells (``MATRIX_CELLS``).

The same walk also checks, URL by URL, that every POST, PUT, PATCH and DELETE without a CSRF
token is refused for every persona (and gets its matrix answer with the token, sent as htmx
sends it), and that every answer carries the anti-framing, no-sniff and CSP headers with no
inline script, style or event handler in its HTML.
"""

import copy
import functools
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from crmadmin.accounts.models import FailedLogin
from crmadmin.massupdate import operations
from crmadmin.massupdate.models import (
    ApprovalPolicy,
    Batch,
    Job,
    JobEvent,
    JobRecord,
    MetadataCache,
    Outcome,
)
from crmadmin.sandbox import oauth as sandbox_oauth
from crmadmin.sandbox.models import (
    CreditBucket,
    CustomView,
    FaultConfig,
    MassUpdateJob,
    Record,
    SandboxUser,
)
from crmadmin.sandbox.schema import field_metadata, get_module
from crmadmin.zoho.models import Connection
from tests.conftest import _make_user, make_sandbox_connection
from tests.massupdate.conftest import build_job

PERSONAS = ("anonymous", "operator", "other operator", "manager", "admin")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")

# --- The URL conf, walked ------------------------------------------------------------------


def walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    """(key, full route, pattern) of every URL pattern under ``resolver``.

    The key is the namespaced name (``massupdate:job-detail``); a pattern without a name
    (the admin's ``<object_id>/`` redirects, its catch-all) is keyed by its full route.
    """
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk(pattern, route, inner)
        else:
            assert isinstance(pattern, URLPattern)
            yield (f"{namespace}{pattern.name}" if pattern.name else route), route, pattern


WALKED: dict[str, str] = {}
for _key, _route, _pattern in walk(get_resolver()):
    assert _key not in WALKED, f"two URL patterns are both keyed {_key}"
    WALKED[_key] = _route


# --- How a row of the table is written ------------------------------------------------------

# (anonymous, operator, other operator, manager, admin)
Cells = tuple[int, int, int, int, int]
# (operator, other operator, manager, admin): the people signed in.
Signed = tuple[int, int, int, int]


@dataclass(frozen=True)
class Row:
    cells: dict[str, Cells]
    # Where anonymous visitors are sent to sign in (they must get there from every 302).
    login: str = ""
    # The objects the URL names: a key of ``World.kwargs_for``.
    target: str = ""
    query: str = ""
    kwargs: dict = field(default_factory=dict)


def app(target: str = "", *, query: str = "", **allowed: Signed) -> Row:
    """A page of crmadmin: every page needs login (``LoginRequiredMiddleware`` sends anonymous
    visitors to the login page whatever the method), and a method the view does not take
    is 405 for everyone signed in, whoever they are (the method is checked first)."""
    cells = {}
    for method in METHODS:
        signed = allowed.get(method, (405, 405, 405, 405))
        cells[method] = (302, *signed)
    return Row(cells, login="accounts:login", target=target, query=query)


def everyone(status: int) -> Signed:
    """Any signed-in person, with or without a role of the app's."""
    return (status, status, status, status)


def own_or_all(status: int) -> Signed:
    """Operators see their own jobs (someone else's is not found); managers see every job."""
    return (status, 404, status, status)


def owner_only(status: int) -> Signed:
    """Only the job's owner shapes, previews and submits it; nobody else finds it."""
    return (status, 404, 404, 404)


def managers(status: int) -> Signed:
    """Managers only (and the administrator, who has every permission); operators: 403."""
    return (403, 403, status, status)


def public(**statuses: int | Cells) -> Row:
    """A URL that needs no login: the same answer for everyone unless given per persona;
    a method not given is refused with 405."""
    cells = {}
    for method in METHODS:
        status = statuses.get(method, 405)
        cells[method] = status if isinstance(status, tuple) else (status,) * 5
    return Row(cells)


def admin(
    target: str = "", *, login: str = "admin:login", kwargs: dict | None = None, **admin_statuses
) -> Row:
    """A page of Django's admin: only staff get in. Signed-in people without staff status
    are sent to the admin's login page, anonymous visitors to ``login``, whatever the
    method. ``admin_statuses`` are the administrator's, for every method."""
    cells = {m: (302, 302, 302, 302, admin_statuses[m]) for m in METHODS}
    return Row(cells, login=login, target=target, kwargs=kwargs or {})


def admin_page(get: int, post: int | None = None, **kw) -> Row:
    """Most admin views tell only POST from the rest: PUT, PATCH, DELETE and HEAD get what
    GET gets (they change nothing)."""
    post = get if post is None else post
    return admin(**kw, GET=get, HEAD=get, PUT=get, PATCH=get, DELETE=get, POST=post)


# What the administrator may do to each model in the admin, from the product's rules:
# audit rows (jobs, their events) are only read; the approval policy is one row, edited,
# never added again or deleted; refused sign-ins are read and deleted (that lifts a pause),
# never written by hand; the rest is ordinary data.
FULL = {"add": True, "change": True, "delete": True}
READ_ONLY = {"add": False, "change": False, "delete": False}
ADMIN_MODELS = {
    "auth.group": FULL,
    "auth.user": FULL,
    "accounts.failedlogin": {"add": False, "change": False, "delete": True},
    "zoho.connection": FULL,
    "massupdate.job": READ_ONLY,
    "massupdate.jobevent": READ_ONLY,
    "massupdate.approvalpolicy": {"add": False, "change": True, "delete": False},
    "sandbox.faultconfig": FULL,
    "sandbox.creditbucket": FULL,
    "sandbox.record": FULL,
    "sandbox.customview": FULL,
    "sandbox.massupdatejob": FULL,
    "sandbox.oauthclient": FULL,
    "sandbox.sandboxuser": FULL,
}


def admin_model_rows(label: str, can: dict[str, bool]) -> dict[str, Row]:
    """The six URLs the admin gives a model, for a real object of it.

    An empty POST is an invalid form (the page again, 200) where the administrator may add
    or change; an empty POST to a delete page is not a confirmation, so it shows the page
    again too. What the model's rules forbid is 403 for every method.

    Anonymous visitors are sent to crmadmin's login page here, not the admin's: a model's
    admin views do not name the admin's login page, so ``LoginRequiredMiddleware`` uses
    ``LOGIN_URL``; signing in there brings staff back to the page all the same.
    """
    app_label, model = label.split(".")
    name = f"admin:{app_label}_{model}"
    page = functools.partial(admin_page, login="accounts:login")
    target = f"object:{label}"
    return {
        f"{name}_changelist": page(200),
        f"{name}_add": page(200) if can["add"] else page(403),
        f"{name}_change": page(200, 200 if can["change"] else 403, target=target),
        f"{name}_delete": page(200 if can["delete"] else 403, target=target),
        f"{name}_history": page(200, target=target),
        # <object_id>/ redirects to the change page, whatever the method.
        f"admin/{app_label}/{model}/<path:object_id>/": page(302, target=target),
    }


# --- The table ---------------------------------------------------------------------------------

# The jobs in the URLs, all Olivia's, and why each URL gets the one it gets:
JOBS = {
    # the draft steps (fields, records) act on a draft
    "draft": Job.Status.DRAFT,
    # the preview and the confirmation act on a previewed job
    "previewed": Job.Status.PREVIEWED,
    # Cancel stops a running job
    "running": Job.Status.RUNNING,
    # results, exports, audit, retry (one record failed RECORD_LOCKED), revert, review
    "finished": Job.Status.COMPLETED_WITH_ERRORS,
    # the approve / reject page
    "awaiting": Job.Status.AWAITING_APPROVAL,
}

EXPECTED: dict[str, Row] = {
    # --- Signing in and out ------------------------------------------------------------------
    # The login form (PUT is a form post for Django's form views); signed-in people are sent
    # on to the home page whatever the method.
    "accounts:login": public(
        GET=(200, 302, 302, 302, 302),
        HEAD=(200, 302, 302, 302, 302),
        POST=(200, 302, 302, 302, 302),
        PUT=(200, 302, 302, 302, 302),
        PATCH=(405, 302, 302, 302, 302),
        DELETE=(405, 302, 302, 302, 302),
    ),
    "accounts:logout": app(POST=everyone(302)),
    "healthz": public(GET=200, HEAD=200),
    # --- Mass updates ----------------------------------------------------------------------
    "massupdate:home": app(GET=everyone(200)),
    "massupdate:job-list": app(GET=everyone(200)),
    "massupdate:job-new": app(GET=everyone(200), POST=everyone(400)),
    # An empty form names no connection: back to the new-job page.
    "massupdate:modules-refresh": app(POST=everyone(302)),
    "massupdate:job-detail": app("job:finished", GET=own_or_all(200)),
    "massupdate:job-changes": app("job:draft", GET=owner_only(200), POST=owner_only(400)),
    "massupdate:job-change-remove": app("job:draft", POST=owner_only(302)),
    "massupdate:job-records": app("job:draft", GET=owner_only(200)),
    "massupdate:job-records-select": app("job:draft", POST=owner_only(400)),
    "massupdate:job-preview": app("job:previewed", GET=owner_only(200), POST=owner_only(302)),
    "massupdate:job-include": app("job:previewed", POST=owner_only(302)),
    "massupdate:job-confirm": app("job:previewed", GET=owner_only(200), POST=owner_only(400)),
    # The owner or a manager stops a job; another operator does not even find it.
    "massupdate:job-cancel": app("job:running", POST=own_or_all(302)),
    "massupdate:job-retry": app("job:finished", POST=own_or_all(302)),
    "massupdate:job-export": app("job:finished", GET=own_or_all(200)),
    "massupdate:job-revert": app("job:finished", POST=own_or_all(302)),
    "massupdate:approvals": app(GET=managers(200)),
    # Seeing a job is not approving it: its owner may see it (403), Oscar does not (404).
    "massupdate:job-approval": app(
        "job:awaiting", GET=(403, 404, 200, 200), POST=(403, 404, 400, 400)
    ),
    # --- Audit -------------------------------------------------------------------------------
    # Operators audit their own jobs; the lists and the search leave other people's out.
    "audit:job-list": app(GET=everyone(200)),
    "audit:job-list-export": app(query="format=csv", GET=everyone(200)),
    "audit:job-detail": app("job:finished", GET=own_or_all(200)),
    "audit:job-exchanges": app("job:finished", GET=own_or_all(200)),
    "audit:job-export-json": app("job:finished", GET=own_or_all(200)),
    # Signing off needs the review permission; an empty note is refused.
    "audit:job-review": app("job:finished", POST=managers(400)),
    "audit:record-search": app(GET=everyone(200)),
    "audit:overview": app(GET=managers(200)),
    # --- CRM connections (managers) ----------------------------------------------------------
    "zoho:connection-list": app(GET=managers(200)),
    # An empty form comes back with its errors (with 200, where crmadmin's forms say 400).
    # An empty form comes back with its errors: 400, as every form of the app.
    "zoho:connection-create": app(GET=managers(200), POST=managers(400)),
    # No Connect was started in this session: back to the list.
    "zoho:oauth-callback": app(GET=managers(302)),
    "zoho:connection-detail": app("connection", GET=managers(200)),
    # On to the CRM's consent page.
    "zoho:connection-connect": app("connection", POST=managers(302)),
    "zoho:connection-self-client": app("connection", POST=managers(400)),
    # The CRM cannot be reached: the check is recorded as failed and shown on the page.
    "zoho:connection-test": app("connection", POST=managers(302)),
    "zoho:connection-disconnect": app("connection", POST=managers(302)),
    # --- The sandbox: a simulated Zoho, its endpoints public as Zoho's own are ----------------
    # The sandbox's home page renders for any method.
    "sandbox:index": public(**dict.fromkeys(METHODS, 200)),
    # The consent page needs a signed-in user, as Zoho's needs a Zoho login; with no client
    # and no redirect URI it is Zoho's error page.
    "sandbox:authorize": app(GET=everyone(400), POST=everyone(400)),
    # Zoho answers token errors with 200 and an "error" in the JSON.
    "sandbox:token": public(POST=200),
    "sandbox:revoke": public(POST=400),
    # The API console shows client secrets: managers only (they register clients).
    "sandbox:self-client": app(GET=managers(200), POST=managers(200)),
    # The CRM API authenticates by token, not by crmadmin's session: 401 without one.
    "sandbox:api": public(**dict.fromkeys(METHODS, 401)),
    # --- Django's admin (staff only) -----------------------------------------------------------
    "admin:index": admin_page(200),
    # The admin's login form is public; staff already signed in are sent to the index by
    # GET (HEAD is not GET there, so it shows the form).
    "admin:login": public(
        GET=(200, 200, 200, 200, 302),
        HEAD=200,
        POST=200,
        PUT=200,
    ),
    # Staff sign out by POST; others are sent to the admin's index (and on to its login).
    "admin:logout": Row(
        {m: (302, 302, 302, 302, 302 if m == "POST" else 405) for m in METHODS},
        login="admin:login",
    ),
    "admin:password_change": admin(GET=200, HEAD=200, POST=200, PUT=200, PATCH=405, DELETE=405),
    "admin:password_change_done": admin(
        GET=200, HEAD=200, POST=405, PUT=405, PATCH=405, DELETE=405
    ),
    # Without its parameters autocomplete refuses.
    "admin:autocomplete": admin(GET=403, HEAD=403, POST=405, PUT=405, PATCH=405, DELETE=405),
    "admin:jsi18n": admin(GET=200, HEAD=200, POST=405, PUT=405, PATCH=405, DELETE=405),
    # No model of ours has a page on the site: "view on site" finds nothing.
    "admin:view_on_site": admin_page(404, target="view-on-site"),
    "admin:app_list": admin_page(200, kwargs={"app_label": "massupdate"}),
    "admin/(?P<url>.*)$": admin_page(404, kwargs={"url": "no-such-page/"}),
    "admin:auth_user_password_change": admin_page(
        200, target="object:auth.user", login="accounts:login"
    ),
}
for _label, _can in ADMIN_MODELS.items():
    EXPECTED |= admin_model_rows(_label, _can)

# The only URLs that answer anyone without signing in: the two login forms, the load
# balancer's probe, and the sandbox (a simulated Zoho, which checks tokens, not sessions).
PUBLIC = {"accounts:login", "admin:login", "healthz"} | {
    key for key in EXPECTED if key.startswith("sandbox:")
}
MATRIX_CELLS = len(WALKED) * len(PERSONAS) * len(METHODS)


# --- The objects in the URLs ---------------------------------------------------------------

MODULE = "Leads"
RECORD_IDS = ["4876876000000100001", "4876876000000100002", "4876876000000100003"]


@pytest.fixture(scope="module")
def closed_port():
    """A local port bound but not listening: a connection to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


class World:
    """The people and objects every URL is tried with, made on first use."""

    def __init__(self, olivia: User, oscar: User, maria: User, crm_url: str) -> None:
        self.olivia, self.oscar, self.maria = olivia, oscar, maria
        self.admin = _make_user("admin", is_staff=True, is_superuser=True)
        self.crm_url = crm_url
        # The one row of the approval policy, as the first job's confirmation makes it.
        ApprovalPolicy.current()

    @functools.cached_property
    def connection(self) -> Connection:
        """Connected (a refresh token) to a CRM that cannot be reached; its redirect URI is
        the test server's, so Connect goes on to the CRM's consent page."""
        callback = "http://testserver" + reverse("zoho:oauth-callback")
        return make_sandbox_connection(self.crm_url, name="Unreachable CRM", redirect_uri=callback)

    @functools.cached_property
    def jobs_connection(self) -> Connection:
        """The jobs' connection, its modules and fields already fetched: the pages read them
        from the cache and call no CRM."""
        connection = make_sandbox_connection(self.crm_url, name="Jobs' CRM")
        leads = get_module(MODULE)
        payloads = {
            "modules": [{"api_name": MODULE, "label": MODULE}],
            f"fields:{MODULE}": [
                field_metadata(leads, f) for f in leads.fields if f.api_name == "Designation"
            ],
            f"allfields:{MODULE}": [field_metadata(leads, f) for f in leads.fields],
            f"views:{MODULE}": [],
        }
        for key, payload in payloads.items():
            MetadataCache.objects.create(connection=connection, key=key, payload=payload)
        return connection

    @functools.cached_property
    def jobs(self) -> dict[str, Job]:
        """Olivia's jobs, one in each state of ``JOBS``, taken there by the domain functions
        where they need no CRM, and by writing what the preview and the run would have
        written where they do."""
        policy = ApprovalPolicy.current()
        policy.threshold = 1_000
        policy.save()
        jobs = {name: self._job() for name in JOBS}
        for name in ("previewed", "running", "finished", "awaiting"):
            self._preview(jobs[name])
        for name in ("running", "finished"):
            self._submit(jobs[name])
            Job.objects.filter(pk=jobs[name].pk).update(
                status=Job.Status.RUNNING, started_at=timezone.now(), calls_total=1
            )
        self._finish(jobs["finished"])
        policy.threshold = 1
        policy.save()
        self._submit(jobs["awaiting"])
        for name, job in jobs.items():
            job.refresh_from_db()
            assert job.status == JOBS[name], (name, job.status)
        return jobs

    def _job(self) -> Job:
        values = {"Designation": {"value": "Met at Expo"}}
        return build_job(self.olivia, self.jobs_connection, MODULE, values, RECORD_IDS)

    def _preview(self, job: Job) -> None:
        JobRecord.objects.filter(job=job).update(
            found=True,
            before={"Designation": "Buyer"},
            after={"Designation": "Met at Expo"},
            will_change=True,
        )
        counts = {"will_change": 3, "unchanged": 0, "not_found": 0, "warnings": 0}
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.PREVIEWED,
            previewed_at=timezone.now(),
            preview_done=3,
            preview_counts={**counts, "conflicts": 0, "to_send": 3},
        )
        operations.record_event(job, JobEvent.Kind.PREVIEWED, message="3 will change")
        job.refresh_from_db()

    def _submit(self, job: Job) -> None:
        operations.submit(job=job, user=self.olivia, reason="Expo leads", token=job.submit_token)

    def _finish(self, job: Job) -> None:
        """One call: two records changed, one locked (a failure a retry may fix)."""
        now = timezone.now()
        batch = Batch.objects.create(
            job=job,
            step=1,
            number=1,
            fields=["Designation"],
            record_ids=RECORD_IDS,
            status=Batch.Status.DONE,
            http_status=207,
            sent_at=now,
            finished_at=now,
        )
        codes = ["SUCCESS", "SUCCESS", "RECORD_LOCKED"]
        for record, code in zip(job.records.order_by("position"), codes, strict=True):
            status = "success" if code == "SUCCESS" else "error"
            record.status, record.code, record.batch, record.http_status = status, code, 1, 207
            record.save()
            Outcome.objects.create(
                job=job, record=record, step=1, batch=1, code=code, status=status, http_status=207
            )
        operations.record_event(
            job, JobEvent.Kind.BATCH_SENT, detail={"exchanges": []}, batch=batch
        )
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.COMPLETED_WITH_ERRORS,
            finished_at=now + timedelta(seconds=2),
            calls_done=1,
            outcome_counts={"SUCCESS": 2, "RECORD_LOCKED": 1},
        )
        operations.record_event(job, JobEvent.Kind.FINISHED, message="Completed with errors")

    @functools.cached_property
    def sandbox_user(self) -> SandboxUser:
        return SandboxUser.default()

    @functools.cached_property
    def custom_view(self) -> CustomView:
        return CustomView.objects.create(id="4876876000000087501", module=MODULE, name="All")

    def admin_object(self, label: str):
        """A real object of the model ``label`` for its admin pages."""
        now = timezone.now()
        makers: dict[str, Callable] = {
            "auth.group": lambda: Group.objects.get(name="Operator"),
            "auth.user": lambda: _make_user("nobody"),
            "accounts.failedlogin": lambda: FailedLogin.objects.create(
                username="olivia", address="192.0.2.1", at=now
            ),
            "zoho.connection": lambda: self.connection,
            "massupdate.job": lambda: self.jobs["finished"],
            "massupdate.jobevent": lambda: self.jobs["finished"].events.first(),
            "massupdate.approvalpolicy": ApprovalPolicy.current,
            "sandbox.faultconfig": FaultConfig.current,
            "sandbox.creditbucket": lambda: CreditBucket.objects.create(
                minute=now.replace(second=0, microsecond=0), credits=1
            ),
            "sandbox.record": lambda: Record.objects.create(
                id=RECORD_IDS[0],
                module=MODULE,
                data={"Last_Name": "Lopez"},
                created_time=now,
                modified_time=now,
                created_by=self.sandbox_user,
                modified_by=self.sandbox_user,
            ),
            "sandbox.customview": lambda: self.custom_view,
            "sandbox.massupdatejob": lambda: MassUpdateJob.objects.create(
                module=MODULE,
                custom_view=self.custom_view,
                changes={"Designation": "Met at Expo"},
                user=self.sandbox_user,
                record_ids=[],
                total_count=0,
            ),
            "sandbox.oauthclient": lambda: sandbox_oauth.create_client("Another client", []),
            "sandbox.sandboxuser": lambda: self.sandbox_user,
        }
        assert label in makers, f"no object of {label} to try its admin pages with: add one"
        return makers[label]()

    def kwargs_for(self, row: Row, route: str) -> dict:
        """The URL's parameters, filled with the objects the row names."""
        kwargs = dict(row.kwargs)
        if row.target.startswith("job:"):
            kwargs["pk"] = self.jobs[row.target.removeprefix("job:")].pk
        elif row.target == "connection":
            kwargs["pk"] = self.connection.pk
        elif row.target.startswith("object:"):
            obj = self.admin_object(row.target.removeprefix("object:"))
            kwargs["id" if "<id>" in route else "object_id"] = obj.pk
        elif row.target == "view-on-site":
            user = self.admin_object("auth.user")
            kwargs["content_type_id"] = ContentType.objects.get_for_model(User).pk
            kwargs["object_id"] = user.pk
        if "<str:method>" in route:
            kwargs["method"] = "paste"
        if "(?P<path>" in route:
            kwargs["path"] = "v2.1/Leads"
        return kwargs


def url_of(key: str, route: str, kwargs: dict) -> str:
    """A concrete URL of the pattern: reversed by name, or built from the route."""
    if "/" not in key:
        return reverse(key, kwargs=kwargs)
    url = re.sub(
        r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)", lambda m: str(kwargs[m[1] or m[2]]), route
    )
    return "/" + url.replace("^", "").replace("$", "")


# --- Trying every cell -------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    location: str = ""
    error: str = ""
    headers: dict = field(default_factory=dict)
    body: bytes = b""


def ask(client: Client, cookies, method: str, url: str, **headers) -> Answer:
    """Send one request as the persona whose cookies are given, and undo what it did."""
    client.cookies = copy.deepcopy(cookies)
    with transaction.atomic():
        try:
            response = getattr(client, method.lower())(url, headers=headers)
            streamed = response.streaming
            body = b"".join(response.streaming_content) if streamed else response.content
        except Exception as exc:  # a view that fails while streaming: a 500 too
            return Answer(500, error=f"{type(exc).__name__}: {exc}")
        finally:
            transaction.set_rollback(True)
    error = ""
    if getattr(response, "exc_info", None):
        error = f"{response.exc_info[0].__name__}: {response.exc_info[1]}"
    return Answer(
        response.status_code, response.get("Location", ""), error, dict(response.items()), body
    )


def concrete_url(key: str, world: "World") -> str:
    """The URL of ``key`` with its row's objects and query."""
    row, route = EXPECTED[key], WALKED[key]
    url = url_of(key, route, world.kwargs_for(row, route))
    return f"{url}?{row.query}" if row.query else url


@pytest.fixture
def world(operator, other_operator, manager, closed_port) -> World:
    return World(operator, other_operator, manager, f"http://127.0.0.1:{closed_port}")


def signed_in(world: World, **client_options) -> dict[str, tuple[Client, object]]:
    """A client and its signed-in cookies for each persona."""
    people = [None, world.olivia, world.oscar, world.maria, world.admin]
    browsers = {}
    for persona, user in zip(PERSONAS, people, strict=True):
        client = Client(raise_request_exception=False, **client_options)
        client.get(reverse("accounts:login"))  # the CSRF cookie, as a browser has it
        if user is not None:
            client.force_login(user)
        browsers[persona] = (client, copy.deepcopy(client.cookies))
    return browsers


@pytest.fixture
def browsers(world) -> dict[str, tuple[Client, object]]:
    return signed_in(world)


def test_every_url_of_the_url_conf_has_a_row_and_every_row_a_url():
    missing = sorted(set(WALKED) - set(EXPECTED))
    gone = sorted(set(EXPECTED) - set(WALKED))

    assert not missing, "URLs without a row in EXPECTED (add one): " + ", ".join(
        f"{key} ({WALKED[key]})" for key in missing
    )
    assert not gone, "rows of EXPECTED whose URL no longer exists: " + ", ".join(gone)


def test_the_table_lets_anonymous_visitors_see_public_urls_only():
    opened = [
        f"{key} {method}"
        for key, row in EXPECTED.items()
        for method, cells in row.cells.items()
        if cells[0] == 200 and key not in PUBLIC
    ]

    assert not opened
    assert all(set(row.cells) == set(METHODS) for row in EXPECTED.values())


@pytest.fixture
def fast_failing_crm(settings):
    # One attempt a call: the unreachable CRM fails at once instead of after backoffs.
    settings.CRMADMIN_HTTP_MAX_ATTEMPTS = 1


@pytest.mark.usefixtures("fast_failing_crm")
@pytest.mark.parametrize("key", sorted(set(WALKED) | set(EXPECTED)))
def test_who_gets_what_at(key, world, browsers):
    assert key in WALKED, f"{key} is in EXPECTED but no longer in the URL conf"
    assert key in EXPECTED, f"{key} ({WALKED[key]}) has no row in EXPECTED: add one"
    row = EXPECTED[key]
    url = concrete_url(key, world)

    answers = {
        (method, persona): ask(*browsers[persona], method, url)
        for method in METHODS
        for persona in PERSONAS
    }

    crashed = [
        f"{method} as {persona}: {answer.status} {answer.error}"
        for (method, persona), answer in answers.items()
        if answer.status >= 500
    ]
    assert not crashed, f"{url} failed with a server error:\n" + "\n".join(crashed)
    wrong = [
        f"{method} as {persona}: expected {row.cells[method][n]}, got {answer.status}"
        for (method, persona), answer in answers.items()
        for n in [PERSONAS.index(persona)]
        if answer.status != row.cells[method][n]
    ]
    assert not wrong, f"{url} ({key}):\n" + "\n".join(wrong)
    if key not in PUBLIC:
        # Anonymous visitors never get the page; they are sent to sign in, and back here.
        login = reverse(row.login)
        for method in METHODS:
            location = urlsplit(answers[method, "anonymous"].location)
            assert location.path == login, (method, answers[method, "anonymous"])
            assert parse_qs(location.query)["next"] == [url], (method, location)


# --- CSRF on every unsafe method, and the headers of every page (issue 6, item 4) -----------

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
# The simulated Zoho's server-to-server endpoints: called by an OAuth client or with a token,
# never from a page, so no CSRF token (Zoho's own take none either).
CSRF_EXEMPT = {"sandbox:token", "sandbox:revoke", "sandbox:api"}
INLINE_CODE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>"), "script"),
    (re.compile(r"<style[\s>]"), "<style>"),
    (re.compile(r"<[^>]+\sstyle="), "style attribute"),
    (re.compile(r"<[^>]+\son[a-z]+\s*="), "event handler attribute"),
    (re.compile(r"""<[^>]+\b(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.I), "javascript:"),
]


@pytest.fixture
def guarded_browsers(world) -> dict[str, tuple[Client, object]]:
    """Clients that check CSRF tokens as browsers' requests are checked, each holding a
    CSRF cookie; the pages put its token in forms and in htmx's header."""
    return signed_in(world, enforce_csrf_checks=True)


@pytest.mark.usefixtures("fast_failing_crm")
@pytest.mark.parametrize("key", sorted(set(WALKED) - CSRF_EXEMPT))
def test_every_unsafe_request_needs_the_csrf_token_at(key, world, guarded_browsers):
    """Without the token every POST, PUT, PATCH and DELETE is refused with 403, whoever
    sends it and whatever the view would do; with it (as htmx sends it, in X-CSRFToken),
    each gets what the authorization matrix says."""
    row = EXPECTED[key]
    url = concrete_url(key, world)

    wrong = []
    for method in UNSAFE:
        for n, persona in enumerate(PERSONAS):
            client, cookies = guarded_browsers[persona]
            without = ask(client, cookies, method, url).status
            token = cookies["csrftoken"].value
            with_token = ask(client, cookies, method, url, X_CSRFToken=token).status
            if without != 403 or with_token != row.cells[method][n]:
                wrong.append(
                    f"{method} as {persona}: without the token {without} (expected 403), "
                    f"with it {with_token} (expected {row.cells[method][n]})"
                )
    assert not wrong, f"{url} ({key}):\n" + "\n".join(wrong)


def test_only_the_simulated_zohos_server_endpoints_skip_csrf():
    exempt = {
        key
        for key, _route, pattern in walk(get_resolver())
        if getattr(pattern.callback, "csrf_exempt", False)
    }

    assert exempt == CSRF_EXEMPT


@pytest.mark.usefixtures("fast_failing_crm")
@pytest.mark.parametrize("key", sorted(WALKED))
def test_every_page_refuses_framing_sniffing_and_inline_code_at(key, world, browsers):
    """Every answer, whoever asks, carries the anti-framing and no-sniff headers and the
    Content Security Policy; every HTML page it gives has no inline script, style or event
    handler for the policy to block."""
    url = concrete_url(key, world)
    problems = []
    for persona in PERSONAS:
        answer = ask(*browsers[persona], "GET", url)
        headers = answer.headers
        csp = headers.get("Content-Security-Policy", "")
        if headers.get("X-Frame-Options") != "DENY" or "frame-ancestors 'none'" not in csp:
            problems.append(f"{persona}: framing allowed ({headers.get('X-Frame-Options')})")
        if "script-src 'self'" not in csp or "unsafe-inline" in csp:
            problems.append(f"{persona}: no strict script policy: {csp!r}")
        if headers.get("X-Content-Type-Options") != "nosniff":
            problems.append(f"{persona}: no X-Content-Type-Options: nosniff")
        if answer.status == 200 and headers["Content-Type"].startswith("text/html"):
            html = answer.body.decode()
            for pattern, what in INLINE_CODE:
                if found := pattern.search(html):
                    problems.append(f"{persona}: inline {what}: {found[0][:120]}")
    assert not problems, f"{url} ({key}):\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("html", "found"),
    [
        ("<script>alert(1)</script>", "script"),
        ('<script type="module">x()</script>', "script"),
        ("<style>p{}</style>", "<style>"),
        ('<p style="color:red">', "style attribute"),
        ('<button onclick="go()">', "event handler attribute"),
        ("<img src=x onerror=alert(1)>", "event handler attribute"),
        ('<a href="javascript:alert(1)">', "javascript:"),
        ('<script src="/static/js/crmadmin.js"></script>', None),
        ('<script id="data" type="application/json">{"a": 1}</script>', None),
        ('<p class="onward">online</p>', None),
    ],
)
def test_the_inline_code_patterns_catch_what_the_policy_would_block(html, found):
    matched = [what for pattern, what in INLINE_CODE if pattern.search(html)]

    assert matched == ([found] if found else [])
