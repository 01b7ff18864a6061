"""The mass-update workflow: draft → changes → records → preview → submit → run → results.

Views and tasks call these keyword-only functions; each writes in a transaction, and
anything started in the background is queued on commit. The job's row is the truth:
every step checks the status it expects with a conditional UPDATE, so a double click, a
second tab or a redelivered task does nothing twice.
"""

import json
import logging
import math
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from crmadmin.zoho.client import GET_IDS_PER_CALL, PUT_RECORDS_PER_CALL, WriteResult, ZohoClient
from crmadmin.zoho.errors import ZohoAuthError, ZohoError, ZohoScopeError
from crmadmin.zoho.models import Connection

from . import recovery
from .calls import ClientPool, parallel_calls
from .fieldvalues import MODE_TEXT, Change, FieldSpec, after_value, display_value, is_same
from .models import (
    CONFLICT,
    NOT_FAILURES,
    PREVIEW_GROUPS,
    RETRYABLE_CODES,
    ApprovalPolicy,
    Batch,
    Job,
    JobEvent,
    JobRecord,
    Outcome,
)

logger = logging.getLogger("crmadmin.massupdate")

Status = Job.Status
Kind = JobEvent.Kind
RecordStatus = JobRecord.Status
WRITE_CHUNK = 2000
# Zoho takes one field per mass-update call, three in Deals.
FIELDS_PER_CALL = {"Deals": 3}
NOT_SENT = "NOT_SENT"

WARNING_TEXT = {
    "locked": "The record is locked; Zoho will refuse to change it.",
    "not_approved": "The record awaits approval; Zoho will refuse to change it.",
    "converted": "The lead is converted; Zoho will refuse to change it.",
    "not_editable": "Zoho says this record cannot be edited.",
    "conflict": "Changed since the job it reverts: left alone.",
}


class WorkflowError(Exception):
    """A step that cannot be taken now, with a message for the user."""


def record_event(
    job: Job,
    kind: str,
    actor=None,
    message: str = "",
    *,
    detail: dict | None = None,
    batch: Batch | None = None,
) -> JobEvent:
    """Add a row to the job's audit trail; call it inside the transaction it records."""
    return JobEvent.objects.create(
        job=job, kind=kind, actor=actor, message=message[:1000], detail=detail or {}, batch=batch
    )


# --- Draft, changes, records ------------------------------------------------------------


def create_draft(*, user, connection: Connection, module: str, module_label: str) -> Job:
    with transaction.atomic():
        job = Job.objects.create(
            owner=user, connection=connection, module=module, module_label=module_label
        )
        record_event(job, Kind.DRAFTED, user, f"{module_label} through {connection.name}")
    return job


def set_change(*, job: Job, spec: FieldSpec, change: Change, user) -> None:
    """Add the change of one field, or replace that field's earlier change."""
    _require_editable(job)
    fields = [f for f in job.fields if f["api_name"] != spec.api_name]
    changes = [c for c in job.changes if c["field"] != spec.api_name]
    job.fields = [*fields, spec.as_dict()]
    job.changes = [*changes, change.as_dict()]
    job.field_index = field_index(job.fields)
    with transaction.atomic():
        _back_to_draft(job)
        job.save()
        shown = display_value(spec, change.value) or "(empty)"
        mode = f" ({MODE_TEXT[change.mode]})" if change.mode else ""
        record_event(job, Kind.CHANGES_SET, user, f"{spec.label} → {shown}{mode}")


def remove_change(*, job: Job, field: str, user) -> None:
    _require_editable(job)
    if field not in job.field_names():
        raise WorkflowError("That field is not among the job's changes.")
    job.fields = [f for f in job.fields if f["api_name"] != field]
    job.changes = [c for c in job.changes if c["field"] != field]
    job.field_index = field_index(job.fields)
    with transaction.atomic():
        _back_to_draft(job)
        job.save()
        record_event(job, Kind.CHANGES_SET, user, f"{field} removed")


def select_records(
    *, job: Job, ids: Sequence[str], method: str, summary: str, detail: dict, user
) -> None:
    """Make ``ids`` the job's records (replacing any earlier selection)."""
    _require_editable(job)
    with transaction.atomic():
        JobRecord.objects.filter(job=job).delete()
        JobRecord.objects.bulk_create(
            (JobRecord(job=job, position=n, record_id=rid) for n, rid in enumerate(ids)),
            batch_size=WRITE_CHUNK,
        )
        job.selection = method
        job.selection_summary = summary[:500]
        job.selection_detail = detail
        job.record_count = len(ids)
        _back_to_draft(job)
        job.save()
        record_event(job, Kind.RECORDS_SELECTED, user, f"{len(ids):,} records: {summary}")


def field_index(fields: list[dict]) -> str:
    """``|Lead_Status|Rating|``: what ``Job.field_index`` holds, for filtering by field."""
    return "".join(f"|{f['api_name']}" for f in fields) + "|" if fields else ""


def _require_editable(job: Job) -> None:
    if not job.is_editable:
        raise WorkflowError(f"This job is {job.get_status_display().lower()}; it can't change.")


def _back_to_draft(job: Job) -> None:
    """Any edit makes the preview obsolete."""
    job.status = Status.DRAFT
    job.previewed_at = None
    job.preview_done = 0
    job.preview_counts = {}
    job.submit_token = uuid.uuid4()


# --- Preview --------------------------------------------------------------------------------


