"""Choosing records: pasted IDs, CSV files, and filters and views resolved by the sandbox."""

from datetime import datetime

import pytest

from crmadmin.massupdate import selection
from crmadmin.massupdate.selection import (
    MAX_RECORDS,
    AmbiguousIdColumn,
    FilterRow,
    SelectionError,
    parse_pasted_ids,
    read_csv,
    resolve_filter,
    resolve_view,
)
from crmadmin.sandbox.models import CustomView, Record
from crmadmin.sandbox.operations import view_record_ids
from crmadmin.zoho.client import ZohoClient

A = "4150868000001000001"
B = "4150868000001000002"
C = "738964000002131264"
D = "1306462000"  # ten digits, the shortest id


def _ids(n: int) -> list[str]:
    return [str(4150868000000000000 + i) for i in range(n)]


# --- Pasted IDs ------------------------------------------------------------------------


def test_ids_separated_by_any_mix_of_separators_are_all_found():
    text = f"{A} {B}\n{C}\t{D}\r\n4150868000001000005,4150868000001000006;4150868000001000007|"
    text += "4150868000001000008 ,; | 4150868000001000009\u00a04150868000001000010"

    found = parse_pasted_ids(text)

    assert found.ids == [A, B, C, D, *(f"41508680000010000{n:02d}" for n in range(5, 11))]
    assert found.rejected == [] and found.duplicates == 0


def test_quotes_and_brackets_around_ids_are_stripped():
    text = f'["{A}", "{B}"] \'{C}\' ({D}) “4150868000001000005” <4150868000001000006>'

    assert parse_pasted_ids(text).ids == [A, B, C, D, "4150868000001000005", "4150868000001000006"]


def test_repeated_ids_are_kept_once_in_first_seen_order_and_counted():
    found = parse_pasted_ids(f"{B} {A} {B} '{A}' {C} {B}")

    assert found.ids == [B, A, C]
    assert found.duplicates == 3


def test_tokens_that_are_not_record_ids_are_listed_back_once_each_in_order():
    arabic_indic = "٤١٥٠٨٦٨٠٠٠٠٠١٠٠٠٠٠١"
    full_width = "４１５０８６８０００００１００００００１"
    text = (
        f"{A} {arabic_indic} 123456789 12345678901234567890 hello 12.5 1e18 -1234567890 "
        f"zcrm_123 {full_width} hello 1.23457E+18 0123456789 {B}"
    )

    found = parse_pasted_ids(text)

    assert found.ids == [A, B]
    assert found.rejected == [
        arabic_indic,
        "123456789",
        "12345678901234567890",
        "hello",
        "12.5",
        "1e18",
        "-1234567890",
        "zcrm_123",
        full_width,
        "1.23457E+18",
        "0123456789",
    ]


def test_ids_of_ten_to_nineteen_digits_are_accepted():
    assert parse_pasted_ids("1000000000 9999999999999999999").ids == [
        "1000000000",
        "9999999999999999999",
    ]


def test_more_than_fifty_thousand_ids_are_refused_with_the_count():
    text = "\n".join(_ids(MAX_RECORDS + 1))

    with pytest.raises(SelectionError) as refused:
        parse_pasted_ids(text)

    assert refused.value.message == (
        "You selected 50,001 records; a job takes at most 50,000. Split the list into several jobs."
    )


def test_exactly_fifty_thousand_ids_are_accepted_even_with_repeats():
    ids = _ids(MAX_RECORDS)

    found = parse_pasted_ids("\n".join(ids + ids[:10]))

    assert len(found.ids) == MAX_RECORDS and found.duplicates == 10


@pytest.mark.parametrize("text", ["", "  \n\t ,;| ", "hello world 12345"])
def test_pasting_no_id_at_all_is_refused(text):
    with pytest.raises(SelectionError, match=r"^No record IDs found in what you pasted\.$"):
        parse_pasted_ids(text)


