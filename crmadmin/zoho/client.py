"""A client for the Zoho CRM v2.1 REST API, built on ``requests``.

It follows ``contract/CONTRACT.md``:

* the success of a written record is decided by its own entry in ``data[]``, never by the
  HTTP status (200, 207 and 400 all carry per-record results);
* an entry with ``details.id`` belongs to that record; an error entry without it is about
  the whole request and applies to every id sent, whether it arrives inside ``data[]``
  with 200 (as recorded) or as a top-level object with 400 (as documented). Such a
  request-level error becomes one outcome per id *and* ``WriteResult.request_error``, so a
  job reports the same thing whichever shape the server chose;
* authentication, scope, rate-limit (after retries), server (after retries) and transport
  errors are not outcomes of records: they raise typed ``ZohoError`` subclasses.

The client knows nothing of jobs: callers pass ``on_exchange`` to keep the raw (redacted)
exchanges, ``limiter`` to bound concurrency across workers, and read ``stats``.
"""

import logging
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests
from django.conf import settings
from django.db import connections, router, transaction

from . import oauth
from .errors import (
    ZohoError,
    ZohoRequestError,
    ZohoServerError,
    ZohoTransportError,
    error_class_for,
    error_from_envelope,
)
from .limits import limiter_for
from .models import Connection
from .transport import Exchange, Limiter, json_object, no_limit, send_once

logger = logging.getLogger("crmadmin.zoho")

API_PATH = "/crm/v2.1"
MASS_UPDATE_MAX_IDS = 500
GET_IDS_PER_CALL = 100
PUT_RECORDS_PER_CALL = 100
PAGE_SIZE = 200
SEARCH_MAX_RESULTS = 2000
DEFAULT_BACKOFF_BASE = 1.0
DEFAULT_BACKOFF_CAP = 30.0
NO_RESPONSE = "NO_RESPONSE"

# Field types the API refuses in a mass update even where metadata forgets to say so.
NOT_MASS_UPDATABLE_TYPES = {
    "email",
    "lookup",
    "ownerlookup",
    "textarea",
    "subform",
    "multiselectlookup",
    "formula",
    "autonumber",
    "rollup_summary",
    "fileupload",
    "imageupload",
}

# Module API names and record ids become URL path segments.
_PATH_SEGMENT = re.compile(r"^[A-Za-z0-9_]+$")
_JSON_PATH_INDEX = re.compile(r"^\$\.data\[(\d+)\]")


@dataclass(frozen=True)
class RecordOutcome:
    """What Zoho said about one record of a write."""

    record_id: str
    code: str
    status: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "success"


@dataclass
class WriteResult:
    """Exactly one outcome per id sent, in the order sent.

    ``request_error`` is set when Zoho refused the request as a whole (an error entry
    without ``details.id``, or a top-level error object); every outcome then carries it.
    For a call split into chunks, ``http_status`` is the status all chunks shared, or 207
    when they differed.
    """

    outcomes: list[RecordOutcome]
    http_status: int | None
    request_error: ZohoError | None = None

    @property
    def succeeded(self) -> list[RecordOutcome]:
        return [o for o in self.outcomes if o.ok]

    @property
    def failed(self) -> list[RecordOutcome]:
        return [o for o in self.outcomes if not o.ok]

    def counts(self) -> Counter[str]:
        return Counter(o.code for o in self.outcomes)

    @classmethod
    def combine(cls, results: Sequence["WriteResult"]) -> "WriteResult":
        statuses = {r.http_status for r in results}
        return cls(
            outcomes=[o for r in results for o in r.outcomes],
            http_status=statuses.pop() if len(statuses) == 1 else 207,
            request_error=next((r.request_error for r in results if r.request_error), None),
        )


@dataclass
class ClientStats:
    """Counts a job can log: HTTP attempts, retries by cause, token refreshes by cause."""

    attempts: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    refreshes: Counter[str] = field(default_factory=Counter)
    # Zoho sends X-API-CREDITS-REMAINING once half of the day's credits are used.
    credits_remaining: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ClientStats":
        return cls(
            attempts=data.get("attempts", 0),
            retries=Counter(data.get("retries", {})),
            refreshes=Counter(data.get("refreshes", {})),
            credits_remaining=data.get("credits_remaining"),
        )

    def add(self, other: "ClientStats") -> None:
        """Count ``other``'s calls too; its credits, if it saw any, are the later figure."""
        self.attempts += other.attempts
        self.retries.update(other.retries)
        self.refreshes.update(other.refreshes)
        if other.credits_remaining is not None:
            self.credits_remaining = other.credits_remaining

    def as_dict(self) -> dict[str, Any]:
        return {
            "attempts": self.attempts,
            "retries": dict(self.retries),
            "refreshes": dict(self.refreshes),
            "credits_remaining": self.credits_remaining,
        }