# A job awaiting approval may be previewed again (its approval then starts over).
PREVIEWABLE_STATUSES = (*Job.EDITABLE_STATUSES, Status.AWAITING_APPROVAL)


def start_preview(*, job: Job, user) -> None:
    if not job.changes and not job.is_revert:
        raise WorkflowError("Choose at least one field to change first.")
    if not job.record_count:
        raise WorkflowError("Select the records first.")
    from .tasks import preview_job_task

    with transaction.atomic():
        claimed = Job.objects.filter(pk=job.pk, status__in=PREVIEWABLE_STATUSES).update(
            status=Status.PREVIEWING,
            preview_done=0,
            previewed_at=None,
            preview_counts={},
            error_message="",
            submit_token=uuid.uuid4(),
            approval_reasons=[],
            # No runner yet; the clock starts, so that a lost queue message shows.
            runner="",
            heartbeat_at=timezone.now(),
        )
        if not claimed:
            raise WorkflowError("This job is not a draft any more; it can't be previewed again.")
        message = "approval withdrawn" if job.status == Status.AWAITING_APPROVAL else ""
        record_event(job, Kind.PREVIEW_STARTED, user, message)
        transaction.on_commit(lambda: preview_job_task.delay(job.pk))
    job.refresh_from_db()


def run_preview(*, job_id: int) -> None:
    """Read every selected record's current values and work out before → after.

    Run again for a preview whose worker died (``recovery``), it reads only the records
    not read yet.
    """
    runner = recovery.new_runner()
    job = recovery.claim(job_id, runner, in_status=Status.PREVIEWING)
    if job is None:
        return
    with recovery.working(job.pk, runner):
        _preview(job, runner)


def _preview(job: Job, runner: str) -> None:
    if not job.preview_done:
        # A new preview reads every record, also those an earlier preview of the job read.
        with transaction.atomic():
            recovery.keep_claim(job.pk, runner)
            JobRecord.objects.filter(job=job).exclude(found=None).update(found=None)
    specs = _specs(job)
    changes = _changes(job)
    names = list(specs)
    unread = JobRecord.objects.filter(job=job, found=None)
    if job.is_revert:
        rows = list(unread.values_list("pk", "record_id", "expected", "after"))
    else:
        rows = list(unread.values_list("pk", "record_id"))
    chunks = [rows[i : i + GET_IDS_PER_CALL] for i in range(0, len(rows), GET_IDS_PER_CALL)]
    pool = ClientPool.sized(job.connection, len(chunks))

    def read(client: ZohoClient, chunk: list[tuple]) -> dict[str, dict]:
        return client.get_records(job.module, [row[1] for row in chunk], names)

    def still_previewing() -> bool:
        return Job.objects.filter(pk=job.pk, status=Status.PREVIEWING, runner=runner).exists()

    try:
        calls = parallel_calls(job.connection, chunks, read, keep_going=still_previewing, pool=pool)
        for result in calls:
            if result.error is not None:
                raise result.error
            if job.is_revert:
                _store_revert_chunk(job, runner, result.item, result.value, specs)
            else:
                _store_preview_chunk(job, runner, result.item, result.value, specs, changes)
    except recovery.Superseded:
        raise
    except ZohoError as exc:
        _preview_failed(job, runner, exc.user_message)
        return
    except Exception:
        logger.exception("mass update job %s: internal error while previewing", job.pk)
        _preview_failed(
            job, runner, "an internal error of crmadmin (logged for the administrators)"
        )
        return
    counts = _preview_counts(job)
    with transaction.atomic():
        previewed = recovery.release(
            job.pk,
            runner,
            in_status=Status.PREVIEWING,
            status=Status.PREVIEWED,
            previewed_at=timezone.now(),
            preview_counts=counts,
            preview_done=job.record_count,
        )
        if not previewed:
            return
        record_event(
            job,
            Kind.PREVIEWED,
            message=(
                f"{counts['will_change']:,} will change, {counts['unchanged']:,} already "
                f"at the target, {counts['not_found']:,} not found"
                + (f", {counts['conflicts']:,} changed since" if job.is_revert else "")
            ),
            # The reads' attempts, retries and token refreshes (a resumed preview: its own).
            detail={"client_stats": pool.stats()},
        )


def _store_preview_chunk(
    job: Job,
    runner: str,
    chunk: list[tuple[int, str]],
    found: dict[str, dict],
    specs: dict[str, FieldSpec],
    changes: list[Change],
) -> None:
    rows = []
    for pk, record_id in chunk:
        data = found.get(record_id)
        if data is None:
            # Sent all the same: Zoho's answer (INVALID_DATA) is the record's outcome.
            rows.append((False, None, None, False, [], True, False, pk))
            continue
        before = {c.field: data.get(c.field) for c in changes}
        after = {c.field: after_value(specs[c.field], c, before[c.field]) for c in changes}
        will_change = any(
            not is_same(specs[c.field], before[c.field], after[c.field]) for c in changes
        )
        included = will_change or job.include_unchanged
        rows.append((True, before, after, will_change, _warnings(data), included, False, pk))
    with transaction.atomic():
        recovery.keep_claim(job.pk, runner, preview_done=F("preview_done") + len(chunk))
        _write_preview_rows(rows)


