"""PUT with If-Unmodified-Since: optimistic locking, record by record."""

from datetime import UTC, datetime, timedelta

import pytest

from crmadmin.sandbox.models import Record

# The header's time, and the same instant in the other accepted spelling.
SINCE = datetime(2024, 9, 3, 5, 11, 7, tzinfo=UTC)
SINCE_HTTP = "Tue, 03 Sep 2024 05:11:07 GMT"
SINCE_ISO = "2024-09-03T10:41:07+05:30"


def _modified_at(record: Record, when: datetime) -> Record:
    Record.objects.filter(pk=record.pk).update(modified_time=when)
    return Record.objects.select_related("modified_by").get(pk=record.pk)


def _already_modified(record: Record) -> dict:
    return {
        "code": "ALREADY_MODIFIED",
        "details": {
            "id": record.id,
            "Modified_Time": "2024-09-03T05:11:08+00:00",
            "Modified_By": {"name": record.modified_by.name, "id": record.modified_by.id},
        },
        "message": "record updated time has already passed if-unmodified-since time",
        "status": "error",
    }


def test_when_every_record_changed_since_the_header_time_the_put_is_412(api, free_leads):
    changed = [_modified_at(lead, SINCE + timedelta(seconds=1)) for lead in free_leads[:2]]

    response = api.put(
        "Leads",
        json={"data": [{"id": lead.id, "Rating": "Cold"} for lead in changed]},
        headers={"If-Unmodified-Since": SINCE_HTTP},
    )

    assert response.status_code == 412
    assert response.json() == {"data": [_already_modified(lead) for lead in changed]}
    for lead in changed:
        assert Record.objects.get(pk=lead.id).data == lead.data


def test_a_mix_writes_the_unchanged_records_and_refuses_the_changed_ones(api, free_leads):
    changed = _modified_at(free_leads[0], SINCE + timedelta(seconds=1, microseconds=5))
    untouched = _modified_at(free_leads[1], SINCE - timedelta(hours=1))

    response = api.put(
        "Leads",
        json={
            "data": [{"id": changed.id, "Rating": "Cold"}, {"id": untouched.id, "Rating": "Cold"}]
        },
        headers={"If-Unmodified-Since": SINCE_ISO},
    )

    assert response.status_code == 207
    refused, written = response.json()["data"]
    assert refused == _already_modified(changed)
    assert written["code"] == "SUCCESS" and written["details"]["id"] == untouched.id
    assert Record.objects.get(pk=changed.id).data == changed.data
    assert Record.objects.get(pk=untouched.id).data["Rating"] == "Cold"


@pytest.mark.parametrize("header", [SINCE_HTTP, SINCE_ISO])
def test_the_modified_time_the_api_showed_lets_the_record_through(api, free_leads, header):
    # Stored with microseconds; the API shows (and the client sends back) whole seconds.
    lead = _modified_at(free_leads[0], SINCE + timedelta(microseconds=600_000))

    response = api.put(
        "Leads",
        json={"data": [{"id": lead.id, "Rating": "Cold"}]},
        headers={"If-Unmodified-Since": header},
    )

    assert response.status_code == 200
    assert Record.objects.get(pk=lead.id).data["Rating"] == "Cold"


def test_one_second_later_than_the_header_is_too_late(api, free_leads):
    lead = _modified_at(free_leads[0], SINCE + timedelta(seconds=1))

    response = api.put(
        f"Leads/{lead.id}",
        json={"data": [{"Rating": "Cold"}]},
        headers={"If-Unmodified-Since": SINCE_ISO},
    )

    assert response.status_code == 412
    assert response.json()["data"] == [_already_modified(lead)]


@pytest.mark.parametrize("header", ["yesterday", "2024-09-03T10:41:07", "Tue, 32 Sep 2024"])
def test_a_malformed_header_is_invalid_data_and_writes_nothing(api, free_leads, header):
    lead = free_leads[0]

    response = api.put(
        "Leads",
        json={"data": [{"id": lead.id, "Rating": "Cold"}]},
        headers={"If-Unmodified-Since": header},
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "INVALID_DATA" and body["status"] == "error"
    assert body["details"] == {"header_name": "If-Unmodified-Since"}
    assert "If-Unmodified-Since" in body["message"] and "ISO 8601" in body["message"]
    assert Record.objects.get(pk=lead.id).data == lead.data
