"""Mass update with a cvid: a job that advances as time passes, and its status endpoint."""

from datetime import timedelta

from django.db.models import F

from crmadmin.sandbox import faults, oauth
from crmadmin.sandbox.models import CustomView, MassUpdateJob, Record
from crmadmin.sandbox.operations import view_record_ids


def _schedule(api, view: CustomView, changes: dict):
    return api.mass_update(view.module, {"data": [changes], "cvid": view.id})


def _status(api, job_id: str):
    return api.get("Leads/actions/mass_update", params={"job_id": job_id})


def _age(job_id: str, seconds: float) -> None:
    """Move the job's start into the past: it then has as much to do as that time allows."""
    MassUpdateJob.objects.filter(pk=job_id).update(
        scheduled_at=F("scheduled_at") - timedelta(seconds=seconds)
    )


def test_a_cvid_job_goes_from_scheduled_through_running_to_completed(api):
    # One record a second after a minute's wait; the test moves the clock, not the machine.
    faults.configure(job_delay=60, job_rate=1)
    view = CustomView.objects.get(module="Leads", system_name="ALLVIEWS")
    members = view_record_ids(view)
    refused = [r for r in Record.objects.filter(pk__in=members) if r.refusal() is not None]

    scheduled = _schedule(api, view, {"Lead_Status": "Junk Lead"})

    assert scheduled.status_code == 200
    (entry,) = scheduled.json()["data"]
    assert entry["code"] == "SUCCESS" and entry["status"] == "success"
    assert entry["message"] == "mass update scheduled successfully"
    job_id = entry["details"]["job_id"]
    assert set(entry["details"]) == {"job_id"} and job_id.isdigit()
    states = []
    for seconds in (0, 60 + 3, 86_400):
        _age(job_id, seconds)
        response = _status(api, job_id)
        assert response.status_code == 200
        (state,) = response.json()["data"]
        total = state["Updated_Count"] + state["Failed_Count"] + state["Not_Updated_Count"]
        assert total == state["Total_Count"] == len(members)
        states.append(state)
    scheduled, running, completed = states
    assert scheduled["Status"] == "SCHEDULED"
    assert scheduled["Not_Updated_Count"] == len(members)
    assert running["Status"] == "RUNNING"
    assert 0 < running["Not_Updated_Count"] < len(members)
    assert completed["Status"] == "COMPLETED" and completed["Not_Updated_Count"] == 0
    assert completed["Failed_Count"] == len(refused) >= 2
    changed = Record.objects.filter(pk__in=members, data__Lead_Status="Junk Lead").count()
    assert changed == len(members) - len(refused) == completed["Updated_Count"]


def test_a_second_job_on_a_view_with_a_running_job_is_already_scheduled(api):
    faults.configure(job_delay=60)
    view = CustomView.objects.get(module="Leads", name="Hot leads")
    _schedule(api, view, {"Rating": "Warm"})

    again = _schedule(api, view, {"Rating": "Cold"})

    assert again.status_code == 200
    assert again.json()["data"][0] == {
        "code": "ALREADY_SCHEDULED",
        "details": {"api_name": "cvid"},
        "message": "Already a Mass Action scheduler is running for the given cvid",
        "status": "error",
    }


def test_a_finished_job_frees_its_view_for_the_next_one(api):
    faults.configure(job_delay=0, job_rate=100000)
    view = CustomView.objects.get(module="Leads", name="Hot leads")
    first = _schedule(api, view, {"Rating": "Hot"}).json()["data"][0]["details"]["job_id"]
    assert _status(api, first).json()["data"][0]["Status"] == "COMPLETED"

    second = _schedule(api, view, {"Rating": "Hot"})

    assert second.json()["data"][0]["code"] == "SUCCESS"


def test_jobs_progress_even_when_nobody_asks_for_their_status(api):
    faults.configure(job_delay=0, job_rate=100000)
    view = CustomView.objects.get(module="Leads", name="Contacted leads")
    members = view_record_ids(view)
    _schedule(api, view, {"Rating": "Cold"})

    rows = api.get("Leads", params={"ids": ",".join(members), "fields": "Rating"}).json()["data"]

    assert {row["Rating"] for row in rows} == {"Cold"}


def test_an_unknown_cvid_is_refused(api):
    response = api.mass_update("Leads", {"data": [{"Rating": "Hot"}], "cvid": "123456789"})

    assert response.status_code == 200
    assert response.json()["data"][0] == {
        "code": "INVALID_DATA",
        "details": {"api_name": "cvid", "json_path": "$.cvid"},
        "message": "the cvid given seems to be invalid",
        "status": "error",
    }


def test_a_view_without_records_has_nothing_to_update(api):
    empty = CustomView.objects.create(
        id="738964000099999999",
        module="Leads",
        name="Nobody",
        criteria={"comparator": "equal", "field": {"api_name": "Last_Name"}, "value": "Nobody"},
    )

    response = _schedule(api, empty, {"Rating": "Hot"})

    assert response.json()["data"][0]["code"] == "NO_RECORDS_FOUND"
    assert not MassUpdateJob.objects.exists()


def test_an_unknown_job_is_404_not_found(api):
    response = _status(api, "4150868000099999999")

    assert response.status_code == 404
    assert response.json() == {
        "code": "NOT_FOUND",
        "details": {},
        "message": "Empty response",
        "status": "error",
    }


def test_a_status_call_without_job_id_is_a_missing_parameter(api):
    response = api.get("Leads/actions/mass_update")

    assert response.status_code == 400
    assert response.json()["details"] == {"param_name": "job_id"}


def test_the_status_needs_the_read_scope(api):
    faults.configure(job_delay=60)
    view = CustomView.objects.get(module="Leads", name="Hot leads")
    job_id = _schedule(api, view, {"Rating": "Warm"}).json()["data"][0]["details"]["job_id"]
    update_only = oauth.issue_access_token(["ZohoCRM.mass_update.Leads.UPDATE"])

    response = api.get("Leads/actions/mass_update", params={"job_id": job_id}, token=update_only)

    assert response.status_code == 401
    assert response.json()["code"] == "OAUTH_SCOPE_MISMATCH"