def _store_revert_chunk(
    job: Job,
    runner: str,
    chunk: list[tuple],
    found: dict[str, dict],
    specs: dict[str, FieldSpec],
) -> None:
    """A revert's preview: restore a record only where it still holds what the job set.

    Per field, the record holds the value the undone job set (restore it), or already its
    old value (nothing to do), or something else: someone changed it since, and the whole
    record is a conflict, listed and left alone.
    """
    rows = []
    for pk, record_id, expected, after in chunk:
        data = found.get(record_id)
        if data is None:
            rows.append((False, None, after, False, [], False, False, pk))
            continue
        before = {name: data.get(name) for name in after}
        conflict = will_change = False
        for name, old in after.items():
            if is_same(specs[name], before[name], old):
                continue
            if is_same(specs[name], before[name], expected[name]):
                will_change = True
            else:
                conflict = True
        will_change = will_change and not conflict
        warnings = ["conflict"] if conflict else _warnings(data)
        rows.append((True, before, after, will_change, warnings, will_change, conflict, pk))
    with transaction.atomic():
        recovery.keep_claim(job.pk, runner, preview_done=F("preview_done") + len(chunk))
        _write_preview_rows(rows)


PREVIEW_COLUMNS = ("found", "before", "after", "will_change", "warnings", "included", "conflict")


def _write_preview_rows(rows: list[tuple]) -> None:
    """One parameterised UPDATE per record, sent as one batch.

    ``bulk_update`` would build a CASE WHEN expression per record and column: at 500
    preview chunks a job, building them cost more than reading the CRM.
    """
    db = connections[router.db_for_write(JobRecord)]
    quote = db.ops.quote_name
    assignments = ", ".join(f"{quote(name)} = %s" for name in PREVIEW_COLUMNS)
    sql = f"UPDATE {quote(JobRecord._meta.db_table)} SET {assignments} WHERE id = %s"  # noqa: S608 - names are ours, values are parameters
    params = [
        (found, _json(before), _json(after), change, json.dumps(warnings), *rest)
        for found, before, after, change, warnings, *rest in rows
    ]
    with db.cursor() as cursor:
        cursor.executemany(sql, params)


def _json(value: Any) -> str | None:
    """A JSONField value as stored: SQL NULL for None (the fields are nullable)."""
    return None if value is None else json.dumps(value)


def _warnings(data: dict[str, Any]) -> list[str]:
    warnings = []
    if data.get("$locked_for_me"):
        warnings.append("locked")
    if data.get("$approved") is False or data.get("$approval_state") == "approval_process_pending":
        warnings.append("not_approved")
    if data.get("$converted"):
        warnings.append("converted")
    if data.get("$editable") is False and not warnings:
        warnings.append("not_editable")
    return warnings


def _preview_counts(job: Job) -> dict[str, int]:
    # Aggregate names must differ from field names, hence the prefix.
    counts = JobRecord.objects.filter(job=job).aggregate(
        n_will_change=Count("pk", filter=PREVIEW_GROUPS["change"]),
        n_unchanged=Count("pk", filter=PREVIEW_GROUPS["unchanged"]),
        n_not_found=Count("pk", filter=PREVIEW_GROUPS["not_found"]),
        n_warnings=Count("pk", filter=PREVIEW_GROUPS["warnings"]),
        n_conflicts=Count("pk", filter=PREVIEW_GROUPS["conflicts"]),
        n_to_send=Count("pk", filter=Q(included=True)),
    )
    return {name.removeprefix("n_"): n for name, n in counts.items()}


def _preview_failed(job: Job, runner: str, message: str) -> None:
    with transaction.atomic():
        if recovery.release(
            job.pk,
            runner,
            in_status=Status.PREVIEWING,
            status=Status.DRAFT,
            error_message=f"The preview failed: {message}",
        ):
            record_event(job, Kind.PREVIEW_FAILED, message=message)


def set_include_unchanged(*, job: Job, include: bool) -> None:
    if job.status != Status.PREVIEWED:
        raise WorkflowError("Only a previewed job's selection can be adjusted.")
    with transaction.atomic():
        JobRecord.objects.filter(job=job, found=True, will_change=False, conflict=False).update(
            included=include
        )
        job.include_unchanged = include
        job.preview_counts = _preview_counts(job)
        job.save(update_fields=["include_unchanged", "preview_counts", "updated_at"])


# --- Submit ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cost:
    records: int
    write_calls: int
    read_calls: int

    @property
    def credits(self) -> int:
        # One credit a call: a mass update counts as one call whatever its size.
        return self.write_calls + self.read_calls


def estimate_cost(job: Job) -> Cost:
    to_send = job.to_send
    steps = 1 if job.is_revert else len(plan_steps(job.module, _changes(job)))
    return Cost(
        records=to_send,
        write_calls=steps * math.ceil(to_send / batch_size(job)),
        # The read-back after the run.
        read_calls=math.ceil(to_send / GET_IDS_PER_CALL),
    )


def approval_reasons(job: Job) -> list[str]:
    """Why this job must wait for a manager (none: it runs as soon as it is submitted)."""
    policy = ApprovalPolicy.current()
    reasons = []
    if job.to_send > policy.threshold:
        reasons.append(
            f"{job.to_send:,} records, above the approval threshold of {policy.threshold:,}"
        )
    specs = _specs(job)
    for name in policy.sensitive_in(job.module, list(specs)):
        reasons.append(f"changes {specs[name].label} ({name}), a sensitive field")
    return reasons


