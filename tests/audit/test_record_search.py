"""Which mass updates touched record X? Every job the user may see that included it."""

import re

from django.urls import reverse

from crmadmin.massupdate.models import JobRecord

from .conftest import bulk_jobs, bulk_records, client_of, page_text

SEARCH = reverse("audit:record-search")


def jobs_found(response) -> list[int]:
    assert response.status_code == 200
    return [
        int(n) for n in re.findall(r'<a href="/audit/jobs/(\d+)/\?q=', response.content.decode())
    ]


def test_a_manager_sees_every_job_that_touched_the_record_newest_first_with_its_values(
    story, manager
):
    record_id = story.ids[0]
    first = JobRecord.objects.get(job=story.olivias, record_id=record_id)
    second = JobRecord.objects.get(job=story.oscars, record_id=record_id)
    undo = JobRecord.objects.get(job=story.revert, record_id=record_id)

    response = client_of(manager).get(SEARCH, {"record_id": record_id})

    assert jobs_found(response) == [story.revert.pk, story.oscars.pk, story.olivias.pk]
    text = page_text(response)
    assert f"Record {record_id}: 3 jobs, newest first" in text
    old_city, old_rating = first.before["City"], second.before["Rating"]
    assert f"#{story.olivias.pk} Leads {story.olivias.created_at:%Y-%m-%d %H:%M}" in text
    assert f"olivia Completed with errors City: {old_city} → Lisbon SUCCESS" in text
    assert f"oscar Completed Rating: {old_rating} → Hot SUCCESS" in text
    assert f"#{story.revert.pk} revert of #{story.olivias.pk}" in text
    assert f"City: {undo.before['City']} → {old_city} SUCCESS" in text
    assert undo.before["City"] == "Lisbon"


def test_an_operator_finds_only_their_own_jobs(story, operator, other_operator):
    record_id = story.ids[0]

    olivias = client_of(operator).get(SEARCH, {"record_id": record_id})
    oscars = client_of(other_operator).get(SEARCH, {"record_id": record_id})

    assert jobs_found(olivias) == [story.revert.pk, story.olivias.pk]
    assert "Hot" not in page_text(olivias)
    assert jobs_found(oscars) == [story.oscars.pk]


def test_a_record_no_job_touched_finds_nothing(operator, operator_client):
    text = page_text(operator_client.get(SEARCH, {"record_id": "12345"}))

    assert "Record 12345: 0 jobs of yours, newest first" in text


def test_what_is_not_a_record_id_is_refused_and_searches_nothing(operator_client):
    response = operator_client.get(SEARCH, {"record_id": "1 OR 1=1"})

    assert "A record ID is a number" in page_text(response)
    assert "newest first" not in page_text(response)
    assert "newest first" not in page_text(operator_client.get(SEARCH))


def test_a_record_in_many_jobs_is_found_in_a_fixed_number_of_queries(
    operator, manager, offline_connection, manager_client, django_assert_max_num_queries
):
    record_id = "4150868000011000006"
    for job in bulk_jobs(operator, offline_connection, 120):
        bulk_records(job, [record_id, "4150868000011000008"])
    bulk_records(bulk_jobs(manager, offline_connection, 1)[0], ["4150868000011000008"])

    # Session, user, the user's and the groups' permissions, the count, the page.
    with django_assert_max_num_queries(6):
        response = manager_client.get(SEARCH, {"record_id": record_id, "page": 2})

    assert len(jobs_found(response)) == 50
    assert "Page 2 of 3 · 120 rows" in page_text(response)
    assert page_text(response).count("City: Paris → Oslo SUCCESS") == 50
