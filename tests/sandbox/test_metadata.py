"""GET /settings/modules, /settings/fields, /settings/custom_views."""

import pytest

FIELD_KEYS = {
    "api_name",
    "field_label",
    "display_label",
    "data_type",
    "json_type",
    "length",
    "read_only",
    "field_read_only",
    "visible",
    "system_mandatory",
    "custom_field",
    "mass_update",
    "id",
    "pick_list_values",
}
MASS_UPDATABLE_TYPES = {
    "picklist",
    "multiselectpicklist",
    "integer",
    "bigint",
    "double",
    "currency",
    "percent",
    "date",
    "datetime",
    "boolean",
    "text",
    "phone",
    "website",
}
NEVER_MASS_UPDATABLE = {"email", "lookup", "ownerlookup", "textarea", "autonumber", "formula"}
EDITABLE = ["Leads", "Contacts", "Accounts", "Deals"]


def test_modules_list_the_editable_ones_and_some_the_api_does_not_support(api):
    response = api.get("settings/modules")

    assert response.status_code == 200
    modules = {m["api_name"]: m for m in response.json()["modules"]}
    for name in EDITABLE:
        assert modules[name]["api_supported"] is True and modules[name]["editable"] is True
        assert modules[name]["generated_type"] == "default" and modules[name]["visibility"] == 1
    assert modules["Home"]["api_supported"] is False
    assert modules["Reports"]["api_supported"] is False
    assert modules["Events"]["module_name"] == "Meetings"
    assert all(isinstance(m["id"], str) and m["id"].isdigit() for m in modules.values())


@pytest.mark.parametrize("module", EDITABLE)
def test_every_field_has_the_keys_a_client_relies_on(api, module):
    fields = api.get("settings/fields", params={"module": module}).json()["fields"]

    for field in fields:
        assert FIELD_KEYS.issubset(field), field["api_name"]
        assert isinstance(field["id"], str) and field["id"].isdigit()
        for value in field["pick_list_values"]:
            assert {"display_value", "actual_value", "sequence_number", "type", "id"} <= set(value)


@pytest.mark.parametrize("module", EDITABLE)
def test_every_module_can_mass_update_a_field_of_every_type(api, module):
    fields = api.get("settings/fields", params={"module": module}).json()["fields"]

    mass_updatable = {f["data_type"] for f in fields if f["mass_update"]}
    assert MASS_UPDATABLE_TYPES.issubset(mass_updatable)
    assert NEVER_MASS_UPDATABLE.isdisjoint(mass_updatable)
    assert any(not f["mass_update"] and f["data_type"] == "email" for f in fields)
    assert any(not f["mass_update"] and f["data_type"] == "textarea" for f in fields)


def test_picklists_show_a_display_value_that_differs_and_an_unused_value(api):
    fields = api.get("settings/fields", params={"module": "Leads"}).json()["fields"]
    status = next(f for f in fields if f["api_name"] == "Lead_Status")

    values = status["pick_list_values"]
    assert any(v["display_value"] != v["actual_value"] for v in values)
    assert any(v["type"] == "unused" for v in values)


def test_lookup_and_currency_fields_describe_themselves(api):
    fields = {
        f["api_name"]: f
        for f in api.get("settings/fields", params={"module": "Deals"}).json()["fields"]
    }

    assert fields["Account_Name"]["lookup"]["module"]["api_name"] == "Accounts"
    assert fields["Amount"]["currency"] == {"rounding_option": "normal", "precision": 2}
    assert fields["Amount"]["decimal_place"] == 2
    for name in ("Stage", "Probability", "Type", "Amount", "Closing_Date"):
        assert fields[name]["mass_update"] is True


def test_field_ids_are_unique_and_the_same_on_every_call(api):
    first = api.get("settings/fields", params={"module": "Leads"}).json()["fields"]
    second = api.get("settings/fields", params={"module": "Leads"}).json()["fields"]

    assert [f["id"] for f in first] == [f["id"] for f in second]
    assert len({f["id"] for f in first}) == len(first)


def test_fields_without_a_module_is_a_missing_parameter(api):
    response = api.get("settings/fields")

    assert response.status_code == 400
    assert response.json()["code"] == "REQUIRED_PARAM_MISSING"
    assert response.json()["details"] == {"param_name": "module"}


def test_fields_of_an_unknown_module_is_an_invalid_module(api):
    response = api.get("settings/fields", params={"module": "Nope"})

    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_MODULE"


def test_custom_views_list_the_default_all_view_with_info(api):
    response = api.get("settings/custom_views", params={"module": "Leads"})

    assert response.status_code == 200
    body = response.json()
    views = {v["name"]: v for v in body["custom_views"]}
    assert views["All Leads"]["system_name"] == "ALLVIEWS" and views["All Leads"]["default"]
    assert views["Converted Leads"]["system_name"] == "CONVERTEDVIEWS"
    assert "Hot leads" in views
    assert body["info"]["default"] == views["All Leads"]["id"]
    assert body["info"]["translation"]["public_views"] == "Public Views"
    assert body["info"]["count"] == len(views)


def test_custom_views_without_a_module_is_a_missing_parameter(api):
    response = api.get("settings/custom_views")

    assert response.status_code == 400
    assert response.json()["details"] == {"param_name": "module"}