def submit(*, job: Job, user, reason: str, token: uuid.UUID) -> bool:
    """Queue the job, or put it before the managers when the approval policy says so.

    False when this form was already used.
    """
    if job.preview_is_stale:
        raise WorkflowError("The preview is too old: renew it before submitting.")
    if not job.to_send:
        raise WorkflowError("No record would be sent: nothing to submit.")
    reasons = approval_reasons(job)
    with transaction.atomic():
        claimed = Job.objects.filter(pk=job.pk, status=Status.PREVIEWED, submit_token=token).update(
            status=Status.AWAITING_APPROVAL if reasons else Status.QUEUED,
            reason=reason,
            submitted_by=user,
            submitted_at=timezone.now(),
            submit_token=uuid.uuid4(),
            approval_reasons=reasons,
        )
        if not claimed:
            return False
        record_event(job, Kind.SUBMITTED, user, reason)
        if reasons:
            record_event(
                job, Kind.APPROVAL_REQUESTED, user, "; ".join(reasons), detail={"reasons": reasons}
            )
        else:
            _queue_run(job)
    return True


def _queue_run(job: Job) -> None:
    from .tasks import run_job_task

    transaction.on_commit(lambda: run_job_task.delay(job.pk))


def approve(*, job: Job, user, note: str) -> None:
    """A manager lets a waiting job run. Nobody approves their own job."""
    _check_decider(job, user)
    if job.approval_has_lapsed:
        _lapse(job, user)
        raise WorkflowError(
            "The preview is older than "
            f"{settings.CRMADMIN_APPROVAL_MAX_AGE_HOURS} hours, so it can no longer be "
            "approved: the job went back to its owner for a new preview."
        )
    with transaction.atomic():
        decided = Job.objects.filter(pk=job.pk, status=Status.AWAITING_APPROVAL).update(
            status=Status.QUEUED, decided_by=user, decided_at=timezone.now(), decision_note=note
        )
        if not decided:
            raise WorkflowError("This job is not awaiting approval any more.")
        record_event(job, Kind.APPROVED, user, note)
        _queue_run(job)


def reject(*, job: Job, user, note: str) -> None:
    """A manager refuses a waiting job; it ends without sending anything."""
    _check_decider(job, user)
    if not note.strip():
        raise WorkflowError("Say why the job is rejected: its owner reads the note.")
    now = timezone.now()
    with transaction.atomic():
        decided = Job.objects.filter(pk=job.pk, status=Status.AWAITING_APPROVAL).update(
            status=Status.REJECTED,
            decided_by=user,
            decided_at=now,
            decision_note=note,
            finished_at=now,
        )
        if not decided:
            raise WorkflowError("This job is not awaiting approval any more.")
        record_event(job, Kind.REJECTED, user, note)


def _check_decider(job: Job, user) -> None:
    if user.pk in (job.owner_id, job.submitted_by_id):
        raise WorkflowError("Nobody approves or rejects their own job: another manager must.")
    if job.status != Status.AWAITING_APPROVAL:
        raise WorkflowError("This job is not awaiting approval.")


def _lapse(job: Job, user) -> None:
    with transaction.atomic():
        if Job.objects.filter(pk=job.pk, status=Status.AWAITING_APPROVAL).update(
            status=Status.PREVIEWED, submit_token=uuid.uuid4(), approval_reasons=[]
        ):
            record_event(
                job,
                Kind.APPROVAL_LAPSED,
                user,
                f"The preview of {job.previewed_at:%Y-%m-%d %H:%M} is too old to approve.",
            )


def cancel(*, job: Job, user) -> bool:
    """Stop a queued or running job (batches not yet sent are not sent), or withdraw one
    awaiting approval."""
    with transaction.atomic():
        if Job.objects.filter(pk=job.pk, status=Status.AWAITING_APPROVAL).update(
            status=Status.CANCELLED, finished_at=timezone.now(), cancelled_by=user
        ):
            record_event(job, Kind.CANCEL_REQUESTED, user, "Withdrawn before approval.")
            record_event(job, Kind.FINISHED, message="Cancelled before it was approved.")
            return True
        asked = Job.objects.filter(
            pk=job.pk, status__in=[Status.QUEUED, Status.RUNNING], cancel_requested_at=None
        ).update(cancel_requested_at=timezone.now(), cancelled_by=user)
        if asked:
            record_event(job, Kind.CANCEL_REQUESTED, user)
    if asked:
        # A queued job that no worker has claimed yet ends here.
        _finish_if_unclaimed(job.pk)
    return bool(asked)


def _finish_if_unclaimed(job_id: int) -> None:
    with transaction.atomic():
        if Job.objects.filter(pk=job_id, status=Status.QUEUED).update(
            status=Status.CANCELLED, finished_at=timezone.now()
        ):
            JobRecord.objects.filter(job_id=job_id, included=True).update(
                status=RecordStatus.ERROR, code=NOT_SENT, message="Cancelled before it was sent."
            )
            job = Job.objects.get(pk=job_id)
            job.outcome_counts = _outcome_counts(job)
            job.save(update_fields=["outcome_counts", "updated_at"])
            record_event(job, Kind.FINISHED, message="Cancelled before it started.")


# --- Run --------------------------------------------------------------------------------------


def plan_steps(module: str, changes: Sequence[Change]) -> list[list[Change]]:
    """Group the changes into calls: one field a call, or up to three in Deals.

    ``over_write`` is one flag per call, so multi-selects that replace and ones that add
    never share a call.
    """
    per_call = FIELDS_PER_CALL.get(module, 1)
    steps: list[list[Change]] = []
    for change in changes:
        for step in steps:
            modes = {c.over_write for c in step if c.over_write is not None}
            fits = change.over_write is None or not modes or change.over_write in modes
            if len(step) < per_call and fits:
                step.append(change)
                break
        else:
            steps.append([change])
    return steps


