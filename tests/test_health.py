"""``/healthz``: database and broker decide the status code; the CRM only degrades it."""

import socket
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from crmadmin.zoho.models import Connection
from crmadmin.zoho.operations import check_connection
from tests.conftest import make_sandbox_connection

REVOKED_TOKEN = "1000.revoked0refresh0token0rrrrrrrrrr"
BROKER_PASSWORD = "hunter2-broker-password"


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _check_interval() -> timedelta:
    return timedelta(seconds=settings.CELERY_BEAT_SCHEDULE["check-connections"]["schedule"])


def _eu_connection(name: str) -> Connection:
    """A connection that is never called: only its recorded checks matter here."""
    return Connection.objects.create(
        name=name,
        data_centre="EU",
        accounts_url="https://accounts.zoho.eu",
        api_domain="https://www.zohoapis.eu",
        client_id="1000.CLIENT",
        client_secret="client-secret",
    )


def test_healthz_reports_database_broker_and_crm_without_login(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "crm": "ok: no connections",
    }
    assert "no-cache" in response["Cache-Control"]


def test_a_load_balancer_may_probe_with_head(client, db):
    response = client.head("/healthz")

    assert response.status_code == 200
    assert response.content == b""
    assert client.post("/healthz").status_code == 405


def test_healthz_is_ok_when_every_connection_passed_its_last_check(client, live_server):
    connection = make_sandbox_connection(live_server.url)
    assert check_connection(connection=connection) is True

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["crm"] == "ok"


def test_a_connection_failing_its_check_degrades_healthz_without_naming_it(client, live_server):
    healthy = make_sandbox_connection(live_server.url)
    broken = make_sandbox_connection(live_server.url, "Acme EU", refresh_token=REVOKED_TOKEN)
    assert check_connection(connection=healthy) is True
    assert check_connection(connection=broken) is False
    broken.refresh_from_db()
    assert broken.last_check_message

    response = client.get("/healthz")

    # 200: a Zoho outage or a revoked token must not take the dashboard out of service.
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "broker": "ok",
        "crm": "degraded: 1 of 2 failed their last check",
    }
    body = response.content.decode()
    for private in ("Acme EU", broken.last_check_message, REVOKED_TOKEN, broken.client_id):
        assert private not in body


def test_a_connection_left_unchecked_for_two_rounds_degrades_healthz(client, db):
    checked = _eu_connection("Checked long ago")
    checked.record_check(ok=True, message="3 modules")
    too_old = timezone.now() - 2 * _check_interval() - timedelta(minutes=1)
    Connection.objects.filter(pk=checked.pk).update(last_checked_at=too_old)
    # Created a moment ago and not checked yet: the periodic check has had no chance.
    _eu_connection("Just added")

    response = client.get("/healthz")

    assert response.status_code == 200
    minutes = round(2 * _check_interval().total_seconds() / 60)
    assert response.json()["status"] == "degraded"
    assert response.json()["crm"] == f"degraded: 1 of 2 not checked for {minutes} minutes"


def test_an_unreachable_broker_makes_healthz_answer_503_without_showing_its_url(
    client, db, monkeypatch
):
    # Celery reads the broker URL from the environment before its own configuration, on
    # every connection: the health check opens a new one per probe.
    port = _unused_port()
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    monkeypatch.setenv("CELERY_BROKER_URL", f"redis://:{BROKER_PASSWORD}@127.0.0.1:{port}/0")

    response = client.get("/healthz")

    assert response.status_code == 503
    payload = response.json()
    assert payload["status"] == "error"
    assert payload["database"] == "ok"
    assert payload["broker"].startswith("error: "), payload
    assert BROKER_PASSWORD not in response.content.decode()
    assert str(port) not in response.content.decode()


def test_healthz_answers_503_when_the_database_cannot_be_reached(client):
    # Without the db fixture, pytest-django refuses every database connection.
    response = client.get("/healthz")

    assert response.status_code == 503
    payload = response.json()
    assert payload["status"] == "error"
    assert payload["database"].startswith("error: ")
    assert payload["broker"] == "ok"
    assert payload["crm"] == "unknown: the database is unavailable"
