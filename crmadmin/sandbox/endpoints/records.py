"""Reading and writing records: GET/PUT /{module}, GET/PUT /{module}/{id}, search."""

import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from django.db.models import BigIntegerField, QuerySet
from django.db.models.functions import Cast
from django.http import HttpResponse

from .. import credits
from ..envelope import ApiError, Call, json_response, no_content, results_status
from ..models import CustomView, Record
from ..operations import PUT_MAX_RECORDS, in_view, normalise_id, records_of
from ..operations import update_records as write_records
from ..query import Node, QueryError, parse_search_criteria
from ..schema import Module
from ..values import parse_datetime

MAX_PER_PAGE = 200
MAX_FIELDS = 50
DISCRETE_PAGINATION_LIMIT = 2000
SEARCH_REACH = 2000
WORD_RE = re.compile(r"^[\w\s.@'+-]{2,}$")


def record_payload(record: Record, module: Module, fields: list[str] | None = None) -> dict:
    """A record as Zoho returns it: id, the fields asked for (all by default), $-keys."""
    system = record.system_values()
    names = fields if fields is not None else [f.api_name for f in module.fields]
    payload = {"id": record.id}
    for name in names:
        if name in system:
            payload[name] = system[name]
        elif module.field(name) is not None:
            payload[name] = record.data.get(name)
    for key, value in system.items():
        if key.startswith("$"):
            payload[key] = value
    return payload


def _fields_param(call: Call) -> list[str] | None:
    raw = call.param("fields")
    if not raw:
        return None
    names = list(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
    if len(names) > MAX_FIELDS:
        details = {"limit": MAX_FIELDS, "param_name": "fields"}
        raise ApiError(400, "LIMIT_EXCEEDED", "limit exceeded", details)
    return names


def _choice_param(call: Call, name: str, default: str, allowed: set[str]) -> str:
    value = (call.param(name) or default).lower()
    if value not in allowed:
        raise ApiError(400, "INVALID_DATA", "invalid data", {"param_name": name})
    return value


def _page_params(call: Call) -> tuple[int, int]:
    page = call.int_param("page", 1)
    per_page = min(call.int_param("per_page", MAX_PER_PAGE), MAX_PER_PAGE)
    return page, per_page


def _page_response(rows: list[dict], page: int, per_page: int, more: bool) -> HttpResponse:
    if not rows:
        return no_content()
    info = {"per_page": per_page, "count": len(rows), "page": page, "more_records": more}
    return json_response({"data": rows, "info": info})


def _by_ids(module: Module, raw: str, fields: list[str] | None) -> HttpResponse:
    wanted = list(dict.fromkeys(i for i in (normalise_id(p) for p in raw.split(",")) if i))
    found = records_of(module).in_bulk(wanted)
    rows = [record_payload(found[i], module, fields) for i in wanted if i in found]
    return _page_response(rows, 1, max(len(rows), 1), False)


def _modified_since(call: Call) -> datetime | None:
    raw = call.request.headers.get("If-Modified-Since")
    if not raw:
        return None
    parsed = _header_datetime(raw)
    if parsed is None:
        raise ApiError(400, "INVALID_DATA", "invalid data", {"header_name": "If-Modified-Since"})
    return parsed


def _unmodified_since(call: Call) -> datetime | None:
    raw = call.request.headers.get("If-Unmodified-Since")
    if not raw or not raw.strip():
        return None
    parsed = _header_datetime(raw)
    if parsed is None:
        message = (
            "the If-Unmodified-Since header is not a valid date: use an HTTP date "
            "(Tue, 03 Sep 2024 05:11:07 GMT) or ISO 8601 with an offset "
            "(2024-09-03T10:41:07+05:30)"
        )
        raise ApiError(400, "INVALID_DATA", message, {"header_name": "If-Unmodified-Since"})
    return parsed


def _header_datetime(raw: str) -> datetime | None:
    """An ISO 8601 datetime with an offset, or an HTTP (RFC 1123) date; else None."""
    parsed = parse_datetime(raw.strip())
    if parsed is not None:
        return parsed
    try:
        parsed = parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError):
        return None
    # "-0000" (and the obsolete zone-less forms) leave the time naive: read it as UTC.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def list_records(call: Call) -> HttpResponse:
    module = call.module
    assert module is not None
    fields = _fields_param(call)
    if (ids := call.param("ids")) is not None:
        return _by_ids(module, ids, fields)
    page, per_page = _page_params(call)
    if call.version[0] >= 7 and page * per_page > DISCRETE_PAGINATION_LIMIT:
        raise ApiError(
            400,
            "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
            "You can only get the first 2000 records without using page_token param",
            {"limit": DISCRETE_PAGINATION_LIMIT},
        )
    cvid, sort_by = call.param("cvid"), call.param("sort_by")
    if cvid and sort_by:
        details = {"ambiguity_due_to": [{"param_name": "cvid"}, {"param_name": "sort_by"}]}
        raise ApiError(400, "AMBIGUITY_DURING_PROCESSING", "ambiguity during processing", details)
    sort_by = sort_by or "id"
    if sort_by not in {"id", "Created_Time", "Modified_Time"}:
        raise ApiError(400, "INVALID_DATA", "invalid data", {"param_name": "sort_by"})
    descending = _choice_param(call, "sort_order", "desc", {"asc", "desc"}) == "desc"
    # A view's own criteria decide about converted leads (think "Converted Leads").
    converted_default = "both" if cvid else "false"
    converted = _choice_param(call, "converted", converted_default, {"true", "false", "both"})
    approved = _choice_param(call, "approved", "both", {"true", "false", "both"})
    since = _modified_since(call)
    queryset = _filtered(records_of(module), converted=converted, approved=approved)
    if since is not None:
        queryset = queryset.filter(modified_time__gt=since)
        if not queryset.exists():
            return HttpResponse(status=304)
    start = (page - 1) * per_page
    if cvid:
        ordered = queryset.order_by(*_ordering("id", descending))
        chunk = _in_view(module, ordered, cvid)[start : start + per_page + 1]
    else:
        ordered = queryset.order_by(*_ordering(sort_by, descending))
        chunk = list(ordered[start : start + per_page + 1])
    rows = [record_payload(r, module, fields) for r in chunk[:per_page]]
    return _page_response(rows, page, per_page, len(chunk) > per_page)


