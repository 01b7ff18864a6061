"""A field's new value: rules read from the sandbox's real metadata, the form, comparisons."""

import json

import pytest
from django.utils import timezone

from crmadmin.massupdate.fieldvalues import (
    Change,
    FieldSpec,
    ValueForm,
    after_value,
    display_value,
    is_same,
    specs_from_metadata,
)
from crmadmin.sandbox.schema import ACCOUNTS, DEALS, LEADS, Module, field_metadata

MODULES = [LEADS, DEALS, ACCOUNTS]


def spec_of(module: Module, api_name: str) -> FieldSpec:
    f = module.field(api_name)
    assert f is not None
    return FieldSpec.from_metadata(field_metadata(module, f))


def custom_spec(data_type: str, **extra) -> FieldSpec:
    return FieldSpec(api_name="Custom", label="Custom", data_type=data_type, **extra)


def submit(spec: FieldSpec, **data) -> ValueForm:
    form = ValueForm(spec, data=data)
    form.is_valid()
    return form


def change_of(spec: FieldSpec, **data) -> Change:
    form = submit(spec, **data)
    assert form.is_valid(), form.errors
    return form.change()


def errors_of(spec: FieldSpec, **data) -> list[str]:
    form = submit(spec, **data)
    assert not form.is_valid()
    return [message for messages in form.errors.values() for message in messages]


# --- Specs from metadata ---------------------------------------------------------------


def test_spec_reads_label_type_length_and_mandatory_from_metadata():
    assert spec_of(LEADS, "Company") == FieldSpec(
        api_name="Company",
        label="Company",
        data_type="text",
        max_length=200,
        decimal_place=None,
        mandatory=False,
        choices=(),
    )
    assert spec_of(DEALS, "Stage").mandatory is True


def test_picklist_choices_leave_out_none_and_unused_values_and_keep_display_labels():
    choices = spec_of(LEADS, "Lead_Source").choices

    actual_values = [actual for actual, _ in choices]
    assert "-None-" not in actual_values
    assert "Fax" not in actual_values  # unused
    assert ("Web Download", "Web Form") in choices
    assert actual_values[0] == "Advertisement"  # the CRM's order is kept


def test_currency_decimal_places_come_from_decimal_place():
    assert spec_of(DEALS, "Amount").decimal_place == 2


def test_currency_precision_stands_in_when_decimal_place_is_missing():
    meta = field_metadata(DEALS, DEALS.field("Amount"))
    del meta["decimal_place"]
    meta["currency"]["precision"] = 3

    assert FieldSpec.from_metadata(meta).decimal_place == 3


def test_decimal_place_is_unknown_when_metadata_has_none():
    assert spec_of(ACCOUNTS, "Health_Score").decimal_place is None


@pytest.mark.parametrize("api_name", ["Email", "Description", "Owner", "Referred_By", "Lead_No"])
def test_types_this_app_cannot_edit_are_not_supported(api_name):
    assert spec_of(LEADS, api_name).supported is False


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.api_name)
def test_specs_from_metadata_keep_every_mass_updatable_field_of_the_sandbox(module):
    metadata = [field_metadata(module, f) for f in module.fields]
    mass_updatable = [meta["api_name"] for meta in metadata if meta["mass_update"]]

    specs = specs_from_metadata([meta for meta in metadata if meta["mass_update"]])

    assert [spec.api_name for spec in specs] == mass_updatable
    for spec in specs:
        assert 'name="value"' in ValueForm(spec).as_div()


def test_specs_from_metadata_drop_unsupported_fields():
    metadata = [field_metadata(LEADS, f) for f in LEADS.fields]

    names = {spec.api_name for spec in specs_from_metadata(metadata)}

    assert {"Email", "Description", "Owner", "Referred_By", "Lead_No"} & names == set()
    assert "Company" in names


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.api_name)
def test_every_spec_survives_a_trip_through_json(module):
    for f in module.fields:
        spec = FieldSpec.from_metadata(field_metadata(module, f))

        assert FieldSpec.from_dict(json.loads(json.dumps(spec.as_dict()))) == spec


def test_a_form_refuses_a_field_type_it_cannot_edit():
    with pytest.raises(ValueError, match="email"):
        ValueForm(spec_of(LEADS, "Email"))


