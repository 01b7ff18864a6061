"""An operator runs a whole mass update in Chromium, against the sandbox over real HTTP.

The preview and the run are done by a real ``celery worker`` process (reached through the
file-system broker, on the same test database), against a sandbox slowed down to 0.3 s a
call and a connection allowed one call at a time: the operator watches both progress
bars fill, and the pages move on by themselves when the work is done.
"""

import csv
import re
from subprocess import Popen

import pytest
from playwright.sync_api import Page, Response, expect

from crmadmin.celery import app as celery_app
from crmadmin.massupdate.models import Job, JobEvent
from crmadmin.sandbox.models import Record
from crmadmin.sandbox.seed import LOCKED_LEAD, MISSING_IDS, NOT_APPROVED_LEAD, seed
from tests.browser.conftest import log_in, record_row, worker_log_on_failure
from tests.conftest import make_sandbox_connection
from tests.massupdate.conftest import SUCCESS_IDS, writable

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_TITLE = "Met at the browser fair"
JUNK = "LEAD-000042"
MISSING_ID = MISSING_IDS[0]
FAILED_IDS = {NOT_APPROVED_LEAD, LOCKED_LEAD, MISSING_ID}
# 1,100 records: 11 preview reads (100 ids each) and 3 mass-update calls (500 ids each).
RECORDS = 1100
SPECIAL_IDS = [*SUCCESS_IDS, NOT_APPROVED_LEAD, LOCKED_LEAD, MISSING_ID]
# One call at a time, 0.3 s each: the preview takes >= 3.3 s, the run (3 calls and 11
# read-back reads) >= 4.2 s, so the pages, which poll every second, show them under way.
# How long the browser waits for the worker: generous, so a slow machine is not a failure.
WORKER_TIMEOUT_MS = 60_000

# Runs after crmadmin.js's own submit listener (on document), so it sees what that did.
NOTE_SUBMITS = """
window.addEventListener("submit", (event) => {
  window.noteSubmit(event.target.querySelector("button[type=submit]").disabled);
});
"""


def test_operator_runs_a_mass_update_from_start_to_failures_download_in_the_browser(
    page: Page,
    live_server,
    operator,
    celery_worker_process: Popen,
    slow_sandbox,
    csp_violations: list[str],
) -> None:
    # The worker process must be the one that runs the tasks, not the live server's thread.
    assert not celery_app.conf.task_always_eager
    with worker_log_on_failure(celery_worker_process):
        run_a_mass_update_in_the_browser(page, live_server.url, csp_violations)


