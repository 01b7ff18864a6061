"""The ten recorded responses of the contract, served as recorded, parsed by the client.

Each test serves one recording (status and body read from the Postman file at test time)
and checks what ``ZohoClient.mass_update`` makes of it. Decision for request-level errors
(an error entry without ``details.id`` in a 200, or a top-level 400 object such as
INVALID_REQUEST_METHOD): every id sent gets that error as its outcome and the result
carries it as ``request_error``; only 401 (authentication, scope) raises.
"""

import pytest

from crmadmin.zoho.errors import ZohoAuthError, ZohoRequestError, ZohoScopeError

from .conftest import MASS_UPDATE_URL, sent_json

THREE_IDS = ["738964000002131264", "738964000002131001", "738964000002130131"]


def serve(wire, recording) -> None:
    wire.post(MASS_UPDATE_URL, json=recording.body, status=recording.status)


def test_the_contract_holds_exactly_the_ten_recordings_these_tests_cover(recordings):
    assert set(recordings) == {
        "SUCCESS RESPONSE",
        "INVALID_DATA (no field)",
        "INVALID DATA (field)",
        "Multi-Status error",
        "MANDATORY_NOT_FOUND",
        "INVALID_REQUEST_METHOD",
        "AUTHENTICATION_FAILURE",
        "OAUTH_SCOPE_MISMATCH",
        "NOT_APPROVED",
        "RECORD_LOCKED",
    }


def test_success_response_gives_three_ok_outcomes_in_the_order_sent(wire, make_client, recordings):
    recording = recordings["SUCCESS RESPONSE"]
    serve(wire, recording)
    ids = recording.sent_ids

    result = make_client().mass_update("Leads", ids, {"No_of_Employees": 1000}, over_write=True)

    assert [o.record_id for o in result.outcomes] == ids
    assert all(o.ok and o.code == "SUCCESS" for o in result.outcomes)
    assert [o.details["Modified_Time"] for o in result.outcomes] == [
        e["details"]["Modified_Time"] for e in recording.body["data"]
    ]
    assert result.http_status == 200
    assert result.request_error is None
    assert sent_json(wire.calls[0]) == recording.request_body


@pytest.mark.parametrize("name", ["INVALID_DATA (no field)", "INVALID DATA (field)"])
def test_an_invalid_data_entry_without_an_id_applies_to_every_id_sent(
    wire, make_client, recordings, name
):
    recording = recordings[name]
    serve(wire, recording)
    entry = recording.body["data"][0]

    result = make_client().mass_update("Leads", THREE_IDS, recording.request_body["data"][0])

    assert [o.record_id for o in result.outcomes] == THREE_IDS
    assert {(o.code, o.message, o.ok) for o in result.outcomes} == {
        ("INVALID_DATA", entry["message"], False)
    }
    assert all(o.details == entry["details"] for o in result.outcomes)
    assert result.http_status == 200
    assert isinstance(result.request_error, ZohoRequestError)
    assert result.request_error.code == "INVALID_DATA"


def test_mandatory_not_found_inside_a_200_applies_to_every_id_sent(wire, make_client, recordings):
    recording = recordings["MANDATORY_NOT_FOUND"]
    serve(wire, recording)

    result = make_client().mass_update("Leads", THREE_IDS, {"No_of_Employees": 1000})

    assert [(o.record_id, o.code) for o in result.outcomes] == [
        (i, "MANDATORY_NOT_FOUND") for i in THREE_IDS
    ]
    assert result.outcomes[0].message == recording.body["data"][0]["message"]
    assert result.request_error.code == "MANDATORY_NOT_FOUND"


def test_multi_status_gives_each_id_its_own_invalid_data_outcome(wire, make_client, recordings):
    recording = recordings["Multi-Status error"]
    serve(wire, recording)
    ids = recording.sent_ids

    result = make_client().mass_update("Leads", ids, {"No_of_Employees": 1000}, over_write=True)

    assert result.http_status == 207
    assert [(o.record_id, o.code, o.details) for o in result.outcomes] == [
        (i, "INVALID_DATA", {"id": i}) for i in ids
    ]
    assert result.succeeded == []
    assert result.request_error is None


@pytest.mark.parametrize("name", ["NOT_APPROVED", "RECORD_LOCKED"])
def test_a_400_holding_one_records_error_is_that_records_outcome(
    wire, make_client, recordings, name
):
    recording = recordings[name]
    serve(wire, recording)
    entry = recording.body["data"][0]
    record_id = entry["details"]["id"]

    result = make_client().mass_update("Leads", [record_id], {"No_of_Employees": 1000})

    assert result.http_status == 400
    (outcome,) = result.outcomes
    assert (outcome.record_id, outcome.code, outcome.ok) == (record_id, name, False)
    assert outcome.message == entry["message"]
    assert outcome.details == entry["details"]
    assert result.request_error is None


def test_invalid_request_method_top_level_becomes_every_ids_outcome_and_the_request_error(
    wire, make_client, recordings
):
    recording = recordings["INVALID_REQUEST_METHOD"]
    serve(wire, recording)

    result = make_client().mass_update("Leads", THREE_IDS, {"No_of_Employees": 1000})

    assert result.http_status == 400
    assert [(o.record_id, o.code) for o in result.outcomes] == [
        (i, "INVALID_REQUEST_METHOD") for i in THREE_IDS
    ]
    assert isinstance(result.request_error, ZohoRequestError)
    assert result.request_error.message == recording.body["message"]
    assert len(wire.calls) == 1


def test_authentication_failure_raises_an_auth_error_without_retrying(
    wire, make_client, recordings, sleeps
):
    serve(wire, recordings["AUTHENTICATION_FAILURE"])

    with pytest.raises(ZohoAuthError) as caught:
        make_client().mass_update("Leads", THREE_IDS, {"No_of_Employees": 1000})

    assert caught.value.code == "AUTHENTICATION_FAILURE"
    assert caught.value.http_status == 401
    assert "reconnect" in str(caught.value)
    assert len(wire.calls) == 1
    assert sleeps == []


def test_oauth_scope_mismatch_raises_a_scope_error_without_refreshing(
    wire, make_client, recordings
):
    serve(wire, recordings["OAUTH_SCOPE_MISMATCH"])

    with pytest.raises(ZohoScopeError) as caught:
        make_client().mass_update("Leads", THREE_IDS, {"No_of_Employees": 1000})

    assert caught.value.code == "OAUTH_SCOPE_MISMATCH"
    assert caught.value.message == "invalid oauth scope to access this URL"
    assert len(wire.calls) == 1
