"""Login throttling: too many refused sign-ins lock an account, or an address, for a while.

Counted in the database, so every web process sees the same count. An account is locked
once it has ``CRMADMIN_LOGIN_MAX_FAILURES`` refused sign-ins within the last
``CRMADMIN_LOGIN_LOCKOUT_MINUTES``; an address (``client_address``: behind a proxy, the one
the proxy saw) once it has ``CRMADMIN_LOGIN_MAX_FAILURES_PER_ADDRESS``. While locked, even
the right password is refused, so guessing cannot go on; the lock ends by itself when the
oldest counted failure leaves the window. A successful sign-in forgets the account's failures.
"""

import contextlib
import ipaddress
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from .models import FailedLogin

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lockout:
    until: datetime

    @property
    def minutes_left(self) -> int:
        return max(1, math.ceil((self.until - timezone.now()).total_seconds() / 60))


def _window() -> timedelta:
    return timedelta(minutes=settings.CRMADMIN_LOGIN_LOCKOUT_MINUTES)


def normalise(username: str) -> str:
    return (username or "").strip().casefold()[:150]


def client_address(request: HttpRequest | None) -> str | None:
    """The client's address: ``REMOTE_ADDR``, or behind ``CRMADMIN_PROXY_HOPS`` proxies the
    address the outermost of them put in X-Forwarded-For (entries before it are the
    client's own say, and could be anything)."""
    if request is None:
        return None
    address = request.META.get("REMOTE_ADDR") or None
    hops = settings.CRMADMIN_PROXY_HOPS
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if hops and len(forwarded) >= hops:
        with contextlib.suppress(ValueError):  # not an address: keep REMOTE_ADDR
            address = str(ipaddress.ip_address(forwarded[-hops]))
    return address


def _lock_from(failures, limit: int) -> Lockout | None:
    """Locked if ``limit`` failures are in the window: until the limit-th newest leaves it."""
    times = list(failures.order_by("-at").values_list("at", flat=True)[:limit])
    if len(times) < limit:
        return None
    return Lockout(until=times[-1] + _window())


def lockout(username: str, address: str | None) -> Lockout | None:
    since = timezone.now() - _window()
    recent = FailedLogin.objects.filter(at__gt=since)
    by_account = recent.filter(username=normalise(username))
    locks = [_lock_from(by_account, settings.CRMADMIN_LOGIN_MAX_FAILURES)]
    if address:
        by_address = recent.filter(address=address)
        locks.append(_lock_from(by_address, settings.CRMADMIN_LOGIN_MAX_FAILURES_PER_ADDRESS))
    locks = [lock for lock in locks if lock is not None]
    return max(locks, key=lambda lock: lock.until) if locks else None


def record_failure(username: str, address: str | None) -> None:
    now = timezone.now()
    # Rows that no longer count are dropped as new ones come: the table stays small.
    FailedLogin.objects.filter(at__lte=now - _window()).delete()
    FailedLogin.objects.create(username=normalise(username), address=address, at=now)
    if lockout(username, address):
        logger.warning(
            "Sign-in locked for %r from %s after repeated failures", normalise(username), address
        )


def forget_failures(username: str) -> None:
    FailedLogin.objects.filter(username=normalise(username)).delete()