def run_a_mass_update_in_the_browser(page: Page, url: str, csp_violations: list[str]) -> None:
    seed(leads=1200)
    make_sandbox_connection(url, concurrency_limit=1)
    ordinary = writable("Leads", RECORDS - len(SPECIAL_IDS), exclude=SUCCESS_IDS)
    updated_ids = [*SUCCESS_IDS, *ordinary]
    confirm_posts: list[str] = []
    page.on(
        "request",
        lambda r: r.method == "POST" and "/confirm/" in r.url and confirm_posts.append(r.url),
    )
    # htmx's polls, answered: (path, status, HX-Refresh header).
    polls: list[tuple[str, int, str | None]] = []

    def note_poll(response: Response) -> None:
        if response.request.headers.get("hx-request"):
            path = response.url.removeprefix(url)
            polls.append((path, response.status, response.headers.get("hx-refresh")))

    page.on("response", note_poll)

    # 1. Log in, start a job on the Leads module.
    log_in(page, url, "olivia")
    page.get_by_role("main").get_by_role("link", name="New mass update").click()
    page.get_by_role("radio", name=re.compile(r"^Leads\b")).check()
    page.get_by_role("button", name="Next: choose the changes").click()
    expect(page.get_by_role("heading", name=re.compile(r"what to change$"))).to_be_visible()
    # htmx (a deferred script) binds its triggers once the page has loaded; a change made
    # before that is a plain select change, which the "Choose" button would then submit.
    page.wait_for_load_state("load")

    # 2. Choosing the field swaps its value form in through htmx, without a page load.
    changes_url = page.url
    page.get_by_label("Field", exact=True).select_option("Designation")
    set_title = page.get_by_role("button", name="Set Title")
    expect(set_title).to_be_visible()
    assert page.url == changes_url
    page.get_by_role("textbox", name="Title", exact=True).fill(NEW_TITLE)
    set_title.click()
    expect(page.get_by_role("cell", name=NEW_TITLE)).to_be_visible()

    # 3. Paste the IDs (the records with something to show first, so that they are on the
    #    tables' first pages); the token that is not an ID is listed back.
    page.get_by_role("link", name="Next: choose the records").click()
    pasted = "\n".join([*SPECIAL_IDS, *ordinary, JUNK])
    page.get_by_label("Record IDs").fill(pasted)
    page.get_by_role("button", name="Use these IDs").click()
    expect(page.get_by_text(f"{RECORDS:,} records selected.")).to_be_visible()
    expect(page.locator("ul.rejected")).to_have_text(JUNK)

    # 4. The preview, read by the worker: a progress bar that fills, then the page reloads
    #    itself with the table.
    page.get_by_role("button", name="Next: preview before → after").click()
    job = Job.objects.get()
    preview_path = f"/jobs/{job.pk}/preview/"
    preview_progress = page.locator("#preview-progress")
    expect(preview_progress.locator("progress")).to_be_visible()
    expect(preview_progress).to_contain_text(
        re.compile(rf"\b[1-9]\d* of {RECORDS:,} records read"), timeout=WORKER_TIMEOUT_MS
    )
    summary = page.locator("#preview-summary")
    expect(summary).to_be_visible(timeout=WORKER_TIMEOUT_MS)
    expect(preview_progress).to_have_count(0)
    expect(summary).to_contain_text(f"{RECORDS - 1:,} will change")
    expect(summary).to_contain_text("1 not found")
    expect(summary).to_contain_text(f"{RECORDS:,} records will be sent, in 3 calls")
    first = Record.objects.get(pk=SUCCESS_IDS[0]).data["Designation"]
    row = record_row(page, SUCCESS_IDS[0])
    expect(row.locator("del")).to_have_text(first)
    expect(row.locator("ins")).to_have_text(NEW_TITLE)
    expect(record_row(page, MISSING_ID)).to_contain_text("Not found")
    expect(record_row(page, LOCKED_LEAD)).to_contain_text("locked")
    # The polls showed progress, and the last one had htmx reload the page.
    preview_polls = [(status, refresh) for path, status, refresh in polls if path == preview_path]
    assert (200, None) in preview_polls
    assert preview_polls[-1] == (200, "true")

    # 5. Confirm with a reason; a double click submits once.
    page.get_by_role("link", name="Next: confirm").click()
    page.get_by_label("Reason").fill("Everyone we met at the fair")
    submits: list[bool] = []

    def note_submit(button_disabled: bool) -> None:
        submits.append(button_disabled)

    page.expose_function("noteSubmit", note_submit)
    page.evaluate(NOTE_SUBMITS)
    submit = page.get_by_role("button", name=f"Submit {RECORDS:,} records")
    submit.dblclick()

    # 6. The run, by the worker: a progress bar counting the calls, then, with no reload by
    #    the test, the final status and every outcome counted.
    progress = page.locator("#job-progress")
    expect(progress.locator("progress")).to_be_visible()
    expect(progress).to_contain_text("calls done")
    expect(progress).to_contain_text(re.compile(r"\b\d of 3 calls done"), timeout=WORKER_TIMEOUT_MS)
    expect(progress).to_contain_text("Completed with errors", timeout=WORKER_TIMEOUT_MS)
    expect(progress.locator("progress")).to_have_count(0)
    counts = {
        "SUCCESS": RECORDS - len(FAILED_IDS),
        "NOT_APPROVED": 1,
        "RECORD_LOCKED": 1,
        "INVALID_DATA": 1,
    }
    for code, count in counts.items():
        expect(progress.get_by_role("link", name=f"{code} {count:,}")).to_be_visible()
    for record_id, code in [
        (SUCCESS_IDS[0], "SUCCESS"),
        (NOT_APPROVED_LEAD, "NOT_APPROVED"),
        (LOCKED_LEAD, "RECORD_LOCKED"),
        (MISSING_ID, "INVALID_DATA"),
    ]:
        expect(record_row(page, record_id)).to_contain_text(code)
    # htmx stopped polling (286) and reloaded the page (HX-Refresh) by itself.
    job_polls = [(status, refresh) for path, status, refresh in polls if path == f"/jobs/{job.pk}/"]
    assert (200, None) in job_polls
    assert job_polls[-1] == (286, "true")

    # One submit event, after which the button was disabled: the second click did nothing.
    # (Chromium would coalesce two submissions into one POST anyway, so count both.)
    assert submits == [True]
    assert len(confirm_posts) == 1
    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED_WITH_ERRORS
    assert job.calls_total == 3
    assert job.events.filter(kind=JobEvent.Kind.SUBMITTED).count() == 1

    # 7. The failures' CSV holds the three failed records and nothing else.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download failures").click()
    download = download_info.value
    assert download.suggested_filename == f"job-{job.pk}-failures.csv"
    with open(download.path(), encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["record_id"] for r in rows} == FAILED_IDS
    assert {r["code"] for r in rows} == {"NOT_APPROVED", "RECORD_LOCKED", "INVALID_DATA"}

    assert csp_violations == []
    titles = {
        record.pk: record.data["Designation"]
        for record in Record.objects.filter(pk__in=[*updated_ids, NOT_APPROVED_LEAD, LOCKED_LEAD])
    }
    assert all(titles[record_id] == NEW_TITLE for record_id in updated_ids)
    for record_id in (NOT_APPROVED_LEAD, LOCKED_LEAD):
        assert titles[record_id] != NEW_TITLE
