"""Revert: a job of its own that writes back the before-values, where nobody changed them since."""

import json
import math
import re

import pytest
from django.test import Client
from django.urls import reverse

from crmadmin.massupdate import operations
from crmadmin.massupdate.models import CONFLICT, ApprovalPolicy, Batch, Job, JobEvent, JobRecord
from crmadmin.sandbox.models import Record
from crmadmin.sandbox.seed import LOCKED_LEAD, NOT_APPROVED_LEAD, seed
from crmadmin.zoho.client import PUT_RECORDS_PER_CALL

from .conftest import build_job, preview, run, sandbox_value, set_sandbox_value, text, writable

pytestmark = pytest.mark.usefixtures("eager_tasks")

Status = Job.Status
CITY = {"City": {"value": "Porto"}}


@pytest.fixture
def crm(transactional_db) -> dict:
    """More leads than one PUT takes, so a revert needs several calls."""
    return seed(leads=260)


def values(ids: list[str], field: str) -> dict[str, object]:
    return {i: sandbox_value(i, field) for i in ids}


def reverted(job: Job, user=None, approver=None) -> Job:
    """Start a revert of ``job``, submit it and let it run; the revert comes back finished."""
    revert = operations.start_revert(job=job, user=user or job.owner)
    revert.refresh_from_db()
    assert revert.status == Status.PREVIEWED, revert.error_message
    return run(revert, reason="Undo", approver=approver)


def test_revert_restores_exactly_the_before_values(operator, connection):
    ids = writable("Leads", 150)
    before = values(ids, "City")
    job = run(build_job(operator, connection, "Leads", CITY, ids))
    assert set(values(ids, "City").values()) == {"Porto"}

    revert = reverted(job)

    assert revert.status == Status.COMPLETED
    assert (revert.kind, revert.revert_of) == (Job.Kind.REVERT, job)
    assert revert.outcome_counts == {"SUCCESS": 150}
    assert values(ids, "City") == before
    assert revert.verification == {"checked": 150, "mismatched": 0, "unreadable": 0}


def test_revert_writes_with_put_a_hundred_records_a_call(operator, connection):
    ids = writable("Leads", 150)
    before = values(ids, "City")
    job = run(build_job(operator, connection, "Leads", CITY, ids))

    revert = reverted(job)

    batches = list(Batch.objects.filter(job=revert).order_by("number"))
    assert len(batches) == math.ceil(150 / PUT_RECORDS_PER_CALL) == 2
    assert [len(b.record_ids) for b in batches] == [100, 50]
    exchange = batches[0].exchanges[0]
    assert exchange["method"] == "PUT"
    assert exchange["url"].endswith("/crm/v2.1/Leads")
    body = json.loads(exchange["request_body"])
    assert body["trigger"] == []
    assert body["data"][0] == {
        "id": batches[0].record_ids[0],
        "City": before[body["data"][0]["id"]],
    }


def test_a_multi_select_that_was_added_to_gets_back_exactly_its_list(operator, connection):
    ids = writable("Leads", 4)
    lists = [["CRM"], ["CRM", "Desk"], [], ["Mail"]]
    for record_id, items in zip(ids, lists, strict=True):
        set_sandbox_value(record_id, "Product_Interest", items)
    add = {"Product_Interest": {"value": ["Mail", "Desk"], "mode": "add"}}
    job = run(build_job(operator, connection, "Leads", add, ids))
    assert set(sandbox_value(ids[0], "Product_Interest")) == {"CRM", "Desk", "Mail"}

    reverted(job)

    assert [sandbox_value(i, "Product_Interest") for i in ids] == lists


