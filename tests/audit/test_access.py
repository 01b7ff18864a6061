"""Who may open which audit page, and that no page changes the audit trail.

Every URL of ``crmadmin/audit/urls.py`` is reached with real jobs: anonymous users go to
the login page, people without a role are refused, an operator never sees another
operator's job (its pages are 404, and the list, the exports and the record search leave
it out), and whatever is sent to any audit URL, the audit trail's rows stay as they were.
"""

import json

from django.urls import URLPattern, reverse

from crmadmin.audit import urls as audit_urls
from crmadmin.massupdate.models import Job, JobEvent

from .conftest import client_of, events_of_every_job

PATTERNS: list[URLPattern] = audit_urls.urlpatterns
JOB_PAGES = ["job-detail", "job-exchanges", "job-export-json"]


def every_url(job: Job) -> list[str]:
    urls = []
    for pattern in PATTERNS:
        kwargs = {"pk": job.pk} if "pk" in pattern.pattern.converters else {}
        urls.append(reverse(f"audit:{pattern.name}", kwargs=kwargs))
    return urls


def body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_every_audit_url_is_covered_here():
    assert {p.name for p in PATTERNS} == {
        *JOB_PAGES,
        "job-list",
        "job-list-export",
        "job-review",
        "record-search",
        "overview",
    }


def test_anonymous_visitors_are_sent_to_log_in(story, client):
    for url in every_url(story.olivias):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login")), url


def test_people_without_a_role_are_refused(story, outsider):
    browser = client_of(outsider)
    for url in every_url(story.olivias):
        method = browser.post if url.endswith("/review/") else browser.get
        assert method(url).status_code == 403, url


def test_another_operator_gets_404_on_every_page_of_olivias_job(story, other_operator):
    browser = client_of(other_operator)
    for name in JOB_PAGES:
        for job in (story.olivias, story.revert):
            url = reverse(f"audit:{name}", args=[job.pk])
            assert browser.get(url).status_code == 404, url


def test_another_operator_never_finds_olivias_jobs_in_lists_exports_or_searches(
    story, other_operator
):
    browser = client_of(other_operator)
    hers = {story.olivias.pk, story.revert.pk}

    listed = browser.get(reverse("audit:job-list"))
    as_json = browser.get(reverse("audit:job-list-export"), {"format": "json"})
    as_csv = browser.get(reverse("audit:job-list-export"), {"format": "csv"})
    searched = browser.get(reverse("audit:record-search"), {"record_id": story.ids[0]})
    by_number = browser.get(reverse("audit:job-list"), {"q": str(story.olivias.pk)})

    assert {job["id"] for job in json.loads(body(as_json))["jobs"]} == {story.oscars.pk}
    csv_ids = [line.split(",")[0] for line in body(as_csv).splitlines()[1:]]
    assert csv_ids == [str(story.oscars.pk)]
    for response in (listed, searched):
        page = body(response)
        assert f"/audit/jobs/{story.oscars.pk}/" in page
        assert not any(f"/audit/jobs/{pk}/" in page for pk in hers)
        assert "Lisbon" not in page and "Move the expo leads" not in page
    assert "Move the expo leads" not in body(by_number)
    assert f"/audit/jobs/{story.olivias.pk}/" not in body(by_number)
    assert browser.get(reverse("audit:overview")).status_code == 403


def test_a_manager_opens_every_page_of_every_job(story, manager):
    browser = client_of(manager)
    for job in (story.olivias, story.oscars, story.revert):
        for name in JOB_PAGES:
            assert browser.get(reverse(f"audit:{name}", args=[job.pk])).status_code == 200


def test_nothing_sent_to_any_audit_url_changes_the_audit_trail(story, manager, operator):
    before = events_of_every_job()
    assert len(before) > 30
    forged = {"kind": "approved", "message": "forged", "detail": "{}", "note": "x", "pk": 1}

    for user in (operator, manager):
        browser = client_of(user)
        for url in every_url(story.oscars):
            methods = [browser.put, browser.patch, browser.delete]
            if not url.endswith("/review/"):  # a review adds a row: see the next test
                methods.append(browser.post)
            for method in methods:
                assert method(url, forged).status_code == 405, (url, method)
            browser.get(url, forged)

    assert events_of_every_job() == before


def test_a_review_only_adds_its_own_row_to_the_trail(story, manager):
    before = events_of_every_job()

    client_of(manager).post(
        reverse("audit:job-review", args=[story.oscars.pk]), {"note": "Fine", "kind": "deleted"}
    )

    after = events_of_every_job()
    assert after[: len(before)] == before
    (added,) = after[len(before) :]
    assert added[1:4] == (story.oscars.pk, JobEvent.Kind.REVIEWED, manager.pk)


def test_the_navigation_offers_the_audit_to_operators_and_the_overview_to_managers(
    operator, manager, outsider
):
    audit, overview = reverse("audit:job-list"), reverse("audit:overview")

    operators = client_of(operator).get(reverse("massupdate:home")).content.decode()
    managers = client_of(manager).get(reverse("audit:overview")).content.decode()
    outsiders = client_of(outsider).get(reverse("massupdate:home")).content.decode()

    assert f'href="{audit}"' in operators and f'href="{overview}"' not in operators
    assert f'href="{audit}"' in managers
    assert f'href="{overview}" aria-current="page">Overview' in managers
    assert f'href="{audit}"' not in outsiders


def test_the_audit_link_is_current_on_audit_pages_and_jobs_is_not(operator):
    page = client_of(operator).get(reverse("audit:job-list")).content.decode()

    assert f'href="{reverse("audit:job-list")}" aria-current="page">Audit' in page
    assert f'href="{reverse("massupdate:job-list")}">Jobs' in page
