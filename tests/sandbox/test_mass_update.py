"""POST /{module}/actions/mass_update with ids: results, status rule, effects, refusals."""

from datetime import UTC, datetime

import pytest

from crmadmin.sandbox import oauth
from crmadmin.sandbox.models import Record
from crmadmin.sandbox.seed import LOCKED_LEAD, NOT_APPROVED_LEAD

SUCCESS_DETAIL_KEYS = {"Modified_Time", "Modified_By", "Created_Time", "id", "Created_By"}


def _lead(record_id: str) -> Record:
    return Record.objects.get(pk=record_id)


def test_updated_records_get_the_value_a_new_modified_time_and_the_tokens_user(
    api, free_leads, other_user
):
    ids = [free_leads[0].id, free_leads[1].id]
    before = {r.id: r.modified_time for r in free_leads[:2]}
    token = oauth.issue_access_token(user=other_user)
    started = datetime.now(UTC).replace(microsecond=0)

    response = api.mass_update(
        "Leads", {"data": [{"Lead_Status": "Contacted"}], "ids": ids}, token=token
    )

    assert response.status_code == 200
    entries = response.json()["data"]
    assert [e["details"]["id"] for e in entries] == ids
    for entry in entries:
        assert entry["code"] == "SUCCESS" and entry["message"] == "record updated"
        assert set(entry["details"]) == SUCCESS_DETAIL_KEYS
        assert entry["details"]["Modified_By"] == {"name": "Maya Rao", "id": other_user.id}
        assert datetime.fromisoformat(entry["details"]["Modified_Time"]) >= started
    for record_id in ids:
        record = _lead(record_id)
        assert record.data["Lead_Status"] == "Contacted"
        assert record.modified_by_id == other_user.id
        assert record.modified_time > before[record_id]


def test_a_mix_of_good_and_unknown_ids_gives_207_with_one_entry_per_id_in_order(api, free_leads):
    ids = ["4150868000011999999", free_leads[0].id, "12"]

    response = api.mass_update("Leads", {"data": [{"Rating": "Warm"}], "ids": ids})

    assert response.status_code == 207
    entries = response.json()["data"]
    assert [e["code"] for e in entries] == ["INVALID_DATA", "SUCCESS", "INVALID_DATA"]
    assert entries[0]["details"] == {"id": "4150868000011999999"}
    assert entries[0]["message"] == "the id given seems to be invalid"
    assert entries[2]["details"] == {"id": "12"}


def test_one_id_that_fails_gives_400(api):
    response = api.mass_update("Leads", {"data": [{"Rating": "Warm"}], "ids": [NOT_APPROVED_LEAD]})

    assert response.status_code == 400
    assert response.json()["data"][0]["code"] == "NOT_APPROVED"


def test_several_ids_that_all_fail_give_207(api):
    ids = [NOT_APPROVED_LEAD, LOCKED_LEAD]

    response = api.mass_update("Leads", {"data": [{"Rating": "Warm"}], "ids": ids})

    assert response.status_code == 207
    assert [e["code"] for e in response.json()["data"]] == ["NOT_APPROVED", "RECORD_LOCKED"]


def test_ids_sent_as_json_numbers_are_accepted_and_answered_as_strings(api, free_leads):
    numbers = [int(free_leads[0].id), int(free_leads[1].id)]

    response = api.mass_update("Leads", {"data": [{"No_of_Employees": 77}], "ids": numbers})

    assert response.status_code == 200
    assert [e["details"]["id"] for e in response.json()["data"]] == [str(n) for n in numbers]
    assert _lead(str(numbers[0])).data["No_of_Employees"] == 77


def test_more_than_500_ids_are_refused_inside_data_and_nothing_changes(api, free_leads):
    ids = [free_leads[0].id] + [str(4150868000011900000 + n) for n in range(500)]

    response = api.mass_update("Leads", {"data": [{"No_of_Employees": 4242}], "ids": ids})

    assert response.status_code == 200
    (error,) = response.json()["data"]
    assert error["code"] == "LIMIT_EXCEEDED"
    assert error["details"] == {"api_name": "ids", "limit": 500}
    assert _lead(free_leads[0].id).data["No_of_Employees"] != 4242


def test_exactly_500_ids_are_accepted(api, free_leads):
    ids = [free_leads[0].id] * 500

    response = api.mass_update("Leads", {"data": [{"No_of_Employees": 500}], "ids": ids})

    assert response.status_code == 200
    assert len(response.json()["data"]) == 500


