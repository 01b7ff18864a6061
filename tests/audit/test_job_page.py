"""A job's audit page and its raw exchanges, for jobs run against the sandbox over HTTP."""

import pytest
from django.urls import reverse

from crmadmin.massupdate.models import Batch, Job, JobEvent, JobRecord
from crmadmin.sandbox.seed import LOCKED_LEAD

from .conftest import bulk_jobs, bulk_records, client_of, page_text

Kind = JobEvent.Kind


def detail_url(job: Job) -> str:
    return reverse("audit:job-detail", args=[job.pk])


def test_the_audit_page_says_who_did_what_when_and_why(story, manager_client, manager):
    job = story.olivias

    text = page_text(manager_client.get(detail_url(job)))

    assert f"Audit of job #{job.pk}: Mass update of Leads" in text
    assert f"Owner olivia, created {job.created_at:%Y-%m-%d %H:%M:%S}" in text
    assert "City → Lisbon" in text
    assert "4 records: test ids" in text
    assert "Reason Move the expo leads to Lisbon" in text
    assert f"Submitted by olivia at {job.submitted_at:%Y-%m-%d %H:%M:%S}" in text
    assert "4 records, above the approval threshold of 3" in text
    assert f"Approved by maria at {job.decided_at:%Y-%m-%d %H:%M:%S}: Approved in a test" in text
    assert f"({job.duration_text})" in text
    assert "SUCCESS 3" in text and "RECORD_LOCKED 1" in text
    assert f"1 of 1 write calls; {job.client_stats['attempts']} HTTP attempt" in text
    assert f"job #{story.revert.pk} (revert, completed)" in text
    assert "Not reviewed" not in text  # maria may review it: the form is shown


def test_the_timeline_lists_every_event_in_order_with_its_actor(story, manager_client):
    job = story.olivias

    text = page_text(manager_client.get(detail_url(job)))

    events = list(job.events.order_by("at", "pk"))
    assert [e.kind for e in events] == [
        Kind.DRAFTED,
        Kind.CHANGES_SET,
        Kind.RECORDS_SELECTED,
        Kind.PREVIEW_STARTED,
        Kind.PREVIEWED,
        Kind.SUBMITTED,
        Kind.APPROVAL_REQUESTED,
        Kind.APPROVED,
        Kind.STARTED,
        Kind.BATCH_SENT,
        Kind.VERIFIED,
        Kind.FINISHED,
        Kind.REVERTED,
    ]
    timeline = text[text.index("Timeline") :]
    shown = [f"{e.at:%Y-%m-%d %H:%M:%S} {e.get_kind_display()}" for e in events]
    positions = [timeline.index(line) for line in shown]
    assert positions == sorted(positions)
    assert "Approved by maria: Approved in a test" in timeline
    assert f"Revert started by olivia: Job {story.revert.pk} reverts 3 records" in timeline


def test_a_revert_says_it_restores_the_values_of_the_job_it_undoes(story, manager_client):
    revert, original = story.revert, story.olivias

    response = manager_client.get(detail_url(revert))

    text = page_text(response)
    assert f"Audit of job #{revert.pk}: Revert of Leads" in text
    assert f"Restore the values that job #{original.pk} replaced, in City (City)" in text
    assert f"the 3 records job {original.pk} changed" in text
    assert f"job #{original.pk} (reverts it)" in text
    assert f'href="{detail_url(original)}"' in response.content.decode()


def test_the_records_table_shows_old_and_new_values_and_filters_by_code_and_id(
    story, manager_client
):
    job = story.olivias
    locked = JobRecord.objects.get(job=job, record_id=LOCKED_LEAD)

    everything = page_text(manager_client.get(detail_url(job)))
    by_code = page_text(manager_client.get(detail_url(job) + "?code=RECORD_LOCKED"))
    by_id = page_text(manager_client.get(detail_url(job) + f"?q={story.ids[1]}"))

    for record in JobRecord.objects.filter(job=job, code="SUCCESS"):
        assert f"{record.record_id} {record.before['City']} → Lisbon SUCCESS" in everything
    assert f"{LOCKED_LEAD} {locked.before['City']} → Lisbon RECORD_LOCKED" in by_code
    assert story.ids[0] not in by_code
    assert story.ids[1] in by_id and story.ids[0] not in by_id and LOCKED_LEAD not in by_id


