"""Retries with exponential backoff and full jitter for 429, 5xx, timeouts and dropped
connections; never for other 4xx. Sleeps are recorded, not slept."""

import pytest
import requests

from crmadmin.zoho.errors import (
    ZohoRateLimitError,
    ZohoRequestError,
    ZohoServerError,
    ZohoTransportError,
)

from .conftest import (
    BASE,
    INTERNAL,
    LEADS_MODULE,
    MASS_UPDATE_URL,
    MODULES_URL,
    SCHEDULED,
    TOO_MANY,
    success,
)


def identity(ceiling: float) -> float:
    return ceiling


def test_a_429_is_retried_after_a_jittered_sleep_and_then_succeeds(wire, make_client, sleeps):
    wire.get(MODULES_URL, json=TOO_MANY, status=429)
    wire.get(MODULES_URL, json=LEADS_MODULE)
    client = make_client(backoff_base=0.5)

    modules = client.modules()

    assert [m["api_name"] for m in modules] == ["Leads"]
    assert len(wire.calls) == 2
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 0.5
    assert client.stats.retries == {"rate_limited": 1}
    assert client.stats.attempts == 2


def test_backoff_ceilings_grow_exponentially_up_to_the_cap(wire, make_client, sleeps):
    for _ in range(4):
        wire.get(MODULES_URL, json=TOO_MANY, status=429)
    wire.get(MODULES_URL, json=LEADS_MODULE)

    make_client(max_attempts=5, backoff_base=0.5, backoff_cap=2.0, jitter=identity).modules()

    assert sleeps == [0.5, 1.0, 2.0, 2.0]


def test_full_jitter_keeps_every_delay_between_zero_and_its_ceiling(wire, make_client, sleeps):
    for _ in range(5):
        wire.get(MODULES_URL, json=TOO_MANY, status=429)
    wire.get(MODULES_URL, json=LEADS_MODULE)

    make_client(max_attempts=6, backoff_base=0.5, backoff_cap=3.0).modules()

    ceilings = [0.5, 1.0, 2.0, 3.0, 3.0]
    assert len(sleeps) == 5
    assert all(0 <= delay <= ceiling for delay, ceiling in zip(sleeps, ceilings, strict=True))


@pytest.mark.parametrize(
    "first",
    [
        {"json": INTERNAL, "status": 500},
        {"body": "<html>Bad gateway</html>", "status": 502},
        {"json": INTERNAL, "status": 503},
    ],
    ids=["500 INTERNAL_ERROR", "502 html", "503"],
)
def test_a_server_error_is_retried_and_then_succeeds(wire, make_client, first):
    wire.get(MODULES_URL, **first)
    wire.get(MODULES_URL, json=LEADS_MODULE)
    client = make_client()

    assert client.modules()[0]["api_name"] == "Leads"
    assert client.stats.retries == {"server_error": 1}


def test_rate_limiting_that_never_ends_raises_after_max_attempts(wire, make_client, sleeps):
    for _ in range(3):
        wire.get(MODULES_URL, json=TOO_MANY, status=429)

    with pytest.raises(ZohoRateLimitError) as caught:
        make_client(max_attempts=3).modules()

    assert caught.value.attempts == 3
    assert "after 3 attempts" in str(caught.value)
    assert len(wire.calls) == 3
    assert len(sleeps) == 2


def test_server_errors_that_never_end_raise_a_server_error_with_the_attempt_count(
    wire, make_client
):
    for _ in range(4):
        wire.post(MASS_UPDATE_URL, json=INTERNAL, status=500)

    with pytest.raises(ZohoServerError) as caught:
        make_client(max_attempts=4).mass_update("Leads", ["111"], {"Rating": "Hot"})

    assert (caught.value.code, caught.value.attempts, caught.value.http_status) == (
        "INTERNAL_ERROR",
        4,
        500,
    )


@pytest.mark.parametrize(
    ("failure", "kind"),
    [
        (requests.ReadTimeout("read timed out"), "timeout"),
        (requests.ConnectionError("connection reset by peer"), "connection_error"),
        (requests.exceptions.ChunkedEncodingError("connection dropped"), "connection_error"),
    ],
    ids=["timeout", "connection reset", "dropped mid-body"],
)
def test_a_mass_update_is_replayed_after_a_transport_failure(wire, make_client, failure, kind):
    wire.post(MASS_UPDATE_URL, body=failure)
    wire.post(MASS_UPDATE_URL, json={"data": [success("111")]})
    client = make_client()

    result = client.mass_update("Leads", ["111"], {"Rating": "Hot"})

    assert result.outcomes[0].ok
    assert len(wire.calls) == 2
    assert client.stats.retries == {kind: 1}


def test_timeouts_that_never_end_raise_a_transport_error(wire, make_client):
    for _ in range(2):
        wire.get(MODULES_URL, body=requests.ConnectTimeout("connect timed out"))

    with pytest.raises(ZohoTransportError) as caught:
        make_client(max_attempts=2).modules()

    assert caught.value.code == "TIMEOUT"
    assert caught.value.attempts == 2


def test_a_client_error_is_never_retried(wire, make_client, sleeps):
    wire.get(
        BASE + "/settings/fields",
        json={
            "code": "INVALID_MODULE",
            "details": {"resource_path_index": 0},
            "message": "the module name given seems to be invalid",
            "status": "error",
        },
        status=400,
    )
    client = make_client()

    with pytest.raises(ZohoRequestError) as caught:
        client.fields("Nonsense")

    assert caught.value.code == "INVALID_MODULE"
    assert len(wire.calls) == 1
    assert sleeps == []
    assert client.stats.retries == {}


def test_scheduling_by_view_is_not_replayed_after_a_server_error(wire, make_client):
    wire.post(MASS_UPDATE_URL, json=INTERNAL, status=500)

    with pytest.raises(ZohoServerError):
        make_client().mass_update_by_view("Leads", "4876876000000087501", {"Rating": "Hot"})

    assert len(wire.calls) == 1


def test_scheduling_by_view_is_not_replayed_after_a_read_timeout(wire, make_client):
    wire.post(MASS_UPDATE_URL, body=requests.ReadTimeout("read timed out"))

    with pytest.raises(ZohoTransportError):
        make_client().mass_update_by_view("Leads", "4876876000000087501", {"Rating": "Hot"})

    assert len(wire.calls) == 1


def test_scheduling_by_view_is_retried_after_a_429_because_it_never_ran(wire, make_client):
    wire.post(MASS_UPDATE_URL, json=TOO_MANY, status=429)
    wire.post(
        MASS_UPDATE_URL,
        json=SCHEDULED,
    )

    job_id = make_client().mass_update_by_view("Leads", "4876876000000087501", {"Rating": "Hot"})

    assert job_id == "4876876000005120003"


def test_the_limiter_is_held_around_each_attempt_and_released_before_sleeping(wire, connection):
    from contextlib import contextmanager

    from crmadmin.zoho.client import ZohoClient

    events: list[str] = []

    @contextmanager
    def limiter():
        events.append("acquire")
        yield
        events.append("release")

    wire.get(MODULES_URL, json=TOO_MANY, status=429)
    wire.get(MODULES_URL, json=LEADS_MODULE)
    client = ZohoClient(
        connection, limiter=limiter, sleep=lambda delay: events.append("sleep"), backoff_base=0.01
    )

    client.modules()

    assert events == ["acquire", "release", "sleep", "acquire", "release"]
