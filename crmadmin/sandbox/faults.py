"""Fault injection: latency, spikes, 429s, 5xx, dropped connections and a concurrency cap.

The configuration is the ``FaultConfig`` row, read on every API request, so a test or a
benchmark can change it while the server runs::

    from crmadmin.sandbox import faults
    faults.configure(share_429=1.0)             # every call answers 429
    faults.configure(latency=0.5, concurrency=2)
    faults.queue("429", "500", "drop")          # the next three calls, in this order
    faults.configure(credits=100)               # a daily budget of 100 API credits
    faults.reset()                              # back to a well-behaved CRM

or from a shell: ``python manage.py sandbox_faults --share-429 0.05 --latency 0.2``.
"""

import logging
import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse

from .auth import invalid_token
from .envelope import error_body, json_response
from .models import FaultConfig

logger = logging.getLogger(__name__)

QUEUE_KINDS = {"429", "500", "502", "503", "drop", "truncate", "invalid_token", "ok"}

TOO_MANY_REQUESTS_MESSAGE = (
    "Number of API requests for the 24 hour period is exceeded or the concurrency limit "
    "of the user for the app is exceeded."
)

_counter_lock = threading.Lock()
_queue_lock = threading.Lock()
_in_flight = 0
# What this server process saw, for tests of crmadmin's concurrency limit.
_peak_in_flight = 0
_answered_429 = 0


# --- Python API for tests and set-up code ---------------------------------------------


def get_config() -> FaultConfig:
    return FaultConfig.current()


def configure(**changes: Any) -> FaultConfig:
    """Set fields of the fault configuration (see ``FaultConfig``) and save them."""
    config = FaultConfig.current()
    for name, value in changes.items():
        if name not in config.as_dict():
            raise TypeError(f"unknown fault setting: {name}")
        setattr(config, name, value)
    if "next_faults" in changes:
        validate_queue(config.next_faults)
    config.full_clean()
    config.save()
    return config


def reset() -> FaultConfig:
    """Back to the defaults: no faults, 3600 s tokens, concurrency 20, 1,000,000 credits.

    Credits already spent stay spent: the ledger is history, not configuration.
    """
    FaultConfig.objects.filter(pk=1).delete()
    return FaultConfig.current()


def queue(*kinds: str) -> FaultConfig:
    """Append faults that the next API calls get, one each, in order."""
    validate_queue(list(kinds))
    with _queue_lock, transaction.atomic():
        config = FaultConfig.current()
        config.next_faults = [*config.next_faults, *kinds]
        config.save(update_fields=["next_faults", "updated_at"])
    return config


def validate_queue(kinds: list[str]) -> None:
    for kind in kinds:
        if kind in QUEUE_KINDS:
            continue
        if kind.startswith("sleep:"):
            try:
                float(kind.removeprefix("sleep:"))
                continue
            except ValueError:
                pass
        raise ValueError(f"unknown fault {kind!r}; use one of {sorted(QUEUE_KINDS)} or sleep:<s>")


def in_flight_now() -> int:
    return _in_flight


def peak_in_flight() -> int:
    """The most calls in flight at once (refused ones included) since ``reset_counters``."""
    return _peak_in_flight


def answered_429() -> int:
    """The 429s answered since ``reset_counters``, whatever their cause."""
    return _answered_429


def reset_counters() -> None:
    global _peak_in_flight, _answered_429
    with _counter_lock:
        _peak_in_flight = _answered_429 = 0


# --- Used by the API dispatcher -------------------------------------------------------


@contextmanager
def in_flight() -> Iterator[int]:
    """Count this request as in flight for its whole life; yield the count including it."""
    global _in_flight, _peak_in_flight
    with _counter_lock:
        _in_flight += 1
        current = _in_flight
        _peak_in_flight = max(_peak_in_flight, current)
    try:
        yield current
    finally:
        with _counter_lock:
            _in_flight -= 1


def too_many_requests() -> HttpResponse:
    global _answered_429
    with _counter_lock:
        _answered_429 += 1
    # No Retry-After: Zoho sends none, and the client must cope with that.
    return json_response(error_body("TOO_MANY_REQUESTS", TOO_MANY_REQUESTS_MESSAGE), 429)