def run_job(*, job_id: int) -> None:
    """Send every batch, record every outcome, read the records back, finish the job.

    Run again for a job whose worker died (``recovery``), it sends only the batches not
    recorded yet; those that were in flight go again (a mass update with the same values
    leaves the records as one would).
    """
    runner = recovery.new_runner()
    with transaction.atomic():
        job = recovery.claim(
            job_id,
            runner,
            in_status=Status.QUEUED,
            status=Status.RUNNING,
            started_at=timezone.now(),
        )
        if job is not None:
            record_event(job, Kind.STARTED)
    # Or a job another worker started and left: it died, or its task was delivered twice.
    job = job or recovery.claim(job_id, runner, in_status=Status.RUNNING)
    if job is None:
        return
    with recovery.working(job.pk, runner):
        _run(job, runner)


def _run(job: Job, runner: str) -> None:
    restore: dict[str, dict] = {}
    if job.is_revert:
        # One step: a PUT a batch, each record with its own values to restore.
        steps: list[list[Change]] = [[]]
        step_fields = [job.field_names()]
        restore = dict(
            JobRecord.objects.filter(job=job, included=True).values_list("record_id", "after")
        )
    else:
        steps = plan_steps(job.module, _changes(job))
        step_fields = [[c.field for c in step] for step in steps]
    _plan_batches(job, step_fields)
    # Why the job stopped sending, when it did: the CRM refused the credentials, or
    # crmadmin itself failed.
    fatal: str = ""

    def not_cancelled() -> bool:
        return (
            not fatal
            and Job.objects.filter(pk=job.pk, runner=runner, cancel_requested_at=None).exists()
        )

    def send(client: ZohoClient, batch: Batch) -> WriteResult:
        if job.is_revert:
            # No workflow or approval runs on the way back: it only restores values.
            records = [{"id": rid, **restore[rid]} for rid in batch.record_ids]
            return client.update_records(job.module, records, trigger=[])
        step = steps[batch.step]
        data = {c.field: c.value for c in step}
        over_write = next((c.over_write for c in step if c.over_write is not None), None)
        return client.mass_update(job.module, batch.record_ids, data, over_write=over_write)

    pending = list(Batch.objects.filter(job=job, status=Batch.Status.PENDING))
    counts = Counter(_outcome_counts(job))  # non-zero only when a delivery is resumed
    # The calls at once for the batches, and then for reading the records back.
    pool = ClientPool.sized(
        job.connection, max(len(pending), math.ceil(job.to_send / GET_IDS_PER_CALL))
    )

    def store_stats() -> None:
        # Added to the counts of the runners before this one (a resumed job).
        recovery.keep_claim(job.pk, runner, client_stats=pool.stats(job.client_stats))

    try:
        # Step by step: the calls of one field group run side by side, but no record is
        # written by two calls at the same moment.
        for step in range(len(steps)):
            batches = [b for b in pending if b.step == step]
            calls = parallel_calls(
                job.connection, batches, send, keep_going=not_cancelled, pool=pool
            )
            for result in calls:
                error = result.error
                if error is not None and not isinstance(error, ZohoError):
                    raise error
                _record_batch(
                    job, runner, result.item, result.value, error, result.exchanges, counts
                )
                if isinstance(error, ZohoAuthError | ZohoScopeError):
                    fatal = error.user_message
    except recovery.Superseded:
        raise
    except ZohoError as exc:  # the token could not be had before the first call
        fatal = exc.user_message
    except Exception:
        logger.exception("mass update job %s: internal error while sending", job.pk)
        fatal = "an internal error of crmadmin (logged for the administrators)"
    store_stats()
    _mark_unsent(job, runner, fatal)
    if not fatal and not job.cancel_requested_at:
        try:
            _read_back(job, runner, pool)
        except ZohoError as exc:
            # The values were written; only the check failed. Say so, and still finish.
            with transaction.atomic():
                recovery.keep_claim(job.pk, runner, verification={"error": exc.user_message})
                record_event(job, Kind.VERIFIED, message=f"Read-back failed: {exc.user_message}")
        store_stats()
    _finish(job, runner, fatal)


def batch_size(job: Job) -> int:
    """Records a call: a mass update takes 500, a revert's per-record PUT 100."""
    if job.is_revert:
        return min(PUT_RECORDS_PER_CALL, settings.CRMADMIN_BATCH_SIZE)
    return settings.CRMADMIN_BATCH_SIZE


def _plan_batches(job: Job, steps: list[list[str]]) -> None:
    """Cut the records into batches, one per step (field group) and slice of ids."""
    if Batch.objects.filter(job=job).exists():
        return  # planned by an earlier delivery of this task
    with transaction.atomic():
        JobRecord.objects.filter(job=job, included=False, conflict=False).update(
            status=RecordStatus.SKIPPED, code="", message="Already at the target value: not sent."
        )
        JobRecord.objects.filter(job=job, included=False, conflict=True).update(
            status=RecordStatus.SKIPPED,
            code=CONFLICT,
            message="Changed since the job it reverts: left alone.",
        )
        ids = list(
            JobRecord.objects.filter(job=job, included=True)
            .order_by("position")
            .values_list("pk", "record_id")
        )
        batches = []
        size = batch_size(job)
        for number, start in enumerate(range(0, len(ids), size), start=1):
            chunk = ids[start : start + size]
            JobRecord.objects.filter(pk__in=[pk for pk, _ in chunk]).update(batch=number)
            for step_number, step in enumerate(steps):
                batches.append(
                    Batch(
                        job=job,
                        step=step_number,
                        number=number,
                        fields=step,
                        record_ids=[rid for _, rid in chunk],
                    )
                )
        Batch.objects.bulk_create(batches)
        job.calls_total = len(batches)
        job.save(update_fields=["calls_total", "updated_at"])


