"""POST/GET /{module}/actions/mass_update.

Where the recordings and the reference disagree, the recordings win: every request-level
error of the POST comes back as HTTP 200 with the error object inside ``data[0]``.
"""

from typing import Any

from django.http import HttpResponse

from ..envelope import ApiError, Call, json_response, results_status
from ..models import CustomView, MassUpdateJob
from ..operations import (
    JOB_MAX_RECORDS,
    MASS_UPDATE_MAX_IDS,
    active_job_for,
    mass_update_ids,
    normalise_id,
    schedule_mass_update,
    view_record_ids,
)
from ..schema import Module
from ..values import InvalidValue, clean_value


def _refuse(code: str, message: str, details: dict | None = None) -> ApiError:
    return ApiError(200, code, message, details, in_data=True)


def _invalid(name: str, path: str, **extra: Any) -> ApiError:
    return _refuse("INVALID_DATA", "invalid data", {"api_name": name, "json_path": path, **extra})


def clean_changes(module: Module, data: Any) -> dict:
    """The body's ``data[0]`` checked against the module's fields, values cleaned."""
    if data is None or data == [] or data == [{}]:
        raise _refuse("INVALID_DATA", "No field found")
    if not isinstance(data, list):
        raise _invalid("data", "$.data", expected_data_type="jsonarray")
    if len(data) > 1:
        raise _refuse("INVALID_DATA", "Max field limit exceeded")
    changes = data[0]
    if not isinstance(changes, dict):
        raise _invalid("data", "$.data[0]", expected_data_type="jsonobject")
    if len(changes) > module.max_mass_update_fields:
        raise _refuse("INVALID_DATA", "Max field limit exceeded")
    cleaned = {}
    for name, value in changes.items():
        path = f"$.data[0].{name}"
        field = module.field(name)
        if field is None or not field.mass_update:
            details = {"api_name": name, "json_path": path}
            raise _refuse(
                "INVALID_DATA", "This field cannot be updated in the Mass Update", details
            )
        try:
            cleaned[name] = clean_value(field, value)
        except InvalidValue as error:
            details = {"api_name": name, "json_path": path, **error.details}
            raise _refuse(error.code, error.message, details) from None
    return cleaned


def mass_update(call: Call) -> HttpResponse:
    module = call.module
    assert module is not None
    body = call.json_body(in_data=True)
    if not isinstance(body, dict):
        raise _refuse("INVALID_DATA", "No field found")
    changes = clean_changes(module, body.get("data"))
    over_write = body.get("over_write", False)
    if not isinstance(over_write, bool):
        raise _invalid("over_write", "$.over_write", expected_data_type="boolean")
    ids, cvid = body.get("ids"), body.get("cvid")
    has_ids, has_cvid = ids not in (None, []), cvid not in (None, "")
    if not has_ids and not has_cvid:
        raise _refuse("MANDATORY_NOT_FOUND", "required field not found")
    if has_ids and has_cvid:
        raise _invalid("cvid", "$.cvid")
    if has_ids:
        return _by_ids(call, module, body, ids, changes, over_write)
    return _schedule(call, module, body, cvid, changes, over_write)


def _by_ids(
    call: Call, module: Module, body: dict, ids: Any, changes: dict, over_write: bool
) -> HttpResponse:
    if body.get("territory") is not None:
        raise _invalid("territory", "$.territory")
    if not isinstance(ids, list):
        raise _invalid("ids", "$.ids", expected_data_type="jsonarray")
    if len(ids) > MASS_UPDATE_MAX_IDS:
        details = {"api_name": "ids", "limit": MASS_UPDATE_MAX_IDS}
        raise _refuse("LIMIT_EXCEEDED", "Record count exceeded", details)
    results = mass_update_ids(
        module=module, changes=changes, ids=ids, over_write=over_write, user=call.user
    )
    return json_response({"data": results}, results_status(results))


def _schedule(
    call: Call, module: Module, body: dict, cvid: Any, changes: dict, over_write: bool
) -> HttpResponse:
    view_id = normalise_id(cvid)
    view = CustomView.objects.filter(pk=view_id, module=module.api_name).first()
    if view is None:
        details = {"api_name": "cvid", "json_path": "$.cvid"}
        raise _refuse("INVALID_DATA", "the cvid given seems to be invalid", details)
    territory = body.get("territory")
    if territory is not None and (
        not isinstance(territory, dict) or normalise_id(territory.get("id")) is None
    ):
        details = {"api_name": "id", "json_path": "$.territory.id"}
        raise _refuse("INVALID_DATA", "the id given seems to be invalid", details)
    # The dispatcher has let the module's jobs catch up, so a finished job is not active.
    if active_job_for(view) is not None:
        message = "Already a Mass Action scheduler is running for the given cvid"
        raise _refuse("ALREADY_SCHEDULED", message, {"api_name": "cvid"})
    ids = view_record_ids(view)
    if not ids:
        raise _refuse("NO_RECORDS_FOUND", "no record found to update")
    if len(ids) > JOB_MAX_RECORDS:
        raise _refuse("LIMIT_EXCEEDED", "Record count exceeded", {"limit": JOB_MAX_RECORDS})
    job = schedule_mass_update(
        view=view, ids=ids, changes=changes, over_write=over_write, user=call.user
    )
    entry = {
        "code": "SUCCESS",
        "details": {"job_id": job.id},
        "message": "mass update scheduled successfully",
        "status": "success",
    }
    return json_response({"data": [entry]})


def job_status(call: Call) -> HttpResponse:
    module = call.module
    assert module is not None
    job_id = call.param("job_id")
    if not job_id:
        details = {"param_name": "job_id"}
        raise ApiError(400, "MANDATORY_NOT_FOUND", "mandatory param missing", details)
    job = MassUpdateJob.objects.filter(pk=job_id, module=module.api_name).first()
    if job is None:
        if call.version[0] >= 8:
            details = {"param_name": "job_id"}
            raise ApiError(400, "INVALID_DATA", "The jobid given seems to be invalid", details)
        raise ApiError(404, "NOT_FOUND", "Empty response")
    # Read after the dispatcher let the module's jobs catch up, so the counts are current.
    return json_response({"data": [job.status_payload()]})