def internal_error() -> HttpResponse:
    """Zoho's JSON 500: injected, or the answer when the sandbox itself fails."""
    return json_response(error_body("INTERNAL_ERROR", "Internal Server Error"), 500)


def choose(config: FaultConfig) -> str | None:
    """The fault for this request: the next queued one, else a random draw."""
    queued = _take_queued(config)
    if queued is not None:
        return queued
    roll = random.random()
    if roll < config.share_429:
        return "429"
    roll -= config.share_429
    if roll < config.share_5xx:
        # Mostly Zoho's JSON 500; sometimes a proxy's bare 502/503 page.
        kind = random.random()
        return "500" if kind < 0.7 else "502" if kind < 0.85 else "503"
    roll -= config.share_5xx
    if roll < config.share_drop:
        return "drop"
    return None


def delay(config: FaultConfig, fault: str | None) -> float:
    seconds = config.latency
    if config.spike_share and random.random() < config.spike_share:
        seconds += config.spike_seconds
    if fault and fault.startswith("sleep:"):
        seconds += float(fault.removeprefix("sleep:"))
    return max(0.0, seconds)


def wait(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)


def respond(fault: str, request: HttpRequest) -> HttpResponse | None:
    """The response a fault gives, or None when the request should be served normally."""
    if fault == "429":
        return too_many_requests()
    if fault == "500":
        return internal_error()
    if fault in {"502", "503"}:
        title = "502 Bad Gateway" if fault == "502" else "503 Service Temporarily Unavailable"
        page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
        return HttpResponse(page, status=int(fault), content_type="text/html")
    if fault == "invalid_token":
        return invalid_token().response()
    if fault == "drop":
        return drop_connection(request)
    if fault == "truncate":
        return truncated_response(request)
    return None


def drop_connection(request: HttpRequest) -> HttpResponse:
    """Close the client's TCP connection without an answer, as a dying proxy would."""
    sock = _client_socket(request)
    if sock is None:
        return _overlong_response()
    _shut(sock)
    # The server's attempt to write this fails on the closed socket; nobody reads it.
    return HttpResponse(status=500)


def truncated_response(request: HttpRequest) -> HttpResponse:
    """Headers and part of a body, then the connection closes mid-response."""
    sock = _client_socket(request)
    if sock is None:
        return _overlong_response()
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=UTF-8\r\n"
        b"Content-Length: 4096\r\n\r\n"
    )
    try:
        sock.sendall(head + b'{"data":[{"code":"SUCC')
    except OSError:
        logger.debug("client gone before the truncated body", exc_info=True)
    _shut(sock)
    return HttpResponse(status=500)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        logger.debug("socket already closed", exc_info=True)


def _overlong_response() -> HttpResponse:
    # Without the socket the best we can do is promise more body than we send; the
    # client then waits for the rest until its read timeout, or the server closes.
    response = HttpResponse(b'{"data":[{"code":', status=200, content_type="application/json")
    response["Content-Length"] = "4096"
    return response


def _client_socket(request: HttpRequest) -> socket.socket | None:
    sock = request.META.get("gunicorn.socket")
    if isinstance(sock, socket.socket):
        return sock
    # Django's development and live servers: wsgi.input is a LimitedStream over the
    # socket's buffered reader (kept as ``.stream``, or in Django 6 as the bound ``._read``).
    stream = request.META.get("wsgi.input")
    readers = [
        stream,
        getattr(stream, "stream", None),
        getattr(getattr(stream, "_read", None), "__self__", None),
    ]
    for reader in readers:
        raw = getattr(reader, "raw", reader)
        candidate = getattr(raw, "_sock", None)
        if isinstance(candidate, socket.socket):
            return candidate
    return None


def _take_queued(config: FaultConfig) -> str | None:
    if not config.next_faults:
        return None
    # Two requests must never take the same queued fault: a lock in this process and an
    # (IMMEDIATE on SQLite) transaction across processes.
    with _queue_lock, transaction.atomic():
        fresh = FaultConfig.objects.select_for_update().get(pk=config.pk)
        if not fresh.next_faults:
            return None
        kind, *rest = fresh.next_faults
        FaultConfig.objects.filter(pk=config.pk).update(next_faults=rest)
    return kind
