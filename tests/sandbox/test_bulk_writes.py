"""Writes of many records are done in bulk: the number of queries does not grow with them."""

import json

import pytest

from crmadmin.sandbox import oauth
from crmadmin.sandbox.models import FaultConfig, Record
from crmadmin.sandbox.seed import seed

# Auth, credits and job checks (about 10), one read of the records, one UPDATE per 100.
MAX_QUERIES = 20


@pytest.fixture
def lead_ids(db) -> list[str]:
    seed(leads=500)
    ids = Record.objects.filter(module="Leads").order_by("id").values_list("id", flat=True)
    return list(ids[:500])


@pytest.fixture
def token(db) -> str:
    token = oauth.issue_access_token()
    FaultConfig.current()  # made on the first call otherwise, and counted
    return token


def _call(client, token: str, method: str, path: str, body: dict):
    return client.generic(
        method,
        f"/sandbox/crm/v2.1/{path}",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Zoho-oauthtoken {token}"},
    )


def test_a_mass_update_of_500_ids_takes_a_handful_of_queries(
    client, django_assert_max_num_queries, lead_ids, token
):
    assert len(lead_ids) == 500
    body = {"data": [{"No_of_Employees": 987_654}], "ids": lead_ids}

    with django_assert_max_num_queries(MAX_QUERIES):
        response = _call(client, token, "POST", "Leads/actions/mass_update", body)

    entries = response.json()["data"]
    assert len(entries) == 500
    updated = Record.objects.filter(pk__in=lead_ids, data__No_of_Employees=987_654).count()
    assert updated == sum(e["status"] == "success" for e in entries) > 400


def test_a_put_of_100_records_takes_a_handful_of_queries(
    client, django_assert_max_num_queries, lead_ids, token
):
    body = {
        "data": [{"id": i, "Rating": "Cold", "Description": f"bulk {i}"} for i in lead_ids[:100]]
    }

    with django_assert_max_num_queries(MAX_QUERIES):
        response = _call(client, token, "PUT", "Leads", body)

    entries = response.json()["data"]
    assert len(entries) == 100
    written = Record.objects.filter(data__Description__startswith="bulk ")
    assert written.count() == sum(e["status"] == "success" for e in entries) > 80