def _record_batch(
    job: Job,
    runner: str,
    batch: Batch,
    result: WriteResult | None,
    error: ZohoError | None,
    exchanges: list,
    counts: Counter[str],
) -> None:
    """Store one call's answer: an outcome per record, the records' overall state, counts.

    ``counts`` are the job's counts by code, kept up to date here rather than counted
    again over every record of the job after each call.
    """
    record_pks = dict(
        JobRecord.objects.filter(job=job, batch=batch.number).values_list("record_id", "pk")
    )
    if result is not None:
        outcomes = [(o.record_id, o.code, o.status, o.message, o.details) for o in result.outcomes]
        http_status = result.http_status
        request_error = result.request_error
    else:
        assert error is not None
        outcomes = [
            (rid, error.code, "error", error.message, error.details) for rid in batch.record_ids
        ]
        http_status = error.http_status
        request_error = error
    now = timezone.now()
    with transaction.atomic():
        recovery.keep_claim(job.pk, runner, calls_done=F("calls_done") + 1)
        _insert_outcomes(
            [
                (job.pk, record_pks[rid], batch.step, batch.number, code, status, message, details)
                for rid, code, status, message, details in outcomes
                if rid in record_pks
            ],
            http_status,
            now,
        )
        counts.update(_apply_outcomes(job, record_pks, outcomes, http_status))
        batch.status = Batch.Status.DONE if result is not None else Batch.Status.FAILED
        batch.http_status = http_status
        batch.error_code = request_error.code if request_error else ""
        batch.error_message = request_error.message if request_error else ""
        batch.sent_at = exchanges[0].started_at if exchanges else now
        batch.finished_at = now
        batch.save()
        answered = Counter(code for _, code, *_ in outcomes)
        record_event(
            job,
            Kind.BATCH_SENT,
            message=(
                f"Batch {batch.number} ({', '.join(batch.fields)}): "
                f"{len(batch.record_ids):,} records, HTTP {http_status or 'none'}, "
                + ", ".join(f"{code} {n:,}" for code, n in sorted(answered.items()))
            ),
            detail={
                "step": batch.step,
                "batch": batch.number,
                "attempts": len(exchanges),
                "exchanges": [e.as_dict() for e in exchanges],
            },
            batch=batch,
        )
        Job.objects.filter(pk=job.pk).update(outcome_counts={c: n for c, n in counts.items() if n})


def _insert_outcomes(rows: list[tuple], http_status: int | None, now) -> None:
    """One parameterised INSERT per outcome, sent as one batch; an outcome already recorded
    (a batch answered again after a resume) is left as it was.

    ``bulk_create`` builds a model object and a multi-row statement per call: at 100 calls
    a job it was half the time of storing a batch's answer.
    """
    db = connections[router.db_for_write(Outcome)]
    quote = db.ops.quote_name
    names = [quote(column) for column in OUTCOME_COLUMNS]
    sql = (
        f"INSERT INTO {quote(Outcome._meta.db_table)} ({', '.join(names)}) "  # noqa: S608 - names are ours, values are parameters
        f"VALUES ({', '.join(['%s'] * len(names))}) ON CONFLICT DO NOTHING"
    )
    created_at = db.ops.adapt_datetimefield_value(now)
    params = [(*row[:7], json.dumps(row[7]), http_status, created_at) for row in rows]
    with db.cursor() as cursor:
        cursor.executemany(sql, params)


OUTCOME_COLUMNS = (
    "job_id",
    "record_id",
    "step",
    "batch",
    "code",
    "status",
    "message",
    "details",
    "http_status",
    "created_at",
)


def _apply_outcomes(
    job: Job, record_pks: dict[str, int], outcomes: list[tuple], http_status: int | None
) -> Counter[str]:
    """Set each record's overall outcome: a failure in any call outweighs success in others.

    Returns how the job's counts by code change, from the rows each UPDATE touched.
    """
    succeeded = [record_pks[o[0]] for o in outcomes if o[2] == "success" and o[0] in record_pks]
    failed: dict[tuple[str, str], list[int]] = {}
    for rid, code, status, message, _details in outcomes:
        if status != "success" and rid in record_pks:
            failed.setdefault((code, message), []).append(record_pks[rid])
    records = JobRecord.objects.filter(job=job)
    delta: Counter[str] = Counter()
    if succeeded:
        delta["SUCCESS"] += records.filter(pk__in=succeeded, status=RecordStatus.PENDING).update(
            status=RecordStatus.SUCCESS, code="SUCCESS", message="", http_status=http_status
        )
    for (code, message), pks in failed.items():
        failure = {"status": RecordStatus.ERROR, "code": code, "message": message}
        delta[code] += records.filter(pk__in=pks, status=RecordStatus.PENDING).update(
            **failure, http_status=http_status
        )
        # Succeeded in an earlier call of another field group, failed in this one.
        moved = records.filter(pk__in=pks, status=RecordStatus.SUCCESS).update(
            **failure, http_status=http_status
        )
        delta[code] += moved
        delta["SUCCESS"] -= moved
    return delta