# --- Text, phone, website --------------------------------------------------------------


def test_text_is_sent_as_typed():
    change = change_of(spec_of(LEADS, "Company"), value="Acme Ltd")

    assert change == Change(field="Company", value="Acme Ltd", mode="")
    assert change.over_write is None


def test_text_longer_than_the_field_names_the_limit_and_the_length():
    assert errors_of(spec_of(LEADS, "Designation"), value="x" * 130) == [
        "At most 100 characters (this has 130)."
    ]


@pytest.mark.parametrize(("api_name", "limit"), [("Sales_Phone", 30), ("Contract_URL", 255)])
def test_phone_and_website_are_length_checked(api_name, limit):
    spec = spec_of(DEALS, api_name)

    assert change_of(spec, value="1" * limit).value == "1" * limit
    assert errors_of(spec, value="1" * (limit + 1)) == [
        f"At most {limit} characters (this has {limit + 1})."
    ]


def test_a_website_need_not_look_like_a_url():
    assert change_of(spec_of(DEALS, "Contract_URL"), value="intranet/contracts").value == (
        "intranet/contracts"
    )


def test_an_empty_value_without_clear_is_refused():
    assert errors_of(spec_of(LEADS, "Company"), value="") == [
        "Enter a value, or tick “Clear this field” to empty it."
    ]


def test_clear_empties_the_field():
    change = change_of(spec_of(LEADS, "Company"), value="", clear="on")

    assert change == Change(field="Company", value=None, mode="")


def test_clear_and_a_value_together_are_refused():
    assert errors_of(spec_of(LEADS, "Company"), value="Acme", clear="on") == [
        "Either enter a value or tick “Clear this field”, not both."
    ]


def test_clear_is_offered_only_for_fields_that_are_not_mandatory():
    assert "clear" in ValueForm(spec_of(DEALS, "Type")).fields
    assert "clear" not in ValueForm(spec_of(DEALS, "Stage")).fields
    assert "Clear this field (set it empty)" in ValueForm(spec_of(DEALS, "Type")).as_div()


def test_a_mandatory_field_cannot_be_cleared():
    assert errors_of(spec_of(DEALS, "Stage"), value="", clear="on") == [
        "Enter a value: this field is mandatory and cannot be emptied."
    ]


# --- Picklists -------------------------------------------------------------------------


def test_picklist_sends_the_actual_value():
    assert change_of(spec_of(LEADS, "Lead_Source"), value="Web Download").value == "Web Download"


def test_picklist_shows_display_labels():
    html = ValueForm(spec_of(LEADS, "Lead_Source")).as_div()

    assert '<option value="Web Download">Web Form</option>' in html


@pytest.mark.parametrize("value", ["Web Form", "Nope", "-None-", "Fax"])
def test_picklist_refuses_anything_but_a_used_actual_value(value):
    assert errors_of(spec_of(LEADS, "Lead_Source"), value=value) == [
        f"Choose one of the field's values (“{value}” is not one)."
    ]


# --- Multi-select picklists ------------------------------------------------------------


def test_multiselect_replace_sends_the_list_and_overwrites():
    change = change_of(spec_of(LEADS, "Product_Interest"), value=["CRM", "Creator"], mode="replace")

    assert change == Change(field="Product_Interest", value=["CRM", "Creator"], mode="replace")
    assert change.over_write is True


def test_multiselect_add_does_not_overwrite():
    change = change_of(spec_of(LEADS, "Product_Interest"), value=["Mail"], mode="add")

    assert change.value == ["Mail"]
    assert change.over_write is False


def test_multiselect_renders_checkboxes_and_both_modes():
    html = ValueForm(spec_of(ACCOUNTS, "Regions")).as_div()

    assert 'type="checkbox" name="value" value="APAC"' in html
    assert "Asia Pacific" in html
    assert "Replace the current values" in html
    assert "Add to the current values" in html


def test_multiselect_needs_a_mode():
    assert errors_of(spec_of(ACCOUNTS, "Regions"), value=["EMEA"]) == [
        "Choose whether to replace or add to the values."
    ]


def test_multiselect_refuses_an_unknown_value():
    assert errors_of(spec_of(ACCOUNTS, "Regions"), value=["EMEA", "Mars"], mode="add") == [
        "Choose one of the field's values (“Mars” is not one)."
    ]


