"""Writes of many records are done in bulk: the number of queries does not grow with them."""

import json
from concurrent.futures import ThreadPoolExecutor

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


def test_two_calls_writing_other_fields_of_the_same_records_at_once_both_land(api, crm):
    """Zoho loses neither; on PostgreSQL a careless lock made the second call's records vanish."""
    ids = list(
        Record.objects.filter(
            module="Leads", approval_state=Record.APPROVED, locked_action="", converted=False
        ).values_list("id", flat=True)[:40]
    )
    for round_number in range(4):
        bodies = [
            {"data": [{"City": f"City {round_number}"}], "ids": ids},
            {"data": [{"State": f"State {round_number}"}], "ids": ids},
        ]
        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(lambda body: api.mass_update("Leads", body), bodies))
        for answer in answers:
            assert {entry["code"] for entry in answer.json()["data"]} == {"SUCCESS"}
        for record in Record.objects.filter(pk__in=ids):
            assert record.data["City"] == f"City {round_number}"
            assert record.data["State"] == f"State {round_number}"