def _mark_unsent(job: Job, runner: str, fatal: str) -> None:
    unsent = Batch.objects.filter(job=job, status=Batch.Status.PENDING)
    numbers = list(unsent.values_list("number", flat=True).distinct())
    if not numbers:
        return
    message = (
        f"Not sent: the job stopped after {fatal}" if fatal else "Not sent: the job was cancelled."
    )
    with transaction.atomic():
        recovery.keep_claim(job.pk, runner)
        unsent.update(status=Batch.Status.NOT_SENT, error_message=message)
        JobRecord.objects.filter(job=job, batch__in=numbers, status=RecordStatus.PENDING).update(
            status=RecordStatus.ERROR, code=NOT_SENT, message=message
        )
        Job.objects.filter(pk=job.pk).update(outcome_counts=_outcome_counts(job))


def _read_back(job: Job, runner: str, pool: ClientPool) -> None:
    """Read the changed records again and check each holds the value it should."""
    specs = _specs(job)
    names = list(specs)
    rows = list(
        JobRecord.objects.filter(job=job, status=RecordStatus.SUCCESS)
        .exclude(after__isnull=True)
        .values_list("pk", "record_id", "after")
    )
    chunks = [rows[i : i + GET_IDS_PER_CALL] for i in range(0, len(rows), GET_IDS_PER_CALL)]

    def read(client: ZohoClient, chunk: list[tuple]) -> dict[str, dict]:
        return client.get_records(job.module, [rid for _, rid, _ in chunk], names)

    checked = mismatched = unreadable = 0
    for result in parallel_calls(job.connection, chunks, read, pool=pool):
        if result.error is not None:
            unreadable += len(result.item)
            continue
        good, bad = [], []
        for pk, record_id, after in result.item:
            current = result.value.get(record_id)
            problems = _mismatches(specs, after, current)
            if problems:
                bad.append(JobRecord(pk=pk, verified=False, verify_message="; ".join(problems)))
            else:
                good.append(pk)
        JobRecord.objects.filter(pk__in=good).update(verified=True)
        JobRecord.objects.bulk_update(bad, ["verified", "verify_message"])
        checked += len(result.item)
        mismatched += len(bad)
    summary = {"checked": checked, "mismatched": mismatched, "unreadable": unreadable}
    with transaction.atomic():
        recovery.keep_claim(job.pk, runner, verification=summary)
        record_event(
            job,
            Kind.VERIFIED,
            message=f"{checked:,} records read back, {mismatched:,} do not hold the new value"
            + (f", {unreadable:,} could not be read" if unreadable else ""),
        )


def _mismatches(specs: dict[str, FieldSpec], after: dict, current: dict | None) -> list[str]:
    if current is None:
        return ["the record could not be read back"]
    problems = []
    for name, expected in after.items():
        spec = specs[name]
        if not is_same(spec, current.get(name), expected):
            problems.append(
                f"{spec.label} holds {display_value(spec, current.get(name)) or '(empty)'}, "
                f"expected {display_value(spec, expected) or '(empty)'}"
            )
    return problems


def _finish(job: Job, runner: str, fatal: str) -> None:
    job.refresh_from_db()
    counts = _outcome_counts(job)
    sent = sum(n for code, n in counts.items() if code != NOT_SENT)
    if job.cancel_requested_at and counts.get(NOT_SENT):
        status = Status.CANCELLED
    elif fatal or (job.to_send and not counts.get("SUCCESS")):
        status = Status.FAILED
    elif any(code not in NOT_FAILURES for code in counts):
        status = Status.COMPLETED_WITH_ERRORS
    else:
        status = Status.COMPLETED
    with transaction.atomic():
        if not recovery.release(
            job.pk,
            runner,
            in_status=Status.RUNNING,
            status=status,
            finished_at=timezone.now(),
            outcome_counts=counts,
            error_message=fatal,
        ):
            raise recovery.Superseded(f"job {job.pk} is no longer run by {runner}")
        summary = ", ".join(f"{code} {n:,}" for code, n in sorted(counts.items())) or "nothing"
        record_event(
            job, Kind.FINISHED, message=f"{Status(status).label}: {sent:,} sent; {summary}"
        )
    logger.info("mass update job %s finished: %s %s", job.pk, status, counts)


def _outcome_counts(job: Job) -> dict[str, int]:
    rows = (
        JobRecord.objects.filter(job=job)
        .exclude(code="")
        .values("code")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["code"]: row["n"] for row in rows}


# --- Retry --------------------------------------------------------------------------------


def retry_failed(*, job: Job, user) -> Job:
    """A new job, linked to this one, for the records whose failure may pass on a retry."""
    if not job.is_final:
        raise WorkflowError("Only a finished job can be retried.")
    failures = list(
        JobRecord.objects.filter(
            job=job, status=RecordStatus.ERROR, code__in=RETRYABLE_CODES
        ).values_list("record_id", "code", "expected", "after")
    )
    if not failures:
        raise WorkflowError("No failure of this job can be retried.")
    codes = Counter(code for _, code, _, _ in failures)
    with transaction.atomic():
        retry = _follow_up(job, user, retry_of=job, revert_of=job.revert_of)
        record_event(retry, Kind.DRAFTED, user, f"Retry of job {job.pk}")
        summary = ", ".join(f"{code} {n:,}" for code, n in sorted(codes.items()))
        _select(
            retry,
            [(rid, expected, after) for rid, _, expected, after in failures],
            method=Job.Selection.RETRY,
            summary=f"failures of job {job.pk} ({summary})",
            detail={"retry_of": job.pk, "codes": dict(codes)},
            user=user,
        )
        record_event(job, Kind.RETRIED, user, f"Job {retry.pk} retries {len(failures):,} records")
    start_preview(job=retry, user=user)
    return retry