def test_multiselect_needs_at_least_one_value_unless_cleared():
    assert errors_of(spec_of(ACCOUNTS, "Regions"), mode="add") == [
        "Enter a value, or tick “Clear this field” to empty it."
    ]


def test_clearing_a_multiselect_replaces_its_values_with_none():
    change = change_of(spec_of(ACCOUNTS, "Regions"), clear="on", mode="add")

    assert change == Change(field="Regions", value=None, mode="replace")


def test_multiselect_values_must_fit_the_field_length_together():
    spec = custom_spec(
        "multiselectpicklist", max_length=10, choices=(("Alpha", "Alpha"), ("Bravo", "Bravo"))
    )

    assert errors_of(spec, value=["Alpha", "Bravo"], mode="replace") == [
        "Too many values: at most 10 characters together (this has 11)."
    ]


# --- Whole numbers ---------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "sent"), [("42", 42), ("-7", -7), ("999999999", 999999999)])
def test_integer_is_sent_as_an_int(typed, sent):
    value = change_of(spec_of(LEADS, "No_of_Employees"), value=typed).value

    assert value == sent
    assert type(value) is int


def test_integer_is_limited_by_the_field_length_in_digits():
    spec = spec_of(LEADS, "No_of_Employees")  # length 9

    assert errors_of(spec, value="1000000000") == ["At most 999,999,999."]
    assert errors_of(spec, value="-1000000000") == ["At least -999,999,999."]


def test_a_short_integer_field_has_a_short_range():
    assert errors_of(spec_of(DEALS, "Probability"), value="1000") == ["At most 999."]


def test_integer_is_limited_to_32_bits_even_when_the_length_allows_more():
    spec = custom_spec("integer", max_length=12)

    assert change_of(spec, value="2147483647").value == 2_147_483_647
    assert errors_of(spec, value="2147483648") == ["At most 2,147,483,647."]
    assert errors_of(spec, value="-2147483648") == ["At least -2,147,483,647."]


def test_bigint_takes_18_digits_as_its_length_says():
    spec = spec_of(DEALS, "Seats")  # length 18

    assert change_of(spec, value="999999999999999999").value == 999_999_999_999_999_999
    assert errors_of(spec, value="1000000000000000000") == ["At most 999,999,999,999,999,999."]


def test_bigint_is_limited_to_64_bits():
    spec = custom_spec("bigint", max_length=30)

    assert change_of(spec, value=str(2**63 - 1)).value == 2**63 - 1
    assert errors_of(spec, value=str(2**63)) == ["At most 9,223,372,036,854,775,807."]


@pytest.mark.parametrize("typed", ["4.5", "abc", "1e3"])
def test_integer_refuses_what_is_not_a_whole_number(typed):
    assert errors_of(spec_of(LEADS, "No_of_Employees"), value=typed) == [
        "Enter a whole number, like 42."
    ]


# --- Decimal numbers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "sent"), [("1250.50", 1250.5), ("0.05", 0.05), ("1250", 1250), ("1250.00", 1250)]
)
def test_currency_is_sent_as_a_json_number(typed, sent):
    value = change_of(spec_of(DEALS, "Amount"), value=typed).value

    assert value == sent
    assert type(value) is type(sent)


def test_currency_refuses_more_decimal_places_than_the_field_has():
    assert errors_of(spec_of(DEALS, "Amount"), value="10.123") == [
        "At most 2 decimal places (this has 3)."
    ]


def test_trailing_zeros_are_not_counted_as_decimal_places():
    assert change_of(spec_of(DEALS, "Amount"), value="10.500").value == 10.5


def test_currency_refuses_more_whole_digits_than_its_length():
    assert errors_of(spec_of(DEALS, "Amount"), value="1" + "0" * 16) == [
        "At most 16 digits before the decimal point (this has 17)."
    ]


def test_a_huge_exponent_is_refused_quickly_by_its_digit_count():
    assert errors_of(spec_of(DEALS, "Amount"), value="1e999999999") == [
        "At most 16 digits before the decimal point (this has 1000000000)."
    ]


def test_a_field_without_decimal_places_takes_whole_numbers_only():
    assert errors_of(custom_spec("double", max_length=16, decimal_place=0), value="1.5") == [
        "Whole numbers only (this has 1 decimal place)."
    ]


