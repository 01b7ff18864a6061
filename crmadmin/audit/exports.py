"""The audit's downloads, streamed: a filtered list of jobs as CSV or JSON, and one job as
JSON with its audit trail and every record. Rows are read in chunks and written as they
come, so a 50,000-record job never sits in memory as one string."""

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet

from crmadmin.massupdate.exports import csv_lines
from crmadmin.massupdate.models import Job, JobEvent, JobRecord

CHUNK = 2000
# BATCH_SENT events carry a batch's raw exchanges: a few hundred kilobytes each.
EVENT_CHUNK = 20
# The users a job names, read with it for the exports.
PEOPLE = ["owner", "submitted_by", "decided_by", "reviewed_by"]

LIST_COLUMNS = [
    "id",
    "kind",
    "status",
    "module",
    "fields",
    "record_count",
    "owner",
    "created_at",
    "submitted_by",
    "submitted_at",
    "approval_reasons",
    "decision",
    "decided_by",
    "decided_at",
    "decision_note",
    "started_at",
    "finished_at",
    "duration_seconds",
    "reason",
    "selection",
    "selection_summary",
    "outcome_counts",
    "reviewed_by",
    "reviewed_at",
    "review_note",
    "retry_of",
    "revert_of",
]
RECORD_COLUMNS = [
    "position",
    "record_id",
    "found",
    "before",
    "after",
    "expected",
    "conflict",
    "will_change",
    "included",
    "warnings",
    "batch",
    "status",
    "code",
    "message",
    "http_status",
    "verified",
    "verify_message",
]


class _Encoder(DjangoJSONEncoder):
    """Times to the microsecond, as the database has them (Django's encoder cuts them to
    milliseconds), like the CSV export's."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime):
            return o.isoformat()
        return super().default(o)


def dumps(value: Any) -> str:
    return json.dumps(value, cls=_Encoder, ensure_ascii=False)


def _username(user) -> str:
    return user.get_username() if user is not None else ""


def job_summary(job: Job) -> dict[str, Any]:
    """One job as a row of the list exports (its people read with ``select_related``)."""
    decision = ""
    if job.decided_by_id:
        decision = "rejected" if job.status == Job.Status.REJECTED else "approved"
    duration = job.duration
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "module": job.module,
        "fields": [name for name in job.field_index.split("|") if name],
        "record_count": job.record_count,
        "owner": _username(job.owner),
        "created_at": job.created_at,
        "submitted_by": _username(job.submitted_by),
        "submitted_at": job.submitted_at,
        "approval_reasons": job.approval_reasons,
        "decision": decision,
        "decided_by": _username(job.decided_by),
        "decided_at": job.decided_at,
        "decision_note": job.decision_note,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "duration_seconds": round(duration.total_seconds(), 3) if duration else None,
        "reason": job.reason,
        "selection": job.selection,
        "selection_summary": job.selection_summary,
        "outcome_counts": job.outcome_counts,
        "reviewed_by": _username(job.reviewed_by),
        "reviewed_at": job.reviewed_at,
        "review_note": job.review_note,
        "retry_of": job.retry_of_id,
        "revert_of": job.revert_of_id,
    }


def _csv_text(value: Any) -> Any:
    """A list or a mapping as one readable cell; dates as ISO 8601; the rest as it is."""
    if isinstance(value, dict):
        return "; ".join(f"{key} {n}" for key, n in sorted(value.items()))
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def jobs_csv(jobs: QuerySet[Job]) -> Iterator[str]:
    summaries = map(job_summary, jobs.select_related(*PEOPLE).iterator(chunk_size=CHUNK))
    return csv_lines(
        LIST_COLUMNS, ([_csv_text(row[name]) for name in LIST_COLUMNS] for row in summaries)
    )


def jobs_json(jobs: QuerySet[Job]) -> Iterator[str]:
    yield '{"jobs": ['
    rows = jobs.select_related(*PEOPLE).iterator(chunk_size=CHUNK)
    yield from _array(rows, job_summary, CHUNK)
    yield "]}\n"


def job_json(job: Job) -> Iterator[str]:
    """The job, its events (with their details) and every record, as one JSON object."""
    job = Job.objects.select_related("connection", "cancelled_by", *PEOPLE).get(pk=job.pk)
    yield '{"job": ' + dumps(_job_detail(job)) + ',\n"events": ['
    events = job.events.select_related("actor", "batch").iterator(chunk_size=EVENT_CHUNK)
    yield from _array(events, _event, EVENT_CHUNK)
    yield '],\n"records": ['
    records = JobRecord.objects.filter(job=job).order_by("position").values(*RECORD_COLUMNS)
    yield from _array(records.iterator(chunk_size=CHUNK), dict, CHUNK)
    yield "]}\n"


def _job_detail(job: Job) -> dict[str, Any]:
    return {
        **job_summary(job),
        "module_label": job.module_label,
        "connection": job.connection.name,
        "changed_fields": job.fields,
        "changes": job.changes,
        "selection_detail": job.selection_detail,
        "include_unchanged": job.include_unchanged,
        "previewed_at": job.previewed_at,
        "preview_counts": job.preview_counts,
        "calls_total": job.calls_total,
        "calls_done": job.calls_done,
        "client_stats": job.client_stats,
        "verification": job.verification,
        "cancelled_by": _username(job.cancelled_by),
        "cancel_requested_at": job.cancel_requested_at,
        "error_message": job.error_message,
    }


def _event(event: JobEvent) -> dict[str, Any]:
    return {
        "at": event.at,
        "kind": event.kind,
        "actor": _username(event.actor),
        "message": event.message,
        "batch": event.batch.number if event.batch else None,
        "step": event.batch.step if event.batch else None,
        "detail": event.detail,
    }


def _array[T](items: Iterable[T], encode: Callable[[T], Any], group: int) -> Iterator[str]:
    """The items of a JSON array, ``group`` of them a piece, with commas between them all."""
    piece: list[str] = []
    first = True
    for item in items:
        piece.append(dumps(encode(item)))
        if len(piece) == group:
            yield ("" if first else ",") + "\n" + ",\n".join(piece)
            piece, first = [], False
    if piece:
        yield ("" if first else ",") + "\n" + ",\n".join(piece)
