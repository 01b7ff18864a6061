"""Running jobs against the sandbox over HTTP: what is sent, what is recorded, what lands."""

import threading
import time
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from crmadmin.massupdate import operations
from crmadmin.massupdate.models import Batch, Job, JobEvent, JobRecord, Outcome
from crmadmin.sandbox import faults
from crmadmin.sandbox.models import Record
from crmadmin.sandbox.seed import LOCKED_LEAD, MISSING_IDS, NOT_APPROVED_LEAD

from .conftest import build_job, preview, run, sandbox_value, set_sandbox_value, writable

pytestmark = pytest.mark.usefixtures("eager_tasks")


def test_special_records_get_zohos_codes_and_the_rest_land(operator, connection):
    ids = writable("Leads", 10)
    special = [NOT_APPROVED_LEAD, LOCKED_LEAD, MISSING_IDS[0]]
    job = build_job(operator, connection, "Leads", {"City": {"value": "Lisbon"}}, ids + special)
    job = run(job)

    assert job.status == Job.Status.COMPLETED_WITH_ERRORS
    assert job.outcome_counts == {
        "SUCCESS": 10,
        "NOT_APPROVED": 1,
        "RECORD_LOCKED": 1,
        "INVALID_DATA": 1,
    }
    codes = dict(JobRecord.objects.filter(job=job).values_list("record_id", "code"))
    assert codes[NOT_APPROVED_LEAD] == "NOT_APPROVED"
    assert codes[LOCKED_LEAD] == "RECORD_LOCKED"
    assert codes[MISSING_IDS[0]] == "INVALID_DATA"
    assert all(sandbox_value(i, "City") == "Lisbon" for i in ids)
    assert sandbox_value(NOT_APPROVED_LEAD, "City") != "Lisbon"
    assert job.verification == {"checked": 10, "mismatched": 0, "unreadable": 0}
    assert Outcome.objects.filter(job=job).count() == 13


def test_outcomes_keep_zohos_details_http_status_and_batch(operator, connection):
    job = run(build_job(operator, connection, "Leads", {"City": {"value": "Oslo"}}, [LOCKED_LEAD]))
    outcome = Outcome.objects.get(job=job)
    assert outcome.code == "RECORD_LOCKED"
    assert outcome.details == {"action": "zia_vision_processing", "id": LOCKED_LEAD}
    assert outcome.http_status == 400
    assert outcome.batch == 1
    batch = Batch.objects.get(job=job)
    assert batch.status == Batch.Status.DONE
    assert batch.exchanges[0]["http_status"] == 400
    assert batch.exchanges[0]["request_headers"]["Authorization"] == "[REDACTED]"
    connection.refresh_from_db()
    assert connection.access_token not in str(batch.exchanges)


def test_multiselect_add_keeps_the_current_values_and_replace_drops_them(operator, connection):
    ids = writable("Leads", 4)
    adding, replacing = ids[:2], ids[2:]
    for record_id in adding + replacing:
        set_sandbox_value(record_id, "Product_Interest", ["CRM", "Desk"])

    add = {"value": ["Mail", "CRM"], "mode": "add"}
    run(build_job(operator, connection, "Leads", {"Product_Interest": add}, adding))
    replace = {"value": ["Mail"], "mode": "replace"}
    run(build_job(operator, connection, "Leads", {"Product_Interest": replace}, replacing))

    assert all(sandbox_value(i, "Product_Interest") == ["CRM", "Desk", "Mail"] for i in adding)
    assert all(sandbox_value(i, "Product_Interest") == ["Mail"] for i in replacing)


def test_three_fields_on_deals_go_in_one_call_per_batch(operator, manager, connection):
    ids = writable("Deals", 5)
    values = {
        "Stage": {"value": "Negotiation/Review"},
        "Probability": {"value": "75"},
        "Next_Step": {"value": "Send the contract"},
    }
    # Deals.Stage is a sensitive field: the job waits for a manager's approval.
    job = run(build_job(operator, connection, "Deals", values, ids), approver=manager)

    assert job.status == Job.Status.COMPLETED
    batch = Batch.objects.get(job=job)
    assert batch.fields == ["Stage", "Probability", "Next_Step"]
    for record_id in ids:
        data = Record.objects.get(pk=record_id).data
        assert (data["Stage"], data["Probability"], data["Next_Step"]) == (
            "Negotiation/Review",
            75,
            "Send the contract",
        )


def test_two_fields_on_leads_are_sent_one_call_each_with_an_outcome_per_field(operator, connection):
    ids = writable("Leads", 3)
    values = {"City": {"value": "Porto"}, "Rating": {"value": "Hot"}}
    job = run(build_job(operator, connection, "Leads", values, ids))

    assert [b.fields for b in Batch.objects.filter(job=job)] == [["City"], ["Rating"]]
    assert Outcome.objects.filter(job=job).count() == 6
    assert set(Outcome.objects.filter(job=job).values_list("step", flat=True)) == {0, 1}
    assert all(sandbox_value(i, "City") == "Porto" for i in ids)
    assert all(sandbox_value(i, "Rating") == "Hot" for i in ids)


