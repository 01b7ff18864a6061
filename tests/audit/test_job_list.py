"""The list of every job: its filters, its search, its pages, and its CSV and JSON exports."""

import csv
import io
import json
import re
from datetime import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from crmadmin.massupdate.models import Job

from .conftest import bulk_jobs, client_of, page_text

LIST = reverse("audit:job-list")
EXPORT = reverse("audit:job-list-export")


def day(text: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(text))


def listed(response) -> list[int]:
    """The job numbers the list shows, in order."""
    assert response.status_code == 200
    return [int(n) for n in re.findall(r'<a href="/audit/jobs/(\d+)/"', response.content.decode())]


@pytest.fixture
def jobs(operator, other_operator, manager, offline_connection) -> dict[str, Job]:
    """Three jobs that differ in everything the list filters on."""
    (expo,) = bulk_jobs(
        operator,
        offline_connection,
        1,
        created_at=day("2026-01-10 09:00"),
        status=Job.Status.COMPLETED,
        outcome_counts={"SUCCESS": 3},
        reason="Expo clean-up",
        reviewed_by=manager,
        reviewed_at=day("2026-01-11 10:00"),
        review_note="Checked",
    )
    (rating,) = bulk_jobs(
        other_operator,
        offline_connection,
        1,
        module="Contacts",
        field_index="|Rating|Lead_Source|",
        created_at=day("2026-02-05 23:30"),
        outcome_counts={"SUCCESS": 1, "RECORD_LOCKED": 2},
        reason="Rating refresh",
        selection_summary="the Hot view",
    )
    (revert,) = bulk_jobs(
        operator,
        offline_connection,
        1,
        kind=Job.Kind.REVERT,
        revert_of=expo,
        created_at=day("2026-02-20 08:00"),
        status=Job.Status.FAILED,
        outcome_counts={"INVALID_DATA": 3},
        reason="Undo the expo",
        selection_summary=f"the 3 records job {expo.pk} changed",
    )
    return {"expo": expo, "rating": rating, "revert": revert}


FILTERS = [
    ({}, ["revert", "rating", "expo"]),
    ({"created_from": "2026-02-01"}, ["revert", "rating"]),
    ({"created_to": "2026-02-05"}, ["rating", "expo"]),
    ({"created_from": "2026-02-05", "created_to": "2026-02-05"}, ["rating"]),
    ({"owner": "olivia"}, ["revert", "expo"]),
    ({"module": "Contacts"}, ["rating"]),
    ({"field": "Lead_Source"}, ["rating"]),
    ({"field": "Lead"}, []),  # a whole field name, not a part of one
    ({"field": " lead source "}, ["rating"]),  # as its label reads, in any case
    ({"outcome": "RECORD_LOCKED"}, ["rating"]),
    ({"outcome": "success"}, ["rating", "expo"]),
    ({"status": "failed"}, ["revert"]),
    ({"kind": "revert"}, ["revert"]),
    ({"reviewed": "yes"}, ["expo"]),
    ({"reviewed": "no"}, ["revert", "rating"]),
    ({"q": "EXPO"}, ["revert", "expo"]),
    ({"q": "hot view"}, ["rating"]),
    ({"q": "oscar"}, ["rating"]),
    ({"owner": "olivia", "status": "completed", "field": "City"}, ["expo"]),
]


@pytest.mark.parametrize(("query", "expected"), FILTERS)
def test_each_filter_narrows_the_list(jobs, manager_client, query, expected):
    response = manager_client.get(LIST, query)

    assert listed(response) == [jobs[name].pk for name in expected]


def test_a_job_number_finds_that_job(jobs, manager_client):
    for query in (str(jobs["rating"].pk), f"#{jobs['rating'].pk}"):
        assert jobs["rating"].pk in listed(manager_client.get(LIST, {"q": query}))
    assert listed(manager_client.get(LIST, {"q": "9" * 40})) == []


def test_a_date_range_that_ends_before_it_starts_is_refused(jobs, manager_client):
    response = manager_client.get(LIST, {"created_from": "2026-03-01", "created_to": "2026-01-01"})

    assert listed(response) == []
    assert "The date range ends before it starts." in page_text(response)


def test_a_bad_filter_is_dropped_and_the_others_apply(jobs, manager_client):
    response = manager_client.get(LIST, {"status": "exploded", "field": "a|b", "owner": "olivia"})

    assert listed(response) == [jobs["revert"].pk, jobs["expo"].pk]


def test_an_operator_lists_only_their_own_jobs_and_can_filter_only_by_themselves(jobs, operator):
    response = client_of(operator).get(LIST)

    assert listed(response) == [jobs["revert"].pk, jobs["expo"].pk]
    content = response.content.decode()
    assert '<option value="olivia">' in content and "oscar" not in content
    assert listed(client_of(operator).get(LIST, {"owner": "oscar"})) == listed(response)


def test_the_list_shows_kind_fields_outcomes_owner_and_review(jobs, manager_client):
    text = page_text(manager_client.get(LIST))

    expo, rating, revert = jobs["expo"], jobs["rating"], jobs["revert"]
    assert f"#{revert.pk} Revert of #{expo.pk} Leads City 3 Failed 0 ok, 3 failed olivia" in text
    assert f"#{rating.pk} Mass update Contacts Rating, Lead_Source 3 Completed with errors" in text
    assert (
        f"#{expo.pk} Mass update Leads City 3 Completed 3 ok olivia 2026-01-10 09:00 Reviewed"
        in (text)
    )


