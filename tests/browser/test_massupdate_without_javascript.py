"""An operator runs a whole mass update in Chromium with JavaScript turned off.

Every page must work as plain HTML: the field is chosen with a GET form instead of htmx,
and the preview and results pages, while a real ``celery worker`` process does the work,
reload themselves through ``<noscript><meta http-equiv="refresh">`` instead of polling.
The sandbox is slowed down to 0.3 s a call, one call at a time, so that both pages are
seen under way before they show the outcome.
"""

import csv
import re
from collections.abc import Iterator
from subprocess import Popen

import pytest
from playwright.sync_api import Browser, Locator, Page, Request, expect

from crmadmin.celery import app as celery_app
from crmadmin.massupdate.models import Job
from crmadmin.sandbox.models import Record
from crmadmin.sandbox.seed import LOCKED_LEAD, seed
from tests.browser.conftest import log_in, worker_log_on_failure
from tests.conftest import make_sandbox_connection
from tests.massupdate.conftest import writable

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_TITLE = "Met without JavaScript"
JUNK = "LEAD-000042"
RECORDS = 30
# How long the browser waits for the worker: generous, so a slow machine is not a failure.
WORKER_TIMEOUT_MS = 30_000
# Said in a <noscript>: Playwright's get_by_text never looks inside one, so CSS finds it.
RELOADS_ITSELF = "This page reloads itself every 2 seconds"


@pytest.fixture
def page_without_javascript(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(java_script_enabled=False)
    yield context.new_page()
    context.close()


def record_rows(page: Page) -> Locator:
    return page.locator("table.records tbody tr")


def test_operator_runs_a_mass_update_with_javascript_turned_off(
    page_without_javascript: Page,
    live_server,
    operator,
    celery_worker_process: Popen,
    slow_sandbox,
) -> None:
    # The worker process must be the one that runs the tasks, not the live server's thread.
    assert not celery_app.conf.task_always_eager
    with worker_log_on_failure(celery_worker_process):
        run_a_mass_update_without_javascript(page_without_javascript, live_server.url)


def run_a_mass_update_without_javascript(page: Page, url: str) -> None:
    seed(leads=100)
    make_sandbox_connection(url, concurrency_limit=1)
    ordinary = writable("Leads", RECORDS - 1)
    # Every page the browser loads (not the test): the self-reloads show up here.
    loads: list[str] = []

    def note_load(request: Request) -> None:
        if request.is_navigation_request() and request.method == "GET":
            loads.append(request.url.removeprefix(url))

    page.on("request", note_load)

    # 1. Log in, start a job on the Leads module.
    log_in(page, url, "olivia")
    page.get_by_role("main").get_by_role("link", name="New mass update").click()
    page.get_by_role("radio", name=re.compile(r"^Leads\b")).check()
    page.get_by_role("button", name="Next: choose the changes").click()
    expect(page.get_by_role("heading", name=re.compile(r"what to change$"))).to_be_visible()
    job = Job.objects.get()

    # 2. Without htmx, choosing a field is a plain GET form: the page loads with the
    #    field in its query string and the field's value form.
    page.get_by_label("Field", exact=True).select_option("Designation")
    page.get_by_role("button", name="Choose").click()
    expect(page).to_have_url(re.compile(r"\?field=Designation$"))
    page.get_by_role("textbox", name="Title", exact=True).fill(NEW_TITLE)
    page.get_by_role("button", name="Set Title").click()
    expect(page.get_by_role("cell", name=NEW_TITLE)).to_be_visible()

    # 3. Paste the IDs; the token that is not an ID is listed back.
    page.get_by_role("link", name="Next: choose the records").click()
    page.get_by_label("Record IDs").fill("\n".join([LOCKED_LEAD, *ordinary, JUNK]))
    page.get_by_role("button", name="Use these IDs").click()
    expect(page.get_by_text(f"{RECORDS} records selected.")).to_be_visible()
    expect(page.locator("ul.rejected")).to_have_text(JUNK)

    # 4. The preview, read by the worker: the page says it is reading and reloads itself
    #    until the summary is there.
    preview_path = f"/jobs/{job.pk}/preview/"
    page.get_by_role("button", name="Next: preview before → after").click()
    expect(page.get_by_role("heading", name="Reading the current values…")).to_be_visible()
    expect(page.locator("#preview-progress noscript p")).to_contain_text(RELOADS_ITSELF)
    expect(page.locator('head noscript meta[http-equiv="refresh"]')).to_have_attribute(
        "content", "2"
    )
    summary = page.locator("#preview-summary")
    expect(summary.get_by_role("heading", name="What will happen")).to_be_visible(
        timeout=WORKER_TIMEOUT_MS
    )
    assert loads.count(preview_path) >= 2, loads
    expect(summary).to_contain_text(f"{RECORDS} will change")
    expect(summary).to_contain_text("0 not found")
    expect(summary).to_contain_text(f"{RECORDS} records will be sent, in 1 call")
    # A finished preview does not reload itself any more.
    expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(0)

    # 5. Confirm with a reason; the results page reloads itself until the job is done.
    page.get_by_role("link", name="Next: confirm").click()
    page.get_by_label("Reason").fill("Everyone we met without JavaScript")
    page.get_by_role("button", name=f"Submit {RECORDS} records").click()
    job_path = f"/jobs/{job.pk}/"
    expect(page).to_have_url(url + job_path)
    progress = page.locator("#job-progress")
    expect(progress.locator("noscript p")).to_contain_text(RELOADS_ITSELF)
    expect(progress).to_contain_text("Completed with errors", timeout=WORKER_TIMEOUT_MS)
    assert loads.count(job_path) >= 2, loads
    expect(progress.get_by_role("link", name=f"SUCCESS {RECORDS - 1}")).to_be_visible()
    expect(progress.get_by_role("link", name="RECORD_LOCKED 1")).to_be_visible()
    expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(0)
    expect(record_rows(page)).to_have_count(RECORDS)

    # 6. Filter the table by outcome with the GET form: only the locked record is left.
    page.get_by_label("Outcome").select_option("RECORD_LOCKED")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"[?&]code=RECORD_LOCKED\b"))
    expect(record_rows(page)).to_have_count(1)
    expect(record_rows(page).first).to_contain_text(LOCKED_LEAD)
    expect(record_rows(page).first).to_contain_text("RECORD_LOCKED")

    # The failures' CSV holds the locked lead and nothing else.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download failures").click()
    download = download_info.value
    assert download.suggested_filename == f"job-{job.pk}-failures.csv"
    with open(download.path(), encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["record_id"], r["code"]) for r in rows] == [(LOCKED_LEAD, "RECORD_LOCKED")]

    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED_WITH_ERRORS
    titles = dict(
        Record.objects.filter(pk__in=[*ordinary, LOCKED_LEAD]).values_list(
            "pk", "data__Designation"
        )
    )
    assert all(titles[record_id] == NEW_TITLE for record_id in ordinary)
    assert titles[LOCKED_LEAD] != NEW_TITLE