def test_a_record_changed_since_is_a_conflict_and_left_alone(operator, connection):
    ids = writable("Leads", 5)
    before = values(ids, "City")
    job = run(build_job(operator, connection, "Leads", CITY, ids))
    set_sandbox_value(ids[0], "City", "Braga")  # a colleague, after the job

    revert = operations.start_revert(job=job, user=operator)
    revert.refresh_from_db()

    assert revert.preview_counts["conflicts"] == 1
    assert revert.preview_counts["will_change"] == 4
    conflict = JobRecord.objects.get(job=revert, record_id=ids[0])
    assert (conflict.conflict, conflict.included, conflict.warnings) == (True, False, ["conflict"])

    revert = run(revert, reason="Undo")

    assert sandbox_value(ids[0], "City") == "Braga"
    assert values(ids[1:], "City") == {i: before[i] for i in ids[1:]}
    assert revert.status == Status.COMPLETED
    assert revert.outcome_counts == {"SUCCESS": 4, CONFLICT: 1}
    conflict.refresh_from_db()
    assert (conflict.code, conflict.status) == (CONFLICT, JobRecord.Status.SKIPPED)
    assert ids[0] not in [rid for b in Batch.objects.filter(job=revert) for rid in b.record_ids]


def test_a_record_already_back_at_its_old_value_is_skipped(operator, connection):
    ids = writable("Leads", 3)
    before = values(ids, "City")
    job = run(build_job(operator, connection, "Leads", CITY, ids))
    set_sandbox_value(ids[0], "City", before[ids[0]])

    revert = operations.start_revert(job=job, user=operator)
    revert.refresh_from_db()

    assert revert.preview_counts["unchanged"] == 1
    assert revert.preview_counts["conflicts"] == 0
    assert revert.to_send == 2


def test_only_records_the_job_changed_are_reverted(operator, connection):
    ids = writable("Leads", 4)
    job = run(
        build_job(operator, connection, "Leads", CITY, [*ids, LOCKED_LEAD, NOT_APPROVED_LEAD])
    )
    assert job.success_count == 4

    revert = operations.start_revert(job=job, user=operator)

    assert sorted(
        JobRecord.objects.filter(job=revert).values_list("record_id", flat=True)
    ) == sorted(ids)


def test_a_record_that_failed_in_every_call_is_not_reverted(operator, connection):
    # Two fields on Leads go as two calls; a record locked during the job fails in both.
    ids = writable("Leads", 3)
    before_city = values(ids, "City")
    job = preview(
        build_job(operator, connection, "Leads", {**CITY, "Rating": {"value": "Hot"}}, ids)
    )
    Record.objects.filter(pk=ids[0]).update(locked_action="zia_vision_processing")
    job = run(job)
    assert JobRecord.objects.get(job=job, record_id=ids[0]).code == "RECORD_LOCKED"
    Record.objects.filter(pk=ids[0]).update(locked_action="")

    revert = reverted(job)

    assert not JobRecord.objects.filter(job=revert, record_id=ids[0]).exists()
    assert values(ids[1:], "City") == {i: before_city[i] for i in ids[1:]}
    assert revert.outcome_counts == {"SUCCESS": 2}


def test_a_revert_goes_through_approval_under_the_same_rules(
    operator, manager, other_manager, connection
):
    ids = writable("Leads", 6)
    before = values(ids, "City")
    policy = ApprovalPolicy.current()
    policy.threshold = 5
    policy.save()
    job = run(build_job(operator, connection, "Leads", CITY, ids), approver=manager)

    revert = operations.start_revert(job=job, user=manager)
    revert.refresh_from_db()
    operations.submit(job=revert, user=manager, reason="Undo", token=revert.submit_token)
    revert.refresh_from_db()

    assert revert.status == Status.AWAITING_APPROVAL
    assert revert.approval_reasons == ["6 records, above the approval threshold of 5"]
    with pytest.raises(operations.WorkflowError, match="their own job"):
        operations.approve(job=revert, user=manager, note="")
    operations.approve(job=revert, user=other_manager, note="Yes, undo it")
    revert.refresh_from_db()
    assert revert.status == Status.COMPLETED
    assert values(ids, "City") == before


def test_a_revert_can_itself_be_reverted(operator, connection):
    ids = writable("Leads", 3)
    job = run(build_job(operator, connection, "Leads", CITY, ids))
    revert = reverted(job)

    redo = reverted(revert)

    assert redo.status == Status.COMPLETED
    assert set(values(ids, "City").values()) == {"Porto"}


