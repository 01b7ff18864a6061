"""The audit trail: everything that happens to a job, written as it happens, never changed."""

import json

import pytest
from django.db import DatabaseError, transaction
from django.db import connection as db
from django.db.models import ProtectedError
from django.urls import reverse

from crmadmin.massupdate.models import AppendOnly, Batch, Job, JobEvent

from .conftest import build_job, run, writable

pytestmark = pytest.mark.usefixtures("eager_tasks")

Kind = JobEvent.Kind
CITY = {"City": {"value": "Porto"}}


@pytest.fixture
def job(operator, connection) -> Job:
    return run(build_job(operator, connection, "Leads", CITY, writable("Leads", 3)))


def trail(job: Job) -> list[tuple]:
    return list(JobEvent.objects.filter(job=job).order_by("pk").values_list())


def test_a_job_leaves_a_trail_of_every_step(job, operator):
    kinds = list(job.events.values_list("kind", flat=True))

    assert kinds == [
        Kind.DRAFTED,
        Kind.CHANGES_SET,
        Kind.RECORDS_SELECTED,
        Kind.PREVIEW_STARTED,
        Kind.PREVIEWED,
        Kind.SUBMITTED,
        Kind.STARTED,
        Kind.BATCH_SENT,
        Kind.VERIFIED,
        Kind.FINISHED,
    ]
    assert job.events.get(kind=Kind.SUBMITTED).actor == operator
    assert job.events.get(kind=Kind.SUBMITTED).message == job.reason


def test_each_batch_event_holds_its_raw_exchanges_with_the_token_redacted(job, connection):
    event = job.events.get(kind=Kind.BATCH_SENT)
    batch = Batch.objects.get(job=job)

    assert event.batch == batch
    assert event.detail["batch"] == batch.number
    assert event.detail["attempts"] == len(event.detail["exchanges"]) == 1
    exchange = event.detail["exchanges"][0]
    assert exchange["method"] == "POST"
    assert exchange["url"].endswith("/Leads/actions/mass_update")
    assert json.loads(exchange["request_body"])["ids"] == batch.record_ids
    assert '"SUCCESS"' in exchange["response_body"]
    assert exchange["request_headers"]["Authorization"] == "[REDACTED]"
    connection.refresh_from_db()
    everything = json.dumps(list(JobEvent.objects.values_list("message", "detail")))
    for secret in (connection.access_token, connection.refresh_token, connection.client_secret):
        assert secret and secret not in everything


def test_an_event_cannot_be_changed_through_the_orm(job):
    event = job.events.first()
    before = trail(job)

    event.message = "Nothing happened here"
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        JobEvent.objects.filter(job=job).update(message="rewritten")
    with pytest.raises(AppendOnly):
        job.events.update(actor=None)

    assert trail(job) == before


def test_an_event_cannot_be_deleted_through_the_orm(job):
    before = trail(job)

    with pytest.raises(AppendOnly):
        job.events.first().delete()
    with pytest.raises(AppendOnly):
        JobEvent.objects.filter(job=job).delete()
    with pytest.raises(ProtectedError):
        Job.objects.filter(pk=job.pk).delete()

    assert trail(job) == before


def test_the_database_refuses_updates_that_bypass_the_orm(job):
    event = job.events.first()
    table = JobEvent._meta.db_table

    sql = f"UPDATE {table} SET message = %s WHERE id = %s"  # noqa: S608 - the name is ours
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), db.cursor() as c:
        c.execute(sql, ["forged", event.pk])

    event.refresh_from_db()
    assert event.message != "forged"


def test_new_events_can_still_be_added(job, manager):
    JobEvent.objects.create(job=job, kind=Kind.REVIEWED, actor=manager, message="Fine")

    assert job.events.filter(kind=Kind.REVIEWED).count() == 1


# --- The admin ----------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="not-used-here")
    client.force_login(admin)
    return client


def test_the_admin_shows_the_trail_but_cannot_add_change_or_delete(admin_client, job):
    event = job.events.first()
    before = trail(job)
    change_url = reverse("admin:massupdate_jobevent_change", args=[event.pk])

    listing = admin_client.get(reverse("admin:massupdate_jobevent_changelist"))
    page = admin_client.get(change_url)
    posted = admin_client.post(change_url, {"message": "rewritten", "kind": "drafted"})
    add = admin_client.get(reverse("admin:massupdate_jobevent_add"))
    delete = admin_client.post(
        reverse("admin:massupdate_jobevent_delete", args=[event.pk]), {"post": "yes"}
    )
    bulk = admin_client.post(
        reverse("admin:massupdate_jobevent_changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )

    assert listing.status_code == 200
    assert event.message in listing.content.decode()
    assert page.status_code == 200
    assert 'name="message"' not in page.content.decode()  # shown, not editable
    assert posted.status_code == 403
    assert add.status_code == 403
    assert delete.status_code == 403
    assert bulk.status_code in (200, 302)
    assert trail(job) == before


def test_the_admin_shows_jobs_without_changing_or_deleting_them(admin_client, job):
    before = Job.objects.filter(pk=job.pk).values_list().get()
    change_url = reverse("admin:massupdate_job_change", args=[job.pk])

    assert admin_client.get(change_url).status_code == 200
    assert admin_client.post(change_url, {"reason": "rewritten"}).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:massupdate_job_delete", args=[job.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert Job.objects.filter(pk=job.pk).values_list().get() == before


def test_the_admin_edits_the_approval_policy(admin_client):
    from crmadmin.massupdate.models import ApprovalPolicy

    policy = ApprovalPolicy.current()
    url = reverse("admin:massupdate_approvalpolicy_change", args=[policy.pk])

    response = admin_client.post(url, {"threshold": "250", "sensitive_fields": "Owner\nRating"})

    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.threshold == 250
    assert policy.sensitive_in("Leads", ["Rating", "City"]) == ["Rating"]
