"""Shared fixtures: the personas every test speaks of, and the browser set-up."""

import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

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


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The default hasher costs ~0.2 s a user; tests need no real key stretching.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _make_user(username: str, *groups: str, **extra) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, **extra)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


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