def test_a_request_level_error_marks_every_record_of_its_batch(operator, connection):
    """The CRM refuses a value the metadata offered when the job was prepared."""
    ids = writable("Leads", 4)
    job = preview(build_job(operator, connection, "Leads", {"Rating": {"value": "Hot"}}, ids))
    # The org's picklist changed between preview and run: "Hot" is gone.
    Job.objects.filter(pk=job.pk).update(
        changes=[{"field": "Rating", "value": "Scorching", "mode": ""}]
    )
    job.refresh_from_db()
    job = run(job)

    assert job.status == Job.Status.FAILED
    assert job.outcome_counts == {"INVALID_DATA": 4}
    batch = Batch.objects.get(job=job)
    assert batch.error_code == "INVALID_DATA"
    assert set(JobRecord.objects.filter(job=job).values_list("message", flat=True)) == {
        batch.error_message
    }


def test_records_already_at_the_target_are_skipped_unless_included(operator, connection):
    ids = writable("Leads", 4)
    set_sandbox_value(ids[0], "City", "Lyon")
    job = preview(build_job(operator, connection, "Leads", {"City": {"value": "Lyon"}}, ids))
    assert job.preview_counts["unchanged"] == 1
    assert job.preview_counts["to_send"] == 3

    operations.set_include_unchanged(job=job, include=True)
    job.refresh_from_db()
    assert job.preview_counts["to_send"] == 4
    operations.set_include_unchanged(job=job, include=False)
    job = run(job)

    assert Batch.objects.get(job=job).record_ids == ids[1:]
    skipped = JobRecord.objects.get(job=job, record_id=ids[0])
    assert skipped.status == JobRecord.Status.SKIPPED


def test_submitting_twice_starts_one_job(operator, connection):
    job = preview(
        build_job(operator, connection, "Leads", {"City": {"value": "Rome"}}, writable("Leads", 2))
    )
    token = job.submit_token
    assert operations.submit(job=job, user=operator, reason="first click", token=token)
    job.refresh_from_db()
    assert not operations.submit(job=job, user=operator, reason="second click", token=token)
    assert JobEvent.objects.filter(job=job, kind=JobEvent.Kind.STARTED).count() == 1
    assert Batch.objects.filter(job=job).count() == 1
    assert job.reason == "first click"


def test_a_confirm_form_from_before_a_renewed_preview_cannot_submit(operator, connection):
    job = preview(
        build_job(operator, connection, "Leads", {"City": {"value": "Bern"}}, writable("Leads", 2))
    )
    old_token = job.submit_token
    operations.start_preview(job=job, user=operator)
    job.refresh_from_db()
    assert not operations.submit(job=job, user=operator, reason="stale tab", token=old_token)
    job.refresh_from_db()
    assert job.status == Job.Status.PREVIEWED


def test_a_stale_preview_must_be_renewed(operator, connection, settings):
    job = preview(
        build_job(operator, connection, "Leads", {"City": {"value": "Kyiv"}}, writable("Leads", 2))
    )
    settings.CRMADMIN_PREVIEW_MAX_AGE_MINUTES = 5
    Job.objects.filter(pk=job.pk).update(previewed_at=job.previewed_at - timedelta(minutes=6))
    job.refresh_from_db()
    with pytest.raises(operations.WorkflowError, match="renew"):
        operations.submit(job=job, user=operator, reason="too late", token=job.submit_token)
    assert Job.objects.get(pk=job.pk).status == Job.Status.PREVIEWED


def test_cancel_stops_the_batches_not_yet_sent(operator, connection, settings):
    connection.concurrency_limit = 1
    connection.save()
    ids = writable("Leads", 30)
    job = preview(build_job(operator, connection, "Leads", {"City": {"value": "Nice"}}, ids))
    # Three batches of ten would be sent one after the other; make each take a while.
    Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED)
    faults.configure(latency=0.4)
    settings.CRMADMIN_BATCH_SIZE = 10
    try:
        worker = threading.Thread(target=operations.run_job, kwargs={"job_id": job.pk})
        worker.start()
        deadline = time.monotonic() + 30
        while not Job.objects.get(pk=job.pk).calls_done and time.monotonic() < deadline:
            time.sleep(0.05)
        assert operations.cancel(job=job, user=operator)
        worker.join(timeout=60)
    finally:
        faults.reset()

    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert job.outcome_counts.get("NOT_SENT", 0) >= 10
    assert job.outcome_counts.get("SUCCESS", 0) >= 10
    sent = JobRecord.objects.filter(job=job, code="SUCCESS").values_list("record_id", flat=True)
    unsent = JobRecord.objects.filter(job=job, code="NOT_SENT").values_list("record_id", flat=True)
    assert all(sandbox_value(i, "City") == "Nice" for i in sent)
    assert not any(sandbox_value(i, "City") == "Nice" for i in unsent)


