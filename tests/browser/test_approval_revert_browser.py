"""A manager approves a waiting job in Chromium, watches it run, then reverts it.

The operator's job (12 Leads, two of them refused by Zoho) is drafted, previewed and
submitted through the domain functions; the approval threshold of 10 holds it back. The
manager does the rest in the browser: the queue, the same preview the owner saw, "Approve
and run", the live progress, "Revert…", the revert's preview and confirmation. The
previews and both runs are done by a real ``celery worker`` process against the sandbox
over HTTP, slowed down so the progress is seen under way.
"""

import time
from subprocess import Popen

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from crmadmin.celery import app as celery_app
from crmadmin.massupdate import operations
from crmadmin.massupdate.models import ApprovalPolicy, Job, JobEvent
from crmadmin.sandbox.models import Record
from crmadmin.sandbox.seed import LOCKED_LEAD, NOT_APPROVED_LEAD, seed
from crmadmin.zoho.models import Connection
from tests.browser.conftest import log_in, record_row, worker_log_on_failure
from tests.conftest import make_sandbox_connection
from tests.massupdate.conftest import build_job, writable

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Status = Job.Status
Kind = JobEvent.Kind

THRESHOLD = 10
NEW_CITY = "Reykjavik"
NEW_STATUS = "Contact in Future"
CHANGES = {"City": {"value": NEW_CITY}, "Lead_Status": {"value": NEW_STATUS}}
NOTE = "Checked with sales: go ahead"
REVERT_REASON = "the fair's list was the wrong one"
# How long the test waits for the worker: generous, so a slow machine is not a failure.
WORKER_TIMEOUT_MS = 60_000


@pytest.fixture
def policy(transactional_db) -> ApprovalPolicy:
    policy = ApprovalPolicy.current()
    policy.threshold = THRESHOLD
    policy.save()
    return policy


def wait_for_status(job: Job, status: str) -> Job:
    """The job once the worker has brought it to ``status``."""
    deadline = time.monotonic() + WORKER_TIMEOUT_MS / 1000
    while True:
        job.refresh_from_db()
        if job.status == status:
            return job
        assert time.monotonic() < deadline, f"job {job.pk} is still {job.status}"
        time.sleep(0.1)


def submitted_job(owner: User, connection: Connection, ids: list[str], reason: str) -> Job:
    """A job of ``owner`` on ``ids``, previewed by the worker and submitted."""
    job = build_job(owner, connection, "Leads", CHANGES, ids)
    operations.start_preview(job=job, user=owner)
    job = wait_for_status(job, Status.PREVIEWED)
    assert operations.submit(job=job, user=owner, reason=reason, token=job.submit_token)
    job.refresh_from_db()
    return job


def test_manager_approves_a_waiting_job_watches_it_run_then_reverts_it(
    page: Page,
    live_server,
    operator,
    manager,
    policy,
    celery_worker_process: Popen,
    slow_sandbox,
    csp_violations: list[str],
) -> None:
    # The worker process must be the one that runs the tasks, not the live server's thread.
    assert not celery_app.conf.task_always_eager
    with worker_log_on_failure(celery_worker_process):
        approve_and_revert_in_the_browser(page, live_server.url, operator, manager)
    assert csp_violations == []


