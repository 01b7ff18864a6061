"""The main flows in a real browser: Playwright driving Debian's Chromium."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_operator_logs_in_and_sees_the_dashboard(page: Page, live_server, operator):
    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    page.get_by_label("Username").fill("olivia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # Their home page: the mass updates they run.
    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("heading", name="Your mass updates")).to_be_visible()
    expect(page.locator(".whoami")).to_contain_text("olivia")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in to crmadmin")).to_be_visible()


def test_login_page_runs_without_csp_violations(page: Page, live_server):
    violations = []
    page.on(
        "console", lambda msg: "Content Security Policy" in msg.text and violations.append(msg.text)
    )
    page.goto(live_server.url + "/login/")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert page.evaluate("typeof window.htmx") == "object"
    assert violations == []
