"""The client and the Connections pages against the built-in sandbox, over real HTTP.

Nothing here is mocked: ``live_server`` serves the sandbox's accounts server and CRM API,
the manager drives crmadmin's pages through the test client, and the consent page on the
sandbox is answered with ``requests``, as a browser would.
"""

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from crmadmin.sandbox import faults
from crmadmin.sandbox import oauth as sandbox_oauth
from crmadmin.sandbox.models import Record
from crmadmin.sandbox.seed import LOCKED_LEAD, MISSING_IDS, NOT_APPROVED_LEAD, seed
from crmadmin.zoho.client import ZohoClient
from crmadmin.zoho.datacentres import CUSTOM
from crmadmin.zoho.models import Connection
from tests.conftest import signed_in_browser

# The redirect URI crmadmin shows on the detail page when served as "testserver".
CALLBACK_URI = "http://testserver/connections/oauth/callback/"


class FormFields(HTMLParser):
    """The fields a browser would submit from the first form of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "input" and attr.get("name") and attr.get("type") != "submit":
            self.fields[attr["name"]] = attr.get("value", "")
        elif tag == "select":
            self._select = attr.get("name")
        elif (
            tag == "option"
            and self._select
            and (self._select not in self.fields or "selected" in attr)
        ):
            self.fields[self._select] = attr.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


@pytest.fixture
def crm(transactional_db) -> dict:
    return seed(leads=60)


@pytest.fixture
def sandbox_client(crm):
    """A client registered in the sandbox's "API console"."""
    return sandbox_oauth.create_client("crmadmin", [CALLBACK_URI])


@pytest.fixture
def sandbox_connection(live_server, sandbox_client) -> Connection:
    base = live_server.url + "/sandbox"
    return Connection.objects.create(
        name="Sandbox",
        data_centre=CUSTOM,
        accounts_url=base,
        api_domain=base,
        client_id=sandbox_client.client_id,
        client_secret=sandbox_client.client_secret,
        redirect_uri=CALLBACK_URI,
    )


@pytest.fixture
def connected(sandbox_connection, sandbox_client) -> Connection:
    sandbox_connection.refresh_token = sandbox_oauth.issue_refresh_token(sandbox_client)
    sandbox_connection.save()
    return sandbox_connection


@pytest.fixture
def free_leads(crm) -> list[str]:
    """Leads any write may change: not locked, approved, not converted."""
    return list(
        Record.objects.filter(
            module="Leads", locked_action="", approval_state=Record.APPROVED, converted=False
        )
        .order_by("id")
        .values_list("id", flat=True)[:5]
    )


def client_for(connection: Connection, **options) -> ZohoClient:
    return ZohoClient(connection, timeout=10, backoff_base=0.01, backoff_cap=0.05, **options)


