"""Filtering records: search ``criteria``, the COQL subset and custom-view criteria.

All three compile to the same small tree of ``Condition`` / ``Group`` nodes that is
evaluated on a record's values (``Record.values()``). Evaluating in Python, not SQL,
keeps Zoho's loose comparisons (case-insensitive text, lookups by id or name,
multi-select "contains") in one place; the sandbox's data sets are small enough.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .schema import Field, Module, get_module
from .values import parse_datetime

SEARCH_OPERATORS = {"equals", "starts_with"}
MAX_SEARCH_CONDITIONS = 10
COQL_MAX_LIMIT = 200  # rows a call, v2/v2.1
COQL_MAX_REACH = 10_000  # offset + limit, v2/v2.1
COQL_V7_MAX_LIMIT = 2000  # the v7+ limitations pages raise both tenfold
COQL_V7_MAX_REACH = 100_000
COQL_MAX_COLUMNS = 50
COQL_MAX_CONDITIONS = 25
COQL_MAX_IN_VALUES = 50
# Parentheses nest at most this deep: deeper input is refused before Python's stack runs out.
MAX_NESTING = 50

NUMERIC = {"integer", "bigint", "double", "currency", "percent"}
LOOKUPS = {"lookup", "ownerlookup"}

# Keys of Record.values() that are not fields but can be filtered on.
PSEUDO_FIELDS = {
    "id": Field("id", "Record Id", "text", mass_update=False, read_only=True),
    "$converted": Field("$converted", "Converted", "boolean", mass_update=False),
    "$approved": Field("$approved", "Approved", "boolean", mass_update=False),
}


class QueryError(Exception):  # noqa: N818 - named like the API error it becomes
    def __init__(self, code: str, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


# --- The tree --------------------------------------------------------------------------


@dataclass
class Condition:
    field: Field
    op: str  # eq ne gt ge lt le starts_with like in between is_null
    operands: list[Any] = field(default_factory=list)
    negate: bool = False
    path: str | None = None  # "name" / "id" / "email" for Lookup.name in COQL

    def matches(self, values: dict) -> bool:
        stored = values.get(self.field.api_name)
        if self.path is not None:
            stored = stored.get(self.path) if isinstance(stored, dict) else None
            kind = "text"
        else:
            kind = self.field.data_type
        result = _compare(kind, stored, self.op, self.operands)
        if self.negate:
            # SQL-like: a missing value matches neither "like x" nor "not like x".
            return not result and not _is_null(stored)
        return result

    def count(self) -> int:
        return 1


@dataclass
class Group:
    op: str  # "and" / "or"
    items: list["Condition | Group"]

    def matches(self, values: dict) -> bool:
        results = (item.matches(values) for item in self.items)
        return all(results) if self.op == "and" else any(results)

    def count(self) -> int:
        return sum(item.count() for item in self.items)


Node = Condition | Group


# --- Comparing values ------------------------------------------------------------------


def _is_null(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _coerce(kind: str, raw: Any) -> Any:
    """A comparable form of a stored value or a literal, for a field of ``kind``."""
    if raw is None:
        return None
    if kind in NUMERIC:
        if isinstance(raw, bool):
            return None
        try:
            return float(raw)
        except (TypeError, ValueError, OverflowError):  # OverflowError: ints beyond doubles
            return None
    if kind == "boolean":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        return {"true": True, "false": False}.get(text)
    if kind == "datetime":
        if isinstance(raw, datetime):
            return raw
        return parse_datetime(str(raw))
    return str(raw).lower()


def _candidates(kind: str, stored: Any) -> list[Any]:
    """The values a stored value offers to a comparison: list items, a lookup's id and name."""
    if isinstance(stored, list):
        return [_coerce("text", item) for item in stored]
    if isinstance(stored, dict):
        return [_coerce("text", stored.get("id")), _coerce("text", stored.get("name"))]
    return [_coerce(kind, stored)]


