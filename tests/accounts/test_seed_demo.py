import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from crmadmin.accounts.management.commands.seed_demo import DEMO_PASSWORD, SANDBOX_CONNECTION
from crmadmin.zoho.models import Connection
from crmadmin.zoho.operations import check_connection


def test_demo_setup_refuses_outside_demo_mode(db, settings):
    settings.CRMADMIN_DEMO = False
    with pytest.raises(CommandError, match="only in demo mode"):
        call_command("seed_demo")
    assert not Connection.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_demo_setup_creates_logins_and_a_working_sandbox_connection(settings, live_server):
    settings.CRMADMIN_DEMO = True
    call_command("seed_demo", "--base-url", live_server.url)
    call_command("seed_demo", "--base-url", live_server.url)  # idempotent on every start

    for username, role in [("operator", "Operator"), ("manager", "Manager")]:
        user = authenticate(username=username, password=DEMO_PASSWORD)
        assert user is not None and user.groups.filter(name=role).exists()
    assert authenticate(username="admin", password=DEMO_PASSWORD).is_superuser

    connection = Connection.objects.get(name=SANDBOX_CONNECTION)
    assert connection.api_domain == live_server.url + "/sandbox"
    assert check_connection(connection=connection) is True
    connection.refresh_from_db()
    assert connection.last_check_ok is True
    assert "Leads" in connection.last_check_message
