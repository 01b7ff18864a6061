"""Writes to the sandbox's records: mass update by ids, per-record PUT, and cvid jobs.

Each function validates, applies and saves in one transaction and returns the
per-record result entries exactly as the API puts them in ``data[]``.
"""

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import connections, router, transaction
from django.db.models import QuerySet
from django.utils import timezone

from .envelope import error_body
from .models import CustomView, FaultConfig, MassUpdateJob, Record, SandboxUser, iso
from .query import compile_view_criteria
from .schema import Field, Module, get_module
from .values import InvalidValue, clean_value, merge_multiselect

MASS_UPDATE_MAX_IDS = 500
PUT_MAX_RECORDS = 100
JOB_MAX_RECORDS = 50_000


def success_entry(record: Record) -> dict:
    return {
        "code": "SUCCESS",
        "details": record.success_details(),
        "message": "record updated",
        "status": "success",
    }


def invalid_id_entry(record_id: str) -> dict:
    return error_body("INVALID_DATA", "the id given seems to be invalid", {"id": record_id})


def already_modified_entry(record: Record) -> dict:
    details = {
        "id": record.id,
        "Modified_Time": iso(record.modified_time),
        "Modified_By": record.modified_by.as_ref(),
    }
    message = "record updated time has already passed if-unmodified-since time"
    return error_body("ALREADY_MODIFIED", message, details)


def modified_after(record: Record, since: datetime) -> bool:
    """Whether the record changed after ``since``, to the second the API shows.

    ``Modified_Time`` is shown in whole seconds, so a client that sends back the time it
    read must not be refused for the microseconds it never saw.
    """
    return record.modified_time.replace(microsecond=0) > since


def records_of(module: Module) -> QuerySet[Record]:
    return Record.objects.filter(module=module.api_name).select_related("created_by", "modified_by")