def _compare(kind: str, stored: Any, op: str, operands: list[Any]) -> bool:
    if op == "is_null":
        return _is_null(stored)
    if _is_null(stored):
        return False
    literal_kind = "text" if kind in LOOKUPS or kind == "multiselectpicklist" else kind
    values = [v for v in _candidates(kind, stored) if v is not None]
    wanted = [_coerce(literal_kind, o) for o in operands]
    if op in {"eq", "in"}:
        return any(v == w for v in values for w in wanted if w is not None)
    if op == "ne":
        return not any(v == w for v in values for w in wanted if w is not None)
    if op == "starts_with":
        return any(
            isinstance(v, str) and isinstance(w, str) and v.startswith(w)
            for v in values
            for w in wanted
        )
    if op == "like":
        patterns = [_like_regex(str(o)) for o in operands]
        return any(isinstance(v, str) and p.fullmatch(v) for v in values for p in patterns)
    try:
        if op == "between":
            low, high = wanted
            return any(low <= v <= high for v in values)
        w = wanted[0]
        if w is None:
            return False
        if op == "gt":
            return any(v > w for v in values)
        if op == "ge":
            return any(v >= w for v in values)
        if op == "lt":
            return any(v < w for v in values)
        if op == "le":
            return any(v <= w for v in values)
    except TypeError:
        return False
    raise ValueError(op)


def _like_regex(pattern: str) -> re.Pattern:
    parts = [re.escape(part) for part in pattern.lower().split("%")]
    return re.compile(".*".join(parts), re.DOTALL)


def _field(module: Module, name: str) -> Field | None:
    return module.field(name) or PSEUDO_FIELDS.get(name)


# --- Search: ((Field:operator:value)and(Field:operator:value)) --------------------------


def parse_search_criteria(module: Module, text: str) -> Node:
    """Parse v2.1 search criteria; raise QueryError (INVALID_QUERY) when it is malformed."""
    parser = _CriteriaParser(module, text.strip())
    node = parser.parse()
    if node.count() > MAX_SEARCH_CONDITIONS:
        raise _invalid_query(f"more than {MAX_SEARCH_CONDITIONS} criteria given")
    return node


def _invalid_query(reason: str, **details: Any) -> QueryError:
    return QueryError("INVALID_QUERY", "invalid query formed", {**details, "reason": reason})


class _CriteriaParser:
    def __init__(self, module: Module, text: str) -> None:
        self.module = module
        self.text = text
        self.pos = 0
        self.depth = 0

    def parse(self) -> Node:
        if not self.text:
            raise _invalid_query("empty criteria")
        if not self.text.startswith("("):
            # A bare condition without parentheses is accepted, as Zoho does.
            self.text = f"({self.text})"
        node = self._expression()
        if self.pos != len(self.text):
            raise _invalid_query(f"unexpected text at position {self.pos}")
        return node

    def _expression(self) -> Node:
        items: list[Node] = [self._operand()]
        ops: list[str] = []
        while True:
            match = re.compile(r"\s*(and|or)\s*", re.IGNORECASE).match(self.text, self.pos)
            if not match:
                break
            ops.append(match.group(1).lower())
            self.pos = match.end()
            items.append(self._operand())
        return _combine(items, ops)

    def _operand(self) -> Node:
        if self.pos >= len(self.text) or self.text[self.pos] != "(":
            raise _invalid_query(f"'(' expected at position {self.pos}")
        self.pos += 1
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _invalid_query(f"parentheses nested more than {MAX_NESTING} deep")
        # "((" opens a group, "(Field:" a condition.
        node = self._expression() if self.text.startswith("(", self.pos) else self._condition()
        self.depth -= 1
        if self.pos >= len(self.text) or self.text[self.pos] != ")":
            raise _invalid_query(f"')' expected at position {self.pos}")
        self.pos += 1
        return node

    def _condition(self) -> Condition:
        end = self.text.find(":", self.pos)
        if end < 0:
            raise _invalid_query("a condition needs field:operator:value")
        name = self.text[self.pos : end].strip()
        op_end = self.text.find(":", end + 1)
        if op_end < 0:
            raise _invalid_query("a condition needs field:operator:value")
        operator = self.text[end + 1 : op_end].strip()
        self.pos = op_end + 1
        values = self._values()
        field_def = _field(self.module, name)
        if field_def is None:
            raise _invalid_query("invalid field", api_name=name)
        if operator not in SEARCH_OPERATORS:
            raise _invalid_query("invalid operator", api_name=name, operator=operator)
        if not values or all(v == "" for v in values):
            raise _invalid_query("value missing", api_name=name, operator=operator)
        op = "eq" if operator == "equals" else "starts_with"
        return Condition(field_def, op, values)

    def _values(self) -> list[str]:
        """Read up to the closing ')'; backslash escapes, unescaped commas separate values."""
        values: list[str] = []
        current: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                current.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if char == ")":
                values.append("".join(current))
                return values
            if char == ",":
                values.append("".join(current))
                current = []
            else:
                current.append(char)
            self.pos += 1
        raise _invalid_query("')' missing at the end of a condition")