def test_text_larger_than_five_megabytes_is_refused():
    with pytest.raises(SelectionError, match="larger than 5 MB"):
        parse_pasted_ids(f"{A}\n" * 300_000)


# --- CSV files -------------------------------------------------------------------------


def _csv(*lines: str, delimiter: str = ",", bom: bool = False) -> bytes:
    text = "\r\n".join(line.replace(",", delimiter) for line in lines) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode()


@pytest.mark.parametrize("bom", [True, False], ids=["bom", "no-bom"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
def test_a_csv_is_read_with_or_without_bom_and_with_its_own_delimiter(bom, delimiter):
    data = _csv(
        "Name,Record Id,City", f"Ann,{A},Köln", f"Bob,{B},Oslo", delimiter=delimiter, bom=bom
    )

    found = read_csv(data)

    assert found.columns == ["Name", "Record Id", "City"]
    assert found.id_column == "Record Id"
    assert found.ids == [A, B]


def test_values_holding_the_other_delimiter_do_not_fool_the_detection():
    data = f'Record Id;Name\n{A};"Smith, John"\n{B};Doe, Jane\n'.encode()

    found = read_csv(data)

    assert found.columns == ["Record Id", "Name"]
    assert found.ids == [A, B]


@pytest.mark.parametrize(
    "header", ["id", "ID", "Record Id", "record_id", "Lead Id", "ZCRM ID", "Contact-ID"]
)
def test_the_id_column_is_found_by_its_header(header):
    data = _csv(f"Owner,{header},Deal", f"{C},{A},{D}", f"{C},{B},{D}")

    found = read_csv(data)

    assert found.id_column == header
    assert found.ids == [A, B]


def test_a_record_id_header_wins_over_other_columns_ending_in_id():
    data = _csv("Account Id,Record Id", f"{C},{A}", f"{C},{B}")

    assert read_csv(data).id_column == "Record Id"


def test_the_id_column_is_found_by_its_content_when_no_header_names_it():
    data = _csv("Name,Number,Paid", f"Ann,{A},yes", f"Bob,{B},no", "Cid,oops,yes")

    found = read_csv(data)

    assert found.id_column == "Number"
    assert found.ids == [A, B]
    assert found.rejected == ["row 4: oops"]


def test_of_several_id_headers_the_one_holding_ids_is_chosen():
    data = _csv("Lead Id,Owner Id", f"{A},patricia", f"{B},patricia")

    assert read_csv(data).id_column == "Lead Id"


def test_the_chosen_column_is_used_whatever_its_name():
    data = _csv("Record Id,Other", f"{A},{C}", f"{B},{D}")

    found = read_csv(data, id_column="other")

    assert found.id_column == "Other"
    assert found.ids == [C, D]


def test_an_unknown_chosen_column_is_refused_with_the_columns_listed():
    data = _csv("Record Id,Other", f"{A},{C}")

    with pytest.raises(SelectionError) as refused:
        read_csv(data, id_column="Lead Id")

    assert refused.value.message == (
        "The file has no column “Lead Id”. Its columns are: “Record Id”, “Other”."
    )


def test_two_columns_of_ids_are_ambiguous_and_named():
    data = _csv("Name,Lead,Owner", f"Ann,{A},{C}", f"Bob,{B},{C}")

    with pytest.raises(AmbiguousIdColumn) as ambiguous:
        read_csv(data)

    assert ambiguous.value.columns == ["Lead", "Owner"]
    assert "“Lead”, “Owner”" in ambiguous.value.message


def test_two_id_headers_both_holding_ids_are_ambiguous():
    data = _csv("Lead Id,Owner Id,Name", f"{A},{C},Ann", f"{B},{C},Bob")

    with pytest.raises(AmbiguousIdColumn) as ambiguous:
        read_csv(data)

    assert ambiguous.value.columns == ["Lead Id", "Owner Id"]


def test_a_file_without_any_column_of_ids_asks_for_the_column():
    data = _csv("Name,City", "Ann,Köln", "Bob,Oslo")

    with pytest.raises(AmbiguousIdColumn) as ambiguous:
        read_csv(data)

    assert ambiguous.value.columns == ["Name", "City"]
    assert "No column looks like record IDs" in ambiguous.value.message


def test_a_file_whose_first_row_holds_ids_has_no_header():
    data = _csv(f"{A},Ann", f"{B},Bob", "junk,Cid")

    found = read_csv(data)

    assert found.columns == ["Column 1", "Column 2"]
    assert found.id_column == "Column 1"
    assert found.ids == [A, B]
    assert found.rejected == ["row 3: junk"]


def test_values_that_are_not_ids_are_listed_with_their_row_number():
    data = _csv(
        "Record Id,Name",
        f"{A},Ann",
        "abc,Bob",
        f"{A},Ann again",
        ",Cid",
        "",
        '"4150868000001000002",Dee',
        "12.5,Eve",
        ",",
    )

    found = read_csv(data)

    assert found.ids == [A, B]
    assert found.duplicates == 1
    # The blank line is row 6 and the row of empty cells row 9: neither is a record.
    assert found.rejected == ["row 3: abc", "row 5: (empty)", "row 8: 12.5"]


def test_blank_lines_before_the_header_keep_the_row_numbers_a_spreadsheet_shows():
    data = _csv("", ",", "Record Id,Name", f"{A},Ann", "abc,Bob")

    found = read_csv(data)

    assert found.id_column == "Record Id"
    assert found.rejected == ["row 5: abc"]


def test_a_cell_spanning_two_lines_counts_as_one_row():
    data = _csv("Record Id,Note", f'{A},"two\nlines"', "oops,x")

    assert read_csv(data).rejected == ["row 3: oops"]


def test_latin_1_bytes_are_refused_as_not_utf8():
    data = "Record Id,Name\n4150868000001000001,Müller\n".encode("latin-1")

    with pytest.raises(SelectionError) as refused:
        read_csv(data)

    assert refused.value.message == "The file is not UTF-8 text (save it as CSV UTF-8)."


def test_a_utf16_file_is_refused_as_not_utf8():
    data = f"Record Id\n{A}\n".encode("utf-16")

    with pytest.raises(SelectionError, match="not UTF-8"):
        read_csv(data)


def test_binary_garbage_is_refused():
    data = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00"

    with pytest.raises(SelectionError, match="binary data"):
        read_csv(data)


@pytest.mark.parametrize(
    "data",
    [b"", b"\xef\xbb\xbf", b"\r\n \r\n", b",,\r\n,,\r\n", b";;\n;;\n"],
    ids=["empty", "bom", "blank", "empty-cells", "empty-cells-semicolon"],
)
def test_an_empty_file_is_refused(data):
    with pytest.raises(SelectionError, match=r"^The file is empty\.$"):
        read_csv(data)


def test_a_file_with_only_a_header_is_refused():
    with pytest.raises(SelectionError, match="header row but no records"):
        read_csv(_csv("Record Id,Name", ",", ""))


def test_a_column_without_a_single_id_is_refused():
    with pytest.raises(SelectionError, match="No record IDs found in the column “Record Id”"):
        read_csv(_csv("Record Id,Name", "abc,Ann"))


def test_a_file_over_twenty_megabytes_is_refused():
    data = b"Record Id\n" + b"x" * (20 * 1024 * 1024)

    with pytest.raises(SelectionError, match="larger than 20 MB"):
        read_csv(data)


def test_a_csv_of_more_than_fifty_thousand_ids_is_refused():
    data = ("Record Id\n" + "\n".join(_ids(MAX_RECORDS + 1))).encode()

    with pytest.raises(SelectionError, match="You selected 50,001 records"):
        read_csv(data)


# --- Filters and views, against the sandbox over HTTP ----------------------------------


@pytest.fixture
def exchanges() -> list:
    return []


@pytest.fixture
def zoho(connection, exchanges) -> ZohoClient:
    """A client of the seeded sandbox that notes every exchange it makes."""
    return ZohoClient(connection, timeout=10, on_exchange=exchanges.append)


def _leads() -> dict[str, dict]:
    return {r.id: r.data for r in Record.objects.filter(module="Leads")}


def _ids_where(predicate) -> list[str]:
    return sorted((i for i, data in _leads().items() if predicate(data)), key=int)


def _set_lead(record_id: str, **values) -> None:
    record = Record.objects.get(pk=record_id)
    record.data = {**record.data, **values}
    record.save()


def test_a_picklist_filter_finds_exactly_the_records_with_that_value(zoho):
    expected = _ids_where(lambda d: d.get("Lead_Status") == "Contacted")

    found = resolve_filter(zoho, "Leads", [FilterRow("Lead_Status", "equals", "Contacted")])

    assert expected and found == expected


def test_a_numeric_greater_than_finds_exactly_the_larger_values(zoho):
    expected = _ids_where(lambda d: (d.get("No_of_Employees") or 0) > 250)

    found = resolve_filter(zoho, "Leads", [FilterRow("No_of_Employees", "greater_than", "250")])

    assert expected and found == expected
    assert len(found) < len(_leads())


def test_every_condition_must_hold(zoho):
    statuses = ["Contacted", "Not Contacted", "Attempted to Contact"]
    source = next(d["Lead_Source"] for d in _leads().values() if d.get("Lead_Source"))
    rows = [
        FilterRow("Lead_Status", "in", statuses),
        FilterRow("No_of_Employees", "between", "25, 1000"),
        FilterRow("Lead_Source", "not_equal", source),
    ]
    expected = _ids_where(
        lambda d: (
            d.get("Lead_Status") in statuses
            and 25 <= (d.get("No_of_Employees") or 0) <= 1000
            and d.get("Lead_Source") not in (None, source)
        )
    )

    assert expected and resolve_filter(zoho, "Leads", rows) == expected


def test_dates_datetimes_and_booleans_are_compared_as_such(zoho):
    days = sorted(d["Next_Follow_Up"] for d in _leads().values())
    moments = sorted(d["Last_Contacted_At"] for d in _leads().values())
    pivot_day, pivot_moment = days[len(days) // 2], moments[len(moments) // 3]
    rows = [
        FilterRow("Next_Follow_Up", "less_equal", pivot_day),
        FilterRow("Last_Contacted_At", "greater_equal", pivot_moment),
        FilterRow("Email_Opt_Out", "equals", "false"),
    ]
    expected = _ids_where(
        lambda d: (
            d["Next_Follow_Up"] <= pivot_day
            and datetime.fromisoformat(d["Last_Contacted_At"])
            >= datetime.fromisoformat(pivot_moment)
            and d["Email_Opt_Out"] is False
        )
    )

    assert expected and resolve_filter(zoho, "Leads", rows) == expected


def test_a_value_with_quotes_is_matched_literally(zoho):
    lead = sorted(_leads(), key=int)[7]
    _set_lead(lead, Company="O'Brien's \"Bakery\" (Cork)")

    found = resolve_filter(
        zoho, "Leads", [FilterRow("Company", "equals", "O'Brien's \"Bakery\" (Cork)")]
    )

    assert found == [lead]


def test_starts_with_treats_percent_and_underscore_as_plain_characters(zoho):
    first, second, third = sorted(_leads(), key=int)[10:13]
    _set_lead(first, Company="50% Off Outlet")
    _set_lead(second, Company="500 Offers Ltd")
    _set_lead(third, Company="50_50 Partners")

    assert resolve_filter(zoho, "Leads", [FilterRow("Company", "starts_with", "50%")]) == [first]
    assert resolve_filter(zoho, "Leads", [FilterRow("Company", "starts_with", "50_")]) == [third]
    assert resolve_filter(zoho, "Leads", [FilterRow("Company", "starts_with", "50")]) == [
        first,
        second,
        third,
    ]


def test_paging_goes_on_past_the_reach_of_offsets(zoho, exchanges, monkeypatch):
    monkeypatch.setattr(selection, "COQL_PAGE_SIZE", 7)
    monkeypatch.setattr(selection, "COQL_MAX_REACH", 21)
    expected = _ids_where(lambda d: (d.get("No_of_Employees") or 0) > 0)

    found = resolve_filter(zoho, "Leads", [FilterRow("No_of_Employees", "greater_than", "0")])

    queries = [e.request_body for e in exchanges if e.url.endswith("/coql")]
    assert found == expected and len(expected) == 60
    assert len(queries) >= 60 // 7 + 1
    assert any("id > " in q for q in queries)
    assert all("limit 21," not in q for q in queries)


def test_a_filter_matching_more_than_the_limit_is_refused(zoho):
    rows = [FilterRow("No_of_Employees", "greater_than", "0")]

    with pytest.raises(SelectionError, match="matches more than 10 records"):
        resolve_filter(zoho, "Leads", rows, limit=10)


def test_a_filter_matching_nothing_is_refused(zoho):
    rows = [FilterRow("Company", "equals", "No Such Company Anywhere")]

    with pytest.raises(SelectionError, match="No records match"):
        resolve_filter(zoho, "Leads", rows)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (FilterRow("Lead_Status", "greater_than", "Contacted"), "cannot be compared with"),
        (FilterRow("Lead_Status", "contains", "Contacted"), "cannot be compared with"),
        (FilterRow("Lead_Status", "equals", "  "), "Give a value for Lead Status"),
        (FilterRow("Lead_Status", "in", []), "at least one value"),
        (FilterRow("No_of_Employees", "greater_than", "lots"), "needs a number"),
        (FilterRow("No_of_Employees", "greater_than", "NaN"), "needs a number"),
        (FilterRow("No_of_Employees", "between", "5"), "two values"),
        (FilterRow("Next_Follow_Up", "less_than", "31/12/2025"), "YYYY-MM-DD"),
        (FilterRow("Last_Contacted_At", "less_than", "yesterday"), "date and time"),
        (FilterRow("Email_Opt_Out", "equals", "maybe"), "true or false"),
        (FilterRow("Owner", "equals", "Patricia"), "needs a record ID"),
        (FilterRow("Description", "equals", "x"), "cannot be filtered on Description"),
        (FilterRow("Favourite_Colour", "equals", "x"), "no field Favourite_Colour"),
        (FilterRow("Lead_Status = 'x' or id", "equals", "x"), "not a field API name"),
    ],
)
def test_bad_filter_input_is_refused_with_a_clear_message(zoho, exchanges, row, message):
    with pytest.raises(SelectionError, match=message):
        resolve_filter(zoho, "Leads", [row])

    assert not [e for e in exchanges if e.url.endswith("/coql")]


def test_a_module_name_that_is_not_an_api_name_is_refused(zoho):
    with pytest.raises(SelectionError, match="not a module API name"):
        resolve_filter(zoho, "Leads where id", [FilterRow("Lead_Status", "equals", "x")])


def test_a_view_resolves_to_exactly_its_records(zoho):
    view = CustomView.objects.get(module="Leads", name="Hot leads")

    found = resolve_view(zoho, "Leads", view.id)

    assert found and sorted(found, key=int) == sorted(view_record_ids(view), key=int)
    assert len(found) == len(set(found)) < len(_leads())


def test_a_view_larger_than_the_limit_is_refused(zoho):
    view = CustomView.objects.get(module="Leads", system_name="ALLVIEWS")

    with pytest.raises(SelectionError, match="more than 5 records"):
        resolve_view(zoho, "Leads", view.id, limit=5)


@pytest.mark.parametrize("cvid", ["4150868000000999999", "12 or 1=1"])
def test_an_unknown_view_is_refused(zoho, cvid):
    with pytest.raises(SelectionError):
        resolve_view(zoho, "Leads", cvid)