# --- Revert -----------------------------------------------------------------------------------


def start_revert(*, job: Job, user) -> Job:
    """A revert job, linked to this one, previewed at once: it restores the before-values
    of the records this job changed, where they still hold what this job set."""
    if not job.is_final or job.status == Status.REJECTED:
        raise WorkflowError("Only a finished job can be reverted.")
    earlier = job.reverts.exclude(status__in=Job.UNDONE_NOTHING_STATUSES)
    if earlier.exists():
        other = earlier.latest("pk")
        raise WorkflowError(
            f"Job {other.pk} already reverts this job ({other.get_status_display().lower()})."
        )
    written = _written_values(job)
    if not written:
        raise WorkflowError("This job changed no record: there is nothing to revert.")
    with transaction.atomic():
        revert = _follow_up(job, user, revert_of=job)
        record_event(revert, Kind.DRAFTED, user, f"Revert of job {job.pk}")
        _select(
            revert,
            written,
            method=Job.Selection.REVERT,
            summary=f"the {len(written):,} records job {job.pk} changed",
            detail={"revert_of": job.pk},
            user=user,
        )
        record_event(job, Kind.REVERTED, user, f"Job {revert.pk} reverts {len(written):,} records")
    start_preview(job=revert, user=user)
    return revert


def _written_values(job: Job) -> list[tuple[str, dict, dict]]:
    """(record id, the values the job set, the values it replaced) of every record it changed.

    Only the fields of calls that succeeded for the record count: a record that failed in
    one field group and succeeded in another gets that other group restored.
    """
    written: dict[int, set[str]] = {}
    steps = Batch.objects.filter(job=job).values_list("step", "fields").distinct()
    fields_of_step = {step: fields for step, fields in steps}
    for record_pk, step in Outcome.objects.filter(job=job, status="success").values_list(
        "record_id", "step"
    ):
        written.setdefault(record_pk, set()).update(fields_of_step.get(step, []))
    rows = (
        JobRecord.objects.filter(pk__in=written, found=True)
        .order_by("position")
        .values_list("pk", "record_id", "before", "after")
        .iterator(chunk_size=WRITE_CHUNK)
        if written
        else []
    )
    return [
        (
            record_id,
            {name: after[name] for name in sorted(written[pk]) if name in after},
            {name: before.get(name) for name in sorted(written[pk]) if name in after},
        )
        for pk, record_id, before, after in rows
    ]


def _follow_up(job: Job, user, *, retry_of: Job | None = None, revert_of: Job | None) -> Job:
    """A new job of ``user`` on ``job``'s connection, module and fields."""
    return Job.objects.create(
        owner=user,
        connection=job.connection,
        module=job.module,
        module_label=job.module_label,
        kind=Job.Kind.REVERT if revert_of else Job.Kind.UPDATE,
        retry_of=retry_of,
        revert_of=revert_of,
        fields=job.fields,
        changes=[] if revert_of else job.changes,
        field_index=job.field_index,
        include_unchanged=job.include_unchanged,
    )


def _select(job: Job, rows: list[tuple], *, method, summary: str, detail: dict, user) -> None:
    """Select records of a follow-up job; a revert's carry their expected and after values."""
    if not job.is_revert:
        select_records(
            job=job,
            ids=[rid for rid, *_ in rows],
            method=method,
            summary=summary,
            detail=detail,
            user=user,
        )
        return
    JobRecord.objects.bulk_create(
        (
            JobRecord(job=job, position=n, record_id=rid, expected=expected, after=after)
            for n, (rid, expected, after) in enumerate(rows)
        ),
        batch_size=WRITE_CHUNK,
    )
    job.selection = method
    job.selection_summary = summary[:500]
    job.selection_detail = detail
    job.record_count = len(rows)
    job.save()
    record_event(job, Kind.RECORDS_SELECTED, user, f"{len(rows):,} records: {summary}")


# --- Review -----------------------------------------------------------------------------------


def mark_reviewed(*, job: Job, user, note: str) -> None:
    """A manager signs a finished job off, with a note; once, and never their own."""
    if not job.is_final:
        raise WorkflowError("Only a finished job can be marked reviewed.")
    if user.pk in (job.owner_id, job.submitted_by_id):
        raise WorkflowError("Nobody reviews their own job: another manager must.")
    with transaction.atomic():
        marked = Job.objects.filter(pk=job.pk, reviewed_at=None).update(
            reviewed_by=user, reviewed_at=timezone.now(), review_note=note
        )
        if not marked:
            raise WorkflowError("This job has already been marked reviewed.")
        record_event(job, Kind.REVIEWED, user, note)


# --- Helpers ----------------------------------------------------------------------------------


def _specs(job: Job) -> dict[str, FieldSpec]:
    return {f["api_name"]: FieldSpec.from_dict(f) for f in job.fields}


def _changes(job: Job) -> list[Change]:
    return [Change.from_dict(c) for c in job.changes]
