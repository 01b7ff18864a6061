"""A manager audits in Chromium: htmx swaps the filtered tables in place (and the address
follows), the overview's SVG charts draw, and the CSP blocks nothing on any audit page."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Set on the page once; a full reload would lose it, an htmx swap keeps it.
MARK_PAGE = "window.notReloaded = true"
NOT_RELOADED = "window.notReloaded === true"


def test_a_manager_filters_audits_and_charts_without_a_reload_or_a_csp_violation(
    page: Page, live_server, story, manager
) -> None:
    # Chromium reports on the console whatever the Content Security Policy blocks.
    csp_violations = []
    page.on(
        "console",
        lambda msg: "Content Security Policy" in msg.text and csp_violations.append(msg.text),
    )
    log_in(page, live_server.url, "maria")
    page.get_by_role("link", name="Audit", exact=True).click()
    jobs = page.locator("#job-results tbody tr")
    expect(jobs).to_have_count(3)

    page.evaluate(MARK_PAGE)
    page.get_by_label("Person").select_option("oscar")
    page.get_by_role("button", name="Filter").click()
    expect(jobs).to_have_count(1)
    expect(page).to_have_url(
        f"{live_server.url}/audit/?q=&created_from=&created_to=&owner=oscar&module=&field=&outcome=&status=&kind=&reviewed="
    )
    assert page.evaluate(NOT_RELOADED)

    page.get_by_role("link", name="Clear").click()
    expect(jobs).to_have_count(3)
    page.get_by_role("link", name=f"#{story.olivias.pk}", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        f"Audit of job #{story.olivias.pk}"
    )

    page.evaluate(MARK_PAGE)
    records = page.locator("#job-records tbody tr")
    expect(records).to_have_count(4)
    page.locator("#job-records").get_by_label("Outcome").select_option("RECORD_LOCKED")
    page.locator("#job-records").get_by_role("button", name="Filter").click()
    expect(records).to_have_count(1)
    expect(records.first).to_contain_text("RECORD_LOCKED")
    assert page.evaluate(NOT_RELOADED)

    page.get_by_role("link", name="Raw exchanges", exact=True).click()
    expect(page.locator(".exchange")).to_have_count(1)
    page.get_by_role("link", name="Overview").click()
    expect(page.get_by_role("img", name="Jobs per day")).to_be_visible()
    expect(page.locator("#jobs-per-day rect.chart-rect")).to_have_count(30)
    assert csp_violations == []
