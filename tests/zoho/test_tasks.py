"""Connection checks through a real Celery worker process and the no-server broker."""

import time

from crmadmin.sandbox.seed import seed
from crmadmin.zoho.models import Connection
from crmadmin.zoho.tasks import check_all_connections
from tests.conftest import make_sandbox_connection


def _wait_for(predicate, worker, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        assert worker.poll() is None, worker.log_path.read_text()
        time.sleep(0.2)
    raise AssertionError("timed out; worker log:\n" + worker.log_path.read_text())


def test_a_real_worker_checks_every_connection_against_the_sandbox(
    live_server, celery_worker_process
):
    seed(leads=10)
    working = make_sandbox_connection(live_server.url, "Sandbox")
    revoked = make_sandbox_connection(
        live_server.url, "Revoked", refresh_token="1000.not-a-token-the-sandbox-ever-issued"
    )

    check_all_connections.delay()

    def both_checked() -> bool:
        return not Connection.objects.filter(last_checked_at__isnull=True).exists()

    _wait_for(both_checked, celery_worker_process)
    working.refresh_from_db()
    revoked.refresh_from_db()
    assert working.last_check_ok is True
    assert "Leads" in working.last_check_message
    assert revoked.last_check_ok is False
    assert "refresh token was revoked" in revoked.last_check_message, revoked.last_check_message
