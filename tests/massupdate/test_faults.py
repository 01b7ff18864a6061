"""A 10,000-record job through a flaky CRM completes, every record correct, retries bounded.

The sandbox, served by ``live_server`` and reached over HTTP, answers 10 % of calls with a
server error (Zoho's JSON 500 or a proxy's 502/503), 5 % with 429, drops 3 % of
connections without an answer, holds 5 % of calls two seconds longer, and makes every
access token expire once a minute (Zoho's live an hour), the first time a few seconds
into the job, so that calls in flight meet it. The job previews, runs and reads back
with eager tasks, in this process.
"""

import threading
from collections import Counter
from contextlib import contextmanager

import pytest
from django.db import connections
from django.urls import reverse

from crmadmin.massupdate.calls import MAX_PARALLEL_CALLS
from crmadmin.massupdate.models import Job, JobEvent, JobRecord
from crmadmin.sandbox import faults
from crmadmin.sandbox import oauth as sandbox_oauth
from crmadmin.sandbox.models import Record
from crmadmin.sandbox.seed import seed
from tests.conftest import make_sandbox_connection

from .conftest import build_job, run, writable

RECORDS = 10_000
NEW_TITLE = "Came through the storm"
FAULTS = {
    "share_5xx": 0.10,
    "share_429": 0.05,
    "share_drop": 0.03,
    "spike_share": 0.05,
    "spike_seconds": 2.0,
}
TOKEN_LIFETIME_SECONDS = 60
FIRST_EXPIRY_SECONDS = 3
# Preview: one read a 100 records; run: one mass update a 500, then the read-back.
PREVIEW_CALLS = RECORDS // 100
RUN_CALLS = RECORDS // 500 + RECORDS // 100


@contextmanager
def tokens_expiring(*, first: float, every: float):
    """Make every live access token expire after ``first`` seconds, then every ``every``.

    The sandbox expires them early, unknown to the client: like a lifetime that ends
    while the client still counts on the token, or a token Zoho revoked.
    """
    stop = threading.Event()
    expiries = []

    def expire() -> None:
        try:
            wait = first
            while not stop.wait(wait):
                expiries.append(sandbox_oauth.expire_all_access_tokens())
                wait = every
        finally:
            connections.close_all()

    thread = threading.Thread(target=expire, name="token-expiry")
    thread.start()
    try:
        yield expiries
    finally:
        stop.set()
        thread.join()


@pytest.mark.timeout(600)
def test_a_10000_record_job_completes_through_errors_throttling_drops_spikes_and_expiry(
    live_server, operator, manager, eager_tasks, client
):
    # About 3 % of the seed's leads are locked, converted or awaiting approval.
    seed(leads=RECORDS * 21 // 20)
    connection = make_sandbox_connection(live_server.url)
    ids = writable("Leads", RECORDS)
    job = build_job(operator, connection, "Leads", {"Designation": {"value": NEW_TITLE}}, ids)
    faults.configure(**FAULTS)
    faults.reset_counters()
    try:
        with tokens_expiring(first=FIRST_EXPIRY_SECONDS, every=TOKEN_LIFETIME_SECONDS) as expiries:
            job = run(job, approver=manager)
    finally:
        faults.reset()

    assert job.status == Job.Status.COMPLETED, job.error_message
    assert job.outcome_counts == {"SUCCESS": RECORDS}
    assert job.verification == {"checked": RECORDS, "mismatched": 0, "unreadable": 0}
    assert not JobRecord.objects.filter(job=job).exclude(status=JobRecord.Status.SUCCESS).exists()
    titles = Counter(Record.objects.filter(pk__in=ids).values_list("data__Designation", flat=True))
    assert titles == {NEW_TITLE: RECORDS}

    # The counts of attempts, retries and refreshes are kept: the preview's in its event,
    # the run's (mass updates and read-back) on the job.
    preview = job.events.get(kind=JobEvent.Kind.PREVIEWED).detail["client_stats"]
    stats = [preview, job.client_stats]
    retries = sum((Counter(s["retries"]) for s in stats), Counter())
    refreshes = sum((Counter(s["refreshes"]) for s in stats), Counter())
    attempts = sum(s["attempts"] for s in stats)
    calls = PREVIEW_CALLS + RUN_CALLS
    # Every fault was met, and recovered from by retrying: none ended a call.
    assert {"server_error", "rate_limited", "connection_error"} <= set(retries)
    assert faults.answered_429() >= retries["rate_limited"]
    assert expiries and refreshes["invalid_token"] >= 1
    # Bounded: about one attempt in five fails (18 % injected), so retries stay well
    # under half the calls; an attempt is a call's first, a retry, or a replay with a new
    # token after an expiry.
    assert sum(retries.values()) <= 0.45 * calls
    assert calls + sum(retries.values()) <= attempts <= 2 * calls
    # An expiry costs each client in flight one refresh at most, not one a call.
    assert sum(refreshes.values()) <= MAX_PARALLEL_CALLS * (len(expiries) + 1)

    # And the job's page tells them.
    client.force_login(operator)
    page = client.get(reverse("massupdate:job-detail", args=[job.pk])).content.decode()
    assert f"{job.client_stats['attempts']:,} HTTP attempts; retries: " in page
    for cause, n in job.client_stats["retries"].items():
        assert f"{cause} {n:,}" in page