def test_htmx_gets_only_the_records_table(story, manager_client):
    response = manager_client.get(
        detail_url(story.olivias) + "?code=SUCCESS",
        headers={"HX-Request": "true", "HX-Target": "job-records"},
    )

    content = response.content.decode()
    assert content.lstrip().startswith('<section class="card" id="job-records"')
    assert "Timeline" not in content and "<html" not in content
    assert content.count("SUCCESS</span>") == 3
    assert "HX-Request" in response["Vary"]


def test_the_exchanges_page_shows_each_attempt_redacted_and_escaped(story, manager_client):
    job = story.olivias
    batch = Batch.objects.get(job=job)
    exchange = batch.exchanges[0]

    response = manager_client.get(reverse("audit:job-exchanges", args=[job.pk]))

    content = response.content.decode()
    text = page_text(response)
    assert f"Batch 1: City 4 records, done, HTTP {batch.http_status}" in text
    assert f"Attempt 1: POST {exchange['url']} → HTTP {exchange['http_status']}" in text
    assert "[REDACTED]" in text
    assert job.connection.access_token not in content
    assert '"RECORD_LOCKED"' in text and '"zia_vision_processing"' in text
    # A body is text, never markup: its quotes come escaped.
    assert "&quot;code&quot;: &quot;SUCCESS&quot;" in content


def test_a_sent_batch_in_the_timeline_links_to_its_exchanges(story, manager_client):
    url = reverse("audit:job-exchanges", args=[story.olivias.pk]) + "?page=1"

    content = manager_client.get(detail_url(story.olivias)).content.decode()

    assert f'href="{url}"' in content


def test_reviewing_is_offered_to_managers_on_finished_jobs_but_not_their_own(
    story, manager, operator, other_operator, connection
):
    review_url = reverse("audit:job-review", args=[story.olivias.pk])
    marias = Job.objects.create(
        owner=manager, connection=connection, module="Leads", status=Job.Status.COMPLETED
    )
    running = Job.objects.create(
        owner=other_operator, connection=connection, module="Leads", status=Job.Status.RUNNING
    )

    offered = client_of(manager).get(detail_url(story.olivias)).content.decode()
    own = page_text(client_of(manager).get(detail_url(marias)))
    unfinished = page_text(client_of(manager).get(detail_url(running)))
    operators = page_text(client_of(operator).get(detail_url(story.olivias)))

    assert f'action="{review_url}"' in offered and "Mark reviewed" in offered
    assert "Another manager must review this job: it is yours." in own
    assert "a job is reviewed once it has finished" in unfinished
    assert "Mark reviewed" not in operators and "Not reviewed." in operators


# --- Many records and events: the page's queries do not grow with them --------------------


@pytest.fixture
def big_job(operator, offline_connection) -> Job:
    (job,) = bulk_jobs(operator, offline_connection, 1, record_count=5000)
    bulk_records(job, [str(10**18 + n) for n in range(5000)])
    batches = Batch.objects.bulk_create(
        Batch(job=job, step=0, number=n, fields=["City"], record_ids=[], status="done")
        for n in range(1, 11)
    )
    JobEvent.objects.bulk_create(
        JobEvent(job=job, kind=Kind.BATCH_SENT, batch=batch, message=f"Batch {batch.number}")
        for batch in batches
    )
    return job


def test_the_audit_page_of_a_big_job_takes_a_fixed_number_of_queries(
    big_job, manager_client, django_assert_max_num_queries
):
    # Session, user, the user's and the groups' permissions, the job, the records' count and
    # page, the events, the linked jobs.
    with django_assert_max_num_queries(9):
        response = manager_client.get(detail_url(big_job) + "?page=3")

    assert response.status_code == 200
    records = page_text(response).split("Records")[-1]
    assert records.count("Paris → Oslo") == 100
    assert response.content.decode().count("raw exchanges</a>") == 10
