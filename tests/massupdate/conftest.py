"""Fixtures of the mass-update tests: a seeded sandbox over real HTTP and a connection to it,
and helpers that drive a job through the pages or through the domain functions."""

import html
import re
from collections.abc import Collection

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crmadmin.celery import app as celery_app
from crmadmin.massupdate import metadata, operations
from crmadmin.massupdate.fieldvalues import ValueForm
from crmadmin.massupdate.models import Batch, Job, JobRecord
from crmadmin.sandbox.models import Record
from crmadmin.sandbox.seed import SUCCESS_LEADS, seed
from tests.conftest import make_sandbox_connection

SEED_LEADS = 60
# The seeded leads that accept any change.
SUCCESS_IDS = [record_id for record_id, _ in SUCCESS_LEADS]


@pytest.fixture
def crm(transactional_db) -> dict:
    """A small seeded sandbox CRM (60 Leads, and fewer of the other modules)."""
    return seed(leads=SEED_LEADS)


@pytest.fixture
def connection(crm, live_server):
    """The sandbox served by ``live_server``, connected."""
    return make_sandbox_connection(live_server.url)


@pytest.fixture
def eager_tasks():
    """Run Celery tasks in the process that queues them (the worker process has its tests)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def csrf_free_form(html: str, action: str) -> dict[str, str]:
    """The hidden inputs of the form posting to ``action`` (the confirm page's token)."""
    form = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', html, re.S)
    assert form, f"no form posting to {action}"
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form.group(1)))


def sandbox_value(record_id: str, field: str):
    return Record.objects.get(pk=record_id).data.get(field)


def set_sandbox_value(record_id: str, field: str, value) -> None:
    """Change a record in the CRM as someone else would, behind crmadmin's back."""
    record = Record.objects.get(pk=record_id)
    record.data = {**record.data, field: value}
    record.save(update_fields=["data"])


@pytest.fixture
def other_manager(db):
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user(username="mark", password="not-used-here")
    user.groups.add(Group.objects.get(name="Manager"))
    return user


def writable(module: str, count: int, *, exclude: Collection[str] = ()) -> list[str]:
    """IDs of ``count`` sandbox records Zoho lets a mass update change."""
    ids = list(
        Record.objects.filter(
            module=module, approval_state=Record.APPROVED, locked_action="", converted=False
        )
        .exclude(id__in=exclude)
        .order_by("id")
        .values_list("id", flat=True)[:count]
    )
    assert len(ids) == count, f"the seed has only {len(ids)} writable {module}"
    return ids


def build_job(user, connection, module: str, values: dict[str, dict], ids: list[str]) -> Job:
    """A draft job with ``values`` (form data per field, checked by the field's form)."""
    specs = {s.api_name: s for s in metadata.fields_for(connection, module)}
    job = operations.create_draft(
        user=user, connection=connection, module=module, module_label=module
    )
    for name, data in values.items():
        form = ValueForm(specs[name], data=data)
        assert form.is_valid(), form.errors
        operations.set_change(job=job, spec=specs[name], change=form.change(), user=user)
    operations.select_records(
        job=job, ids=ids, method=Job.Selection.PASTE, summary="test ids", detail={}, user=user
    )
    return job


def preview(job: Job) -> Job:
    """Preview (as the job's owner) with eager tasks; the job comes back previewed."""
    operations.start_preview(job=job, user=job.owner)
    job.refresh_from_db()
    assert job.status == Job.Status.PREVIEWED, job.error_message
    return job


def run(job: Job, reason: str = "A test run", approver=None) -> Job:
    """Preview if needed and submit (as the owner) with eager tasks; the job comes back finished.

    A job the approval policy holds back is approved by ``approver``.
    """
    if job.status != Job.Status.PREVIEWED:
        preview(job)
    assert operations.submit(job=job, user=job.owner, reason=reason, token=job.submit_token)
    job.refresh_from_db()
    if job.status == Job.Status.AWAITING_APPROVAL:
        assert approver is not None, f"job {job.pk} awaits approval: {job.approval_reasons}"
        operations.approve(job=job, user=approver, note="Approved in a test")
        job.refresh_from_db()
    assert job.is_final, job.status
    return job


# --- Driving a job through the pages, as the operator's browser would ---------------------


def start_job(client, connection, module: str = "Leads") -> Job:
    response = client.post(
        reverse("massupdate:job-new"), {"connection": connection.pk, "module": module}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return Job.objects.latest("pk")


def post_change(client, job: Job, field: str, data: dict):
    url = reverse("massupdate:job-changes", args=[job.pk]) + f"?field={field}"
    return client.post(url, {"field": field, **data})


def post_selection(client, job: Job, method: str, data: dict):
    return client.post(reverse("massupdate:job-records-select", args=[job.pk, method]), data)


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    """A CSV file, as a browser uploads it to the records page."""
    return SimpleUploadedFile(name, content, content_type="text/csv")


def filter_data(*rows: tuple[str, str, str]) -> dict[str, str]:
    """The filter formset of the records page, with ``rows`` of (field, operator, value)."""
    data = {
        "filter-TOTAL_FORMS": "3",
        "filter-INITIAL_FORMS": "0",
        "filter-MIN_NUM_FORMS": "0",
        "filter-MAX_NUM_FORMS": "5",
    }
    for n, (field, operator, value) in enumerate(rows):
        data |= {f"filter-{n}-field": field, f"filter-{n}-operator": operator}
        data[f"filter-{n}-value"] = value
    return data


def drafted_job(client, connection) -> Job:
    """A draft that sets Designation on the three seeded leads that accept it."""
    job = start_job(client, connection)
    assert post_change(client, job, "Designation", {"value": "Met at Expo"}).status_code == 302
    assert post_selection(client, job, "paste", {"ids": "\n".join(SUCCESS_IDS)}).status_code == 302
    job.refresh_from_db()
    return job


def previewed_job(client, connection) -> Job:
    job = drafted_job(client, connection)
    assert client.post(reverse("massupdate:job-preview", args=[job.pk])).status_code == 302
    job.refresh_from_db()
    assert job.status == Job.Status.PREVIEWED
    return job


def confirm_fields(client, job: Job) -> dict[str, str]:
    """The hidden fields of the job's confirm page (its submit token)."""
    url = reverse("massupdate:job-confirm", args=[job.pk])
    return csrf_free_form(client.get(url).content.decode(), url)


def text(response) -> str:
    """The page as a reader sees it: entities decoded, so messages can be matched as written."""
    return html.unescape(response.content.decode())


def state(job: Job) -> dict:
    """Everything a refused input must leave as it was."""
    job.refresh_from_db()
    return {
        "jobs": Job.objects.count(),
        "status": job.status,
        "fields": job.fields,
        "changes": job.changes,
        "record_count": job.record_count,
        "selection_summary": job.selection_summary,
        "records": list(
            JobRecord.objects.filter(job=job)
            .order_by("position")
            .values_list("record_id", "included")
        ),
        "events": list(job.events.order_by("pk").values_list("kind", "message")),
        "batches": Batch.objects.filter(job=job).count(),
        "submit_token": job.submit_token,
        "previewed_at": job.previewed_at,
        "include_unchanged": job.include_unchanged,
        "reason": job.reason,
    }
