"""``/healthz``: what a load balancer or container runtime asks before sending traffic.

It answers JSON with one entry per check and an overall ``status``:

* ``database``: ``SELECT 1`` on the default database.
* ``broker``: one real connection to Celery's broker (a Redis ``PING``; the file-system
  broker's transport for the embedded default), no retry, given up after
  ``BROKER_TIMEOUT`` seconds.
* ``crm``: what the last checks of the Zoho connections found, read from the database.
  The worker re-tests every connection periodically (``check_all_connections``); a probe
  makes no call to Zoho, since probes come every few seconds and Zoho counts API calls.

The database or the broker failing answers 503 (``"status": "error"``): this container
cannot do its work. A CRM problem answers 200 with ``"status": "degraded"``: restarting web
containers or taking them out of the load balancer cures no Zoho outage or revoked token,
and the dashboard must stay up to show the problem and let a manager reconnect.

The page needs no login, so it names no connection and shows no error message: only counts
and the type of an exception.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.db.models import Count, Q
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from crmadmin.celery import app as celery_app
from crmadmin.zoho.models import Connection

# A probe must answer well within the container health check's own timeout (5 s).
BROKER_TIMEOUT = 2.0


# GET or HEAD: load balancers probe with either.
@require_safe
@never_cache
@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check_database(), "broker": _check_broker()}
    failed = any(value != "ok" for value in checks.values())
    if checks["database"] == "ok":
        crm_ok, checks["crm"] = _check_crm()
    else:
        crm_ok, checks["crm"] = False, "unknown: the database is unavailable"
    status = "error" if failed else "ok" if crm_ok else "degraded"
    return JsonResponse({"status": status, **checks}, status=503 if failed else 200)


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any failure means "not healthy"; say which kind
        return f"error: {type(exc).__name__}"
    return "ok"


def _check_broker() -> str:
    # A new connection each time (not the pool's): a pooled one could still look open
    # after the broker went away.
    timeouts = {"socket_connect_timeout": BROKER_TIMEOUT, "socket_timeout": BROKER_TIMEOUT}
    try:
        with celery_app.connection_for_write(
            connect_timeout=BROKER_TIMEOUT, transport_options=timeouts
        ) as broker:
            broker.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT)
    except Exception as exc:  # the URL may hold a password: never show the message
        return f"error: {type(exc).__name__}"
    return "ok"


def _check_crm() -> tuple[bool, str]:
    """Whether every connection passed its last check, and a sentence that names none.

    A connection is *stale* when its last check (or its creation, if it was never checked)
    is older than two rounds of the periodic check: one missed round is tolerated, as a
    busy worker may run the check late; more means the worker or its scheduler is down.
    """
    interval = timedelta(seconds=settings.CELERY_BEAT_SCHEDULE["check-connections"]["schedule"])
    cutoff = timezone.now() - 2 * interval
    not_failing = Q(last_check_ok=True) | Q(last_check_ok__isnull=True)
    old = Q(last_checked_at__lt=cutoff) | Q(last_checked_at__isnull=True, created_at__lt=cutoff)
    counts = Connection.objects.aggregate(
        total=Count("pk"),
        failing=Count("pk", filter=Q(last_check_ok=False)),
        stale=Count("pk", filter=not_failing & old),
    )
    total = counts["total"]
    if not total:
        return True, "ok: no connections"
    problems = []
    if counts["failing"]:
        problems.append(f"{counts['failing']} of {total} failed their last check")
    if counts["stale"]:
        minutes = round(2 * interval.total_seconds() / 60)
        problems.append(f"{counts['stale']} of {total} not checked for {minutes} minutes")
    if problems:
        return False, "degraded: " + "; ".join(problems)
    return True, "ok"
