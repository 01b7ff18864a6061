"""Choosing the records a mass update touches: pasted IDs, a CSV file, a filter or a view.

Pasted text and files are parsed here, without the CRM. Filters and custom views are
resolved to IDs through the CRM (``ZohoClient``). Every way ends in a list of unique
record IDs of at most ``MAX_RECORDS``; anything the user must fix raises
``SelectionError``, whose message is written for the page to show as it is.
"""

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

from crmadmin.zoho.client import ZohoClient
from crmadmin.zoho.errors import ZohoRequestError

MAX_RECORDS = 50_000
MAX_PASTE_CHARS = 5_000_000
MAX_CSV_BYTES = 20 * 1024 * 1024
MAX_FILTER_ROWS = 20  # COQL takes 25 criteria; paging adds one
COQL_PAGE_SIZE = 200  # rows a COQL call returns at most (v2.1)
COQL_MAX_REACH = 10_000  # offset + limit a COQL query may reach (v2.1)
COQL_MAX_IN_VALUES = 50
# A number goes into the query written out in full, where "1e999999999" would be a billion
# digits long; Zoho's own numbers have 19 digits at most.
MAX_NUMBER_DIGITS = 40

# A Zoho record id: 10 to 19 ASCII digits, never starting with 0 (ids are 64-bit integers).
_RECORD_ID = re.compile(r"[1-9][0-9]{9,18}", re.ASCII)
_SEPARATORS = re.compile(r"[\s,;|]+")
# Stripped from both ends of a token: quotes and brackets that spreadsheets, JSON or SQL
# put around ids.
_WRAPPERS = "\"'`()[]{}<>\u2018\u2019\u201c\u201d\u00ab\u00bb"
_API_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class SelectionError(Exception):
    """A selection that cannot be used; ``message`` is a sentence for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AmbiguousIdColumn(SelectionError):  # noqa: N818 - a SelectionError, named for the case
    """Several columns (or none) could hold the IDs: the user must pick one of ``columns``."""

    def __init__(self, message: str, columns: list[str]) -> None:
        super().__init__(message)
        self.columns = columns


@dataclass(frozen=True)
class Selection:
    ids: list[str]
    rejected: list[str]
    duplicates: int


@dataclass(frozen=True)
class CsvSelection(Selection):
    columns: list[str]
    id_column: str


def is_record_id(token: str) -> bool:
    return _RECORD_ID.fullmatch(token) is not None


def _check_count(count: int) -> None:
    if count > MAX_RECORDS:
        raise SelectionError(
            f"You selected {count:,} records; a job takes at most {MAX_RECORDS:,}. "
            "Split the list into several jobs."
        )


class _Collector:
    """Unique ids in first-seen order, rejected tokens once each, repeats counted."""

    def __init__(self) -> None:
        self.ids: dict[str, None] = {}
        self.rejected: dict[str, None] = {}
        self.duplicates = 0

    def add(self, token: str, rejected_as: str | None = None) -> None:
        if is_record_id(token):
            if token in self.ids:
                self.duplicates += 1
            else:
                self.ids[token] = None
        else:
            self.rejected[token if rejected_as is None else rejected_as] = None


# --- Pasted IDs ------------------------------------------------------------------------


def parse_pasted_ids(text: str) -> Selection:
    """The record IDs in ``text``, whatever separates them; other tokens are listed back."""
    if len(text) > MAX_PASTE_CHARS:
        raise SelectionError(
            "What you pasted is larger than 5 MB; upload the IDs as a CSV file instead."
        )
    found = _Collector()
    for raw in _SEPARATORS.split(text):
        token = raw.strip(_WRAPPERS)
        if token:
            found.add(token)
    if not found.ids:
        raise SelectionError("No record IDs found in what you pasted.")
    _check_count(len(found.ids))
    return Selection(list(found.ids), list(found.rejected), found.duplicates)


# --- CSV files -------------------------------------------------------------------------


def read_csv(data: bytes, id_column: str | None = None) -> CsvSelection:
    """The record IDs of one column of a CSV file (``,``, ``;`` or tab separated).

    Without ``id_column`` the column is found by its header, then by its content; when
    that leaves a choice, ``AmbiguousIdColumn`` names the candidates. A file whose first
    row already holds an ID has no header: its columns are called "Column 1", …
    """
    # Row numbers as a spreadsheet shows them: blank lines count.
    numbered = [(number, row) for number, row in enumerate(_csv_rows(data), start=1) if any(row)]
    if not numbered:
        raise SelectionError("The file is empty.")
    header = numbered[0][1]
    if any(is_record_id(cell.strip(_WRAPPERS)) for cell in header):
        columns = [f"Column {n}" for n in range(1, len(header) + 1)]
        records = numbered
    else:
        columns = [name or f"Column {n}" for n, name in enumerate(header, start=1)]
        records = numbered[1:]
    if not records:
        raise SelectionError("The file has a header row but no records under it.")
    index = (
        _named_column(columns, id_column)
        if id_column is not None
        else _detect_id_column(columns, [row for _, row in records])
    )
    found = _Collector()
    for number, row in records:
        value = _cell(row, index)
        found.add(value, rejected_as=f"row {number}: {value or '(empty)'}")
    if not found.ids:
        raise SelectionError(f"No record IDs found in the column “{columns[index]}”.")
    _check_count(len(found.ids))
    return CsvSelection(
        ids=list(found.ids),
        rejected=list(found.rejected),
        duplicates=found.duplicates,
        columns=columns,
        id_column=columns[index],
    )


def _csv_rows(data: bytes) -> list[list[str]]:
    if len(data) > MAX_CSV_BYTES:
        raise SelectionError("The file is larger than 20 MB; split it into several jobs.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # UTF-16, as Excel's "Unicode Text" saves it.
        raise SelectionError("The file is not UTF-8 text (save it as CSV UTF-8).")
    if b"\x00" in data:
        raise SelectionError("The file is not a CSV text file (it contains binary data).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SelectionError("The file is not UTF-8 text (save it as CSV UTF-8).") from None
    if not text.strip(" \t\r\n,;"):
        # Only separators: what a spreadsheet saves for a sheet of empty cells.
        raise SelectionError("The file is empty.")
    delimiter = _detect_delimiter(text)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise SelectionError(f"The file could not be read as CSV ({exc}).") from None
    return [[cell.strip() for cell in row] for row in rows]


def _detect_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most, and most regular, columns."""
    sample = text[:65_536]
    best, best_score = ",", (False, 0)
    for delimiter in (",", ";", "\t"):
        try:
            rows = list(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter))
        except csv.Error:
            continue
        rows = [r for r in rows[:50] if any(cell.strip() for cell in r)]
        if not rows:
            continue
        width = len(rows[0])
        # The sample may end mid-row, so the last row does not count.
        regular = all(len(r) == width for r in rows[1:-1] or rows[:1])
        score = (regular and width > 1, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _cell(row: list[str], index: int) -> str:
    return row[index].strip(_WRAPPERS + " ") if index < len(row) else ""


def _named_column(columns: list[str], name: str) -> int:
    wanted = name.strip()
    for matches in (lambda c: c == wanted, lambda c: c.casefold() == wanted.casefold()):
        for index, column in enumerate(columns):
            if matches(column):
                return index
    raise SelectionError(
        f"The file has no column “{wanted}”. Its columns are: {_column_list(columns)}."
    )


def _normalise_header(name: str) -> str:
    return re.sub(r"[\s_.\-]+", " ", name.casefold()).strip()


_EXACT_ID_HEADERS = {"id", "record id", "recordid", "zcrm id", "zcrmid", "entity id"}


def _detect_id_column(columns: list[str], rows: list[list[str]]) -> int:
    headers = [_normalise_header(c) for c in columns]
    exact = [i for i, h in enumerate(headers) if h in _EXACT_ID_HEADERS]
    if len(exact) == 1:
        return exact[0]
    by_name = exact or [i for i, h in enumerate(headers) if h == "id" or h.endswith(" id")]
    if len(by_name) == 1:
        return by_name[0]
    pool = by_name or list(range(len(columns)))
    by_content = [i for i in pool if _mostly_ids(rows, i)]
    if len(by_content) == 1:
        return by_content[0]
    candidates = [columns[i] for i in (by_content or pool)]
    if by_content or by_name:
        message = f"Several columns could hold the record IDs: {_column_list(candidates)}."
    else:
        message = f"No column looks like record IDs; its columns are: {_column_list(candidates)}."
    raise AmbiguousIdColumn(message + " Choose the column with the IDs.", candidates)


def _mostly_ids(rows: list[list[str]], index: int) -> bool:
    values = [v for v in (_cell(row, index) for row in rows) if v]
    return bool(values) and sum(is_record_id(v) for v in values) > len(values) / 2


def _column_list(columns: Iterable[str]) -> str:
    return ", ".join(f"“{c}”" for c in columns)


# --- Filters ---------------------------------------------------------------------------

_COMPARABLE = [
    "equals",
    "not_equal",
    "greater_than",
    "greater_equal",
    "less_than",
    "less_equal",
    "between",
    "in",
]

# Comparators of Zoho's search by family of data type (the v7 table of the reference,
# without textarea: COQL refuses multi-line fields in criteria).
FILTER_OPERATORS: dict[str, list[str]] = {
    "text": ["equals", "not_equal", "starts_with", "in"],
    "picklist": ["equals", "not_equal", "in"],
    "multiselectpicklist": ["equals", "not_equal", "in"],
    "number": _COMPARABLE,
    "date": _COMPARABLE,
    "datetime": _COMPARABLE,
    "boolean": ["equals", "not_equal"],
    "lookup": ["equals", "not_equal", "in"],
}

DATA_TYPE_FAMILIES: dict[str, str] = {
    "text": "text",
    "email": "text",
    "phone": "text",
    "website": "text",
    "picklist": "picklist",
    "autonumber": "picklist",
    "multiselectpicklist": "multiselectpicklist",
    "integer": "number",
    "bigint": "number",
    "double": "number",
    "decimal": "number",
    "currency": "number",
    "percent": "number",
    "date": "date",
    "datetime": "datetime",
    "boolean": "boolean",
    "lookup": "lookup",
    "ownerlookup": "lookup",
}

_COQL_COMPARATORS = {
    "equals": "=",
    "not_equal": "!=",
    "greater_than": ">",
    "greater_equal": ">=",
    "less_than": "<",
    "less_equal": "<=",
}

OPERATOR_LABELS = {
    "equals": "is",
    "not_equal": "is not",
    "starts_with": "starts with",
    "in": "is one of",
    "greater_than": "is greater than",
    "greater_equal": "is at least",
    "less_than": "is less than",
    "less_equal": "is at most",
    "between": "is between",
}


@dataclass(frozen=True)
class FilterRow:
    """One condition. ``in`` takes a list (or comma-separated text), ``between`` two values."""

    field: str
    operator: str
    value: Any


def filter_family(data_type: str) -> str | None:
    """The family of ``FILTER_OPERATORS`` a field's ``data_type`` belongs to, if any."""
    return DATA_TYPE_FAMILIES.get(data_type)


@dataclass(frozen=True)
class _Condition:
    coql: str
    # starts_with with % or _ in the value: COQL's like treats them as wildcards, so the
    # query finds a superset and rows are kept only if the column really starts so.
    check_column: str | None = None
    prefix: str = ""


def resolve_filter(
    client: ZohoClient, module: str, rows: list[FilterRow], *, limit: int = MAX_RECORDS
) -> list[str]:
    """The ids of the records of ``module`` matching every row, in id order, via COQL."""
    _check_api_name(module, "module")
    if not rows:
        raise SelectionError("Add at least one filter condition.")
    if len(rows) > MAX_FILTER_ROWS:
        raise SelectionError(f"A filter takes at most {MAX_FILTER_ROWS} conditions.")
    for row in rows:
        _check_api_name(row.field, "field")
    try:
        fields = {f.get("api_name"): f for f in client.fields(module)}
    except ZohoRequestError as exc:
        raise SelectionError(f"The CRM refused to describe {module}: {exc.message}.") from exc
    conditions = [_condition(row, fields) for row in rows]
    checks = [c for c in conditions if c.check_column]
    columns = ", ".join(dict.fromkeys(["id", *(c.check_column for c in checks)]))
    ids: dict[str, None] = {}
    after: str | None = None  # keyset paging beyond the reach of offsets
    offset = 0
    while True:
        where = _and([c.coql for c in conditions] + ([f"id > {after}"] if after else []))
        # Names match _API_NAME and values go through _literal, so nothing is injected.
        query = (
            f"select {columns} from {module} where {where} "  # noqa: S608
            f"order by id asc limit {offset}, {COQL_PAGE_SIZE}"
        )
        try:
            page = client.coql(query)
        except ZohoRequestError as exc:
            raise SelectionError(f"The CRM refused the filter: {exc.message}.") from exc
        for row in page:
            if all(_starts_with(row.get(c.check_column), c.prefix) for c in checks):
                ids[str(row["id"])] = None
        if len(ids) > limit:
            raise SelectionError(
                f"The filter matches more than {limit:,} records; a job takes at most "
                f"{limit:,}. Add conditions to narrow it down."
            )
        if len(page) < COQL_PAGE_SIZE:
            break
        offset += COQL_PAGE_SIZE
        if offset + COQL_PAGE_SIZE > COQL_MAX_REACH:
            after, offset = _integer_id(page[-1]["id"]), 0
    if not ids:
        raise SelectionError("No records match the filter.")
    return list(ids)


def resolve_view(
    client: ZohoClient, module: str, cvid: str, *, limit: int = MAX_RECORDS
) -> list[str]:
    """The ids of every record in the custom view ``cvid`` of ``module``."""
    _check_api_name(module, "module")
    if not str(cvid).isascii() or not str(cvid).isdigit():
        raise SelectionError("Choose one of the module's views.")
    ids: dict[str, None] = {}
    try:
        for record in client.iter_records(module, ["id"], cvid=str(cvid)):
            ids[str(record["id"])] = None
            if len(ids) > limit:
                raise SelectionError(
                    f"The view holds more than {limit:,} records; a job takes at most "
                    f"{limit:,}. Use a narrower view or a filter."
                )
    except ZohoRequestError as exc:
        raise SelectionError(f"The CRM refused to list the view: {exc.message}.") from exc
    if not ids:
        raise SelectionError("The view has no records.")
    return list(ids)


def _check_api_name(name: str, what: str) -> None:
    if not isinstance(name, str) or not _API_NAME.match(name):
        raise SelectionError(f"{name!r} is not a {what} API name.")


def _and(conditions: list[str]) -> str:
    # Zoho wants two criteria at most per level of parentheses.
    where = conditions[0]
    for condition in conditions[1:]:
        where = f"({where}) and ({condition})"
    return where


def _condition(row: FilterRow, fields: dict[str, dict[str, Any]]) -> _Condition:
    meta = fields.get(row.field)
    if meta is None:
        raise SelectionError(f"The module has no field {row.field}.")
    label = meta.get("field_label") or row.field
    family = filter_family(str(meta.get("data_type")))
    if family is None:
        raise SelectionError(f"Records cannot be filtered on {label}.")
    if row.operator not in FILTER_OPERATORS[family]:
        allowed = ", ".join(OPERATOR_LABELS[o] for o in FILTER_OPERATORS[family])
        said = OPERATOR_LABELS.get(row.operator, row.operator)
        raise SelectionError(f"{label} cannot be compared with “{said}”; use: {allowed}.")
    name = row.field
    if row.operator == "in":
        values = _values(row.value)
        if not values:
            raise SelectionError(f"Give at least one value for {label}.")
        if len(values) > COQL_MAX_IN_VALUES:
            raise SelectionError(f"“is one of” takes at most {COQL_MAX_IN_VALUES} values.")
        literals = ", ".join(_literal(family, v, label) for v in values)
        return _Condition(f"{name} in ({literals})")
    if row.operator == "between":
        values = _values(row.value)
        if len(values) != 2:
            raise SelectionError(f"Give two values, the lowest first, for {label}.")
        low, high = (_literal(family, v, label) for v in values)
        return _Condition(f"{name} between {low} and {high}")
    value = _single(row.value, label)
    if row.operator == "starts_with":
        pattern = _quote(value + "%")
        if "%" in value or "_" in value:
            return _Condition(f"{name} like {pattern}", name, value.casefold())
        return _Condition(f"{name} like {pattern}")
    literal = _literal(family, value, label)
    return _Condition(f"{name} {_COQL_COMPARATORS[row.operator]} {literal}")


def _values(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    elif not isinstance(value, Sequence):
        value = [value]
    return [text for text in (_text(v) for v in value) if text]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value).strip()


def _single(value: Any, label: str) -> str:
    if isinstance(value, list | tuple):
        value = value[0] if len(value) == 1 else ""
    text = _text(value)
    if not text:
        raise SelectionError(f"Give a value for {label}.")
    return text


def _literal(family: str, value: str, label: str) -> str:
    """``value`` as a COQL literal of ``family``; SelectionError if it is not one."""
    if family == "number":
        try:
            # Look-alike digits (Arabic-Indic, full-width) are refused, as in record IDs.
            number = Decimal(value) if value.isascii() else None
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise SelectionError(f"{label} needs a number; “{value}” is not one.")
        exponent = number.as_tuple().exponent
        assert isinstance(exponent, int)  # finite
        if max(number.adjusted() + 1, 1) + max(-exponent, 0) > MAX_NUMBER_DIGITS:
            raise SelectionError(
                f"{label} needs a number of at most {MAX_NUMBER_DIGITS} digits; “{value}” has more."
            )
        return format(number, "f")
    if family == "date":
        if not _DATE.match(value) or not _is_date(value):
            raise SelectionError(f"{label} needs a date as YYYY-MM-DD; “{value}” is not one.")
        return _quote(value)
    if family == "datetime":
        return _quote(_datetime(value, label))
    if family == "boolean":
        lowered = value.lower()
        if lowered not in {"true", "false"}:
            raise SelectionError(f"{label} is true or false; “{value}” is neither.")
        return lowered
    if family == "lookup":
        if not is_record_id(value):
            raise SelectionError(f"{label} needs a record ID; “{value}” is not one.")
        return value
    return _quote(value)


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _datetime(value: str, label: str) -> str:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SelectionError(
            f"{label} needs a date and time such as 2025-03-31T17:30:00; “{value}” is not one."
        ) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment.isoformat(timespec="seconds")


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _starts_with(value: Any, prefix: str) -> bool:
    return isinstance(value, str) and value.casefold().startswith(prefix)


def _integer_id(value: Any) -> str:
    text = str(value)
    if not is_record_id(text):
        raise SelectionError(f"The CRM answered with a record id that is not one: {text!r}.")
    return text
