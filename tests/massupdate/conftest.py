"""Fixtures of the mass-update tests: a seeded sandbox over real HTTP and a connection to it."""

import re

import pytest

from crmadmin.celery import app as celery_app
from crmadmin.massupdate import metadata, operations
from crmadmin.massupdate.fieldvalues import ValueForm
from crmadmin.massupdate.models import Job
from crmadmin.sandbox.models import Record
from crmadmin.sandbox.seed import seed
from tests.conftest import make_sandbox_connection

SEED_LEADS = 60


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


def writable(module: str, count: int, *, exclude: tuple[str, ...] = ()) -> list[str]:
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


def run(job: Job, reason: str = "A test run") -> Job:
    """Preview if needed and submit (as the owner) with eager tasks; the job comes back finished."""
    if job.status != Job.Status.PREVIEWED:
        preview(job)
    assert operations.submit(job=job, user=job.owner, reason=reason, token=job.submit_token)
    job.refresh_from_db()
    assert job.is_final, job.status
    return job
