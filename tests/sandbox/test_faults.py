"""Fault injection, switched at run time through the configuration row."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from crmadmin.sandbox import faults

TOO_MANY = {
    "code": "TOO_MANY_REQUESTS",
    "details": {},
    "message": faults.TOO_MANY_REQUESTS_MESSAGE,
    "status": "error",
}


def _fresh_get(api, path: str = "Leads?per_page=1") -> requests.Response:
    # A new connection each time, so one dropped connection cannot affect the next call.
    return requests.get(
        api.url(path), headers={"Authorization": f"Zoho-oauthtoken {api.token}"}, timeout=10
    )


def test_a_429_share_of_one_refuses_every_call_without_retry_after(api):
    faults.configure(share_429=1.0)

    response = _fresh_get(api)

    assert response.status_code == 429
    assert response.json() == TOO_MANY
    assert "Retry-After" not in response.headers


def test_a_5xx_share_of_one_fails_every_call_with_a_server_error(api):
    faults.configure(share_5xx=1.0)

    statuses = {_fresh_get(api).status_code for _ in range(6)}

    assert statuses <= {500, 502, 503} and statuses


def test_queued_faults_come_one_per_call_in_order_then_calls_succeed(api):
    faults.queue("429", "500", "drop", "502", "invalid_token")

    first = _fresh_get(api)
    second = _fresh_get(api)
    with pytest.raises(requests.ConnectionError):
        _fresh_get(api)
    fourth = _fresh_get(api)
    fifth = _fresh_get(api)
    sixth = _fresh_get(api)

    assert first.status_code == 429 and first.json() == TOO_MANY
    assert second.status_code == 500
    assert second.json() == {
        "code": "INTERNAL_ERROR",
        "details": {},
        "message": "Internal Server Error",
        "status": "error",
    }
    assert fourth.status_code == 502 and fourth.headers["Content-Type"].startswith("text/html")
    assert fifth.status_code == 401 and fifth.json()["code"] == "INVALID_TOKEN"
    assert sixth.status_code == 200
    assert faults.get_config().next_faults == []


def test_a_dropped_connection_raises_a_connection_error_in_the_client(api):
    faults.configure(share_drop=1.0)

    with pytest.raises(requests.ConnectionError):
        _fresh_get(api)


def test_a_truncated_body_is_a_broken_response_in_the_client(api):
    faults.queue("truncate")

    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        _fresh_get(api)


def test_latency_delays_every_call(api):
    faults.configure(latency=0.3)

    started = time.monotonic()
    response = _fresh_get(api)

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_a_spike_adds_its_seconds(api):
    faults.configure(spike_share=1.0, spike_seconds=0.3)

    started = time.monotonic()
    _fresh_get(api)

    assert time.monotonic() - started >= 0.3


def test_a_queued_sleep_delays_only_that_call(api):
    faults.queue("sleep:0.3")

    started = time.monotonic()
    _fresh_get(api)

    # A lower bound only: upper bounds on time are flaky on a loaded machine.
    assert time.monotonic() - started >= 0.3
    assert faults.get_config().next_faults == []


def test_calls_beyond_the_concurrency_limit_get_429(api):
    # Two slow calls fill the limit; the test waits until the server holds both, so the
    # outcome does not depend on how fast a loaded machine starts threads.
    faults.configure(concurrency=2, latency=1.5)

    with ThreadPoolExecutor(max_workers=2) as pool:
        slow = [pool.submit(_fresh_get, api) for _ in range(2)]
        deadline = time.monotonic() + 10
        while faults.in_flight_now() < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        # Refused calls are answered before the latency, so these return at once.
        refused = [_fresh_get(api) for _ in range(3)]
        admitted = [future.result() for future in slow]

    assert [r.status_code for r in admitted] == [200, 200]
    assert [r.status_code for r in refused] == [429, 429, 429]
    assert all(r.json() == TOO_MANY for r in refused)
    assert faults.in_flight_now() == 0


def test_the_concurrency_limit_lets_sequential_calls_through(api):
    faults.configure(concurrency=1)

    assert [_fresh_get(api).status_code for _ in range(3)] == [200, 200, 200]


def test_faults_touch_only_the_crm_api_not_the_accounts_server(api, sandbox_url):
    faults.configure(share_429=1.0)

    response = requests.post(f"{sandbox_url}/oauth/v2/token", data={}, timeout=10)

    assert response.status_code == 200
    assert response.json() == {"error": "invalid_client"}


def test_an_unknown_queued_fault_is_refused(db):
    with pytest.raises(ValueError, match="unknown fault"):
        faults.queue("teapot")


def test_reset_restores_a_well_behaved_crm(db):
    faults.configure(share_429=1.0, latency=2.0, next_faults=["drop"])

    config = faults.reset()

    assert (config.share_429, config.latency, config.next_faults) == (0.0, 0.0, [])
    assert (config.token_ttl, config.concurrency) == (3600, 20)