def test_a_double_without_a_known_decimal_place_takes_any_decimals():
    assert change_of(spec_of(ACCOUNTS, "Health_Score"), value="0.1234567").value == 0.1234567


def test_a_number_the_crm_would_round_is_refused():
    assert errors_of(spec_of(ACCOUNTS, "Health_Score"), value="1234567890.123456") == [
        "At most 15 digits in all, or the CRM would round the number (this has 16)."
    ]


def test_percent_has_no_range_only_its_length():
    spec = spec_of(DEALS, "Discount")  # length 5

    assert change_of(spec, value="150").value == 150
    assert change_of(spec, value="12.5").value == 12.5
    assert errors_of(spec, value="123456") == [
        "At most 5 digits before the decimal point (this has 6)."
    ]


@pytest.mark.parametrize("typed", ["abc", "1,5", "NaN", "Infinity"])
def test_decimal_refuses_what_is_not_a_number(typed):
    assert errors_of(spec_of(DEALS, "Amount"), value=typed) == [
        "Enter a number, like 1250 or 1250.50."
    ]


def test_currency_input_steps_by_its_decimal_places():
    assert 'step="0.01"' in ValueForm(spec_of(DEALS, "Amount")).as_div()


# --- Dates and times -------------------------------------------------------------------


def test_date_is_sent_as_iso():
    assert change_of(spec_of(DEALS, "Closing_Date"), value="2026-11-26").value == "2026-11-26"


@pytest.mark.parametrize("typed", ["2026-02-30", "26/11/2026", "soon"])
def test_date_refuses_what_is_not_a_real_iso_date(typed):
    assert errors_of(spec_of(DEALS, "Closing_Date"), value=typed) == [
        "Enter a real date as YYYY-MM-DD, like 2026-11-26."
    ]


def test_date_uses_the_browsers_date_input():
    assert 'type="date"' in ValueForm(spec_of(DEALS, "Closing_Date")).as_div()


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("2026-11-26T10:30", "2026-11-26T10:30:00+01:00"),
        ("2026-07-01T10:30", "2026-07-01T10:30:00+02:00"),
        ("2026-11-26T10:30:00+05:30", "2026-11-26T06:00:00+01:00"),
    ],
)
def test_datetime_is_sent_with_the_offset_of_the_current_time_zone(typed, sent):
    with timezone.override("Europe/Paris"):
        assert change_of(spec_of(DEALS, "Last_Stage_Change"), value=typed).value == sent


def test_datetime_refuses_an_impossible_date():
    assert errors_of(spec_of(DEALS, "Last_Stage_Change"), value="2026-02-30T10:00") == [
        "Enter a real date and time as YYYY-MM-DDTHH:MM, like 2026-11-26T10:30."
    ]


def test_datetime_refuses_a_time_skipped_by_daylight_saving():
    with timezone.override("Europe/Paris"):
        errors = errors_of(spec_of(DEALS, "Last_Stage_Change"), value="2026-03-29T02:30")

    assert len(errors) == 1
    assert "Europe/Paris" in errors[0]


def test_datetime_uses_the_browsers_local_datetime_input():
    assert 'type="datetime-local"' in ValueForm(spec_of(DEALS, "Last_Stage_Change")).as_div()


# --- Booleans --------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "sent"), [("true", True), ("false", False)])
def test_boolean_is_sent_as_a_json_boolean(typed, sent):
    assert change_of(spec_of(DEALS, "Is_Renewal"), value=typed).value is sent


@pytest.mark.parametrize("typed", ["", "maybe"])
def test_boolean_must_be_yes_or_no(typed):
    assert errors_of(spec_of(DEALS, "Is_Renewal"), value=typed) == ["Choose Yes or No."]


def test_boolean_is_a_yes_no_choice_without_clear():
    form = ValueForm(spec_of(DEALS, "Is_Renewal"))

    assert 'type="radio" name="value" value="false"' in form.as_div()
    assert "clear" not in form.fields


# --- Changes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        Change(field="Regions", value=["EMEA", "APAC"], mode="add"),
        Change(field="Amount", value=1250.5),
        Change(field="Company", value=None),
        Change(field="Is_Partner", value=False),
    ],
)
def test_a_change_survives_a_trip_through_json(change):
    assert Change.from_dict(json.loads(json.dumps(change.as_dict()))) == change


