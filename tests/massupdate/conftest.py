"""Fixtures of the mass-update tests: a seeded sandbox over real HTTP and a connection to it."""

import re

import pytest

from crmadmin.celery import app as celery_app
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
