"""Fixtures and helpers of the browser tests: logging in, watching a real worker, reading
tables, and catching what the Content Security Policy blocks."""

from collections.abc import Iterator
from contextlib import contextmanager
from subprocess import Popen

import pytest
from playwright.sync_api import Locator, Page

from crmadmin.sandbox import faults
from tests.conftest import PASSWORD

# Slow enough that the progress of a preview or a run is seen under way.
SANDBOX_LATENCY = 0.3

# Sent to the test by every page: Chromium fires securitypolicyviolation for anything
# the CSP blocks (inline scripts or styles, eval, other origins).
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(`${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


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


def record_row(page: Page, record_id: str) -> Locator:
    """The table row of one record (matched exactly: some test ids prefix others)."""
    return page.get_by_role("row").filter(has=page.get_by_role("cell", name=record_id, exact=True))


@pytest.fixture
def csp_violations(page: Page) -> list[str]:
    """What the CSP blocked on any page ``page`` shows, from now until the test ends."""
    violations: list[str] = []

    def report(text: str) -> None:
        violations.append(text)

    page.expose_function("reportCspViolation", report)
    page.add_init_script(REPORT_CSP_VIOLATIONS)
    page.on(
        "console",
        lambda msg: "Content Security Policy" in msg.text and violations.append(msg.text),
    )
    return violations
