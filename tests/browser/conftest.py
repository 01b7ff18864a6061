"""Fixtures and helpers of the browser tests: logging in, and watching a real worker."""

from collections.abc import Iterator
from contextlib import contextmanager
from subprocess import Popen

import pytest
from playwright.sync_api import Page

from crmadmin.sandbox import faults
from tests.conftest import PASSWORD

# Slow enough that the progress of a preview or a run is seen under way.
SANDBOX_LATENCY = 0.3


@pytest.fixture
def slow_sandbox(transactional_db) -> Iterator[None]:
    """Every sandbox API call takes SANDBOX_LATENCY seconds, until the test ends."""
    faults.configure(latency=SANDBOX_LATENCY)
    yield
    faults.reset()


@contextmanager
def worker_log_on_failure(worker: Popen) -> Iterator[None]:
    """Print the worker's log (shown by pytest with the failure) if the block fails."""
    try:
        yield
    except BaseException:
        print(f"--- celery worker log ({worker.log_path}) ---\n{worker.log_path.read_text()}")
        raise


def log_in(page: Page, base_url: str, username: str) -> None:
    """Log in as one of the personas through the login page, as a person would."""
    page.goto(base_url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