def records_to_write(module: Module, ids: list[str]) -> dict[str, Record]:
    """The module's records among ``ids``, locked until the transaction ends (where the
    database can lock rows).

    Writes read, change and save ``data``; without the lock two simultaneous writes on
    PostgreSQL would both start from the old value and one would be lost. Locks are
    taken in id order, so two writes over the same records cannot deadlock. SQLite's
    IMMEDIATE transactions already serialise writers, and it ignores the lock.

    The lock is taken by a query without joins: PostgreSQL re-checks a locked row that
    another write changed meanwhile, and with joined tables it can drop the row, which
    made a record written by two calls at once come back as "the id given seems to be
    invalid". The records are then read with their users joined, as usual.
    """
    locked = list(
        records_of(module)
        .select_related(None)
        .select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return records_of(module).in_bulk(locked)


def normalise_id(value: Any) -> str | None:
    """Ids come as JSON strings (the recordings) or numbers (Zoho's SDKs)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return value.strip()
    return None


def resolve_reference(field: Field, ref_id: str) -> dict | None:
    """A lookup or owner value as stored: ``{"name", "id"}`` (owners also carry email)."""
    if field.data_type == "ownerlookup":
        user = SandboxUser.objects.filter(pk=ref_id).first()
        return None if user is None else {"name": user.name, "id": user.id, "email": user.email}
    target = Record.objects.filter(module=field.lookup_module, pk=ref_id).first()
    return None if target is None else target.as_ref()


def derive(module: Module, data: dict) -> dict:
    """Recompute the read-only fields that follow from others (names, formulas)."""
    if module.field("Full_Name") is not None:
        parts = [data.get("First_Name"), data.get("Last_Name")]
        data["Full_Name"] = " ".join(p for p in parts if p) or None
    if module.field("Expected_Revenue") is not None:
        amount, probability = data.get("Amount"), data.get("Probability")
        if isinstance(amount, int | float) and isinstance(probability, int | float):
            data["Expected_Revenue"] = round(amount * probability / 100, 2)
        else:
            data["Expected_Revenue"] = None
    return data


def apply_changes(
    record: Record, module: Module, changes: dict, *, appending: set[str], user: SandboxUser
) -> None:
    """Write cleaned values; multi-selects named in ``appending`` keep their old values."""
    data = dict(record.data)
    for name, value in changes.items():
        f = module.field(name)
        if f is not None and f.data_type == "multiselectpicklist" and value is not None:
            value = merge_multiselect(data.get(name), value, replace=name not in appending)
        data[name] = value
    record.data = derive(module, data)
    record.modified_time = timezone.now()
    record.modified_by = user


def save_written(records: Iterable[Record]) -> None:
    """Save the written records' data, modified time and modifier in one batched UPDATE.

    ``bulk_update`` builds a CASE expression per record and column; for 500 records a
    call that cost more than everything else the sandbox does for a write.
    """
    db = connections[router.db_for_write(Record)]
    quote = db.ops.quote_name
    sql = (
        f"UPDATE {quote(Record._meta.db_table)} SET {quote('data')} = %s, "  # noqa: S608 - names are ours, values are parameters
        f"{quote('modified_time')} = %s, {quote('modified_by_id')} = %s WHERE id = %s"
    )
    params = [
        (
            json.dumps(r.data),
            db.ops.adapt_datetimefield_value(r.modified_time),
            r.modified_by_id,
            r.id,
        )
        for r in records
    ]
    if params:
        with db.cursor() as cursor:
            cursor.executemany(sql, params)


def mass_update_ids(
    *, module: Module, changes: dict, ids: list[Any], over_write: bool, user: SandboxUser
) -> list[dict]:
    """Update the records now; one result per id, in the order of ``ids``."""
    appending = set() if over_write else set(changes)
    wanted = [normalise_id(raw) for raw in ids]
    with transaction.atomic():
        found = records_to_write(module, [i for i in wanted if i])
        results: list[dict] = []
        touched: dict[str, Record] = {}
        for raw, record_id in zip(ids, wanted, strict=True):
            record = found.get(record_id) if record_id else None
            if record is None:
                results.append(invalid_id_entry(record_id or str(raw)))
                continue
            refusal = record.refusal()
            if refusal is not None:
                results.append(refusal)
                continue
            apply_changes(record, module, changes, appending=appending, user=user)
            touched[record.id] = record
            results.append(success_entry(record))
        save_written(touched.values())
    return results


def update_records(
    *,
    module: Module,
    entries: list[Any],
    user: SandboxUser,
    unmodified_since: datetime | None = None,
) -> list[dict]:
    """PUT /{module}: each entry names its record by ``id``; one result per entry.

    With ``unmodified_since`` (the If-Unmodified-Since header), a record modified after
    that time is left alone and answered with ALREADY_MODIFIED. The check is against the
    record as it was before this request, so an id named twice is not refused because of
    its own first entry.
    """
    ids = [normalise_id(e.get("id")) for e in entries if isinstance(e, dict)]
    with transaction.atomic():
        found = records_to_write(module, [i for i in ids if i])
        stale = set()
        if unmodified_since is not None:
            stale = {i for i, r in found.items() if modified_after(r, unmodified_since)}
        results = []
        touched: dict[str, Record] = {}
        for index, entry in enumerate(entries):
            result, record = _update_one(module, index, entry, found, touched, user, stale)
            results.append(result)
            if record is not None:
                touched[record.id] = record
        save_written(touched.values())
    return results


def _update_one(
    module: Module,
    index: int,
    entry: Any,
    found: dict[str, Record],
    touched: dict[str, Record],
    user: SandboxUser,
    stale: set[str],
) -> tuple[dict, Record | None]:
    path = f"$.data[{index}]"
    if not isinstance(entry, dict):
        return error_body("INVALID_DATA", "invalid data", {"json_path": path}), None
    if entry.get("id") in (None, ""):
        details = {"api_name": "id", "json_path": f"{path}.id"}
        return error_body("MANDATORY_NOT_FOUND", "required field not found", details), None
    record_id = normalise_id(entry["id"])
    record = touched.get(record_id or "") or found.get(record_id or "")
    if record is None:
        return invalid_id_entry(record_id or str(entry["id"])), None
    if record.id in stale:
        return already_modified_entry(found[record.id]), None
    refusal = record.refusal()
    if refusal is not None:
        return refusal, None
    changes, appending, error = _clean_entry(module, path, entry, record.id)
    if error is not None:
        return error, None
    apply_changes(record, module, changes, appending=appending, user=user)
    return success_entry(record), record


def _clean_entry(
    module: Module, path: str, entry: dict, record_id: str
) -> tuple[dict[str, Any], set[str], dict | None]:
    """A PUT entry's changes and the multi-selects to append to, or the entry's error."""
    append_flags = entry.get("$append_values") or {}
    if not isinstance(append_flags, dict):
        details = {
            "api_name": "$append_values",
            "json_path": f"{path}.$append_values",
            "expected_data_type": "jsonobject",
            "id": record_id,
        }
        return {}, set(), error_body("INVALID_DATA", "invalid data", details)
    changes: dict[str, Any] = {}
    for name, value in entry.items():
        if name == "id" or name.startswith("$"):
            continue
        f = module.field(name)
        if f is None:
            details = {"api_name": name, "json_path": f"{path}.{name}", "id": record_id}
            message = "the field api name given seems to be invalid"
            return {}, set(), error_body("INVALID_DATA", message, details)
        if f.read_only:
            continue  # Zoho ignores read-only and system fields on update.
        try:
            changes[name] = clean_value(f, value, resolve=resolve_reference)
        except InvalidValue as exc:
            details = {"api_name": name, "json_path": f"{path}.{name}", **exc.details}
            details["id"] = record_id
            return {}, set(), error_body(exc.code, exc.message, details)
    appending = {name for name, flag in append_flags.items() if flag is True}
    return changes, appending, None


# --- Custom views and scheduled (cvid) jobs ----------------------------------------------


def in_view(view: CustomView, records: Iterable[Record]) -> list[Record]:
    """The records the view's criteria select, in the order given."""
    node = compile_view_criteria(get_module(view.module), view.criteria)
    return [r for r in records if node is None or node.matches(r.values())]


def view_record_ids(view: CustomView) -> list[str]:
    records = records_of(get_module(view.module)).order_by("created_time", "id")
    return [r.id for r in in_view(view, records)]


def active_job_for(view: CustomView) -> MassUpdateJob | None:
    """The view's scheduled or running job; call ``advance_jobs`` first to be current."""
    return view.jobs.filter(status__in=MassUpdateJob.ACTIVE).first()


def schedule_mass_update(
    *, view: CustomView, ids: list[str], changes: dict, over_write: bool, user: SandboxUser
) -> MassUpdateJob:
    return MassUpdateJob.objects.create(
        module=view.module,
        custom_view=view,
        changes=changes,
        over_write=over_write,
        user=user,
        record_ids=ids,
        total_count=len(ids),
    )


def apply_job_slice(*, job: MassUpdateJob, upto: int) -> tuple[int, int]:
    """Apply the job to its records ``processed:upto``; return (updated, failed) counts."""
    module = get_module(job.module)
    slice_ids = job.record_ids[job.processed : upto]
    results = mass_update_ids(
        module=module,
        changes=job.changes,
        ids=slice_ids,
        over_write=job.over_write,
        user=job.user,
    )
    updated = sum(1 for r in results if r["status"] == "success")
    return updated, len(results) - updated


def advance_jobs(module: Module, config: FaultConfig) -> None:
    """Let the module's running jobs catch up before anyone reads or writes its records.

    ``config`` is the one the API call is served under: the call has read it already.
    """
    active = MassUpdateJob.objects.filter(module=module.api_name, status__in=MassUpdateJob.ACTIVE)
    # The ids and changes (up to 50,000 ids) are read only under the lock, when a slice
    # is due; this runs on every request to the module.
    for job in active.defer("record_ids", "changes"):
        job.advance(delay=config.job_delay, rate=config.job_rate)
