"""Checking a value written to a field against the field's type, as Zoho does on writes."""

import math
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .schema import Field

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$")

EXPECTED_TYPES = {
    "text": "text",
    "textarea": "textarea",
    "email": "email",
    "phone": "phone",
    "website": "website",
    "picklist": "picklist",
    "multiselectpicklist": "jsonarray",
    "integer": "integer",
    "bigint": "bigint",
    "double": "double",
    "currency": "double",
    "percent": "double",
    "date": "date",
    "datetime": "datetime",
    "boolean": "boolean",
    "lookup": "jsonobject",
    "ownerlookup": "jsonobject",
}
INTEGER_RANGE = (-2_147_483_648, 2_147_483_647)
BIGINT_RANGE = (-(2**63), 2**63 - 1)


class InvalidValue(Exception):  # noqa: N818 - named like the error it stands for
    """A value the field refuses; ``details`` are added to api_name / json_path."""

    def __init__(
        self, details: dict, *, code: str = "INVALID_DATA", message: str = "invalid data"
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


Resolver = Callable[[Field, str], dict | None]


def clean_value(field: Field, value: Any, *, resolve: Resolver | None = None) -> Any:
    """Return the value as it is stored, or raise InvalidValue.

    ``resolve`` turns a lookup id into ``{"name", "id"}`` (None when there is no such
    record or user); without it lookups are refused.
    """
    expected = {"expected_data_type": EXPECTED_TYPES.get(field.data_type, field.data_type)}
    if value is None or value == "" or value == "-None-" and field.data_type == "picklist":
        if field.system_mandatory:
            raise InvalidValue({}, code="MANDATORY_NOT_FOUND", message="required field not found")
        return None
    kind = field.data_type
    if kind in {"text", "textarea", "phone", "website", "email"}:
        if not isinstance(value, str):
            raise InvalidValue(expected)
        if len(value) > field.max_length:
            raise InvalidValue({"maximum_length": field.max_length})
        if kind == "email" and not EMAIL_RE.match(value):
            raise InvalidValue(expected)
        return value
    if kind == "picklist":
        if not isinstance(value, str):
            raise InvalidValue(expected)
        if value not in field.used_values:
            raise InvalidValue({"supported_values": field.used_values})
        return value
    if kind == "multiselectpicklist":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidValue(expected)
        unknown = [v for v in value if v not in field.used_values]
        if unknown:
            raise InvalidValue({"supported_values": field.used_values})
        return list(dict.fromkeys(value))
    if kind in {"integer", "bigint"}:
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidValue(expected)
        low, high = INTEGER_RANGE if kind == "integer" else BIGINT_RANGE
        if not low <= value <= high or len(str(abs(value))) > field.max_length:
            raise InvalidValue({"maximum_length": field.max_length})
        return value
    if kind in {"double", "currency", "percent"}:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise InvalidValue(expected)
        # Only floats: an int too large for a double would overflow math.isfinite.
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidValue(expected)
        if field.decimal_place is not None and _decimals(value) > field.decimal_place:
            raise InvalidValue({"maximum_decimal_place": field.decimal_place})
        if len(str(int(abs(value)))) > field.max_length:
            raise InvalidValue({"maximum_length": field.max_length})
        return value
    if kind == "date":
        if not isinstance(value, str) or not DATE_RE.match(value) or not _is_date(value):
            raise InvalidValue(expected)
        return value
    if kind == "datetime":
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None:
            raise InvalidValue(expected)
        return parsed.isoformat(timespec="seconds")
    if kind == "boolean":
        if not isinstance(value, bool):
            raise InvalidValue(expected)
        return value
    if kind in {"lookup", "ownerlookup"}:
        ref_id = value.get("id") if isinstance(value, dict) else value
        if isinstance(ref_id, int) and not isinstance(ref_id, bool):
            ref_id = str(ref_id)
        if not isinstance(ref_id, str) or resolve is None:
            raise InvalidValue(expected)
        found = resolve(field, ref_id)
        if found is None:
            raise InvalidValue({"id": ref_id}, message="the id given seems to be invalid")
        return found
    raise InvalidValue(expected)


def parse_datetime(value: str) -> datetime | None:
    """An ISO 8601 datetime with an offset (Zoho refuses naive ones), else None."""
    if not DATETIME_RE.match(value):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def merge_multiselect(old: Any, new: list[str], *, replace: bool) -> list[str]:
    """``over_write``/``$append_values``: replace, or add to the old values in order."""
    if replace or not isinstance(old, list):
        return list(new)
    return list(dict.fromkeys([*old, *new]))


def _decimals(value: int | float) -> int:
    if isinstance(value, int):
        return 0
    exponent = Decimal(repr(value)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