def test_a_failed_revert_record_can_be_retried_with_its_values(operator, connection):
    ids = writable("Leads", 3)
    before = values(ids, "City")
    job = run(build_job(operator, connection, "Leads", CITY, ids))
    revert = operations.start_revert(job=job, user=operator)
    revert.refresh_from_db()
    Record.objects.filter(pk=ids[1]).update(locked_action="zia_vision_processing")
    revert = run(revert, reason="Undo")
    assert revert.outcome_counts == {"SUCCESS": 2, "RECORD_LOCKED": 1}
    Record.objects.filter(pk=ids[1]).update(locked_action="")

    retry = operations.retry_failed(job=revert, user=operator)
    retry.refresh_from_db()

    assert (retry.kind, retry.revert_of, retry.retry_of) == (Job.Kind.REVERT, job, revert)
    run(retry, reason="Undo, again")
    assert values(ids, "City") == before


# --- When a revert is refused ------------------------------------------------------------------


def test_an_unfinished_job_cannot_be_reverted(operator, connection):
    job = preview(build_job(operator, connection, "Leads", CITY, writable("Leads", 2)))

    with pytest.raises(operations.WorkflowError, match="Only a finished job"):
        operations.start_revert(job=job, user=operator)


def test_a_job_that_changed_nothing_cannot_be_reverted(operator, connection):
    job = run(build_job(operator, connection, "Leads", CITY, [LOCKED_LEAD]))

    with pytest.raises(operations.WorkflowError, match="nothing to revert"):
        operations.start_revert(job=job, user=operator)


def test_a_job_is_not_reverted_twice(operator, connection):
    job = run(build_job(operator, connection, "Leads", CITY, writable("Leads", 2)))
    first = reverted(job)

    with pytest.raises(operations.WorkflowError, match=f"Job {first.pk} already reverts"):
        operations.start_revert(job=job, user=operator)
    assert Job.objects.filter(revert_of=job).count() == 1


# --- The pages ---------------------------------------------------------------------------------


def test_the_revert_button_starts_a_linked_revert_at_its_preview(
    operator, operator_client, connection
):
    ids = writable("Leads", 3)
    job = run(build_job(operator, connection, "Leads", CITY, ids))
    detail = operator_client.get(reverse("massupdate:job-detail", args=[job.pk]))
    assert "Revert…" in text(detail)

    response = operator_client.post(reverse("massupdate:job-revert", args=[job.pk]), follow=True)

    revert = Job.objects.get(revert_of=job)
    assert response.redirect_chain[-1][0] == reverse("massupdate:job-preview", args=[revert.pk])
    assert "3 will be restored" in " ".join(re.sub(r"<[^>]+>", "", text(response)).split())
    assert job.events.filter(kind=JobEvent.Kind.REVERTED, actor=operator).exists()
    again = operator_client.get(reverse("massupdate:job-detail", args=[job.pk]))
    assert "Revert…" not in text(again)
    assert f"job #{revert.pk}" in text(again)


def test_a_manager_reverts_an_operators_job(operator, manager, manager_client, connection):
    ids = writable("Leads", 2)
    before = values(ids, "City")
    job = run(build_job(operator, connection, "Leads", CITY, ids))

    manager_client.post(reverse("massupdate:job-revert", args=[job.pk]))
    revert = Job.objects.get(revert_of=job)
    run(revert, reason="Undo")

    assert revert.owner == manager
    assert values(ids, "City") == before


def test_another_operator_cannot_revert_a_job(operator, other_operator, client, connection):
    job = run(build_job(operator, connection, "Leads", CITY, writable("Leads", 2)))
    client.force_login(other_operator)

    assert client.post(reverse("massupdate:job-revert", args=[job.pk])).status_code == 404
    assert not Job.objects.filter(revert_of=job).exists()


def test_the_owner_sees_her_job_reverted_by_a_manager_without_a_link_she_cannot_open(
    operator, operator_client, manager_client, connection
):
    job = run(build_job(operator, connection, "Leads", CITY, writable("Leads", 2)))
    manager_client.post(reverse("massupdate:job-revert", args=[job.pk]))
    revert = Job.objects.get(revert_of=job)
    own = Client()
    own.force_login(operator)

    page = text(own.get(reverse("massupdate:job-detail", args=[job.pk])))

    assert reverse("massupdate:job-detail", args=[revert.pk]) not in page
    assert "Revert…" not in page  # it is being reverted already
    listing = text(manager_client.get(reverse("massupdate:job-list")))
    assert f"revert of #{job.pk}" in listing