def test_a_manager_connects_the_sandbox_with_the_authorization_code_flow(
    manager_client, manager, sandbox_connection
):
    connect = manager_client.post(reverse("zoho:connection-connect", args=[sandbox_connection.pk]))
    browser = signed_in_browser(Client(), manager)
    consent = browser.get(connect["Location"], timeout=10)
    assert consent.status_code == 200
    form = FormFields()
    form.feed(consent.text)

    accepted = browser.post(
        consent.url, data={**form.fields, "decision": "accept"}, allow_redirects=False, timeout=10
    )
    back = urlsplit(accepted.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK_URI
    callback = manager_client.get(f"{back.path}?{back.query}")

    assert callback["Location"] == reverse("zoho:connection-detail", args=[sandbox_connection.pk])
    sandbox_connection.refresh_from_db()
    assert sandbox_connection.is_connected
    assert sandbox_connection.has_fresh_access_token()

    manager_client.post(reverse("zoho:connection-test", args=[sandbox_connection.pk]))

    sandbox_connection.refresh_from_db()
    assert sandbox_connection.last_check_ok is True, sandbox_connection.last_check_message
    assert "Leads" in sandbox_connection.last_check_message


def test_declining_consent_on_the_sandbox_leaves_the_connection_unconnected(
    manager_client, manager, sandbox_connection
):
    connect = manager_client.post(reverse("zoho:connection-connect", args=[sandbox_connection.pk]))
    browser = signed_in_browser(Client(), manager)
    consent = browser.get(connect["Location"], timeout=10)
    form = FormFields()
    form.feed(consent.text)

    denied = browser.post(
        consent.url, data={**form.fields, "decision": "deny"}, allow_redirects=False, timeout=10
    )
    back = urlsplit(denied.headers["Location"])
    response = manager_client.get(f"{back.path}?{back.query}", follow=True)

    assert "consent screen was declined" in response.content.decode()
    assert not Connection.objects.get(pk=sandbox_connection.pk).is_connected


def test_a_self_client_code_from_the_sandbox_connects_through_the_page(
    manager_client, sandbox_connection, sandbox_client
):
    code = sandbox_oauth.issue_grant_code(sandbox_client, sandbox_oauth.ALL_SCOPES)

    manager_client.post(
        reverse("zoho:connection-self-client", args=[sandbox_connection.pk]), {"code": code}
    )
    manager_client.post(reverse("zoho:connection-test", args=[sandbox_connection.pk]))

    sandbox_connection.refresh_from_db()
    assert sandbox_connection.is_connected
    assert sandbox_connection.last_check_ok is True, sandbox_connection.last_check_message


def test_tokens_the_sandbox_expires_are_refreshed_and_the_call_replayed(connected):
    client = client_for(connected)

    assert any(m["api_name"] == "Leads" for m in client.modules())
    assert client.stats.refreshes == {"expiring": 1}

    sandbox_oauth.expire_all_access_tokens()
    assert any(m["api_name"] == "Leads" for m in client.modules())

    assert client.stats.refreshes == {"expiring": 1, "invalid_token": 1}
    assert Connection.objects.get(pk=connected.pk).access_token == connected.access_token


def test_mass_update_and_get_records_over_http_give_each_record_its_outcome(connected, free_leads):
    client = client_for(connected)
    ids = [*free_leads[:3], LOCKED_LEAD, NOT_APPROVED_LEAD, MISSING_IDS[0]]

    result = client.mass_update("Leads", ids, {"No_of_Employees": 4321}, over_write=True)

    assert result.http_status == 207
    assert [(o.record_id, o.code) for o in result.outcomes] == [
        (free_leads[0], "SUCCESS"),
        (free_leads[1], "SUCCESS"),
        (free_leads[2], "SUCCESS"),
        (LOCKED_LEAD, "RECORD_LOCKED"),
        (NOT_APPROVED_LEAD, "NOT_APPROVED"),
        (MISSING_IDS[0], "INVALID_DATA"),
    ]
    records = client.get_records("Leads", ids, ["No_of_Employees"])
    assert {i: records[i]["No_of_Employees"] for i in free_leads[:3]} == dict.fromkeys(
        free_leads[:3], 4321
    )
    assert MISSING_IDS[0] not in records


def test_a_field_that_cannot_be_mass_updated_fails_every_id_over_http(connected, free_leads):
    result = client_for(connected).mass_update("Leads", free_leads[:2], {"Email": "a@b.example"})

    assert [o.code for o in result.outcomes] == ["INVALID_DATA", "INVALID_DATA"]
    assert result.request_error is not None
    assert all(
        o.message == "This field cannot be updated in the Mass Update" for o in result.outcomes
    )


def test_per_record_updates_restore_values_and_metadata_agrees(connected, free_leads):
    client = client_for(connected)
    before = client.get_records("Leads", free_leads[:2], ["Rating"])
    field_names = {f["api_name"] for f in client.mass_update_fields("Leads")}
    assert "Rating" in field_names and "Email" not in field_names

    client.mass_update("Leads", free_leads[:2], {"Rating": "Hot"})
    result = client.update_records(
        "Leads", [{"id": i, "Rating": before[i]["Rating"]} for i in free_leads[:2]], trigger=[]
    )

    assert all(o.ok for o in result.outcomes)
    after = client.get_records("Leads", free_leads[:2], ["Rating"])
    assert {i: after[i]["Rating"] for i in free_leads[:2]} == {
        i: before[i]["Rating"] for i in free_leads[:2]
    }


def test_injected_429_500_and_a_dropped_connection_are_retried(connected, free_leads):
    client = client_for(connected, max_attempts=4)
    client.modules()  # get a token first, so the queued faults hit the mass update
    faults.queue("429", "500", "drop")

    result = client.mass_update("Leads", free_leads[:1], {"No_of_Employees": 7})

    assert result.outcomes[0].ok
    assert client.stats.retries == {"rate_limited": 1, "server_error": 1, "connection_error": 1}
