"""Reading records (GET /{module}, /{module}/{id}) and writing them one by one (PUT)."""

import pytest

from crmadmin.sandbox.models import CustomView, Record
from crmadmin.sandbox.seed import LOCKED_LEAD, NOT_APPROVED_LEAD, SUCCESS_LEADS


def test_reading_by_ids_returns_only_the_existing_records_as_strings(api, free_leads):
    wanted = [free_leads[1].id, "4150868000011999999", free_leads[0].id]

    response = api.get("Leads", params={"ids": ",".join(wanted), "fields": "Last_Name,Rating"})

    assert response.status_code == 200
    body = response.json()
    assert [row["id"] for row in body["data"]] == [free_leads[1].id, free_leads[0].id]
    assert body["info"] == {"per_page": 2, "count": 2, "page": 1, "more_records": False}
    first = body["data"][0]
    assert first["Last_Name"] == free_leads[1].data["Last_Name"]
    assert {"Email", "Company", "Owner"}.isdisjoint(first)


def test_reading_ids_that_do_not_exist_gives_204_with_no_body(api):
    response = api.get("Leads", params={"ids": "73896400000213126,73896400000213100"})

    assert response.status_code == 204
    assert response.content == b""


def test_a_record_shows_owner_and_users_as_name_and_id_and_its_system_keys(api):
    record_id, created = SUCCESS_LEADS[0]

    response = api.get(f"Leads/{record_id}")

    assert response.status_code == 200
    (record,) = response.json()["data"]
    assert record["id"] == record_id
    assert record["Created_Time"] == created
    assert record["Owner"]["name"] == "patricia patricia"
    assert record["Owner"]["id"] == "738964000000291009"
    assert record["Modified_By"] == {"name": "patricia patricia", "id": "738964000000291009"}
    assert record["$approval_state"] == "approved"
    assert record["$locked_for_me"] is False and record["$converted"] is False
    assert isinstance(record["Product_Interest"], list)


def test_the_record_awaiting_approval_and_the_locked_one_say_so(api):
    pending = api.get(f"Leads/{NOT_APPROVED_LEAD}").json()["data"][0]
    locked = api.get(f"Leads/{LOCKED_LEAD}").json()["data"][0]

    assert pending["$approval_state"] == "approval_process_pending"
    assert locked["$locked_for_me"] is True


def test_an_unknown_record_id_is_invalid_data(api):
    response = api.get("Leads/4150868000011999999")

    assert response.status_code == 400
    assert response.json() == {
        "code": "INVALID_DATA",
        "details": {"id": "4150868000011999999"},
        "message": "the id given seems to be invalid",
        "status": "error",
    }


def test_pages_have_at_most_per_page_records_and_say_whether_more_follow(api):
    total = Record.objects.filter(module="Leads", converted=False).count()

    first = api.get("Leads", params={"per_page": 25, "page": 1}).json()
    last_page = (total + 24) // 25
    last = api.get("Leads", params={"per_page": 25, "page": last_page}).json()
    beyond = api.get("Leads", params={"per_page": 25, "page": last_page + 1})

    assert first["info"] == {"per_page": 25, "count": 25, "page": 1, "more_records": True}
    assert last["info"]["more_records"] is False
    assert last["info"]["count"] == total - 25 * (last_page - 1)
    assert beyond.status_code == 204


def test_pages_cover_every_record_once_in_descending_id_order(api):
    ids = []
    for page in (1, 2, 3):
        response = api.get("Leads", params={"per_page": 25, "page": page, "fields": "id"})
        if response.status_code == 204:
            break
        ids += [row["id"] for row in response.json()["data"]]

    expected = Record.objects.filter(module="Leads", converted=False).values_list("id", flat=True)
    assert ids == sorted(expected, key=int, reverse=True)


def test_per_page_above_200_is_capped_at_200(api):
    response = api.get("Leads", params={"per_page": 500})

    assert response.json()["info"]["per_page"] == 200


def test_a_page_number_that_is_not_a_number_is_invalid_data(api):
    response = api.get("Leads", params={"page": "two"})

    assert response.status_code == 400
    assert response.json()["details"] == {"param_name": "page"}


def test_converted_leads_are_left_out_unless_asked_for(api, free_leads):
    free_leads[0].converted = True
    free_leads[0].save()

    default = api.get("Leads", params={"per_page": 200}).json()["data"]
    both = api.get("Leads", params={"per_page": 200, "converted": "both"}).json()["data"]

    assert free_leads[0].id not in {row["id"] for row in default}
    assert free_leads[0].id in {row["id"] for row in both}


def test_a_custom_view_lists_only_its_records(api):
    view = CustomView.objects.get(module="Leads", name="Hot leads")

    rows = api.get("Leads", params={"cvid": view.id, "fields": "Rating"}).json()["data"]

    assert rows
    assert {row["Rating"] for row in rows} == {"Hot"}


def test_the_converted_leads_view_lists_the_converted_leads(api, free_leads):
    free_leads[0].converted = True
    free_leads[0].save()
    view = CustomView.objects.get(module="Leads", system_name="CONVERTEDVIEWS")
    expected = Record.objects.filter(module="Leads", converted=True).values_list("id", flat=True)

    rows = api.get("Leads", params={"cvid": view.id}).json()["data"]

    assert {row["id"] for row in rows} == set(expected)
    assert all(row["$converted"] for row in rows)


