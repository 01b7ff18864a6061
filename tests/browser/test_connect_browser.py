"""A manager connects crmadmin to a CRM through the real OAuth flow, in Chromium."""

import pytest
from playwright.sync_api import Page, expect

from crmadmin.sandbox import oauth as sandbox_oauth
from crmadmin.sandbox.seed import seed
from crmadmin.zoho.models import Connection
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_adds_a_connection_connects_it_and_tests_it(page: Page, live_server, manager):
    seed(leads=20)
    sandbox = live_server.url + "/sandbox"
    client = sandbox_oauth.create_client(
        "crmadmin under test", [live_server.url + "/connections/oauth/callback/"]
    )

    log_in(page, live_server.url, "maria")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Connections").click()
    page.get_by_role("link", name="Add a connection").click()
    page.get_by_label("Name").fill("Test org")
    page.get_by_label("Data centre").select_option("CUSTOM")
    page.get_by_label("Accounts server URL").fill(sandbox)
    page.get_by_label("API domain").fill(sandbox)
    page.get_by_label("Client id").fill(client.client_id)
    page.get_by_label("Client secret").fill(client.client_secret)
    page.get_by_role("button", name="Add connection").click()

    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.get_by_text("would like to access your CRM")).to_be_visible()
    page.get_by_role("button", name="Accept").click()

    expect(page.get_by_text("Connected to Zoho")).to_be_visible()
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_text("Last test OK")).to_be_visible()
    expect(page.get_by_text("Leads, Contacts, Accounts, Deals")).to_be_visible()

    connection = Connection.objects.get(name="Test org")
    assert connection.refresh_token and connection.last_check_ok is True
    # The secrets never come back to the page.
    assert client.client_secret not in page.content()
    assert connection.refresh_token not in page.content()
