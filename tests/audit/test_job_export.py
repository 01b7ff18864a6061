"""A job's JSON export holds what the database holds: the job, its trail, every record."""

import json

from django.urls import reverse

from crmadmin.massupdate.models import Job, JobRecord

from .conftest import bulk_jobs, bulk_records, client_of


def exported(response) -> dict:
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/json"
    return json.loads(b"".join(response.streaming_content))


def export_url(job: Job) -> str:
    return reverse("audit:job-export-json", args=[job.pk])


def test_the_json_export_holds_the_job_its_events_and_every_record(story, manager):
    job = story.olivias

    response = client_of(manager).get(export_url(job))

    assert response["Content-Disposition"] == f'attachment; filename="job-{job.pk}.json"'
    data = exported(response)
    exported_job = data["job"]
    assert exported_job["id"] == job.pk
    assert exported_job["status"] == job.status
    assert exported_job["reason"] == job.reason
    assert (
        exported_job["changes"] == job.changes == [{"field": "City", "value": "Lisbon", "mode": ""}]
    )
    assert exported_job["changed_fields"] == job.fields
    assert (exported_job["owner"], exported_job["submitted_by"]) == ("olivia", "olivia")
    assert (exported_job["decision"], exported_job["decided_by"]) == ("approved", "maria")
    assert exported_job["outcome_counts"] == job.outcome_counts
    assert exported_job["client_stats"] == job.client_stats
    assert exported_job["connection"] == job.connection.name
    assert exported_job["started_at"] == job.started_at.isoformat()
    events = list(job.events.select_related("actor", "batch").order_by("at", "pk"))
    assert [
        (e["kind"], e["actor"], e["message"], e["at"], e["batch"], e["detail"])
        for e in data["events"]
    ] == [
        (
            e.kind,
            e.actor.username if e.actor else "",
            e.message,
            e.at.isoformat(),
            e.batch.number if e.batch else None,
            e.detail,
        )
        for e in events
    ]
    sent = next(e for e in data["events"] if e["kind"] == "batch_sent")
    assert sent["detail"]["exchanges"][0]["method"] == "POST"
    records = JobRecord.objects.filter(job=job).order_by("position")
    assert [
        (r["record_id"], r["before"], r["after"], r["code"], r["message"], r["status"])
        for r in data["records"]
    ] == [(r.record_id, r.before, r.after, r.code, r.message, r.status) for r in records]
    assert len(data["records"]) == 4


def test_a_reverts_export_holds_the_values_it_expected_and_restored(story, operator):
    data = exported(client_of(operator).get(export_url(story.revert)))

    assert data["job"]["kind"] == "revert"
    assert data["job"]["revert_of"] == story.olivias.pk
    originals = {
        r.record_id: r for r in JobRecord.objects.filter(job=story.olivias, code="SUCCESS")
    }
    assert len(data["records"]) == 3
    for record in data["records"]:
        original = originals[record["record_id"]]
        assert record["expected"] == original.after
        assert record["after"] == original.before
        assert record["code"] == "SUCCESS"


def test_a_big_job_is_exported_in_pieces(operator, offline_connection, operator_client):
    (job,) = bulk_jobs(operator, offline_connection, 1, record_count=5_000)
    bulk_records(job, [str(10**18 + n) for n in range(5_000)])

    response = operator_client.get(export_url(job))

    pieces = list(response.streaming_content)
    # The job and the opening of the events, the end of the events and the opening of the
    # records, three groups of at most 2,000 records, the end.
    assert len(pieces) == 6
    assert max(len(piece) for piece in pieces) < 2_000 * 400
    records = json.loads(b"".join(pieces))["records"]
    assert [r["record_id"] for r in records] == [str(10**18 + n) for n in range(5_000)]


def test_the_audit_page_links_the_csv_and_json_exports(story, manager):
    content = client_of(manager).get(reverse("audit:job-detail", args=[story.oscars.pk]))

    page = content.content.decode()
    assert f'href="{reverse("massupdate:job-export", args=[story.oscars.pk])}"' in page
    assert f'href="{export_url(story.oscars)}"' in page
