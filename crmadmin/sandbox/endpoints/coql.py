"""POST /coql: the subset of Zoho's COQL that crmadmin's filters need."""

from django.http import HttpResponse

from .. import credits
from ..auth import require_scopes
from ..envelope import ApiError, Call, json_response, no_content
from ..operations import advance_jobs, records_of
from ..query import (
    COQL_MAX_LIMIT,
    COQL_MAX_REACH,
    COQL_V7_MAX_LIMIT,
    COQL_V7_MAX_REACH,
    CoqlQuery,
    QueryError,
    parse_coql,
)


def _query(call: Call) -> CoqlQuery:
    body = call.json_body()
    text = body.get("select_query") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        details = {"api_name": "select_query"}
        raise ApiError(400, "MANDATORY_NOT_FOUND", "mandatory key not found", details)
    if call.version[0] >= 7:
        max_limit, max_reach = COQL_V7_MAX_LIMIT, COQL_V7_MAX_REACH
    else:
        max_limit, max_reach = COQL_MAX_LIMIT, COQL_MAX_REACH
    try:
        return parse_coql(text, max_limit=max_limit, max_reach=max_reach)
    except QueryError as error:
        raise ApiError(400, error.code, error.message, error.details) from None


def query_credits(call: Call) -> int:
    """What the query costs, by its LIMIT; a query that will be refused costs 1."""
    try:
        return credits.coql_credits(_query(call).limit)
    except ApiError:
        return 1


def run_query(call: Call) -> HttpResponse:
    query = _query(call)
    # The module is known only now, so its read scope is checked after the body is read.
    require_scopes(call.token, [f"ZohoCRM.modules.{query.module.api_name}.READ"])
    advance_jobs(query.module, call.config)
    rows, more = query.run([r.values() for r in records_of(query.module)])
    if not rows:
        return no_content()
    return json_response({"data": rows, "info": {"count": len(rows), "more_records": more}})
