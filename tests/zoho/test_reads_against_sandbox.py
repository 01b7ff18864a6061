"""The client's reads and scheduled mass update against the sandbox, over real HTTP."""

import time

import pytest

from crmadmin.sandbox import faults
from crmadmin.sandbox.models import CustomView, Record
from crmadmin.sandbox.operations import view_record_ids
from crmadmin.sandbox.seed import seed
from crmadmin.zoho.client import ZohoClient, build_criteria
from tests.conftest import make_sandbox_connection

LEADS = 450  # more than two pages of 200


@pytest.fixture
def client(live_server, transactional_db) -> ZohoClient:
    seed(leads=LEADS)
    connection = make_sandbox_connection(live_server.url)
    return ZohoClient(connection, timeout=10, backoff_base=0.01, backoff_cap=0.05)


def _lead_values(field: str) -> dict[str, object]:
    return {r.id: r.data.get(field) for r in Record.objects.filter(module="Leads")}


def test_metadata_offers_only_fields_that_can_be_mass_updated(client):
    assert [m["api_name"] for m in client.modules()] == ["Leads", "Contacts", "Accounts", "Deals"]
    all_fields = {f["api_name"]: f for f in client.fields("Leads")}
    updatable = {f["api_name"] for f in client.mass_update_fields("Leads")}
    assert "No_of_Employees" in updatable and "Lead_Status" in updatable
    assert {"Email", "Owner", "Description"} <= set(all_fields)
    assert {"Email", "Owner", "Description"}.isdisjoint(updatable)
    assert updatable < set(all_fields)
    assert all(all_fields[name]["mass_update"] for name in updatable)


def test_pages_through_a_custom_view_to_its_last_record(client):
    view = CustomView.objects.get(module="Leads", system_name="ALLVIEWS")
    listed = {v["id"]: v for v in client.custom_views("Leads")}
    assert listed[str(view.id)]["system_name"] == "ALLVIEWS"

    ids = [r["id"] for r in client.iter_records("Leads", ["Last_Name"], cvid=str(view.id))]

    assert len(ids) == len(set(ids)) == len(view_record_ids(view)) > 400


def test_search_and_coql_find_exactly_the_matching_records(client):
    statuses = _lead_values("Lead_Status")
    wanted = {i for i, s in statuses.items() if s == "Contacted"}
    converted = set(
        Record.objects.filter(module="Leads", converted=True).values_list("id", flat=True)
    )

    searched = client.search("Leads", build_criteria([("Lead_Status", "equals", "Contacted")]))
    rows = client.coql(
        "select id, Lead_Status from Leads where Lead_Status = 'Contacted' limit 200"
    )

    assert wanted and {r["id"] for r in searched} <= wanted
    # Search leaves converted leads out by default, as Zoho does.
    assert {r["id"] for r in searched} >= wanted - converted - _awaiting_approval()
    assert {r["id"] for r in rows} <= wanted
    assert all(r["Lead_Status"] == "Contacted" for r in rows)


def _awaiting_approval() -> set[str]:
    return set(
        Record.objects.filter(module="Leads", approval_state=Record.PENDING).values_list(
            "id", flat=True
        )
    )


def test_a_scheduled_mass_update_runs_to_completion(client):
    faults.configure(job_delay=0, job_rate=1000)
    view = CustomView.objects.get(module="Leads", name="Hot leads")
    members = view_record_ids(view)

    job_id = client.mass_update_by_view("Leads", str(view.id), {"Rating": "Warm"})
    deadline = time.monotonic() + 30
    status = client.mass_update_status("Leads", job_id)
    while status["Status"] != "COMPLETED" and time.monotonic() < deadline:
        time.sleep(0.1)
        status = client.mass_update_status("Leads", job_id)

    assert status["Status"] == "COMPLETED"
    assert status["Total_Count"] == len(members) > 0
    assert status["Updated_Count"] + status["Failed_Count"] == len(members)
    warm = Record.objects.filter(pk__in=members, data__Rating="Warm").count()
    assert warm == status["Updated_Count"]
