"""POST /coql over HTTP: the response envelope, paging and errors."""

from crmadmin.sandbox import oauth
from crmadmin.sandbox.models import Record


def _coql(api, query: str, **kwargs):
    return api.post("coql", json={"select_query": query}, **kwargs)


def test_a_select_returns_the_matching_rows_with_their_ids_and_info(api):
    expected = {
        r.id
        for r in Record.objects.filter(module="Leads")
        if r.data["Lead_Status"] == "Contacted" or (r.data["No_of_Employees"] or 0) > 1000
    }

    response = _coql(
        api,
        "select Last_Name, Company, No_of_Employees from Leads "
        "where (Lead_Status = 'Contacted' or No_of_Employees > 1000) limit 0, 200",
    )

    assert response.status_code == 200
    body = response.json()
    assert {row["id"] for row in body["data"]} == expected
    assert set(body["data"][0]) == {"id", "Last_Name", "Company", "No_of_Employees"}
    assert body["info"] == {"count": len(expected), "more_records": False}


def test_limit_and_offset_page_through_the_rows_in_order(api):
    query = "select Last_Name from Leads where No_of_Employees >= 0 order by id asc"
    everything = _coql(api, query + " limit 0, 200").json()["data"]

    page = _coql(api, query + " limit 5 offset 10").json()

    assert [row["id"] for row in page["data"]] == [row["id"] for row in everything[10:15]]
    assert page["info"] == {"count": 5, "more_records": True}


def test_no_matching_row_gives_204_with_no_body(api):
    response = _coql(api, "select Last_Name from Leads where Last_Name = 'Nobody-At-All'")

    assert response.status_code == 204
    assert response.content == b""


def test_a_query_without_where_is_a_syntax_error(api):
    response = _coql(api, "select Last_Name from Leads limit 10")

    assert response.status_code == 400
    assert response.json()["code"] == "SYNTAX_ERROR"


def test_a_statement_that_is_not_a_select_is_a_syntax_error(api):
    response = _coql(api, "update Leads set Rating = 'Hot' where id = 1")

    assert response.status_code == 400
    assert response.json()["code"] == "SYNTAX_ERROR"


def test_a_missing_select_query_is_mandatory_not_found(api):
    response = api.post("coql", json={"query": "select Last_Name from Leads where id = 1"})

    assert response.status_code == 400
    assert response.json() == {
        "code": "MANDATORY_NOT_FOUND",
        "details": {"api_name": "select_query"},
        "message": "mandatory key not found",
        "status": "error",
    }


def test_more_than_200_rows_a_call_is_refused(api):
    response = _coql(api, "select Last_Name from Leads where id is not null limit 0, 201")

    assert response.status_code == 400
    assert response.json()["code"] == "LIMIT_EXCEEDED"


def test_coql_needs_the_coql_scope_and_the_modules_read_scope(api):
    without_coql = oauth.issue_access_token(["ZohoCRM.modules.ALL"])
    without_module = oauth.issue_access_token(["ZohoCRM.coql.READ", "ZohoCRM.modules.Deals.READ"])
    query = "select Last_Name from Leads where id is not null"

    assert _coql(api, query, token=without_coql).status_code == 401
    assert _coql(api, query, token=without_module).json()["code"] == "OAUTH_SCOPE_MISMATCH"


def test_from_v7_a_call_may_ask_for_2000_rows(api):
    query = "select Last_Name from Leads where id is not null"

    allowed = _coql(api, query + " limit 2000", version="v7")
    refused = _coql(api, query + " limit 2001", version="v7")
    too_far = _coql(api, query + " limit 99000, 2000", version="v7")

    assert allowed.status_code == 200
    assert allowed.json()["info"]["count"] == Record.objects.filter(module="Leads").count()
    assert refused.status_code == 400 and refused.json()["details"] == {"limit": 2000}
    assert too_far.status_code == 400 and too_far.json()["details"] == {"limit": 100_000}
