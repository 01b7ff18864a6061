"""The COQL subset and search criteria, evaluated on plain record values (no database)."""

import pytest

from crmadmin.sandbox.query import QueryError, parse_coql, parse_search_criteria
from crmadmin.sandbox.schema import LEADS

ROWS = [
    {
        "id": "1001",
        "Last_Name": "Okafor",
        "Company": "Acme Labs Inc.",
        "Lead_Status": "Contacted",
        "No_of_Employees": 250,
        "Annual_Revenue": 1200.5,
        "Email_Opt_Out": False,
        "Next_Follow_Up": "2025-03-01",
        "Last_Contacted_At": "2025-03-01T10:00:00+00:00",
        "Product_Interest": ["CRM", "Mail"],
        "Owner": {"name": "Maya Rao", "id": "738964000000291017"},
        "Designation": None,
    },
    {
        "id": "1002",
        "Last_Name": "Patel",
        "Company": "Globex Foods Ltd",
        "Lead_Status": "Not Contacted",
        "No_of_Employees": 12,
        "Annual_Revenue": 99.0,
        "Email_Opt_Out": True,
        "Next_Follow_Up": "2024-12-31",
        "Last_Contacted_At": "2025-03-01T12:00:00+02:00",
        "Product_Interest": [],
        "Owner": {"name": "Leo Park", "id": "738964000000291025"},
        "Designation": "CEO",
    },
    {
        "id": "1003",
        "Last_Name": "Acosta",
        "Company": "Acme Foods GmbH",
        "Lead_Status": "Contacted",
        "No_of_Employees": 1000,
        "Annual_Revenue": None,
        "Email_Opt_Out": False,
        "Next_Follow_Up": None,
        "Last_Contacted_At": None,
        "Product_Interest": ["Desk"],
        "Owner": {"name": "Maya Rao", "id": "738964000000291017"},
        "Designation": "",
    },
]


def _coql_ids(where: str) -> list[str]:
    query = parse_coql(f"select Last_Name from Leads where {where}")
    rows, _more = query.run(ROWS)
    return [row["id"] for row in rows]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Lead_Status = 'Contacted'", ["1001", "1003"]),
        ("Lead_Status != 'Contacted'", ["1002"]),
        ("No_of_Employees > 250", ["1003"]),
        ("No_of_Employees >= 250", ["1001", "1003"]),
        ("No_of_Employees < 250", ["1002"]),
        ("No_of_Employees <= 250", ["1001", "1002"]),
        ("Annual_Revenue between 100 and 2000", ["1001"]),
        ("Company like 'Acme%'", ["1001", "1003"]),
        ("Company like '%Foods%'", ["1002", "1003"]),
        ("Company not like '%Foods%'", ["1001"]),
        ("Lead_Status in ('Contacted', 'Junk Lead')", ["1001", "1003"]),
        ("Lead_Status not in ('Contacted')", ["1002"]),
        ("Designation is null", ["1001", "1003"]),
        ("Designation is not null", ["1002"]),
        ("Annual_Revenue is null", ["1003"]),
        ("Email_Opt_Out = true", ["1002"]),
        ("Next_Follow_Up > '2025-01-01'", ["1001"]),
        ("Last_Contacted_At < '2025-03-01T11:00:00+00:00'", ["1001", "1002"]),
        ("Product_Interest = 'Mail'", ["1001"]),
        ("Owner = '738964000000291017'", ["1001", "1003"]),
        ("Owner.name = 'Leo Park'", ["1002"]),
        ("id = '1002'", ["1002"]),
        ("id in (1001, 1003)", ["1001", "1003"]),
        (
            "(Lead_Status = 'Contacted' and No_of_Employees > 100) or Last_Name = 'Patel'",
            ["1001", "1002", "1003"],
        ),
        (
            "Lead_Status = 'Contacted' and (No_of_Employees > 500 or Company like 'Acme L%')",
            ["1001", "1003"],
        ),
    ],
)
def test_a_coql_where_clause_selects_the_matching_rows(where, expected):
    assert _coql_ids(where) == expected


