"""Shared fixtures: the personas every test speaks of, and the browser set-up."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import kombu.pools
import pytest
import redis
import requests
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, User
from django.db import connection as db_connection

from crmadmin.celery import app as celery_app
from crmadmin.celery import filesystem_broker_options
from crmadmin.sandbox import oauth as sandbox_oauth
from crmadmin.zoho.datacentres import CUSTOM
from crmadmin.zoho.models import Connection

ROOT = Path(__file__).resolve().parents[1]

# Sync Playwright keeps an event loop running in the main thread; Django would then refuse
# ORM calls (even while creating the test database) without this.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct-horse-battery-staple"

# The contract (the Postman collection of recorded responses) lives in shared/, beside the
# checkout; tests read it when they run, never a copy of it.
CONTRACT_DIR = Path(
    os.environ.get("CRMADMIN_CONTRACT_DIR")
    or Path(__file__).resolve().parents[1].parent / "shared" / "contract"
)


@pytest.fixture(scope="session", autouse=True)
def _concurrency_slots_of_this_session(tmp_path_factory):
    # Connection ids repeat across test databases and across test sessions running side by
    # side; worker subprocesses inherit the variable, so they share the test's slots.
    url = tmp_path_factory.mktemp("limits").as_uri()
    os.environ["CRMADMIN_LIMITER_URL"] = django_settings.CRMADMIN_LIMITER_URL = url
    return url


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The default hasher costs ~0.2 s a user; tests need no real key stretching.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _make_user(username: str, *groups: str, **extra) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, **extra)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


def make_sandbox_connection(server_url: str, name: str = "Sandbox", **overrides) -> Connection:
    """A Connection to the sandbox served at ``server_url``, registered and connected there."""
    base = server_url + "/sandbox"
    registered = sandbox_oauth.create_client(f"crmadmin ({name})", [])
    fields = {
        "data_centre": CUSTOM,
        "accounts_url": base,
        "api_domain": base,
        "client_id": registered.client_id,
        "client_secret": registered.client_secret,
        "refresh_token": sandbox_oauth.issue_refresh_token(registered),
        **overrides,
    }
    return Connection.objects.create(name=name, **fields)


def signed_in_browser(client, user: User) -> requests.Session:
    """A requests session signed in as ``user``, for pages of the live server that need it
    (the sandbox's consent page and API console, as Zoho's need a Zoho login)."""
    client.force_login(user)
    browser = requests.Session()
    browser.cookies.set(
        django_settings.SESSION_COOKIE_NAME,
        client.cookies[django_settings.SESSION_COOKIE_NAME].value,
    )
    return browser


def environ_without_settings(**extra: str) -> dict[str, str]:
    """This process's environment as a fresh shell would have it, without any of crmadmin's
    settings (``CRMADMIN_*``, ``DJANGO_*``, ``CELERY_*``, ``DATABASE_URL``), plus ``extra``.

    This virtualenv's ``python`` and scripts come first on ``PATH``.
    """
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CRMADMIN_", "DJANGO_", "CELERY_")) and k != "DATABASE_URL"
    }
    clean["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{clean.get('PATH', '')}"
    return {**clean, **extra}


def run_python_with_settings(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh Python whose crmadmin settings come from ``env`` alone."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environ_without_settings(DJANGO_SETTINGS_MODULE="crmadmin.settings", **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def operator(db) -> User:
    return _make_user("olivia", "Operator")


@pytest.fixture
def other_operator(db) -> User:
    return _make_user("oscar", "Operator")


@pytest.fixture
def manager(db) -> User:
    return _make_user("maria", "Manager")


@pytest.fixture
def outsider(db) -> User:
    """Logged in, but in no role."""
    return _make_user("nobody")


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


# --- Playwright, driving Debian's Chromium (no browser download is possible here) ----------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


# --- A real Celery worker process ------------------------------------------------------------


def _database_url_of_test_db() -> str:
    """The test database, as a URL another process can open (so not SQLite in memory)."""
    s = db_connection.settings_dict
    if db_connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def start_worker(
    folder: Path, broker_url: str, options: list[str], log, *, env: dict | None = None, **popen
) -> subprocess.Popen:
    """A ``celery worker`` process on the test database, keeping its files in ``folder``."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "crmadmin",
            "worker",
            *options,
            "--loglevel=INFO",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": _database_url_of_test_db(),
            "CRMADMIN_DATA_DIR": str(folder),
            "CELERY_BROKER_URL": broker_url,
            **(env or {}),
        },
        stdout=log,
        stderr=subprocess.STDOUT,
        **popen,
    )


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):
    """A ``celery worker`` subprocess on the test database and a broker folder of its own.

    Tasks sent by the test (``.delay()``) reach it through the file-system broker, as in
    ``make demo``; it writes to the same database the test reads.
    """
    previous = celery_app.conf.broker_transport_options
    celery_app.conf.broker_transport_options = filesystem_broker_options(tmp_path / "broker")
    _forget_broker_connections()
    log = (tmp_path / "worker.log").open("w")
    process = start_worker(tmp_path, "filesystem://", ["--pool=solo"], log)
    process.log_path = tmp_path / "worker.log"
    yield process
    # The test is over and nothing is left to finish. Any shutdown waits for the worker's
    # loop to wake (some 3 seconds on the file-system broker), so the worker is killed.
    process.kill()
    process.wait()
    log.close()
    celery_app.conf.broker_transport_options = previous
    _forget_broker_connections()


def _forget_broker_connections() -> None:
    """Drop pooled broker connections, which keep the folders they were made with."""
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
        celery_app._pool = None
    celery_app.amqp._producer_pool = None
    kombu.pools.reset()


# --- A private Redis server, as the production limiter and broker use ------------------------


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A ``redis-server`` of this test session's own on a free port, keeping nothing on disk."""
    server = shutil.which("redis-server")
    assert server, "redis-server is missing: run scripts/system-deps.sh"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(folder)],
        stdout=(folder / "redis.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert process.poll() is None, (folder / "redis.log").read_text()
            assert time.monotonic() < deadline, "redis-server did not answer within 10 s"
            time.sleep(0.05)
    yield url
    client.close()
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(params=["file", "redis"])
def limiter_url(request, tmp_path) -> str:
    """Each backend of the shared concurrency limiter in turn, with no slot taken."""
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        redis.Redis.from_url(url).flushdb()
        return url
    return (tmp_path / "limits").as_uri()
