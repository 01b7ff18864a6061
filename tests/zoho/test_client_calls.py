"""Reads, writes and metadata: URLs, chunking, paging, 204s and how results are matched."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from responses import matchers

from crmadmin.zoho.client import NO_RESPONSE, build_criteria
from crmadmin.zoho.errors import ZohoRequestError, ZohoServerError

from .conftest import (
    BASE,
    MASS_UPDATE_URL,
    MODULES_URL,
    SCHEDULED,
    sent_json,
    success,
    zoho_error,
)


def query(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


# --- Metadata ------------------------------------------------------------------------------


def test_modules_keeps_only_api_supported_editable_visible_modules(wire, make_client):
    wire.get(
        MODULES_URL,
        json={
            "modules": [
                {
                    "api_name": "Leads",
                    "api_supported": True,
                    "editable": True,
                    "visibility": 1,
                    "generated_type": "default",
                },
                {
                    "api_name": "Vehicles",
                    "api_supported": True,
                    "editable": True,
                    "generated_type": "custom",
                },
                {"api_name": "Home", "api_supported": False, "editable": False},
                {"api_name": "Notes", "api_supported": True, "editable": False},
                {
                    "api_name": "Line_Items",
                    "api_supported": True,
                    "editable": True,
                    "visibility": 2,
                    "generated_type": "subform",
                },
                {"api_name": "Hidden", "api_supported": True, "editable": True, "visible": False},
            ]
        },
    )

    assert [m["api_name"] for m in make_client().modules()] == ["Leads", "Vehicles"]


def test_mass_update_fields_are_those_flagged_mass_update_and_writable(wire, make_client):
    wire.get(
        BASE + "/settings/fields",
        match=[matchers.query_param_matcher({"module": "Leads"})],
        json={
            "fields": [
                {
                    "api_name": "Lead_Status",
                    "data_type": "picklist",
                    "mass_update": True,
                    "read_only": False,
                    "field_read_only": False,
                    "visible": True,
                },
                {"api_name": "Email", "data_type": "email", "mass_update": False},
                {
                    "api_name": "Owner",
                    "data_type": "ownerlookup",
                    "mass_update": True,
                    "field_read_only": True,
                },
                {"api_name": "Description", "data_type": "textarea", "mass_update": True},
                {
                    "api_name": "Rating",
                    "data_type": "picklist",
                    "mass_update": True,
                    "read_only": True,
                },
                {"api_name": "No_of_Employees", "data_type": "integer", "mass_update": True},
            ]
        },
    )

    names = [f["api_name"] for f in make_client().mass_update_fields("Leads")]

    assert names == ["Lead_Status", "No_of_Employees"]


def test_custom_views_are_listed_for_a_module(wire, make_client):
    wire.get(
        BASE + "/settings/custom_views",
        match=[matchers.query_param_matcher({"module": "Leads"})],
        json={"custom_views": [{"id": "4876876000000087501", "name": "All Leads"}], "info": {}},
    )

    assert make_client().custom_views("Leads")[0]["name"] == "All Leads"


def test_a_module_name_that_is_not_an_api_name_is_refused_before_any_call(wire, make_client):
    with pytest.raises(ZohoRequestError):
        make_client().get_record("../settings", "1")
    assert len(wire.calls) == 0


def test_check_summarises_the_modules_it_found(wire, make_client):
    wire.get(
        MODULES_URL,
        json={
            "modules": [
                {"api_name": n, "api_supported": True, "editable": True}
                for n in ["Leads", "Contacts", "Accounts", "Deals", "Tasks", "Cases"]
            ]
        },
    )

    assert make_client().check() == (
        "Connected: 6 modules available (Leads, Contacts, Accounts, Deals, Tasks, …)."
    )


# --- Reading records ---------------------------------------------------------------------


def test_get_records_asks_for_at_most_100_ids_a_call(wire, make_client):
    ids = [str(4876876000002100000 + n) for n in range(250)]

    def answer(request):
        asked = parse_qs(urlsplit(request.url).query)["ids"][0].split(",")
        # The last chunk's records "do not exist": Zoho answers 204.
        if asked[0] == ids[200]:
            return (204, {}, "")
        return (200, {}, json.dumps({"data": [{"id": i, "Rating": "Hot"} for i in asked]}))

    wire.add_callback("GET", BASE + "/Leads", callback=answer)

    records = make_client().get_records("Leads", ids, ["Rating", "Lead_Status"])

    sizes = [len(query(c)["ids"].split(",")) for c in wire.calls]
    assert sizes == [100, 100, 50]
    assert all(query(c)["fields"] == "Rating,Lead_Status" for c in wire.calls)
    assert list(records) == ids[:200]
    assert records[ids[0]]["Rating"] == "Hot"


def test_iter_records_follows_pages_of_200_until_no_more_records(wire, make_client):
    wire.get(
        BASE + "/Leads",
        match=[matchers.query_param_matcher({"per_page": "200", "page": "1", "fields": "Rating"})],
        json={"data": [{"id": "1"}, {"id": "2"}], "info": {"page": 1, "more_records": True}},
    )
    wire.get(
        BASE + "/Leads",
        match=[matchers.query_param_matcher({"per_page": "200", "page": "2", "fields": "Rating"})],
        json={"data": [{"id": "3"}], "info": {"page": 2, "more_records": False}},
    )

    assert [r["id"] for r in make_client().iter_records("Leads", ["Rating"])] == ["1", "2", "3"]


def test_iter_records_of_an_empty_view_yields_nothing_on_204(wire, make_client):
    wire.get(BASE + "/Leads", status=204, body="", content_type="application/json")

    assert list(make_client().iter_records("Leads", ["Rating"], cvid="42")) == []
    assert query(wire.calls[0])["cvid"] == "42"


def test_get_record_returns_the_record_or_none_when_it_does_not_exist(wire, make_client):
    wire.get(BASE + "/Leads/111", json={"data": [{"id": "111", "Rating": "Hot"}]})
    wire.get(BASE + "/Leads/222", status=204, body="")
    wire.get(
        BASE + "/Leads/333",
        json=zoho_error("INVALID_DATA", "the id given seems to be invalid", id="333"),
        status=400,
    )
    client = make_client()

    assert client.get_record("Leads", "111") == {"id": "111", "Rating": "Hot"}
    assert client.get_record("Leads", "222") is None
    assert client.get_record("Leads", 333) is None


def test_search_pages_through_results_and_stops_at_2000(wire, make_client):
    def answer(request):
        page = int(parse_qs(urlsplit(request.url).query)["page"][0])
        rows = [{"id": str(page * 1000 + n)} for n in range(200)]
        return (200, {}, json.dumps({"data": rows, "info": {"page": page, "more_records": True}}))

    wire.add_callback("GET", BASE + "/Leads/search", callback=answer)

    results = make_client().search("Leads", "(Lead_Status:equals:New)")

    assert len(results) == 2000
    assert len(wire.calls) == 10
    assert query(wire.calls[0])["criteria"] == "(Lead_Status:equals:New)"


def test_search_with_no_match_returns_an_empty_list(wire, make_client):
    wire.get(BASE + "/Leads/search", status=204)

    assert make_client().search("Leads", "(Company:starts_with:Zz)") == []


def test_build_criteria_escapes_parentheses_commas_and_backslashes():
    assert build_criteria([("Company", "equals", "Smith, Jones (UK)")]) == (
        r"(Company:equals:Smith\, Jones \(UK\))"
    )
    assert build_criteria([("A", "equals", "x"), ("B", "starts_with", "a\\b")]) == (
        r"((A:equals:x)and(B:starts_with:a\\b))"
    )


def test_coql_posts_the_query_and_returns_rows(wire, make_client):
    wire.post(
        BASE + "/coql",
        match=[
            matchers.json_params_matcher(
                {"select_query": "select id from Leads where id is not null limit 0, 200"}
            )
        ],
        json={"data": [{"id": "1"}], "info": {"count": 1, "more_records": False}},
    )
    wire.post(BASE + "/coql", status=204)
    client = make_client()

    assert client.coql("select id from Leads where id is not null limit 0, 200") == [{"id": "1"}]
    assert client.coql("select id from Leads where Rating = 'None' limit 0, 200") == []


def test_a_read_answered_with_something_that_is_not_json_raises_a_server_error(wire, make_client):
    wire.get(MODULES_URL, body="<html>maintenance</html>", status=200)

    with pytest.raises(ZohoServerError) as caught:
        make_client().modules()

    assert caught.value.code == "INVALID_RESPONSE"


# --- Mass update -------------------------------------------------------------------------


def test_mass_update_sends_ids_as_strings_and_omits_over_write_unless_given(wire, make_client):
    wire.post(MASS_UPDATE_URL, json={"data": [success("111"), success("222")]})
    wire.post(MASS_UPDATE_URL, json={"data": [success("111")]})
    client = make_client()

    client.mass_update("Leads", [111, 222], {"Rating": "Hot"})
    client.mass_update("Leads", [111], {"Tags_List": ["A"]}, over_write=False)

    assert sent_json(wire.calls[0]) == {"data": [{"Rating": "Hot"}], "ids": ["111", "222"]}
    assert sent_json(wire.calls[1])["over_write"] is False
    assert wire.calls[0].request.headers["Content-Type"] == "application/json"


def test_mass_update_of_more_than_500_ids_is_refused_before_any_call(wire, make_client):
    with pytest.raises(ZohoRequestError) as caught:
        make_client().mass_update("Leads", [str(n) for n in range(1200)], {"Rating": "Hot"})

    assert caught.value.code == "LIMIT_EXCEEDED"
    assert "at most 500" in str(caught.value)
    assert len(wire.calls) == 0


def test_a_mixed_result_keeps_each_ids_own_outcome_and_marks_missing_ids(wire, make_client):
    wire.post(
        MASS_UPDATE_URL,
        status=207,
        json={
            "data": [
                zoho_error(
                    "RECORD_LOCKED", "the record is locked", action="record_locking", id="333"
                ),
                success("111"),
            ]
        },
    )

    result = make_client().mass_update("Leads", ["111", "222", "333"], {"Rating": "Hot"})

    assert [(o.record_id, o.code) for o in result.outcomes] == [
        ("111", "SUCCESS"),
        ("222", NO_RESPONSE),
        ("333", "RECORD_LOCKED"),
    ]
    assert [o.record_id for o in result.succeeded] == ["111"]
    assert result.counts() == {"SUCCESS": 1, NO_RESPONSE: 1, "RECORD_LOCKED": 1}


def test_a_request_level_error_inside_data_does_not_override_a_records_own_outcome(
    wire, make_client
):
    wire.post(
        MASS_UPDATE_URL,
        status=207,
        json={"data": [success("111"), zoho_error("INVALID_DATA", "invalid data")]},
    )

    result = make_client().mass_update("Leads", ["111", "222"], {"Rating": "Hot"})

    assert [(o.record_id, o.code) for o in result.outcomes] == [
        ("111", "SUCCESS"),
        ("222", "INVALID_DATA"),
    ]
    assert result.request_error.code == "INVALID_DATA"


def test_a_write_answered_with_204_and_no_body_gives_no_response_outcomes(wire, make_client):
    wire.post(MASS_UPDATE_URL, status=204, body="", content_type="application/json")

    result = make_client().mass_update("Leads", ["111", "222"], {"Rating": "Hot"})

    assert [o.code for o in result.outcomes] == [NO_RESPONSE, NO_RESPONSE]
    assert result.http_status == 204


def test_mass_update_by_view_returns_the_scheduled_job_id(wire, make_client):
    wire.post(
        MASS_UPDATE_URL,
        json=SCHEDULED,
    )

    job_id = make_client().mass_update_by_view("Leads", "4876876000000087501", {"Rating": "Hot"})

    assert job_id == "4876876000005120003"
    assert sent_json(wire.calls[0]) == {"data": [{"Rating": "Hot"}], "cvid": "4876876000000087501"}


def test_mass_update_by_view_raises_when_a_job_is_already_scheduled(wire, make_client):
    wire.post(
        MASS_UPDATE_URL,
        status=202,
        json=zoho_error(
            "ALREADY_SCHEDULED",
            "Already a Mass Action scheduler is running for the given cvid",
            api_name="cvid",
        ),
    )

    with pytest.raises(ZohoRequestError) as caught:
        make_client().mass_update_by_view("Leads", "4876876000000087501", {"Rating": "Hot"})

    assert caught.value.code == "ALREADY_SCHEDULED"


def test_mass_update_status_returns_the_counts(wire, make_client):
    status = {
        "Status": "RUNNING",
        "Failed_Count": 0,
        "Updated_Count": 1200,
        "Not_Updated_Count": 800,
        "Total_Count": 2000,
    }
    wire.get(
        MASS_UPDATE_URL,
        match=[matchers.query_param_matcher({"job_id": "4876876000005120003"})],
        json={"data": [status]},
    )

    assert make_client().mass_update_status("Leads", "4876876000005120003") == status


# --- Updating records one by one (undo) --------------------------------------------------


def test_update_records_puts_at_most_100_records_a_call_with_one_outcome_each(wire, make_client):
    records = [{"id": 5000 + n, "Rating": "Warm"} for n in range(250)]

    def answer(request):
        sent = json.loads(request.body)["data"]
        return (200, {}, json.dumps({"data": [success(r["id"]) for r in sent]}))

    wire.add_callback("PUT", BASE + "/Leads", callback=answer)

    result = make_client().update_records("Leads", records, trigger=[])

    assert [len(sent_json(c)["data"]) for c in wire.calls] == [100, 100, 50]
    assert all(sent_json(c)["trigger"] == [] for c in wire.calls)
    assert [o.record_id for o in result.outcomes] == [str(r["id"]) for r in records]
    assert all(o.ok for o in result.outcomes)
    assert result.http_status == 200


def test_update_records_matches_an_error_without_id_by_its_json_path(wire, make_client):
    wire.put(
        BASE + "/Leads",
        status=207,
        json={
            "data": [
                success("111"),
                zoho_error(
                    "INVALID_DATA",
                    "invalid data",
                    api_name="No_of_Employees",
                    json_path="$.data[1].No_of_Employees",
                    expected_data_type="integer",
                ),
            ]
        },
    )

    result = make_client().update_records(
        "Leads", [{"id": "111", "No_of_Employees": 5}, {"id": "222", "No_of_Employees": "many"}]
    )

    assert [(o.record_id, o.code) for o in result.outcomes] == [
        ("111", "SUCCESS"),
        ("222", "INVALID_DATA"),
    ]
    assert result.outcomes[1].details["expected_data_type"] == "integer"
    assert "trigger" not in sent_json(wire.calls[0])


def test_update_records_without_ids_is_refused_before_any_call(wire, make_client):
    with pytest.raises(ZohoRequestError):
        make_client().update_records("Leads", [{"Rating": "Hot"}])
    assert len(wire.calls) == 0


# --- Transport ---------------------------------------------------------------------------


def test_every_call_carries_the_configured_timeout(wire, connection, settings):
    from crmadmin.zoho.client import ZohoClient

    settings.CRMADMIN_HTTP_TIMEOUT = 7
    wire.get(MODULES_URL, json={"modules": []})

    ZohoClient(connection).modules()

    assert wire.calls[0].request.req_kwargs["timeout"] == 7


def test_each_attempt_is_reported_as_an_exchange_with_its_timing(wire, make_client):
    wire.get(MODULES_URL, json={"code": "INTERNAL_ERROR"}, status=500)
    wire.get(
        MODULES_URL,
        json={"modules": []},
        headers={"X-API-CREDITS-REMAINING": "4200"},
    )
    exchanges = []
    client = make_client(on_exchange=exchanges.append)

    client.modules()

    assert [(e.http_status, e.attempt) for e in exchanges] == [(500, 1), (200, 2)]
    assert all(e.duration >= 0 and e.started_at for e in exchanges)
    assert exchanges[0].url == MODULES_URL
    assert client.stats.as_dict() == {
        "attempts": 2,
        "retries": {"server_error": 1},
        "refreshes": {},
        "credits_remaining": 4200,
    }