def test_field_names_are_case_sensitive_in_coql():
    with pytest.raises(QueryError) as raised:
        _coql_ids("lead_status = 'Contacted'")

    assert raised.value.details["column_name"] == "lead_status"


def test_text_comparisons_ignore_case():
    assert _coql_ids("Lead_Status = 'contacted'") == ["1001", "1003"]


def test_order_by_and_limit_offset_page_through_the_rows():
    query = parse_coql(
        "select Last_Name, No_of_Employees from Leads where No_of_Employees > 0 "
        "order by No_of_Employees desc limit 1, 1"
    )

    rows, more = query.run(ROWS)

    assert rows == [{"id": "1001", "Last_Name": "Okafor", "No_of_Employees": 250}]
    assert more is True


def test_limit_with_offset_keyword_means_the_same_as_the_comma_form():
    comma = parse_coql("select Last_Name from Leads where id is not null limit 1, 2")
    keyword = parse_coql("select Last_Name from Leads where id is not null limit 2 offset 1")

    assert (comma.offset, comma.limit) == (keyword.offset, keyword.limit) == (1, 2)


def test_lookup_columns_come_back_as_their_id():
    query = parse_coql("select Owner, Owner.name from Leads where id = '1001'")

    rows, _ = query.run(ROWS)

    assert rows == [{"id": "1001", "Owner": {"id": "738964000000291017"}, "Owner.name": "Maya Rao"}]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("select Last_Name from Leads", "SYNTAX_ERROR"),
        ("delete from Leads where id = 1", "SYNTAX_ERROR"),
        ("select from Leads where id = 1", "SYNTAX_ERROR"),
        ("select Last_Name from Leads where", "SYNTAX_ERROR"),
        ("select Last_Name from Leads where Last_Name === 'x'", "SYNTAX_ERROR"),
        ("select Nope from Leads where id = 1", "INVALID_QUERY"),
        ("select Last_Name from Nowhere where id = 1", "INVALID_QUERY"),
        ("select Last_Name from Leads where Owner > 'x'", "INVALID_QUERY"),
        ("select Last_Name from Leads where id = 1 limit 201", "LIMIT_EXCEEDED"),
        ("select Last_Name from Leads where id = 1 limit 9900, 200", "LIMIT_EXCEEDED"),
    ],
)
def test_bad_coql_is_refused_with_zohos_code(text, code):
    with pytest.raises(QueryError) as raised:
        parse_coql(text)

    assert raised.value.code == code


def _search_ids(criteria: str) -> list[str]:
    node = parse_search_criteria(LEADS, criteria)
    return [row["id"] for row in ROWS if node.matches(row)]


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ("(Last_Name:equals:okafor)", ["1001"]),
        ("(Company:starts_with:acme)", ["1001", "1003"]),
        ("((Company:starts_with:Acme)and(Lead_Status:equals:Contacted))", ["1001", "1003"]),
        ("((Last_Name:equals:Patel)or(Last_Name:equals:Acosta))", ["1002", "1003"]),
        ("(Last_Name:equals:Patel,Acosta)", ["1002", "1003"]),
        (
            "(((Last_Name:equals:Patel)or(Last_Name:equals:Okafor))and(Email_Opt_Out:equals:true))",
            ["1002"],
        ),
        ("(No_of_Employees:equals:1000)", ["1003"]),
        ("(Owner:equals:Maya Rao)", ["1001", "1003"]),
        ("(Product_Interest:equals:Desk)", ["1003"]),
        ("Last_Name:equals:Okafor", ["1001"]),
    ],
)
def test_search_criteria_select_the_matching_rows(criteria, expected):
    assert _search_ids(criteria) == expected


def test_and_binds_tighter_than_or_in_search_criteria():
    criteria = "((Last_Name:equals:Patel)or(Last_Name:equals:Okafor)and(Email_Opt_Out:equals:true))"

    assert _search_ids(criteria) == ["1002"]
