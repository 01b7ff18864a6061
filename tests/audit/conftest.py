"""Fixtures of the audit tests: real jobs run against the sandbox over HTTP, and many jobs
written straight to the database for the tests of query counts."""

import html
import re
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from crmadmin.massupdate import operations
from crmadmin.massupdate.models import ApprovalPolicy, Job, JobEvent, JobRecord
from crmadmin.sandbox.seed import LOCKED_LEAD
from crmadmin.zoho.models import Connection
from tests.conftest import make_sandbox_connection
from tests.massupdate import conftest as massupdate
from tests.massupdate.conftest import build_job, run, writable

# The mass-update tests' sandbox, its connection and eager Celery tasks, as fixtures here too.
crm = massupdate.crm
connection = massupdate.connection
eager_tasks = massupdate.eager_tasks


@dataclass
class Story:
    """Olivia's job (approved by Maria; one record locked), Oscar's job on the same leads,
    and Olivia's revert of her job (approved by Maria too)."""

    ids: list[str]
    olivias: Job
    oscars: Job
    revert: Job


@pytest.fixture
def story(eager_tasks, operator, other_operator, manager, connection) -> Story:
    policy = ApprovalPolicy.current()
    policy.threshold = 3
    policy.save()
    ids = writable("Leads", 3)
    city = {"City": {"value": "Lisbon"}}
    olivias = run(
        build_job(operator, connection, "Leads", city, [*ids, LOCKED_LEAD]),
        reason="Move the expo leads to Lisbon",
        approver=manager,
    )
    rating = {"Rating": {"value": "Hot"}}
    oscars = run(build_job(other_operator, connection, "Leads", rating, ids), reason="Hot leads")
    revert = operations.start_revert(job=olivias, user=operator)
    revert.refresh_from_db()
    revert = run(revert, reason="Wrong city", approver=manager)
    for job in (olivias, oscars):
        job.refresh_from_db()
    return Story(ids=ids, olivias=olivias, oscars=oscars, revert=revert)


def client_of(user: User) -> Client:
    """A browser of ``user``'s own (the ``client`` fixture is shared by the personas')."""
    browser = Client()
    browser.force_login(user)
    return browser


def page_text(response) -> str:
    """The page's text as a reader sees it: tags dropped, entities decoded, spaces joined."""
    assert response.status_code == 200, response.status_code
    text = html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))
    text = re.sub(r"\s+", " ", text)
    return re.sub(r" ([:;,.)])", r"\1", re.sub(r"([(]) ", r"\1", text))


def events_of_every_job() -> list[tuple]:
    """Every row of the audit trail, every column: what no page may change."""
    return list(
        JobEvent.objects.order_by("pk").values_list(
            "pk", "job_id", "kind", "actor_id", "at", "message", "batch_id", "detail"
        )
    )


# --- Many jobs, written straight to the database -------------------------------------------


@pytest.fixture
def offline_connection(db) -> Connection:
    """A connection nothing calls: the jobs built on it never run."""
    return make_sandbox_connection("http://crm.invalid", name="Offline")


def bulk_jobs(owner: User, connection: Connection, count: int, **fields) -> list[Job]:
    """``count`` finished jobs of ``owner``, one statement a thousand."""
    now = timezone.now()
    defaults = {
        "module": "Leads",
        "status": Job.Status.COMPLETED_WITH_ERRORS,
        "fields": [{"api_name": "City", "label": "City", "data_type": "text"}],
        "changes": [{"field": "City", "value": "Oslo", "mode": ""}],
        "field_index": "|City|",
        "selection": Job.Selection.PASTE,
        "selection_summary": "pasted ids",
        "record_count": 3,
        "reason": "Bulk",
        "outcome_counts": {"SUCCESS": 2, "RECORD_LOCKED": 1},
        "submitted_at": now,
        "started_at": now,
        "finished_at": now,
    }
    jobs = [
        Job(owner=owner, connection=connection, submitted_by=owner, **(defaults | fields))
        for _ in range(count)
    ]
    return Job.objects.bulk_create(jobs, batch_size=1000)


def bulk_records(job: Job, record_ids: list[str], **fields) -> list[JobRecord]:
    defaults = {
        "found": True,
        "before": {"City": "Paris"},
        "after": {"City": "Oslo"},
        "will_change": True,
        "status": JobRecord.Status.SUCCESS,
        "code": "SUCCESS",
    }
    records = [
        JobRecord(job=job, position=n, record_id=rid, **(defaults | fields))
        for n, rid in enumerate(record_ids)
    ]
    return JobRecord.objects.bulk_create(records, batch_size=2000)