@pytest.mark.parametrize(
    ("over_write", "expected"),
    [
        (None, ["CRM", "Mail", "Desk"]),
        (False, ["CRM", "Mail", "Desk"]),
        (True, ["Mail", "Desk"]),
    ],
    ids=["absent adds", "false adds", "true replaces"],
)
def test_over_write_decides_whether_a_multiselect_is_replaced_or_added_to(
    api, free_leads, over_write, expected
):
    lead = free_leads[0]
    lead.data["Product_Interest"] = ["CRM", "Mail"]
    lead.save()
    body = {"data": [{"Product_Interest": ["Mail", "Desk"]}], "ids": [lead.id]}
    if over_write is not None:
        body["over_write"] = over_write

    response = api.mass_update("Leads", body)

    assert response.status_code == 200
    assert _lead(lead.id).data["Product_Interest"] == expected


def test_deals_take_three_fields_in_one_call(api):
    deal = Record.objects.filter(module="Deals").first()
    changes = {"Stage": "Negotiation/Review", "Probability": 75, "Type": "New Business"}

    response = api.mass_update("Deals", {"data": [changes], "ids": [deal.id]})

    assert response.status_code == 200
    stored = _lead(deal.id).data
    assert {k: stored[k] for k in changes} == changes


def test_deals_refuse_a_fourth_field(api):
    deal = Record.objects.filter(module="Deals").first()
    changes = {"Stage": "Qualification", "Probability": 10, "Type": "New Business", "Amount": 5}

    response = api.mass_update("Deals", {"data": [changes], "ids": [deal.id]})

    assert response.status_code == 200
    assert response.json()["data"] == [
        {
            "code": "INVALID_DATA",
            "details": {},
            "message": "Max field limit exceeded",
            "status": "error",
        }
    ]
    assert _lead(deal.id).data["Stage"] != "Qualification" or _lead(deal.id).data["Amount"] != 5


def test_leads_refuse_a_second_field(api, free_leads):
    body = {"data": [{"Rating": "Hot", "Lead_Status": "Contacted"}], "ids": [free_leads[0].id]}

    response = api.mass_update("Leads", body)

    assert response.json()["data"][0]["message"] == "Max field limit exceeded"


@pytest.mark.parametrize("field", ["Email", "Owner", "Description", "Referred_By", "Last_Name"])
def test_a_field_that_cannot_be_mass_updated_is_refused(api, free_leads, field):
    body = {"data": [{field: "x@example.com"}], "ids": [free_leads[0].id]}

    response = api.mass_update("Leads", body)

    assert response.status_code == 200
    (error,) = response.json()["data"]
    assert error["code"] == "INVALID_DATA"
    assert error["message"] == "This field cannot be updated in the Mass Update"
    assert error["details"] == {"api_name": field, "json_path": f"$.data[0].{field}"}


@pytest.mark.parametrize(
    ("field", "value", "detail"),
    [
        ("No_of_Employees", "1000", {"expected_data_type": "integer"}),
        ("No_of_Employees", 12.5, {"expected_data_type": "integer"}),
        ("No_of_Employees", 10**10, {"maximum_length": 9}),
        ("DUNS_Number", "12", {"expected_data_type": "bigint"}),
        ("Annual_Revenue", "lots", {"expected_data_type": "double"}),
        ("Annual_Revenue", 10.123, {"maximum_decimal_place": 2}),
        ("Lead_Score", True, {"expected_data_type": "double"}),
        ("Company", "x" * 201, {"maximum_length": 200}),
        ("Mobile", 5551234, {"expected_data_type": "phone"}),
        ("Lead_Status", "Nope", "supported_values"),
        ("Lead_Status", "Legacy Import", "supported_values"),
        ("Lead_Status", "Pre Qualified", "supported_values"),
        ("Product_Interest", "CRM", {"expected_data_type": "jsonarray"}),
        ("Product_Interest", ["CRM", "Nope"], "supported_values"),
        ("Next_Follow_Up", "07/05/2021", {"expected_data_type": "date"}),
        ("Next_Follow_Up", "2021-02-30", {"expected_data_type": "date"}),
        ("Last_Contacted_At", "2021-05-07 13:00", {"expected_data_type": "datetime"}),
        ("Last_Contacted_At", "2021-05-07T13:00:00", {"expected_data_type": "datetime"}),
        ("Email_Opt_Out", "true", {"expected_data_type": "boolean"}),
    ],
)
def test_a_value_of_the_wrong_type_length_or_choice_is_refused(
    api, free_leads, field, value, detail
):
    lead = free_leads[0]

    response = api.mass_update("Leads", {"data": [{field: value}], "ids": [lead.id]})

    assert response.status_code == 200
    (error,) = response.json()["data"]
    assert error["code"] == "INVALID_DATA" and error["status"] == "error"
    assert error["details"]["api_name"] == field
    assert error["details"]["json_path"] == f"$.data[0].{field}"
    if isinstance(detail, dict):
        assert detail.items() <= error["details"].items()
    else:
        assert detail in error["details"]
    assert _lead(lead.id).data.get(field) == lead.data.get(field)