def _combine(items: list[Node], ops: list[str]) -> Node:
    """and binds tighter than or, as in SQL."""
    if not ops:
        return items[0]
    or_groups: list[list[Node]] = [[items[0]]]
    for op, item in zip(ops, items[1:], strict=True):
        if op == "and":
            or_groups[-1].append(item)
        else:
            or_groups.append([item])
    ands: list[Node] = [g[0] if len(g) == 1 else Group("and", g) for g in or_groups]
    return ands[0] if len(ands) == 1 else Group("or", ands)


# --- COQL ------------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.|'')*')
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>!=|<>|>=|<=|=|>|<)
      | (?P<punct>[(),*])
      | (?P<word>[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)?)
    )""",
    re.VERBOSE,
)


@dataclass
class Token:
    kind: str
    value: Any
    text: str

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.value.lower() in words


@dataclass
class CoqlQuery:
    module: Module
    columns: list[str]
    where: Node
    order_by: list[tuple[str, bool]]  # (column, descending)
    offset: int
    limit: int

    def run(self, records_values: list[dict]) -> tuple[list[dict], bool]:
        """The page of rows the query selects, and whether more rows follow it."""
        rows = [v for v in records_values if self.where.matches(v)]
        for column, descending in reversed(self.order_by or [("id", False)]):
            rows.sort(key=lambda v, c=column: _sort_key(self.module, v, c), reverse=descending)
        page = rows[self.offset : self.offset + self.limit]
        return [self._row(v) for v in page], len(rows) > self.offset + self.limit

    def _row(self, values: dict) -> dict:
        row = {"id": values["id"]}
        for column in self.columns:
            name, _, path = column.partition(".")
            value = values.get(name)
            if path:
                value = value.get(path) if isinstance(value, dict) else None
            elif isinstance(value, dict) and "id" in value:
                value = {"id": value["id"]}
            row[column] = value
        return row


def _sort_key(module: Module, values: dict, column: str) -> tuple:
    name, _, path = column.partition(".")
    value = values.get(name)
    if path:
        value = value.get(path) if isinstance(value, dict) else None
    f = _field(module, name)
    kind = f.data_type if f and not path else "text"
    if name == "id" and value is not None:
        return (0, int(value))
    coerced = _coerce(kind, value if not isinstance(value, dict | list) else str(value))
    # Missing values sort last in either direction's natural order.
    return (1, 0) if coerced is None else (0, coerced)


def _syntax_error(message: str, clause: str | None = None) -> QueryError:
    details = {"clause": clause} if clause else {}
    return QueryError("SYNTAX_ERROR", message, details)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    text = text.rstrip().rstrip(";")
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN_RE.match(text, pos)
        if not match or match.end() == pos:
            raise _syntax_error(f"error occurred near '{text[pos : pos + 20].strip()}'")
        kind = match.lastgroup or ""
        raw = match.group(kind)
        value: Any = raw
        if kind == "string":
            value = raw[1:-1].replace("''", "'").replace("\\'", "'")
        elif kind == "number":
            try:
                value = float(raw) if "." in raw else int(raw)
            except ValueError:  # more digits than Python converts
                raise _syntax_error(f"error occurred near '{raw[:20]}'") from None
        tokens.append(Token(kind, value, raw))
        pos = match.end()
    return tokens


def parse_coql(
    text: str, *, max_limit: int = COQL_MAX_LIMIT, max_reach: int = COQL_MAX_REACH
) -> CoqlQuery:
    """Parse the COQL subset: select … from … where … [order by …] [limit …]."""
    return _CoqlParser(tokenize(text), max_limit=max_limit, max_reach=max_reach).parse()


class _CoqlParser:
    def __init__(self, tokens: list[Token], *, max_limit: int, max_reach: int) -> None:
        self.max_limit = max_limit
        self.max_reach = max_reach
        self.tokens = tokens
        self.pos = 0
        self.module: Module | None = None
        self.conditions = 0
        self.depth = 0

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise _syntax_error("unexpected end of query")
        self.pos += 1
        return token

    def expect_word(self, *words: str, clause: str | None = None) -> Token:
        token = self.peek()
        if token is None or not token.is_word(*words):
            near = token.text if token else "end of query"
            raise _syntax_error(f"error occurred near '{near}'", clause)
        self.pos += 1
        return token

    def parse(self) -> CoqlQuery:
        self.expect_word("select", clause="select")
        columns = self._columns()
        self.expect_word("from", clause="from")
        module_token = self.take()
        module_name = str(module_token.value)
        try:
            module = get_module(module_name)
        except LookupError:
            raise QueryError(
                "INVALID_QUERY",
                "invalid query formed",
                {"reason": "invalid module", "module": module_name},
            ) from None
        if not module.has_records:
            raise QueryError(
                "INVALID_QUERY",
                "invalid query formed",
                {"reason": "module not supported", "module": module_name},
            )
        self.module = module
        for column in columns:
            self._field_for(column)
        token = self.peek()
        if token is None or not token.is_word("where"):
            raise _syntax_error("where clause is mandatory", "where")
        self.pos += 1
        where = self._or()
        if self.conditions > COQL_MAX_CONDITIONS:
            raise QueryError(
                "LIMIT_EXCEEDED", "criteria limit exceeded", {"limit": COQL_MAX_CONDITIONS}
            )
        order_by = self._order_by()
        offset, limit = self._limit()
        if self.peek() is not None:
            raise _syntax_error(f"error occurred near '{self.peek().text}'")
        return CoqlQuery(module, columns, where, order_by, offset, limit)

    def _columns(self) -> list[str]:
        columns: list[str] = []
        while True:
            token = self.take()
            if token.kind != "word":
                raise _syntax_error(f"error occurred near '{token.text}'", "select")
            if not token.is_word("from"):
                columns.append(token.value)
            else:
                raise _syntax_error("no column selected", "select")
            following = self.peek()
            if following is not None and following.kind == "punct" and following.value == ",":
                self.pos += 1
                continue
            break
        if len(columns) > COQL_MAX_COLUMNS:
            raise QueryError("LIMIT_EXCEEDED", "column limit exceeded", {"limit": COQL_MAX_COLUMNS})
        return columns

    def _field_for(self, column: str) -> tuple[Field, str | None]:
        assert self.module is not None
        name, _, path = column.partition(".")
        found = _field(self.module, name)
        if found is None or (path and (found.data_type not in LOOKUPS or path not in _PATHS)):
            raise QueryError(
                "INVALID_QUERY",
                "invalid query formed",
                {"reason": "invalid column given", "column_name": column},
            )
        return found, path or None

    def _or(self) -> Node:
        items = [self._and()]
        while (token := self.peek()) is not None and token.is_word("or"):
            self.pos += 1
            items.append(self._and())
        return items[0] if len(items) == 1 else Group("or", items)

    def _and(self) -> Node:
        items = [self._atom()]
        while (token := self.peek()) is not None and token.is_word("and"):
            self.pos += 1
            items.append(self._atom())
        return items[0] if len(items) == 1 else Group("and", items)

    def _atom(self) -> Node:
        token = self.take()
        if token.kind == "punct" and token.value == "(":
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise _syntax_error(f"parentheses nested more than {MAX_NESTING} deep", "where")
            node = self._or()
            self.depth -= 1
            closing = self.take()
            if closing.kind != "punct" or closing.value != ")":
                raise _syntax_error(f"error occurred near '{closing.text}'", "where")
            return node
        if token.kind != "word":
            raise _syntax_error(f"error occurred near '{token.text}'", "where")
        self.conditions += 1
        f, path = self._field_for(token.value)
        return self._comparison(f, path, token.value)

    def _literal(self) -> Any:
        token = self.take()
        if token.kind in {"string", "number"}:
            return token.value
        if token.is_word("true", "false"):
            return token.value.lower() == "true"
        raise _syntax_error(f"error occurred near '{token.text}'", "where")

    def _comparison(self, f: Field, path: str | None, column: str) -> Condition:
        token = self.take()
        if token.kind == "op":
            op = {"=": "eq", "!=": "ne", "<>": "ne", ">": "gt", ">=": "ge", "<": "lt", "<=": "le"}
            operator = op[token.value]
            if operator in {"gt", "ge", "lt", "le"} and f.data_type in (
                LOOKUPS | {"boolean", "multiselectpicklist"}
            ):
                raise QueryError(
                    "INVALID_QUERY",
                    "invalid query formed",
                    {
                        "reason": "invalid operator found",
                        "column_name": column,
                        "operator": token.value,
                    },
                )
            return Condition(f, operator, [self._literal()], path=path)
        negate = False
        if token.is_word("not"):
            negate = True
            token = self.take()
        if token.is_word("like"):
            pattern = self.take()
            if pattern.kind != "string":
                raise _syntax_error(f"error occurred near '{pattern.text}'", "where")
            return Condition(f, "like", [pattern.value], negate=negate, path=path)
        if token.is_word("in"):
            values = self._list()
            return Condition(f, "in", values, negate=negate, path=path)
        if token.is_word("between") and not negate:
            low = self._literal()
            self.expect_word("and", clause="where")
            high = self._literal()
            return Condition(f, "between", [low, high], path=path)
        if token.is_word("is") and not negate:
            is_not = False
            if (following := self.peek()) is not None and following.is_word("not"):
                self.pos += 1
                is_not = True
            self.expect_word("null", clause="where")
            if is_not:
                return _Not(f, "is_null", [], path=path)
            return Condition(f, "is_null", [], path=path)
        raise _syntax_error(f"error occurred near '{token.text}'", "where")

    def _list(self) -> list[Any]:
        opening = self.take()
        if opening.kind != "punct" or opening.value != "(":
            raise _syntax_error(f"error occurred near '{opening.text}'", "where")
        values = [self._literal()]
        while True:
            token = self.take()
            if token.kind == "punct" and token.value == ")":
                break
            if token.kind != "punct" or token.value != ",":
                raise _syntax_error(f"error occurred near '{token.text}'", "where")
            values.append(self._literal())
        if len(values) > COQL_MAX_IN_VALUES:
            raise QueryError("LIMIT_EXCEEDED", "in clause limit exceeded", {"limit": 50})
        return values

    def _order_by(self) -> list[tuple[str, bool]]:
        token = self.peek()
        if token is None or not token.is_word("order"):
            return []
        self.pos += 1
        self.expect_word("by", clause="order by")
        columns: list[tuple[str, bool]] = []
        while True:
            token = self.take()
            if token.kind != "word":
                raise _syntax_error(f"error occurred near '{token.text}'", "order by")
            self._field_for(token.value)
            descending = False
            following = self.peek()
            if following is not None and following.is_word("asc", "desc"):
                descending = following.value.lower() == "desc"
                self.pos += 1
            columns.append((token.value, descending))
            following = self.peek()
            if following is not None and following.kind == "punct" and following.value == ",":
                self.pos += 1
                continue
            return columns

    def _limit(self) -> tuple[int, int]:
        offset, limit = 0, COQL_MAX_LIMIT
        token = self.peek()
        if token is not None and token.is_word("limit"):
            self.pos += 1
            first = self._integer("limit")
            following = self.peek()
            if following is not None and following.kind == "punct" and following.value == ",":
                # MySQL style, as Zoho documents it: limit <offset>, <count>
                self.pos += 1
                offset, limit = first, self._integer("limit")
            else:
                limit = first
        token = self.peek()
        if token is not None and token.is_word("offset"):
            self.pos += 1
            offset = self._integer("offset")
        if limit > self.max_limit:
            raise QueryError("LIMIT_EXCEEDED", "limit exceeded", {"limit": self.max_limit})
        if offset + limit > self.max_reach:
            raise QueryError("LIMIT_EXCEEDED", "limit exceeded", {"limit": self.max_reach})
        return offset, limit

    def _integer(self, clause: str) -> int:
        token = self.take()
        if token.kind != "number" or not isinstance(token.value, int) or token.value < 0:
            raise _syntax_error(f"error occurred near '{token.text}'", clause)
        return token.value


_PATHS = {"id", "name", "email"}


# --- Custom-view criteria (Zoho's JSON form) -------------------------------------------

_CV_COMPARATORS = {
    "equal": ("eq", False),
    "not_equal": ("eq", True),
    "in": ("in", False),
    "not_in": ("in", True),
    "greater_than": ("gt", False),
    "greater_equal": ("ge", False),
    "less_than": ("lt", False),
    "less_equal": ("le", False),
    "starts_with": ("starts_with", False),
    "contains": ("like", False),
    "not_contains": ("like", True),
    "between": ("between", False),
}


def compile_view_criteria(module: Module, criteria: dict | None) -> Node | None:
    """Turn a custom view's criteria JSON into a node; None means every record."""
    if not criteria:
        return None
    if "group" in criteria:
        items = [compile_view_criteria(module, c) for c in criteria["group"]]
        return Group(criteria.get("group_operator", "and").lower(), [i for i in items if i])
    f = _field(module, criteria["field"]["api_name"])
    if f is None:
        raise ValueError(f"unknown field in view criteria: {criteria['field']}")
    op, negate = _CV_COMPARATORS[criteria["comparator"]]
    value = criteria.get("value")
    operands = value if isinstance(value, list) else [value]
    if op == "like":
        operands = [f"%{v}%" for v in operands]
    return Condition(f, op, operands, negate=negate) if not negate else _Not(f, op, operands)


class _Not(Condition):
    def matches(self, values: dict) -> bool:
        return not super().matches(values)