def full_jitter(ceiling: float) -> float:
    return random.uniform(0, ceiling)


def build_criteria(conditions: Iterable[tuple[str, str, Any]], operator: str = "and") -> str:
    """Search criteria ``((Field:op:value)and(…))`` with Zoho's escaping of values."""
    parts = []
    for api_name, comparator, value in conditions:
        text = str(value).replace("\\", "\\\\")
        for char in "(),":
            text = text.replace(char, "\\" + char)
        parts.append(f"({api_name}:{comparator}:{text})")
    if not parts:
        raise ZohoRequestError("INVALID_QUERY", "a search needs at least one condition")
    return parts[0] if len(parts) == 1 else "(" + operator.join(parts) + ")"


# How often one call refreshes its token and replays after 401 INVALID_TOKEN.
MAX_TOKEN_REPLAYS = 3


class ZohoClient:
    """One org's CRM API, reached through a ``Connection``."""

    def __init__(
        self,
        connection: Connection,
        *,
        session: requests.Session | None = None,
        timeout: float | None = None,
        max_attempts: int | None = None,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        backoff_cap: float = DEFAULT_BACKOFF_CAP,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[float], float] = full_jitter,
        limiter: Limiter | None = None,
        on_exchange: Callable[[Exchange], None] | None = None,
    ) -> None:
        self.connection = connection
        self.session = session or requests.Session()
        self.timeout = timeout if timeout is not None else settings.CRMADMIN_HTTP_TIMEOUT
        self.max_attempts = max(
            1, max_attempts if max_attempts is not None else settings.CRMADMIN_HTTP_MAX_ATTEMPTS
        )
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.sleep = sleep
        self.jitter = jitter
        # Every call counts against the connection's limit, whichever worker or page makes it.
        self.limiter = limiter or (limiter_for(connection) if connection.pk else no_limit)
        self.on_exchange = on_exchange
        self.stats = ClientStats()
        self._token_lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return self.connection.api_domain.rstrip("/") + API_PATH

    def ensure_token(self) -> None:
        """Refresh the access token now if it is due, so that parallel calls share one."""
        self._access_token()

    # --- Metadata -----------------------------------------------------------------------

    def modules(self) -> list[dict[str, Any]]:
        """The modules records can be read and mass updated in through the API."""
        body = self._get_json("GET", "/settings/modules") or {}
        return [m for m in body.get("modules", []) if _is_workable_module(m)]

    def fields(self, module: str) -> list[dict[str, Any]]:
        body = self._get_json("GET", "/settings/fields", params={"module": _segment(module)})
        return (body or {}).get("fields", [])

    def mass_update_fields(self, module: str) -> list[dict[str, Any]]:
        """Fields the metadata allows in a mass update (the flag is the per-field truth)."""
        return [f for f in self.fields(module) if _is_mass_updatable(f)]

    def custom_views(self, module: str) -> list[dict[str, Any]]:
        body = self._get_json("GET", "/settings/custom_views", params={"module": _segment(module)})
        return (body or {}).get("custom_views", [])

    # --- Reading records ------------------------------------------------------------------

    def get_records(
        self, module: str, ids: Iterable[str | int], fields: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """Current values of ``ids``, 100 ids a call; ids that do not exist are absent."""
        path = "/" + _segment(module)
        wanted = [str(i) for i in ids]
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), GET_IDS_PER_CALL):
            params = {"ids": ",".join(wanted[start : start + GET_IDS_PER_CALL])}
            if fields:
                params["fields"] = ",".join(fields)
            body = self._get_json("GET", path, params=params) or {}
            for record in body.get("data", []):
                found[str(record["id"])] = record
        return found

    def iter_records(
        self, module: str, fields: Sequence[str], cvid: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every record of ``module`` (or of a custom view), 200 a page."""
        path = "/" + _segment(module)
        params: dict[str, Any] = {"per_page": PAGE_SIZE, "page": 1}
        if fields:
            params["fields"] = ",".join(fields)
        if cvid:
            params["cvid"] = str(cvid)
        while True:
            body = self._get_json("GET", path, params=params)
            if not body:
                return
            yield from body.get("data", [])
            info = body.get("info") or {}
            if not info.get("more_records"):
                return
            if info.get("next_page_token"):
                # Newer API versions page with tokens beyond 2,000 records.
                params.pop("page", None)
                params["page_token"] = info["next_page_token"]
            else:
                params["page"] = int(info.get("page") or params.get("page", 1)) + 1

    def get_record(self, module: str, record_id: str | int) -> dict[str, Any] | None:
        """One record with every field, or ``None`` if it does not exist."""
        try:
            body = self._get_json("GET", f"/{_segment(module)}/{_segment(str(record_id))}")
        except ZohoRequestError as exc:
            if exc.code == "INVALID_DATA" and str(exc.details.get("id", record_id)) == str(
                record_id
            ):
                return None
            raise
        data = (body or {}).get("data") or []
        return data[0] if data else None

    def search(self, module: str, criteria: str) -> list[dict[str, Any]]:
        """Records matching ``criteria`` (see ``build_criteria``), at most 2,000."""
        path = f"/{_segment(module)}/search"
        params: dict[str, Any] = {"criteria": criteria, "per_page": PAGE_SIZE, "page": 1}
        results: list[dict[str, Any]] = []
        while len(results) < SEARCH_MAX_RESULTS:
            body = self._get_json("GET", path, params=params)
            if not body:
                break
            results.extend(body.get("data", []))
            if not (body.get("info") or {}).get("more_records"):
                break
            params["page"] += 1
        return results[:SEARCH_MAX_RESULTS]

    def coql(self, query: str) -> list[dict[str, Any]]:
        """Rows of a COQL ``select``; the query carries its own ``limit offset, n``."""
        body = self._get_json("POST", "/coql", json={"select_query": query})
        return (body or {}).get("data", [])

    # --- Writing records ------------------------------------------------------------------

    def mass_update(
        self,
        module: str,
        ids: Sequence[str | int],
        data: dict[str, Any],
        over_write: bool | None = None,
    ) -> WriteResult:
        """Set ``data`` on every record of ``ids`` (at most 500) in one call.

        More than 500 ids are refused here rather than split: the caller (a job) owns
        batching, so that each batch is one call it can limit, log and resume.
        """
        ids = [str(i) for i in ids]
        if not ids:
            raise ZohoRequestError("MANDATORY_NOT_FOUND", "a mass update needs at least one id")
        if len(ids) > MASS_UPDATE_MAX_IDS:
            raise ZohoRequestError(
                "LIMIT_EXCEEDED",
                f"a mass update takes at most {MASS_UPDATE_MAX_IDS} ids a call; "
                f"got {len(ids)}: split them into batches",
                {"api_name": "ids", "limit": MASS_UPDATE_MAX_IDS},
            )
        body: dict[str, Any] = {"data": [data], "ids": ids}
        if over_write is not None:
            body["over_write"] = over_write
        # Retrying is safe: with ids, a mass update sets a value (or, for multi-select
        # picklists without over_write, unions values), so sending it twice leaves the
        # records as sending it once would.
        response = self._request("POST", f"/{_segment(module)}/actions/mass_update", json=body)
        return self._write_result(response, ids, positional=False)

    def mass_update_by_view(
        self,
        module: str,
        cvid: str,
        data: dict[str, Any],
        over_write: bool | None = None,
    ) -> str:
        """Schedule a mass update of every record in a custom view; returns the job id."""
        body: dict[str, Any] = {"data": [data], "cvid": str(cvid)}
        if over_write is not None:
            body["over_write"] = over_write
        # Not idempotent: a replay could schedule a second job, so only failures that
        # prove the request never ran (429, connect timeout) are retried.
        response = self._request(
            "POST", f"/{_segment(module)}/actions/mass_update", json=body, replay_safe=False
        )
        entry = _first_entry(self._parse(response), response.status_code)
        job_id = (entry.get("details") or {}).get("job_id")
        if entry.get("status") != "success" or not job_id:
            raise error_from_envelope(entry, response.status_code)
        return str(job_id)

    def mass_update_status(self, module: str, job_id: str) -> dict[str, Any]:
        """``{"Status", "Updated_Count", "Failed_Count", "Not_Updated_Count", "Total_Count"}``."""
        body = self._get_json(
            "GET", f"/{_segment(module)}/actions/mass_update", params={"job_id": str(job_id)}
        )
        return _first_entry(body, 200)

    def update_records(
        self,
        module: str,
        records: Sequence[dict[str, Any]],
        trigger: list[str] | None = None,
    ) -> WriteResult:
        """Write per-record values (``PUT /{module}``), 100 records a call.

        ``trigger=[]`` runs no workflow, approval or blueprint; ``None`` leaves Zoho's
        default (run them all).
        """
        ids = [str(r.get("id") or "") for r in records]
        if not all(ids):
            raise ZohoRequestError("MANDATORY_NOT_FOUND", "every record to update needs its id")
        results = []
        for start in range(0, len(records), PUT_RECORDS_PER_CALL):
            end = start + PUT_RECORDS_PER_CALL
            body: dict[str, Any] = {"data": [{**r, "id": str(r["id"])} for r in records[start:end]]}
            if trigger is not None:
                body["trigger"] = trigger
            # Safe to retry: each record gets absolute values.
            response = self._request("PUT", f"/{_segment(module)}", json=body)
            results.append(self._write_result(response, ids[start:end], positional=True))
        return WriteResult.combine(results) if results else WriteResult([], None)

    def check(self) -> str:
        """A cheap call for "Test connection"; returns a one-line summary."""
        modules = self.modules()
        names = ", ".join(m.get("api_name", "?") for m in modules[:5])
        more = ", …" if len(modules) > 5 else ""
        return f"Connected: {len(modules)} modules available ({names}{more})."

    # --- Plumbing ---------------------------------------------------------------------------

    def _get_json(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> dict[str, Any] | None:
        """A read call's body; ``None`` for 204/304 (no body, not even to parse)."""
        response = self._request(method, path, params=params, json=json)
        if response.status_code in (204, 304):
            return None
        body = self._parse(response)
        if response.status_code >= 400 or body.get("status") == "error":
            raise _error_from_body(body, response.status_code)
        return body

    def _parse(self, response: requests.Response) -> dict[str, Any]:
        body = json_object(response)
        if body is None:
            raise ZohoServerError(
                "INVALID_RESPONSE",
                f"Zoho answered HTTP {response.status_code} with a body that is not a JSON object",
                {},
                response.status_code,
            )
        return body

    def _write_result(
        self, response: requests.Response, ids: list[str], *, positional: bool
    ) -> WriteResult:
        status = response.status_code
        if status == 204:
            return WriteResult([_no_response(i) for i in ids], status)
        body = self._parse(response)
        entries = body.get("data")
        if not isinstance(entries, list):
            if not body.get("code"):
                raise ZohoServerError(
                    "INVALID_RESPONSE", "Zoho answered a write without results", {}, status
                )
            error = error_from_envelope(body, status)
            return WriteResult([_outcome(i, body) for i in ids], status, error)
        return _match_outcomes(entries, ids, status, positional=positional)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        replay_safe: bool = True,
    ) -> requests.Response:
        """Send with retries; return any response that is not 401, 429 or 5xx."""
        attempt = failures = 0
        rejected_token = ""
        # The attempt that replays the call with a token just refreshed, and how many
        # times a call was replayed that way.
        replay_attempt = token_replays = 0
        while True:
            attempt += 1
            token = ""
            try:
                token = self._access_token(rejected=rejected_token)
                self.stats.attempts += 1
                # After the token: a refresh may have moved the org to another API domain.
                response = send_once(
                    self.session,
                    method,
                    self.base_url + path,
                    timeout=self.timeout,
                    attempt=attempt,
                    headers={"Authorization": f"Zoho-oauthtoken {token}"},
                    params=params,
                    json=json,
                    known_secrets=self._secrets(),
                    on_exchange=self.on_exchange,
                    limiter=self.limiter,
                )
            except requests.RequestException as exc:
                kind = "timeout" if isinstance(exc, requests.Timeout) else "connection_error"
                error: ZohoError = ZohoTransportError(
                    kind.upper(), f"{type(exc).__name__} while calling {method} {path}"
                )
                # A connect timeout proves the request never left; anything else may have.
                retryable = replay_safe or isinstance(exc, requests.ConnectTimeout)
            except (ZohoTransportError, ZohoServerError) as exc:
                # The token refresh itself failed transiently.
                kind, error, retryable = "token_endpoint", exc, True
            else:
                self._note_credits(response)
                status = response.status_code
                if status == 401:
                    error = _error_from_response(response)
                    if (
                        error.code == "INVALID_TOKEN"
                        and attempt != replay_attempt
                        and token_replays < MAX_TOKEN_REPLAYS
                    ):
                        # Revoked or expired: refresh (next turn), then replay. A long call
                        # (retries, backoff) may outlive a second token; but a token
                        # refused as soon as it was refreshed is an auth problem.
                        rejected_token = token
                        replay_attempt = attempt + 1
                        token_replays += 1
                        continue
                    error.attempts = attempt
                    raise error
                if status != 429 and status < 500:
                    return response
                kind = "rate_limited" if status == 429 else "server_error"
                error = _error_from_response(response)
                retryable = status == 429 or replay_safe
            failures += 1
            if not retryable or failures >= self.max_attempts:
                error.attempts = attempt
                raise error
            delay = self._backoff(failures)
            self.stats.retries[kind] += 1
            logger.warning(
                "zoho %s %s: %s, retry %d of %d in %.2f s",
                method,
                path,
                kind,
                failures,
                self.max_attempts - 1,
                delay,
            )
            self.sleep(delay)

    def _backoff(self, failures: int) -> float:
        """Exponential backoff with full jitter: uniform(0, min(cap, base * 2^(n-1)))."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (failures - 1))
        return min(ceiling, max(0.0, self.jitter(ceiling)))

    def _access_token(self, *, rejected: str = "") -> str:
        current = self.connection.access_token
        if self.connection.has_fresh_access_token() and current != rejected:
            return current
        reason = "invalid_token" if rejected and current == rejected else "expiring"
        return self._refresh(rejected=current, reason=reason)

    def _refresh(self, *, rejected: str, reason: str) -> str:
        """Get a new access token, unless another worker got one while we waited."""
        with self._token_lock:
            if connections[router.db_for_write(Connection)].features.has_select_for_update:
                # The row lock makes parallel workers queue here; the first refreshes,
                # the others find its token on the re-check.
                with transaction.atomic():
                    row = Connection.objects.select_for_update().get(pk=self.connection.pk)
                    return self._refresh_row(row, rejected=rejected, reason=reason)
            # SQLite has no row locks, and a write transaction would lock the whole
            # database for the length of an HTTP call (and deadlock with the built-in
            # sandbox, whose token endpoint writes to the same file). Re-check without
            # one; a rare double refresh across processes is harmless, since Zoho keeps
            # up to 15 live access tokens per refresh token.
            row = Connection.objects.get(pk=self.connection.pk)
            return self._refresh_row(row, rejected=rejected, reason=reason)

    def _refresh_row(self, row: Connection, *, rejected: str, reason: str) -> str:
        if row.has_fresh_access_token() and row.access_token != rejected:
            self._adopt(row)
            return row.access_token
        tokens = oauth.refresh_access_token(
            row, session=self.session, timeout=self.timeout, on_exchange=self.on_exchange
        )
        row.store_tokens(tokens)
        self._adopt(row)
        self.stats.refreshes[reason] += 1
        logger.info("zoho connection %s: access token refreshed (%s)", row.pk, reason)
        return row.access_token

    def _adopt(self, row: Connection) -> None:
        for name in (
            "access_token",
            "access_token_expires_at",
            "refresh_token",
            "api_domain",
            "accounts_url",
        ):
            setattr(self.connection, name, getattr(row, name))

    def _secrets(self) -> list[str]:
        c = self.connection
        return [c.access_token, c.refresh_token, c.client_secret]

    def _note_credits(self, response: requests.Response) -> None:
        remaining = response.headers.get("X-API-CREDITS-REMAINING")
        if remaining and remaining.strip().isdigit():
            self.stats.credits_remaining = int(remaining)


def _segment(value: str) -> str:
    if not _PATH_SEGMENT.match(value or ""):
        raise ZohoRequestError(
            "INVALID_URL_PATTERN", f"{value!r} is not a module API name or record id"
        )
    return value


def _is_workable_module(module: dict[str, Any]) -> bool:
    return bool(
        module.get("api_supported")
        and module.get("editable")
        and module.get("visible", True) is not False
        and module.get("visibility", 1) == 1
        and module.get("generated_type", "default") in {"default", "custom"}
    )


def _is_mass_updatable(field_meta: dict[str, Any]) -> bool:
    return bool(
        field_meta.get("mass_update") is True
        and not field_meta.get("read_only")
        and not field_meta.get("field_read_only")
        and field_meta.get("visible", True) is not False
        and field_meta.get("data_type") not in NOT_MASS_UPDATABLE_TYPES
    )


def _outcome(record_id: str, entry: dict[str, Any]) -> RecordOutcome:
    details = entry.get("details")
    return RecordOutcome(
        record_id=record_id,
        code=str(entry.get("code") or ""),
        status=str(entry.get("status") or "error"),
        message=str(entry.get("message") or ""),
        details=details if isinstance(details, dict) else {},
    )


def _no_response(record_id: str) -> RecordOutcome:
    return RecordOutcome(record_id, NO_RESPONSE, "error", "Zoho returned no result for this record")


def _match_outcomes(
    entries: list[Any], ids: list[str], http_status: int, *, positional: bool
) -> WriteResult:
    """One outcome per id sent, from entries that name their record or the whole request.

    With ``positional`` (``PUT /{module}``, whose ``data[i]`` is record i), an entry
    without ``details.id`` is matched by ``$.data[i]`` in its ``json_path``, or by its
    position when Zoho returned exactly one entry per record.
    """
    own: dict[str, RecordOutcome] = {}
    at_index: dict[int, dict[str, Any]] = {}
    request_level: list[dict[str, Any]] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        details = entry.get("details") if isinstance(entry.get("details"), dict) else {}
        record_id = details.get("id")
        path_match = _JSON_PATH_INDEX.match(str(details.get("json_path", "")))
        if record_id is not None:
            own.setdefault(str(record_id), _outcome(str(record_id), entry))
        elif positional and path_match:
            at_index[int(path_match.group(1))] = entry
        elif positional and len(entries) == len(ids):
            at_index[index] = entry
        elif entry.get("status") == "error":
            request_level.append(entry)
        else:
            logger.warning("zoho write result entry names no record: %s", entry.get("code"))
    request_entry = request_level[0] if request_level else None
    outcomes = []
    for position, record_id in enumerate(ids):
        if record_id in own:
            outcomes.append(own[record_id])
        elif position in at_index:
            outcomes.append(_outcome(record_id, at_index[position]))
        elif request_entry is not None:
            outcomes.append(_outcome(record_id, request_entry))
        else:
            outcomes.append(_no_response(record_id))
    request_error = error_from_envelope(request_entry, http_status) if request_entry else None
    return WriteResult(outcomes, http_status, request_error)


def _first_entry(body: dict[str, Any] | None, http_status: int) -> dict[str, Any]:
    data = (body or {}).get("data")
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return data[0]
    if body and body.get("code"):
        raise error_from_envelope(body, http_status)
    raise ZohoServerError("INVALID_RESPONSE", "Zoho answered without data", {}, http_status)


def _error_from_body(body: dict[str, Any], http_status: int) -> ZohoError:
    if body.get("code"):
        return error_from_envelope(body, http_status)
    data = body.get("data")
    if isinstance(data, list) and data and isinstance(data[0], dict) and data[0].get("code"):
        return error_from_envelope(data[0], http_status)
    cls = error_class_for(f"HTTP_{http_status}", http_status)
    return cls(f"HTTP_{http_status}", "Zoho refused the request", {}, http_status)


def _error_from_response(response: requests.Response) -> ZohoError:
    body = json_object(response)
    status = response.status_code
    if body is not None:
        return _error_from_body(body, status)
    # A proxy's HTML error page or an empty body: classify by status alone.
    cls = error_class_for(f"HTTP_{status}", status)
    return cls(f"HTTP_{status}", "Zoho answered without a JSON error body", {}, status)


__all__ = [
    "ClientStats",
    "Exchange",
    "RecordOutcome",
    "WriteResult",
    "ZohoClient",
    "build_criteria",
]