def test_a_form_built_from_a_stored_spec_prefixes_its_fields():
    spec = FieldSpec.from_dict(json.loads(json.dumps(spec_of(DEALS, "Amount").as_dict())))

    form = ValueForm(spec, data={"f1-value": "12.30"}, prefix="f1")

    assert form.is_valid(), form.errors
    assert form.change() == Change(field="Amount", value=12.3)


# --- After values ----------------------------------------------------------------------


def test_multiselect_add_appends_new_values_after_the_old_ones():
    spec = spec_of(LEADS, "Product_Interest")
    change = Change(field="Product_Interest", value=["Mail", "CRM", "Books"], mode="add")

    assert after_value(spec, change, ["CRM", "Desk"]) == ["CRM", "Desk", "Mail", "Books"]
    assert after_value(spec, change, None) == ["Mail", "CRM", "Books"]


def test_multiselect_replace_ignores_the_old_values():
    spec = spec_of(LEADS, "Product_Interest")
    change = Change(field="Product_Interest", value=["Mail"], mode="replace")

    assert after_value(spec, change, ["CRM", "Desk"]) == ["Mail"]


def test_clearing_leaves_nothing_after():
    spec = spec_of(LEADS, "Product_Interest")

    assert after_value(spec, Change("Product_Interest", None, "replace"), ["CRM"]) is None


def test_other_fields_take_the_new_value():
    assert after_value(spec_of(DEALS, "Amount"), Change("Amount", 10), 99.5) == 10


# --- Is the record already at the target? ----------------------------------------------


@pytest.mark.parametrize(
    ("api_name", "before", "after", "same"),
    [
        ("Amount", 1, 1.0, True),
        ("Amount", "1.00", 1, True),
        ("Amount", 1250.5, "1250.50", True),
        ("Amount", 1250.5, 1250.51, False),
        ("Seats", 5, 5.0, True),
        ("Seats", 5, 6, False),
        ("Last_Stage_Change", "2026-11-26T10:30:00+05:30", "2026-11-26T06:00:00+01:00", True),
        ("Last_Stage_Change", "2026-11-26T10:30:00+05:30", "2026-11-26T10:30:00+01:00", False),
        ("Products_Interested", ["CRM", "Mail"], ["Mail", "CRM"], True),
        ("Products_Interested", ["CRM", "Mail"], ["CRM"], False),
        ("Next_Step", None, "", True),
        ("Products_Interested", None, [], True),
        ("Products_Interested", [], None, True),
        ("Type", "-None-", None, True),
        ("Next_Step", None, "Call", False),
        ("Next_Step", "Call", "call", False),
        ("Type", "New Business", "New Business", True),
        ("Is_Renewal", True, True, True),
        ("Is_Renewal", None, False, False),
        ("Is_Renewal", "true", True, False),
        ("Closing_Date", "2026-11-26", "2026-11-26", True),
        ("Closing_Date", "2026-11-26", "2026-11-27", False),
    ],
)
def test_is_same(api_name, before, after, same):
    assert is_same(spec_of(DEALS, api_name), before, after) is same


# --- Display ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "api_name", "value", "text"),
    [
        (LEADS, "Lead_Source", "Web Download", "Web Form"),
        (LEADS, "Lead_Source", "Fax", "Fax"),
        (LEADS, "Product_Interest", ["CRM", "Creator"], "CRM; Creator Platform"),
        (LEADS, "Company", None, ""),
        (LEADS, "Product_Interest", [], ""),
        (LEADS, "Email_Opt_Out", True, "Yes"),
        (LEADS, "Email_Opt_Out", False, "No"),
        (DEALS, "Last_Stage_Change", "2026-11-26T10:30:00+05:30", "2026-11-26T10:30:00+05:30"),
        (DEALS, "Amount", 1250.5, "1250.50"),
        (DEALS, "Seats", 42, "42"),
        (ACCOUNTS, "Health_Score", 1000.0, "1000"),
        (ACCOUNTS, "Health_Score", 0.125, "0.125"),
    ],
)
def test_display_value(module, api_name, value, text):
    assert display_value(spec_of(module, api_name), value) == text