def approve_and_revert_in_the_browser(page: Page, url: str, operator, manager) -> None:
    seed(leads=60)
    connection = make_sandbox_connection(url, concurrency_limit=1)
    leads = Record.objects.filter(module="Leads")
    already = leads.filter(data__City=NEW_CITY) | leads.filter(data__Lead_Status=NEW_STATUS)
    writable_ids = writable("Leads", THRESHOLD, exclude=already.values_list("id", flat=True))
    ids = [*writable_ids, LOCKED_LEAD, NOT_APPROVED_LEAD]
    before = {record.pk: record.data for record in Record.objects.filter(pk__in=ids)}

    # 1. The operator's job: 12 records to send, above the threshold of 10, so it waits.
    job = submitted_job(operator, connection, ids, "Everyone we met at the fair")
    assert job.status == Status.AWAITING_APPROVAL
    reason = f"12 records, above the approval threshold of {THRESHOLD}"
    assert job.approval_reasons == [reason]

    # 2. The manager finds it in her queue, with why it waits.
    log_in(page, url, "maria")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
    expect(page.get_by_role("heading", name="Jobs awaiting approval")).to_be_visible()
    queued = page.get_by_role("row").filter(
        has=page.get_by_role("link", name=f"#{job.pk}", exact=True)
    )
    expect(queued).to_contain_text(reason)
    expect(queued).to_contain_text("olivia")
    queued.get_by_role("link", name=f"#{job.pk}", exact=True).click()

    # 3. The same preview the owner saw: before → after, and the records Zoho will refuse.
    expect(page.get_by_role("heading", name=f"Job #{job.pk}: Leads")).to_be_visible()
    expect(page.locator("#preview-summary")).to_contain_text("12 will change")
    first = writable_ids[0]
    first_row = record_row(page, first)
    expect(first_row).to_contain_text(f"{before[first]['City']} → {NEW_CITY}")
    expect(first_row).to_contain_text(f"{before[first]['Lead_Status']} → {NEW_STATUS}")
    expect(record_row(page, LOCKED_LEAD)).to_contain_text("locked")
    expect(record_row(page, NOT_APPROVED_LEAD)).to_contain_text("awaits approval")

    # 4. Approve with a note: the job page shows the run under way, then its outcome, by
    #    itself (htmx polls, then reloads the page when the job ends).
    page.get_by_label("Note").fill(NOTE)
    page.get_by_role("button", name="Approve and run").click()
    expect(page.get_by_text(f"Job {job.pk} is approved and queued.")).to_be_visible()
    progress = page.locator("#job-progress")
    expect(progress.locator("progress")).to_be_visible()
    expect(progress).to_contain_text("Completed with errors", timeout=WORKER_TIMEOUT_MS)
    expect(progress.locator("progress")).to_have_count(0)
    for code, count in [("SUCCESS", 10), ("RECORD_LOCKED", 1), ("NOT_APPROVED", 1)]:
        expect(progress.get_by_role("link", name=f"{code} {count}", exact=True)).to_be_visible()
    expect(progress.locator(".counts li")).to_have_count(3)
    expect(page.locator("dd").filter(has_text=NOTE)).to_contain_text("maria")
    expect(page.locator(".timeline")).to_contain_text(f"Approved by maria: {NOTE}")
    expect(record_row(page, first)).to_contain_text("SUCCESS")
    expect(record_row(page, LOCKED_LEAD)).to_contain_text("RECORD_LOCKED")

    # 5. Revert: a new job, previewed by the worker, restores the 10 records it changed.
    page.get_by_role("button", name="Revert…").click()
    revert = Job.objects.get(revert_of=job)
    expect(page.get_by_text(f"Job {revert.pk} reverts job {job.pk}")).to_be_visible()
    summary = page.locator("#preview-summary")
    expect(summary).to_contain_text("10 will be restored", timeout=WORKER_TIMEOUT_MS)
    expect(summary).to_contain_text(f"0 changed since job #{job.pk}")
    expect(summary).to_contain_text("10 records will be sent, in 1 call")
    expect(record_row(page, first)).to_contain_text(f"{NEW_CITY} → {before[first]['City']}")
    expect(record_row(page, LOCKED_LEAD)).to_have_count(0)

    # 6. Confirm with a reason: 10 records, at the threshold, so it runs without approval.
    page.get_by_role("link", name="Next: confirm").click()
    expect(
        page.get_by_role("heading", name=f"Job #{revert.pk}: confirm and submit")
    ).to_be_visible()
    expect(page.get_by_text("wait for a manager's approval")).to_have_count(0)
    page.get_by_label("Reason").fill(f"Revert of job {job.pk}: {REVERT_REASON}")
    page.get_by_role("button", name="Submit 10 records").click()
    progress = page.locator("#job-progress")
    expect(progress.get_by_role("heading")).to_have_text("Completed", timeout=WORKER_TIMEOUT_MS)
    expect(progress.get_by_role("link", name="SUCCESS 10", exact=True)).to_be_visible()
    expect(progress.locator(".counts li")).to_have_count(1)

    # 7. The two jobs link to each other; the reverted one offers no second revert.
    reverts = page.locator("dt:text-is('Reverts') + dd")
    reverts.get_by_role("link", name=f"job #{job.pk}", exact=True).click()
    reverted_by = page.locator("dt:text-is('Reverted by') + dd")
    expect(reverted_by).to_have_text(f"job #{revert.pk} (completed)")
    expect(page.get_by_role("button", name="Revert…")).to_have_count(0)

    # Every changed record holds exactly what it held before the first job; the two that
    # Zoho refused were never touched.
    after = {record.pk: record.data for record in Record.objects.filter(pk__in=ids)}
    assert after == before

    job.refresh_from_db()
    revert.refresh_from_db()
    assert job.status == Status.COMPLETED_WITH_ERRORS
    assert job.outcome_counts == {"SUCCESS": 10, "RECORD_LOCKED": 1, "NOT_APPROVED": 1}
    assert (job.decided_by, job.decision_note) == (manager, NOTE)
    assert revert.status == Status.COMPLETED
    assert revert.kind == Job.Kind.REVERT
    assert revert.owner == manager
    assert revert.outcome_counts == {"SUCCESS": 10}
    assert revert.approval_reasons == []
    assert revert.reason == f"Revert of job {job.pk}: {REVERT_REASON}"

    # The audit trails: who did what, in order.
    assert trail(job) == [
        (Kind.DRAFTED, operator),
        (Kind.CHANGES_SET, operator),
        (Kind.CHANGES_SET, operator),
        (Kind.RECORDS_SELECTED, operator),
        (Kind.PREVIEW_STARTED, operator),
        (Kind.PREVIEWED, None),
        (Kind.SUBMITTED, operator),
        (Kind.APPROVAL_REQUESTED, operator),
        (Kind.APPROVED, manager),
        (Kind.STARTED, None),
        (Kind.BATCH_SENT, None),
        (Kind.BATCH_SENT, None),
        (Kind.VERIFIED, None),
        (Kind.FINISHED, None),
        (Kind.REVERTED, manager),
    ]
    assert job.events.get(kind=Kind.APPROVED).message == NOTE
    assert job.events.get(kind=Kind.APPROVAL_REQUESTED).message == reason
    assert job.events.get(kind=Kind.REVERTED).message == f"Job {revert.pk} reverts 10 records"
    assert trail(revert) == [
        (Kind.DRAFTED, manager),
        (Kind.RECORDS_SELECTED, manager),
        (Kind.PREVIEW_STARTED, manager),
        (Kind.PREVIEWED, None),
        (Kind.SUBMITTED, manager),
        (Kind.STARTED, None),
        (Kind.BATCH_SENT, None),
        (Kind.VERIFIED, None),
        (Kind.FINISHED, None),
    ]
    assert revert.events.get(kind=Kind.DRAFTED).message == f"Revert of job {job.pk}"
    assert revert.events.get(kind=Kind.SUBMITTED).message == revert.reason


def trail(job: Job) -> list[tuple[str, User | None]]:
    return [(event.kind, event.actor) for event in job.events.select_related("actor")]


def test_manager_cannot_approve_her_own_job_in_the_browser(
    page: Page, live_server, manager, policy, celery_worker_process: Popen
) -> None:
    with worker_log_on_failure(celery_worker_process):
        seed(leads=60)
        connection = make_sandbox_connection(live_server.url)
        ids = writable("Leads", THRESHOLD + 1)
        job = submitted_job(manager, connection, ids, "Tidying my own leads")
    assert job.status == Status.AWAITING_APPROVAL

    log_in(page, live_server.url, "maria")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
    queued = page.get_by_role("row").filter(
        has=page.get_by_role("link", name=f"#{job.pk}", exact=True)
    )
    expect(queued).to_contain_text("yours")
    queued.get_by_role("link", name=f"#{job.pk}", exact=True).click()

    expect(page.locator("#decision")).to_contain_text(
        "This is your own job: another manager must approve or reject it."
    )
    expect(page.get_by_role("button", name="Approve and run")).to_have_count(0)
    expect(page.get_by_role("button", name="Reject")).to_have_count(0)
    job.refresh_from_db()
    assert job.status == Status.AWAITING_APPROVAL
