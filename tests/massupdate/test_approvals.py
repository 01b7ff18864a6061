"""Approvals: which jobs wait for a manager, who may decide, when an approval lapses."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crmadmin.massupdate import operations
from crmadmin.massupdate.models import ApprovalPolicy, Batch, Job, JobEvent

from .conftest import build_job, preview, run, sandbox_value, text, writable

pytestmark = pytest.mark.usefixtures("eager_tasks")

Status = Job.Status
Kind = JobEvent.Kind
CITY = {"City": {"value": "Porto"}}


@pytest.fixture
def policy(db) -> ApprovalPolicy:
    policy = ApprovalPolicy.current()
    policy.threshold = 5
    policy.sensitive_fields = "Lead_Status\nDeals.Stage"
    policy.save()
    return policy


def submitted(job: Job, user=None) -> Job:
    """Preview and submit ``job``; it comes back as submitting left it."""
    preview(job)
    user = user or job.owner
    assert operations.submit(job=job, user=user, reason="Clean-up", token=job.submit_token)
    job.refresh_from_db()
    return job


def kinds(job: Job) -> list[str]:
    return list(job.events.values_list("kind", flat=True))


# --- Which jobs wait -----------------------------------------------------------------------


def test_a_job_above_the_threshold_waits_and_sends_nothing(policy, operator, connection):
    ids = writable("Leads", 6)
    before = [sandbox_value(i, "City") for i in ids]

    job = submitted(build_job(operator, connection, "Leads", CITY, ids))

    assert job.status == Status.AWAITING_APPROVAL
    assert job.approval_reasons == ["6 records, above the approval threshold of 5"]
    assert not Batch.objects.filter(job=job).exists()
    assert [sandbox_value(i, "City") for i in ids] == before
    requested = job.events.get(kind=Kind.APPROVAL_REQUESTED)
    assert requested.actor == operator
    assert requested.detail == {"reasons": job.approval_reasons}


def test_a_job_at_the_threshold_runs_at_once(policy, operator, connection):
    ids = writable("Leads", 5)

    job = run(build_job(operator, connection, "Leads", CITY, ids))

    assert job.status == Status.COMPLETED
    assert job.approval_reasons == []
    assert Kind.APPROVAL_REQUESTED not in kinds(job)
    assert all(sandbox_value(i, "City") == "Porto" for i in ids)


def test_only_records_that_would_be_sent_count_toward_the_threshold(policy, operator, connection):
    ids = writable("Leads", 7)
    # Two of them already hold the value: skipped, so five are sent.
    run(build_job(operator, connection, "Leads", CITY, ids[:2]))

    job = submitted(build_job(operator, connection, "Leads", CITY, ids))

    assert job.to_send == 5
    assert job.status != Status.AWAITING_APPROVAL


def test_a_sensitive_field_always_needs_approval(policy, operator, connection):
    ids = writable("Leads", 1)

    job = submitted(
        build_job(operator, connection, "Leads", {"Lead_Status": {"value": "Contacted"}}, ids)
    )

    assert job.status == Status.AWAITING_APPROVAL
    assert job.approval_reasons == ["changes Lead Status (Lead_Status), a sensitive field"]


def test_a_field_named_with_its_module_is_sensitive_in_that_module_only(policy):
    assert policy.sensitive_in("Deals", ["Stage", "Amount"]) == ["Stage"]
    assert policy.sensitive_in("Leads", ["Stage"]) == []
    assert policy.sensitive_in("Contacts", ["Lead_Status", "City"]) == ["Lead_Status"]


def test_the_policy_starts_from_the_settings(db):
    policy = ApprovalPolicy.current()

    assert policy.threshold == settings.CRMADMIN_APPROVAL_THRESHOLD
    assert policy.sensitive_in("Deals", ["Stage", "Owner", "Amount"]) == ["Stage", "Owner"]
    assert ApprovalPolicy.current().pk == policy.pk  # one row


def test_both_reasons_are_given_when_both_apply(policy, operator, connection):
    ids = writable("Leads", 6)
    values = {"Lead_Status": {"value": "Contacted"}, **CITY}

    job = submitted(build_job(operator, connection, "Leads", values, ids))

    assert len(job.approval_reasons) == 2


# --- Deciding -----------------------------------------------------------------------------


def test_a_manager_approves_and_the_job_runs(policy, operator, manager, connection):
    ids = writable("Leads", 6)
    job = submitted(build_job(operator, connection, "Leads", CITY, ids))

    operations.approve(job=job, user=manager, note="Checked with sales")

    job.refresh_from_db()
    assert job.status == Status.COMPLETED
    assert (job.decided_by, job.decision_note) == (manager, "Checked with sales")
    assert job.decided_at is not None
    assert all(sandbox_value(i, "City") == "Porto" for i in ids)
    trail = kinds(job)
    assert trail.index(Kind.SUBMITTED) < trail.index(Kind.APPROVAL_REQUESTED)
    assert trail.index(Kind.APPROVAL_REQUESTED) < trail.index(Kind.APPROVED)
    assert trail.index(Kind.APPROVED) < trail.index(Kind.STARTED)
    approved = job.events.get(kind=Kind.APPROVED)
    assert (approved.actor, approved.message) == (manager, "Checked with sales")


def test_nobody_approves_their_own_job(policy, manager, other_manager, connection):
    ids = writable("Leads", 6)
    job = submitted(build_job(manager, connection, "Leads", CITY, ids))

    with pytest.raises(operations.WorkflowError, match="their own job"):
        operations.approve(job=job, user=manager, note="")
    with pytest.raises(operations.WorkflowError, match="their own job"):
        operations.reject(job=job, user=manager, note="No")

    job.refresh_from_db()
    assert job.status == Status.AWAITING_APPROVAL
    operations.approve(job=job, user=other_manager, note="")
    job.refresh_from_db()
    assert job.status == Status.COMPLETED
    assert job.decided_by == other_manager


def test_a_rejected_job_ends_without_sending_and_needs_a_note(
    policy, operator, manager, connection
):
    ids = writable("Leads", 6)
    before = [sandbox_value(i, "City") for i in ids]
    job = submitted(build_job(operator, connection, "Leads", CITY, ids))

    with pytest.raises(operations.WorkflowError, match="Say why"):
        operations.reject(job=job, user=manager, note="  ")
    operations.reject(job=job, user=manager, note="Wrong city")

    job.refresh_from_db()
    assert job.status == Status.REJECTED
    assert job.is_final
    assert job.decision_note == "Wrong city"
    assert [sandbox_value(i, "City") for i in ids] == before
    assert not Batch.objects.filter(job=job).exists()
    with pytest.raises(operations.WorkflowError, match="not awaiting approval"):
        operations.approve(job=job, user=manager, note="")


def test_an_approval_lapses_with_an_old_preview(policy, operator, manager, connection):
    ids = writable("Leads", 6)
    job = submitted(build_job(operator, connection, "Leads", CITY, ids))
    old = timezone.now() - timedelta(hours=settings.CRMADMIN_APPROVAL_MAX_AGE_HOURS, minutes=1)
    Job.objects.filter(pk=job.pk).update(previewed_at=old)
    job.refresh_from_db()

    with pytest.raises(operations.WorkflowError, match="new preview"):
        operations.approve(job=job, user=manager, note="")

    job.refresh_from_db()
    assert job.status == Status.PREVIEWED
    assert job.preview_is_stale
    assert job.events.filter(kind=Kind.APPROVAL_LAPSED, actor=manager).exists()
    assert not Batch.objects.filter(job=job).exists()
    # A new preview and a new submission put it before the managers again.
    job = submitted(job)
    assert job.status == Status.AWAITING_APPROVAL
    operations.approve(job=job, user=manager, note="")
    job.refresh_from_db()
    assert job.status == Status.COMPLETED


def test_a_preview_just_within_the_age_can_be_approved(policy, operator, manager, connection):
    ids = writable("Leads", 6)
    job = submitted(build_job(operator, connection, "Leads", CITY, ids))
    recent = timezone.now() - timedelta(hours=settings.CRMADMIN_APPROVAL_MAX_AGE_HOURS - 1)
    Job.objects.filter(pk=job.pk).update(previewed_at=recent)
    job.refresh_from_db()

    operations.approve(job=job, user=manager, note="")

    job.refresh_from_db()
    assert job.status == Status.COMPLETED


def test_a_second_decision_is_refused(policy, operator, manager, other_manager, connection):
    job = submitted(build_job(operator, connection, "Leads", CITY, writable("Leads", 6)))
    stale = Job.objects.get(pk=job.pk)  # what the second manager's page was made from

    operations.approve(job=job, user=manager, note="")

    with pytest.raises(operations.WorkflowError, match="not awaiting approval"):
        operations.reject(job=stale, user=other_manager, note="Too late")
    assert list(Job.objects.filter(pk=job.pk).values_list("decided_by", flat=True)) == [manager.pk]
    assert kinds(job).count(Kind.STARTED) == 1


def test_the_owner_withdraws_a_waiting_job(policy, operator, connection):
    job = submitted(build_job(operator, connection, "Leads", CITY, writable("Leads", 6)))

    assert operations.cancel(job=job, user=operator)

    job.refresh_from_db()
    assert job.status == Status.CANCELLED
    assert not Batch.objects.filter(job=job).exists()


def test_renewing_the_preview_withdraws_the_request(policy, operator, manager, connection):
    job = submitted(build_job(operator, connection, "Leads", CITY, writable("Leads", 6)))

    preview(job)

    job.refresh_from_db()
    assert job.status == Status.PREVIEWED
    assert job.approval_reasons == []
    with pytest.raises(operations.WorkflowError, match="not awaiting approval"):
        operations.approve(job=job, user=manager, note="")


# --- The pages ------------------------------------------------------------------------------


def test_the_queue_lists_waiting_jobs_for_managers_only(
    policy, operator, manager_client, connection
):
    job = submitted(build_job(operator, connection, "Leads", CITY, writable("Leads", 6)))
    operators_browser = Client()
    operators_browser.force_login(operator)

    refused = operators_browser.get(reverse("massupdate:approvals"))
    page = manager_client.get(reverse("massupdate:approvals"))

    assert refused.status_code == 403
    assert page.status_code == 200
    assert reverse("massupdate:job-approval", args=[job.pk]) in page.content.decode()
    assert "6 records, above the approval threshold of 5" in text(page)


def test_the_decision_page_shows_the_preview_and_approves(
    policy, operator, manager, client, connection
):
    ids = writable("Leads", 6)
    job = submitted(build_job(operator, connection, "Leads", CITY, ids))
    client.force_login(manager)
    url = reverse("massupdate:job-approval", args=[job.pk])

    page = client.get(url)
    assert page.status_code == 200
    shown = text(page)
    assert "Approve and run" in shown
    assert "Porto" in shown and ids[0] in shown  # the before → after table

    response = client.post(url, {"decision": "approve", "note": "Go"}, follow=True)

    assert "is approved and queued" in text(response)
    job.refresh_from_db()
    assert job.status == Status.COMPLETED
    assert job.decision_note == "Go"


def test_the_owner_may_see_but_not_use_the_decision_page(
    policy, manager, manager_client, connection
):
    job = submitted(build_job(manager, connection, "Leads", CITY, writable("Leads", 6)))
    url = reverse("massupdate:job-approval", args=[job.pk])

    page = manager_client.get(url)
    response = manager_client.post(url, {"decision": "approve", "note": ""}, follow=True)

    assert "another manager must approve or reject it" in text(page)
    assert "Approve and run" not in text(page)
    assert "their own job" in text(response)
    job.refresh_from_db()
    assert job.status == Status.AWAITING_APPROVAL


def test_an_operator_cannot_approve_even_her_own_job(policy, operator, operator_client, connection):
    job = submitted(build_job(operator, connection, "Leads", CITY, writable("Leads", 6)))
    url = reverse("massupdate:job-approval", args=[job.pk])

    assert operator_client.get(url).status_code == 403
    assert operator_client.post(url, {"decision": "approve"}).status_code == 403
    job.refresh_from_db()
    assert job.status == Status.AWAITING_APPROVAL


def test_a_rejection_without_a_note_is_refused_on_the_page(
    policy, operator, manager, client, connection
):
    job = submitted(build_job(operator, connection, "Leads", CITY, writable("Leads", 6)))
    client.force_login(manager)
    url = reverse("massupdate:job-approval", args=[job.pk])

    response = client.post(url, {"decision": "reject", "note": ""}, follow=True)

    assert "Say why the job is rejected" in text(response)
    job.refresh_from_db()
    assert job.status == Status.AWAITING_APPROVAL


@pytest.mark.parametrize(
    "data", [{}, {"decision": "maybe"}, {"decision": "approve", "note": "x" * 2001}]
)
def test_a_malformed_decision_changes_nothing(policy, operator, manager, client, connection, data):
    job = submitted(build_job(operator, connection, "Leads", CITY, writable("Leads", 6)))
    client.force_login(manager)

    response = client.post(reverse("massupdate:job-approval", args=[job.pk]), data)

    assert response.status_code == 400
    job.refresh_from_db()
    assert job.status == Status.AWAITING_APPROVAL


def test_the_confirm_page_says_the_job_will_wait(policy, operator, operator_client, connection):
    job = preview(build_job(operator, connection, "Leads", CITY, writable("Leads", 6)))

    page = operator_client.get(reverse("massupdate:job-confirm", args=[job.pk]))

    assert "will wait for a manager's approval" in text(page)
    assert "Ask for approval of 6 records" in text(page)