def _in_view(module: Module, records: QuerySet[Record], cvid: str) -> list[Record]:
    view = CustomView.objects.filter(pk=cvid, module=module.api_name).first()
    if view is None:
        details = {"param_name": "cvid"}
        raise ApiError(400, "INVALID_DATA", "the cvid given seems to be invalid", details)
    return in_view(view, records)


def _filtered(queryset: QuerySet[Record], *, converted: str, approved: str) -> QuerySet[Record]:
    if converted != "both":
        queryset = queryset.filter(converted=converted == "true")
    if approved != "both":
        state = Record.APPROVED if approved == "true" else Record.PENDING
        queryset = queryset.filter(approval_state=state)
    return queryset


def _ordering(sort_by: str, descending: bool) -> list:
    numeric_id = Cast("id", output_field=BigIntegerField())
    key = {"id": numeric_id, "Created_Time": "created_time", "Modified_Time": "modified_time"}
    first = key[sort_by]
    if isinstance(first, str):
        return [
            f"-{first}" if descending else first,
            numeric_id.desc() if descending else numeric_id,
        ]
    return [first.desc() if descending else first.asc()]


def get_record(call: Call) -> HttpResponse:
    module = call.module
    assert module is not None and call.resource is not None
    record_id = normalise_id(call.resource)
    record = records_of(module).filter(pk=record_id).first() if record_id else None
    if record is None:
        raise ApiError(
            400, "INVALID_DATA", "the id given seems to be invalid", {"id": call.resource}
        )
    return json_response({"data": [record_payload(record, module)]})


def put_credits(call: Call) -> int:
    """PUT /{module} costs 1 credit per 10 records; a body it cannot count costs 1."""
    try:
        body = call.json_body()
    except ApiError:
        return 1
    entries = body.get("data") if isinstance(body, dict) else None
    if not isinstance(entries, list) or len(entries) > PUT_MAX_RECORDS:
        return 1  # refused before any record is looked at
    return credits.per_ten(len(entries))


def update_records(call: Call) -> HttpResponse:
    since = _unmodified_since(call)
    body = call.json_body()
    return _write(call, body, since)