def test_a_valid_value_of_every_mass_updatable_type_is_stored(api, free_leads):
    values = {
        "Salutation": "Dr.",
        "Company": "Zylker Ltd",
        "Mobile": "+44 20 7946 0000",
        "Website": "https://zylker.example",
        "Lead_Status": "Pre-Qualified",
        "Industry": "ASP",
        "No_of_Employees": 1000,
        "Annual_Revenue": 1234.5,
        "Email_Opt_Out": True,
        "Product_Interest": ["Creator"],
        "Lead_Score": 7.25,
        "Conversion_Chance": 55,
        "DUNS_Number": 123456789,
        "Next_Follow_Up": "2025-01-31",
        "Last_Contacted_At": "2025-01-31T09:30:00+05:30",
    }
    lead = free_leads[0]
    for field, value in values.items():
        body = {"data": [{field: value}], "over_write": True, "ids": [lead.id]}
        response = api.mass_update("Leads", body)
        assert response.status_code == 200, (field, response.json())
    stored = _lead(lead.id).data
    assert {field: stored[field] for field in values} == values


def test_a_record_locked_by_record_locking_is_refused_with_zohos_locked_message(api):
    locked = Record.objects.filter(module="Leads", locked_action="record_locking").first()
    if locked is None:
        locked = Record.objects.filter(module="Leads", locked_action="").first()
        locked.locked_action = "record_locking"
        locked.save()

    response = api.mass_update("Leads", {"data": [{"Rating": "Hot"}], "ids": [locked.id]})

    assert response.status_code == 400
    assert response.json()["data"] == [
        {
            "code": "RECORD_LOCKED",
            "details": {"action": "record_locking", "id": locked.id},
            "message": "Sorry, you cannot perform this operation as the record is locked.",
            "status": "error",
        }
    ]


def test_a_converted_lead_is_refused(api, free_leads):
    converted = free_leads[0]
    converted.converted = True
    converted.save()

    response = api.mass_update("Leads", {"data": [{"Rating": "Hot"}], "ids": [converted.id]})

    assert response.status_code == 400
    assert response.json()["data"][0] == {
        "code": "CONVERTED_RECORD",
        "details": {"id": converted.id},
        "message": "can't update the converted record",
        "status": "error",
    }


def test_ids_and_cvid_together_are_refused(api, free_leads):
    body = {"data": [{"Rating": "Hot"}], "ids": [free_leads[0].id], "cvid": "1"}

    response = api.mass_update("Leads", body)

    assert response.status_code == 200
    assert response.json()["data"][0]["details"] == {"api_name": "cvid", "json_path": "$.cvid"}


def test_a_body_that_is_not_json_is_refused_inside_data(api):
    response = api.post(
        "Leads/actions/mass_update", data=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 200
    assert response.json()["data"][0]["code"] == "INVALID_DATA"


@pytest.mark.parametrize("method", ["COPY", "PUT", "DELETE", "PATCH"])
def test_other_methods_on_the_mass_update_url_are_invalid_request_methods(api, method):
    response = api.request(method, "Leads/actions/mass_update", json={})

    assert response.status_code == 400
    assert response.json() == {
        "code": "INVALID_REQUEST_METHOD",
        "details": {},
        "message": "The http request method type is not a valid one",
        "status": "error",
    }


def test_a_module_without_mass_update_is_not_supported(api):
    response = api.mass_update("Events", {"data": [{"Event_Title": "x"}], "ids": ["1"]})

    assert response.status_code == 400
    assert response.json()["code"] == "NOT_SUPPORTED"
    assert response.json()["details"] == {"resource_path_index": 0}


def test_a_module_the_api_does_not_support_is_an_invalid_module(api):
    response = api.mass_update("Home", {"data": [{"x": 1}], "ids": ["1"]})

    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_MODULE"
    assert response.json()["message"] == "the given module is not supported in api"


def test_module_names_in_the_url_are_matched_without_regard_to_case(api, free_leads):
    response = api.mass_update("leads", {"data": [{"Rating": "Cold"}], "ids": [free_leads[0].id]})

    assert response.status_code == 200


def test_later_api_versions_behave_like_v2_1(api, free_leads):
    body = {"data": [{"Rating": "Cold"}], "ids": [free_leads[0].id]}

    for version in ("v2", "v7", "v8"):
        response = api.post("Leads/actions/mass_update", json=body, version=version)
        assert response.status_code == 200, version
