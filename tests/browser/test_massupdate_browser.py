"""An operator runs a whole mass update in Chromium, against the sandbox over real HTTP."""

import csv
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, expect

from crmadmin.celery import app as celery_app
from crmadmin.massupdate.models import Job, JobEvent
from crmadmin.sandbox.models import Record
from crmadmin.sandbox.seed import LOCKED_LEAD, MISSING_IDS, NOT_APPROVED_LEAD, SUCCESS_LEADS, seed
from tests.conftest import PASSWORD, make_sandbox_connection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_TITLE = "Met at the browser fair"
JUNK = "LEAD-000042"
SUCCESS_IDS = [record_id for record_id, _ in SUCCESS_LEADS]
MISSING_ID = MISSING_IDS[0]
FAILED_IDS = {NOT_APPROVED_LEAD, LOCKED_LEAD, MISSING_ID}

# Sent to the test by every page: Chromium fires securitypolicyviolation for anything
# the CSP blocks (inline scripts or styles, eval, other origins).
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(`${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""

# Runs after crmadmin.js's own submit listener (on document), so it sees what that did.
NOTE_SUBMITS = """
window.addEventListener("submit", (event) => {
  window.noteSubmit(event.target.querySelector("button[type=submit]").disabled);
});
"""


def record_row(page: Page, record_id: str) -> Locator:
    """The table row of one record (matched exactly: some test ids prefix others)."""
    return page.get_by_role("row").filter(has=page.get_by_role("cell", name=record_id, exact=True))


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Run Celery tasks inside the request that queues them: no worker process needed."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def csp_violations(page: Page) -> list[str]:
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


def test_operator_runs_a_mass_update_from_start_to_failures_download_in_the_browser(
    page: Page, live_server, operator, eager_tasks, csp_violations: list[str]
) -> None:
    seed(leads=60)
    make_sandbox_connection(live_server.url)
    ordinary = list(
        Record.objects.filter(
            module="Leads", approval_state=Record.APPROVED, locked_action="", converted=False
        )
        .exclude(id__in=SUCCESS_IDS)
        .order_by("id")
        .values_list("id", flat=True)[:4]
    )
    updated_ids = [*SUCCESS_IDS, *ordinary]
    confirm_posts: list[str] = []
    page.on(
        "request",
        lambda r: r.method == "POST" and "/confirm/" in r.url and confirm_posts.append(r.url),
    )

    # 1. Log in, start a job on the Leads module.
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill("olivia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("main").get_by_role("link", name="New mass update").click()
    page.get_by_role("radio", name=re.compile(r"^Leads\b")).check()
    page.get_by_role("button", name="Next: choose the changes").click()
    expect(page.get_by_role("heading", name=re.compile(r"what to change$"))).to_be_visible()

    # 2. Choosing the field swaps its value form in through htmx, without a page load.
    changes_url = page.url
    page.get_by_label("Field", exact=True).select_option("Designation")
    set_title = page.get_by_role("button", name="Set Title")
    expect(set_title).to_be_visible()
    assert page.url == changes_url
    page.get_by_role("textbox", name="Title", exact=True).fill(NEW_TITLE)
    set_title.click()
    expect(page.get_by_role("cell", name=NEW_TITLE)).to_be_visible()

    # 3. Paste the IDs; the token that is not an ID is listed back.
    page.get_by_role("link", name="Next: choose the records").click()
    pasted = "\n".join([*updated_ids, NOT_APPROVED_LEAD, LOCKED_LEAD, MISSING_ID, JUNK])
    page.get_by_label("Record IDs").fill(pasted)
    page.get_by_role("button", name="Use these IDs").click()
    expect(page.get_by_text("10 records selected.")).to_be_visible()
    expect(page.locator("ul.rejected")).to_have_text(JUNK)

    # 4. The preview (run in the request, so it is done when the page comes back).
    page.get_by_role("button", name="Next: preview before → after").click()
    summary = page.locator("#preview-summary")
    expect(summary).to_contain_text("9 will change")
    expect(summary).to_contain_text("1 not found")
    expect(summary).to_contain_text("10 records will be sent")
    first = Record.objects.get(pk=SUCCESS_IDS[0]).data["Designation"]
    row = record_row(page, SUCCESS_IDS[0])
    expect(row.locator("del")).to_have_text(first)
    expect(row.locator("ins")).to_have_text(NEW_TITLE)
    expect(record_row(page, MISSING_ID)).to_contain_text("Not found")
    expect(record_row(page, LOCKED_LEAD)).to_contain_text("locked")

    # 5. Confirm with a reason; a double click submits once.
    page.get_by_role("link", name="Next: confirm").click()
    page.get_by_label("Reason").fill("Everyone we met at the fair")
    submits: list[bool] = []

    def note_submit(button_disabled: bool) -> None:
        submits.append(button_disabled)

    page.expose_function("noteSubmit", note_submit)
    page.evaluate(NOTE_SUBMITS)
    submit = page.get_by_role("button", name="Submit 10 records")
    submit.dblclick()

    # 6. The results: every outcome counted, every record listed with its code.
    progress = page.locator("#job-progress")
    expect(progress).to_contain_text("Completed with errors")
    counts = {"SUCCESS": 7, "NOT_APPROVED": 1, "RECORD_LOCKED": 1, "INVALID_DATA": 1}
    for code, count in counts.items():
        expect(progress.get_by_role("link", name=f"{code} {count}")).to_be_visible()
    for record_id, code in [
        (SUCCESS_IDS[0], "SUCCESS"),
        (NOT_APPROVED_LEAD, "NOT_APPROVED"),
        (LOCKED_LEAD, "RECORD_LOCKED"),
        (MISSING_ID, "INVALID_DATA"),
    ]:
        expect(record_row(page, record_id)).to_contain_text(code)

    # One submit event, after which the button was disabled: the second click did nothing.
    # (Chromium would coalesce two submissions into one POST anyway, so count both.)
    assert submits == [True]
    assert len(confirm_posts) == 1
    job = Job.objects.get()
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
    for record_id in updated_ids:
        assert Record.objects.get(pk=record_id).data["Designation"] == NEW_TITLE
    for record_id in (NOT_APPROVED_LEAD, LOCKED_LEAD):
        assert Record.objects.get(pk=record_id).data["Designation"] != NEW_TITLE