def test_htmx_gets_only_the_results_and_the_links_keep_the_filters(jobs, manager_client):
    response = manager_client.get(
        LIST, {"owner": "olivia"}, headers={"HX-Request": "true", "HX-Target": "job-results"}
    )

    content = response.content.decode()
    assert content.lstrip().startswith('<div id="job-results"')
    assert "<html" not in content
    assert f'href="{EXPORT}?owner=olivia&amp;format=csv"' in content
    assert listed(response) == [jobs["revert"].pk, jobs["expo"].pk]


# --- Many jobs ------------------------------------------------------------------------------


def test_the_list_of_ten_thousand_jobs_takes_a_fixed_number_of_queries(
    operator,
    other_operator,
    manager,
    offline_connection,
    manager_client,
    django_assert_max_num_queries,
):
    older = bulk_jobs(operator, offline_connection, 5_000, reviewed_by=manager)
    bulk_jobs(other_operator, offline_connection, 5_000, kind=Job.Kind.REVERT, revert_of=older[0])
    bulk_jobs(operator, offline_connection, 50, retry_of=older[1], module="Deals")

    # Session, user, the user's and the groups' permissions, the module and person
    # choices, the person filter's user, the count, the page.
    with django_assert_max_num_queries(9):
        response = manager_client.get(LIST, {"page": 3, "owner": "olivia", "q": "bulk"})
    with django_assert_max_num_queries(8):
        first = manager_client.get(LIST)

    assert len(listed(response)) == 50
    assert "Page 3 of 101 · 5,050 rows" in page_text(response)
    assert "Page 1 of 201 · 10,050 rows" in page_text(first)
    assert "Retry of #" in page_text(first)


# --- Exports of the filtered list -----------------------------------------------------------


def exported_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    content = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(content.removeprefix("\ufeff"))))


def exported_json(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return json.loads(b"".join(response.streaming_content))["jobs"]


def test_the_csv_export_holds_the_filtered_jobs_as_the_database_has_them(story, manager):
    rows = exported_csv(client_of(manager).get(EXPORT, {"format": "csv", "owner": "olivia"}))

    assert [int(row["id"]) for row in rows] == [story.revert.pk, story.olivias.pk]
    revert, original = rows
    job = story.olivias
    assert original == {
        "id": str(job.pk),
        "kind": "update",
        "status": "completed_with_errors",
        "module": "Leads",
        "fields": "City",
        "record_count": "4",
        "owner": "olivia",
        "created_at": job.created_at.isoformat(),
        "submitted_by": "olivia",
        "submitted_at": job.submitted_at.isoformat(),
        "approval_reasons": "4 records, above the approval threshold of 3",
        "decision": "approved",
        "decided_by": "maria",
        "decided_at": job.decided_at.isoformat(),
        "decision_note": "Approved in a test",
        "started_at": job.started_at.isoformat(),
        "finished_at": job.finished_at.isoformat(),
        "duration_seconds": str(round(job.duration.total_seconds(), 3)),
        "reason": "Move the expo leads to Lisbon",
        "selection": "paste",
        "selection_summary": "test ids",
        "outcome_counts": "RECORD_LOCKED 1; SUCCESS 3",
        "reviewed_by": "",
        "reviewed_at": "",
        "review_note": "",
        "retry_of": "",
        "revert_of": "",
    }
    assert revert["kind"] == "revert"
    assert revert["revert_of"] == str(job.pk)
    assert revert["reason"] == "Wrong city"


def test_the_json_export_holds_the_same_jobs_with_typed_values(story, manager):
    filters = {"owner": "olivia", "kind": "update"}

    (row,) = exported_json(client_of(manager).get(EXPORT, {"format": "json", **filters}))

    job = story.olivias
    assert row["id"] == job.pk
    assert row["fields"] == ["City"]
    assert row["outcome_counts"] == {"SUCCESS": 3, "RECORD_LOCKED": 1}
    assert row["approval_reasons"] == job.approval_reasons
    assert row["finished_at"] == job.finished_at.isoformat()
    assert row["duration_seconds"] == round(job.duration.total_seconds(), 3)
    assert (row["owner"], row["decided_by"], row["reviewed_by"]) == ("olivia", "maria", "")


def test_export_cells_that_a_spreadsheet_would_run_are_neutralised(
    operator, offline_connection, operator_client
):
    bulk_jobs(operator, offline_connection, 1, reason='=HYPERLINK("http://evil.example")')

    (row,) = exported_csv(operator_client.get(EXPORT, {"format": "csv"}))

    assert row["reason"] == '\'=HYPERLINK("http://evil.example")'


def test_an_export_in_another_format_is_refused(operator_client):
    assert operator_client.get(EXPORT, {"format": "xlsx"}).status_code == 400
    assert operator_client.get(EXPORT).status_code == 400


def test_the_exports_of_many_jobs_arrive_in_pieces(operator, offline_connection, operator_client):
    bulk_jobs(operator, offline_connection, 4_500)

    response = operator_client.get(EXPORT, {"format": "json"})

    pieces = list(response.streaming_content)
    assert len(pieces) == 5  # the opening, three groups of at most 2,000 jobs, the end
    assert len(json.loads(b"".join(pieces))["jobs"]) == 4_500