def test_retry_failed_starts_a_linked_job_for_the_retryable_failures(operator, connection):
    ids = writable("Leads", 3)
    records = ids + [NOT_APPROVED_LEAD, LOCKED_LEAD, MISSING_IDS[0]]
    job = run(build_job(operator, connection, "Leads", {"City": {"value": "Graz"}}, records))

    Record.objects.filter(pk=NOT_APPROVED_LEAD).update(approval_state=Record.APPROVED)
    retry = operations.retry_failed(job=job, user=operator)
    retry.refresh_from_db()

    assert retry.retry_of == job
    assert retry.status == Job.Status.PREVIEWED
    assert sorted(
        JobRecord.objects.filter(job=retry).values_list("record_id", flat=True)
    ) == sorted([NOT_APPROVED_LEAD, LOCKED_LEAD])
    retry = run(retry)
    assert retry.outcome_counts == {"SUCCESS": 1, "RECORD_LOCKED": 1}
    assert sandbox_value(NOT_APPROVED_LEAD, "City") == "Graz"


def test_the_read_back_reports_a_record_changed_between_preview_and_run(operator, connection):
    ids = writable("Leads", 2)
    for record_id in ids:
        set_sandbox_value(record_id, "Product_Interest", ["CRM"])
    add = {"Product_Interest": {"value": ["Mail"], "mode": "add"}}
    job = preview(build_job(operator, connection, "Leads", add, ids))
    # Someone else edits one record after the preview: "add" then lands on other values.
    set_sandbox_value(ids[0], "Product_Interest", ["Books"])
    job = run(job)

    assert job.verification["mismatched"] == 1
    changed = JobRecord.objects.get(job=job, record_id=ids[0])
    assert changed.verified is False
    assert "Product Interest holds Books; Mail" in changed.verify_message
    assert JobRecord.objects.get(job=job, record_id=ids[1]).verified is True


def test_a_preview_the_crm_refuses_returns_the_job_to_draft_with_the_reason(operator, connection):
    job = build_job(
        operator, connection, "Leads", {"City": {"value": "Riga"}}, writable("Leads", 2)
    )
    connection.refresh_token = "1000.revoked.token"
    connection.access_token = ""
    connection.save()
    operations.start_preview(job=job, user=operator)
    job.refresh_from_db()

    assert job.status == Job.Status.DRAFT
    assert job.error_message.startswith("The preview failed:")
    assert JobEvent.objects.filter(job=job, kind=JobEvent.Kind.PREVIEW_FAILED).exists()


def test_a_connection_whose_token_is_gone_fails_the_job_and_sends_nothing(operator, connection):
    ids = writable("Leads", 3)
    job = preview(build_job(operator, connection, "Leads", {"City": {"value": "Cork"}}, ids))
    connection.refresh_from_db()
    connection.refresh_token = "1000.revoked.token"
    connection.access_token_expires_at = timezone.now() - timedelta(minutes=1)
    connection.save()
    job = run(job)

    assert job.status == Job.Status.FAILED
    assert job.outcome_counts == {"NOT_SENT": 3}
    assert "invalid" in job.error_message.lower()
    assert not any(sandbox_value(i, "City") == "Cork" for i in ids)


def test_records_the_crm_cannot_read_back_are_reported_not_guessed(operator, connection, settings):
    ids = writable("Leads", 3)
    job = preview(build_job(operator, connection, "Leads", {"City": {"value": "Bonn"}}, ids))
    settings.CRMADMIN_HTTP_MAX_ATTEMPTS = 1
    faults.queue("ok", "500")  # the write succeeds, the read-back gets a server error
    try:
        job = run(job)
    finally:
        faults.reset()

    assert job.status == Job.Status.COMPLETED
    assert job.verification == {"checked": 0, "mismatched": 0, "unreadable": 3}
    assert not JobRecord.objects.filter(job=job, verified__isnull=False).exists()
    assert all(sandbox_value(i, "City") == "Bonn" for i in ids)


def test_batches_run_several_at_once_but_never_above_the_connections_limit(
    operator, connection, settings
):
    connection.concurrency_limit = 2
    connection.save()
    settings.CRMADMIN_BATCH_SIZE = 10
    job = preview(
        build_job(operator, connection, "Leads", {"City": {"value": "Gent"}}, writable("Leads", 50))
    )
    # The sandbox answers 429 to a third call at once, as Zoho does above an org's limit.
    faults.configure(latency=0.3, concurrency=2)
    try:
        job = run(job)
    finally:
        faults.reset()

    assert job.status == Job.Status.COMPLETED
    assert job.client_stats["retries"] == {}
    spans = [
        (e["started_at"], e["duration"])
        for batch in Batch.objects.filter(job=job)
        for e in batch.exchanges
    ]
    edges = sorted(
        [(datetime.fromisoformat(s).timestamp(), 1) for s, _ in spans]
        + [(datetime.fromisoformat(s).timestamp() + d, -1) for s, d in spans]
    )
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    assert peak == 2
