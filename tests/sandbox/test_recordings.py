"""The ten recorded responses of the contract, replayed against the sandbox over HTTP.

The collection is read when the tests run, so a changed recording changes the test.
"""

import json

import pytest
import requests

from crmadmin.sandbox import oauth
from crmadmin.sandbox.seed import LOCKED_LEAD, NOT_APPROVED_LEAD, SUCCESS_LEADS
from tests.conftest import CONTRACT_DIR

COLLECTION = CONTRACT_DIR / "mass_update.postman_collection.json"

SUCCESS_IDS = [record_id for record_id, _ in SUCCESS_LEADS]
RECORD_ID_BY_CASE = {"NOT_APPROVED": NOT_APPROVED_LEAD, "RECORD_LOCKED": LOCKED_LEAD}
# Compared by value wherever a recording has them; other details are compared by key.
COMPARED_DETAILS = ("id", "api_name", "json_path", "action", "Created_Time", "Created_By")


def recorded_responses() -> list[dict]:
    collection = json.loads(COLLECTION.read_text())
    return [response for item in collection["item"] for response in item["response"]]


def _names() -> list[str]:
    try:
        return [response["name"] for response in recorded_responses()]
    except FileNotFoundError:
        return ["<contract collection missing>"]


def _token_for(case: str) -> str | None:
    if case == "AUTHENTICATION_FAILURE":
        return None
    if case == "OAUTH_SCOPE_MISMATCH":
        return oauth.issue_access_token(["ZohoCRM.modules.ALL", "ZohoCRM.settings.ALL"])
    return oauth.issue_access_token()


def _replay(recording: dict, base: str) -> requests.Response:
    original = recording["originalRequest"]
    url = original["url"]["raw"].replace("{{api-domain}}", base)
    body = original["body"]["raw"]
    for number, record_id in enumerate(SUCCESS_IDS, start=1):
        body = body.replace(f"{{{{record_id{number}}}}}", record_id)
    body = body.replace("{{record-id}}", RECORD_ID_BY_CASE.get(recording["name"], ""))
    headers = {"Content-Type": "application/json"}
    token = _token_for(recording["name"])
    if token is not None:
        # The recordings were made with a Bearer header.
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(original["method"], url, data=body, headers=headers, timeout=10)


def _assert_same_error_object(actual: dict, expected: dict) -> None:
    assert set(actual) == {"code", "details", "message", "status"}
    assert actual["code"] == expected["code"]
    assert actual["message"] == expected["message"]
    assert actual["status"] == expected["status"]
    assert set(actual["details"]) == set(expected["details"])
    for key in COMPARED_DETAILS:
        if key in expected["details"]:
            assert actual["details"][key] == expected["details"][key], key


@pytest.mark.parametrize("name", _names())
def test_the_sandbox_answers_like_the_recording(name, api, sandbox_url):
    recording = next(r for r in recorded_responses() if r["name"] == name)
    expected = json.loads(recording["body"])

    response = _replay(recording, sandbox_url)

    assert response.status_code == recording["code"]
    assert response.headers["Content-Type"].lower() == "application/json;charset=utf-8"
    actual = response.json()
    assert ("data" in actual) == ("data" in expected)
    if "data" in expected:
        assert set(actual) == {"data"}
        assert len(actual["data"]) == len(expected["data"])
        for actual_entry, expected_entry in zip(actual["data"], expected["data"], strict=True):
            _assert_same_error_object(actual_entry, expected_entry)
    else:
        _assert_same_error_object(actual, expected)


def test_the_collection_holds_the_ten_recordings_the_contract_names():
    assert len(recorded_responses()) == 10
