"""One HTTP attempt to Zoho: sent, timed, logged and recorded as a redacted ``Exchange``.

Both the CRM client and the OAuth calls go through ``send_once`` so that every request
leaves the same trace: one log line, and one ``Exchange`` for whoever asked for them (jobs
store them as the audit's raw exchanges). Secrets are removed here, at the source, rather
than trusting the logging filter to catch them later.
"""

import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from django.utils import timezone

from .redaction import redact, redact_headers

logger = logging.getLogger("crmadmin.zoho")

Limiter = Callable[[], AbstractContextManager[Any]]


@dataclass(frozen=True)
class Exchange:
    """One HTTP attempt, with every secret already replaced by ``[REDACTED]``."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    http_status: int | None
    response_headers: dict[str, str]
    response_body: str
    duration: float
    attempt: int
    error: str = ""
    started_at: datetime = field(default_factory=timezone.now)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy, for storing in the audit trail."""
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        return data


def no_limit() -> AbstractContextManager[None]:
    return contextlib.nullcontext()


def send_once(
    session: requests.Session,
    method: str,
    url: str,
    *,
    timeout: float,
    attempt: int,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    json: Any = None,
    data: dict[str, str] | None = None,
    known_secrets: Iterable[str] = (),
    on_exchange: Callable[[Exchange], None] | None = None,
    limiter: Limiter = no_limit,
) -> requests.Response:
    """Send one request; record it; return the response or re-raise the transport error."""
    request = requests.Request(method, url, headers=headers, params=params, json=json, data=data)
    prepared = session.prepare_request(request)
    secrets = [s for s in known_secrets if s]
    started_at = timezone.now()
    started = time.monotonic()
    response: requests.Response | None = None
    error: BaseException | None = None
    try:
        with limiter():
            response = session.send(prepared, timeout=timeout)
    except requests.RequestException as exc:
        error = exc
    duration = time.monotonic() - started
    status = response.status_code if response is not None else None
    path = urlsplit(prepared.url or url).path
    logger.info(
        "zoho %s %s -> %s in %d ms (attempt %d)",
        method,
        path,
        status if status is not None else type(error).__name__,
        duration * 1000,
        attempt,
    )
    if on_exchange is not None:
        on_exchange(
            Exchange(
                method=method,
                url=redact(prepared.url or url, secrets),
                request_headers=redact_headers(dict(prepared.headers)),
                request_body=redact(_body_text(prepared.body), secrets),
                http_status=status,
                response_headers=(
                    redact_headers(dict(response.headers)) if response is not None else {}
                ),
                response_body=redact(response.text, secrets) if response is not None else "",
                duration=duration,
                attempt=attempt,
                error=redact(f"{type(error).__name__}: {error}", secrets) if error else "",
                started_at=started_at,
            )
        )
    if error is not None:
        raise error
    assert response is not None
    return response


def json_object(response: requests.Response) -> dict[str, Any] | None:
    """The response body if it is a JSON object; ``None`` for anything else (HTML, empty)."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _body_text(body: bytes | str | None) -> str:
    if body is None:
        return ""
    if isinstance(body, bytes):
        return body.decode("utf-8", errors="replace")
    return body