def test_an_unknown_view_is_invalid_data(api):
    response = api.get("Leads", params={"cvid": "123"})

    assert response.status_code == 400
    assert response.json()["details"] == {"param_name": "cvid"}


def test_more_than_50_fields_are_refused(api):
    fields = ",".join(f"Field_{n}" for n in range(51))

    response = api.get("Leads", params={"fields": fields})

    assert response.status_code == 400
    assert response.json()["details"] == {"limit": 50, "param_name": "fields"}


def test_a_module_without_records_gives_204(api):
    assert api.get("Events").status_code == 204


# --- PUT /{module} ---------------------------------------------------------------------


def test_put_updates_each_record_and_answers_per_record(api, free_leads, other_user):
    entries = [
        {"id": free_leads[0].id, "Rating": "Cold", "Email": "new@zylker.example"},
        {"id": free_leads[1].id, "No_of_Employees": 31, "Owner": {"id": other_user.id}},
    ]

    response = api.put("Leads", json={"data": entries, "trigger": []})

    assert response.status_code == 200
    assert [e["details"]["id"] for e in response.json()["data"]] == [
        free_leads[0].id,
        free_leads[1].id,
    ]
    first, second = (Record.objects.get(pk=e["id"]) for e in entries)
    assert first.data["Rating"] == "Cold" and first.data["Email"] == "new@zylker.example"
    assert second.data["No_of_Employees"] == 31
    assert second.data["Owner"]["name"] == "Maya Rao"


def test_put_reports_a_missing_id_for_that_record_only(api, free_leads):
    entries = [{"id": free_leads[0].id, "Rating": "Cold"}, {"Rating": "Hot"}]

    response = api.put("Leads", json={"data": entries})

    assert response.status_code == 207
    ok, missing = response.json()["data"]
    assert ok["code"] == "SUCCESS"
    assert missing == {
        "code": "MANDATORY_NOT_FOUND",
        "details": {"api_name": "id", "json_path": "$.data[1].id"},
        "message": "required field not found",
        "status": "error",
    }


def test_put_of_more_than_100_records_is_refused(api, free_leads):
    entries = [{"id": free_leads[0].id, "Rating": "Cold"}] * 101

    response = api.put("Leads", json={"data": entries})

    assert response.status_code == 400
    assert response.json()["data"][0]["code"] == "LIMIT_EXCEEDED"
    assert response.json()["data"][0]["details"] == {"maximum_length": 100, "api_name": "data"}


@pytest.mark.parametrize(
    ("record_id", "code"),
    [(LOCKED_LEAD, "RECORD_LOCKED"), (NOT_APPROVED_LEAD, "NOT_APPROVED")],
)
def test_put_refuses_a_locked_or_unapproved_record_like_mass_update(api, record_id, code):
    before = Record.objects.get(pk=record_id).data

    response = api.put("Leads", json={"data": [{"id": record_id, "Company": "Changed Ltd"}]})

    assert response.status_code == 400
    assert response.json()["data"][0]["code"] == code
    assert Record.objects.get(pk=record_id).data == before


def test_put_refuses_a_value_of_the_wrong_type_naming_field_and_record(api, free_leads):
    lead = free_leads[0]

    response = api.put("Leads", json={"data": [{"id": lead.id, "No_of_Employees": "many"}]})

    assert response.status_code == 400
    (error,) = response.json()["data"]
    assert error["code"] == "INVALID_DATA"
    assert error["details"] == {
        "api_name": "No_of_Employees",
        "json_path": "$.data[0].No_of_Employees",
        "expected_data_type": "integer",
        "id": lead.id,
    }


def test_put_refuses_an_unknown_field(api, free_leads):
    response = api.put("Leads", json={"data": [{"id": free_leads[0].id, "Nope": 1}]})

    assert response.status_code == 400
    assert response.json()["data"][0]["message"] == "the field api name given seems to be invalid"


@pytest.mark.parametrize(
    ("append", "expected"), [(True, ["CRM", "Mail", "Desk"]), (None, ["Mail", "Desk"])]
)
def test_put_appends_to_a_multiselect_only_with_append_values(api, free_leads, append, expected):
    lead = free_leads[0]
    lead.data["Product_Interest"] = ["CRM", "Mail"]
    lead.save()
    entry = {"id": lead.id, "Product_Interest": ["Mail", "Desk"]}
    if append is not None:
        entry["$append_values"] = {"Product_Interest": append}

    response = api.put("Leads", json={"data": [entry]})

    assert response.status_code == 200
    assert Record.objects.get(pk=lead.id).data["Product_Interest"] == expected


def test_put_on_one_record_url_updates_that_record(api, free_leads):
    lead = free_leads[0]

    response = api.put(f"Leads/{lead.id}", json={"data": [{"Rating": "Warm"}]})

    assert response.status_code == 200
    assert Record.objects.get(pk=lead.id).data["Rating"] == "Warm"


def test_put_without_data_is_refused(api):
    response = api.put("Leads", json={"trigger": []})

    assert response.status_code == 400
    assert response.json()["code"] == "MANDATORY_NOT_FOUND"