def update_record(call: Call) -> HttpResponse:
    since = _unmodified_since(call)
    body = call.json_body()
    entries = body.get("data") if isinstance(body, dict) else None
    if isinstance(entries, list) and entries and isinstance(entries[0], dict):
        entries[0]["id"] = call.resource
    return _write(call, body, since)


def _write(call: Call, body: object, since: datetime | None) -> HttpResponse:
    module = call.module
    assert module is not None
    entries = body.get("data") if isinstance(body, dict) else None
    if not isinstance(entries, list) or not entries:
        details = {"api_name": "data", "json_path": "$.data"}
        raise ApiError(400, "MANDATORY_NOT_FOUND", "required field not found", details)
    if len(entries) > PUT_MAX_RECORDS:
        details = {"maximum_length": PUT_MAX_RECORDS, "api_name": "data"}
        message = "count of records in your request exceeds the limit"
        raise ApiError(400, "LIMIT_EXCEEDED", message, details, in_data=True)
    trigger = body.get("trigger") if isinstance(body, dict) else None
    if trigger is not None and not isinstance(trigger, list):
        details = {
            "api_name": "trigger",
            "json_path": "$.trigger",
            "expected_data_type": "jsonarray",
        }
        raise ApiError(400, "INVALID_DATA", "invalid data", details)
    results = write_records(module=module, entries=entries, user=call.user, unmodified_since=since)
    if all(r["code"] == "ALREADY_MODIFIED" for r in results):
        # Every record failed the precondition: the request as a whole did.
        return json_response({"data": results}, 412)
    return json_response({"data": results}, results_status(results))


# --- Search -----------------------------------------------------------------------------


def search_records(call: Call) -> HttpResponse:
    module = call.module
    assert module is not None
    node = _search_node(call, module)
    page, per_page = _page_params(call)
    start = (page - 1) * per_page
    if start >= SEARCH_REACH:
        raise ApiError(
            400,
            "LIMIT_REACHED",
            "Maximum response iteration limit reached",
            {"limit": SEARCH_REACH},
        )
    converted = _choice_param(call, "converted", "false", {"true", "false", "both"})
    approved = _choice_param(call, "approved", "true", {"true", "false", "both"})
    fields = _fields_param(call)
    queryset = _filtered(records_of(module), converted=converted, approved=approved)
    matching = [r for r in queryset.order_by(*_ordering("id", False)) if node.matches(r.values())]
    end = min(start + per_page, SEARCH_REACH)
    rows = [record_payload(r, module, fields) for r in matching[start:end]]
    return _page_response(rows, page, per_page, len(matching) > end)


def _search_node(call: Call, module: Module) -> Node:
    """criteria > email > phone > word, as Zoho ranks them when several are sent."""
    if (criteria := call.param("criteria")) is not None:
        try:
            return parse_search_criteria(module, criteria)
        except QueryError as error:
            raise ApiError(400, error.code, error.message, error.details) from None
    if (email := call.param("email")) is not None:
        return _AnyField(module, {"email"}, lambda stored: stored.lower() == email.lower())
    if (phone := call.param("phone")) is not None:
        digits = re.sub(r"\D", "", phone)
        if not digits:
            raise ApiError(400, "INVALID_DATA", "invalid data", {"param_name": "phone"})
        return _AnyField(module, {"phone"}, lambda stored: digits in re.sub(r"\D", "", stored))
    if (word := call.param("word")) is not None:
        if not WORD_RE.match(word):
            raise ApiError(400, "INVALID_DATA", "invalid data", {"param_name": "word"})
        needle = word.lower()
        kinds = {"text", "email", "phone", "website", "picklist", "multiselectpicklist"}
        return _AnyField(module, kinds, lambda stored: needle in stored.lower())
    raise ApiError(400, "EXPECTED_PARAM_MISSING", "mandatory param missing", {})


class _AnyField:
    """Matches when any field of the given types holds a string that passes ``test``."""

    def __init__(self, module: Module, kinds: set[str], test: Callable[[str], bool]) -> None:
        self.names = [f.api_name for f in module.fields if f.data_type in kinds]
        self.test = test

    def matches(self, values: dict) -> bool:
        for name in self.names:
            stored = values.get(name)
            items = stored if isinstance(stored, list) else [stored]
            if any(isinstance(item, str) and self.test(item) for item in items):
                return True
        return False
