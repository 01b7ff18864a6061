"""Bad input to every endpoint gets a Zoho error envelope over HTTP, never a 5xx."""

import pytest

from crmadmin.sandbox.seed import SUCCESS_LEADS, seed

LEAD = SUCCESS_LEADS[0][0]
DEEP = "[" * 50_000
HUGE_NUMBER = "9" * 400  # a JSON integer no double can hold
TOO_BIG_BODY = '{"data": [{"Last_Name": "' + "x" * 3_000_000 + '"}], "ids": ["1"]}'

BODY_ENDPOINTS = [
    ("POST", "Leads/actions/mass_update"),
    ("PUT", "Leads"),
    ("PUT", f"Leads/{LEAD}"),
    ("POST", "coql"),
]
BAD_BODIES = {
    "malformed": b'{"data": [',
    "a list": b"[]",
    "a string": b'"text"',
    "a number": b"1",
    "null": b"null",
    "empty": b"",
    "data not a list": b'{"data": "x", "ids": ["1"]}',
    "data an object": b'{"data": {"Rating": "Hot"}, "ids": ["1"]}',
    "nested garbage": (
        b'{"data": [{"Rating": {"a": [1, {"b": null}]}, "id": [[]]}, 7, null],'
        b' "ids": [[1], {"x": 1}, null, true, 1.5, -3], "cvid": {"a": 1},'
        b' "over_write": "yes", "trigger": {"a": 1}, "select_query": ["select"]}'
    ),
    "non-UTF-8": b'{"data": [{"Last_Name": "\xff\xfe"}], "ids": ["1"]}',
    "deeply nested": DEEP.encode(),
    "too big": TOO_BIG_BODY.encode(),
    "a double too large": (
        b'{"data": [{"Annual_Revenue": ' + HUGE_NUMBER.encode() + b'}], "ids": ["1"]}'
    ),
    "append_values not an object": (
        f'{{"data": [{{"id": "{LEAD}", "Rating": "Hot", "$append_values": "Rating"}}]}}'.encode()
    ),
}
BAD_MASS_UPDATES = {
    "ids not a list": {"data": [{"Rating": "Hot"}], "ids": "1,2"},
    "ids an object": {"data": [{"Rating": "Hot"}], "ids": {"id": 1}},
    "ids that are no ids": {
        "data": [{"Rating": "Hot"}],
        "ids": [[1], {"x": 1}, None, True, 1.5, -3, "", "\u0661\u0662", int(HUGE_NUMBER)],
    },
    "cvid an object": {"data": [{"Rating": "Hot"}], "cvid": {"id": 1}},
    "territory garbage": {"data": [{"Rating": "Hot"}], "cvid": "1", "territory": [1]},
}
COQL = "select Last_Name from Leads where "
BAD_QUERIES = {
    "unbalanced quote": COQL + "Last_Name = 'abc",
    "unbalanced parenthesis": COQL + "(Last_Name = 'a' or Rating = 'Hot'",
    "a stray closing parenthesis": COQL + "Last_Name = 'a')",
    "deep parentheses": COQL + "(" * 5000 + "Last_Name = 'a'" + ")" * 5000,
    "a limit beyond any integer": COQL + "Last_Name = 'a' limit " + "9" * 5000,
    "a literal beyond any integer": COQL + "Annual_Revenue > " + "9" * 5000,
    "not a select": "delete from Leads where id = 1",
}
BAD_GETS = {
    "page beyond any integer": ("Leads", {"page": "9" * 30}),
    "per_page negative": ("Leads", {"per_page": "-1"}),
    "sort_by traversal": ("Leads", {"sort_by": "../../etc/passwd"}),
    "converted not a choice": ("Leads", {"converted": "maybe"}),
    "too many fields": ("Leads", {"fields": ",".join(f"F{n}" for n in range(60))}),
    "unknown cvid": ("Leads", {"cvid": "../1"}),
    "unknown record": ("Leads/..%2F..%2Fetc%2Fpasswd", {}),
    "traversal module": ("..%2F..%2Fsettings", {}),
    "NUL in the module": ("Leads%00", {}),
    "unbalanced criteria": ("Leads/search", {"criteria": "((Last_Name:equals:a)"}),
    "a stray closing criteria parenthesis": ("Leads/search", {"criteria": "(Rating:equals:a))"}),
    "deep criteria": ("Leads/search", {"criteria": "(" * 5000 + "Rating:equals:a" + ")" * 5000}),
    "no job id": ("Leads/actions/mass_update", {"job_id": ""}),
    "fields of no module": ("settings/fields", {"module": "../Leads"}),
    "views of no module": ("settings/custom_views", {"module": "\x00"}),
    "a view of no module": ("settings/custom_views/1", {}),
}
HARMLESS_GETS = {
    "unknown parameters": ("Leads", {"colour": "blue", "per_page": "2"}),
    "ids that are not ids": ("Leads", {"ids": f"abc,,-1,{HUGE_NUMBER},{LEAD},{LEAD}"}),
    "an unknown job id": ("Leads/actions/mass_update", {"job_id": HUGE_NUMBER}),
    "modules with unknown parameters": ("settings/modules", {"x": "../y"}),
    "non-UTF-8 criteria": ("Leads/search", {"criteria": b"(Rating:equals:\xff)"}),
    "a number beyond any double": (
        "Leads/search",
        {"criteria": f"(Annual_Revenue:equals:{HUGE_NUMBER})"},
    ),
}


@pytest.fixture
def crm(transactional_db) -> dict:
    """The smallest seed: these tests need a lead to exist, not a realistic CRM."""
    return seed(leads=10)


def assert_zoho_error(response) -> None:
    """A 4xx top-level error, or an error entry per record (mass update: even under 200)."""
    assert response.status_code < 500, response.text[:300]
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    body = response.json()
    entries = body["data"] if set(body) == {"data"} else [body]
    if entries == [body]:
        assert 400 <= response.status_code < 500
    assert entries
    for entry in entries:
        assert set(entry) == {"code", "details", "message", "status"}, entry
        assert entry["status"] == "error" and isinstance(entry["details"], dict)


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_a_bad_body_gets_an_error_envelope_from_every_endpoint_that_reads_one(api, body):
    for method, path in BODY_ENDPOINTS:
        response = api.request(
            method, path, data=body, headers={"Content-Type": "application/json"}
        )

        assert_zoho_error(response)


@pytest.mark.parametrize("body", BAD_MASS_UPDATES.values(), ids=BAD_MASS_UPDATES.keys())
def test_a_bad_mass_update_gets_error_entries(api, body):
    assert_zoho_error(api.mass_update("Leads", body))


def test_a_coql_literal_beyond_any_double_matches_nothing(api):
    query = f"{COQL}Annual_Revenue > {HUGE_NUMBER}"

    response = api.post("coql", json={"select_query": query})

    assert response.status_code == 204


@pytest.mark.parametrize("query", BAD_QUERIES.values(), ids=BAD_QUERIES.keys())
def test_a_bad_coql_query_is_a_400(api, query):
    response = api.post("coql", json={"select_query": query})

    assert response.status_code == 400
    assert_zoho_error(response)


@pytest.mark.parametrize(("path", "params"), BAD_GETS.values(), ids=BAD_GETS.keys())
def test_a_bad_read_gets_a_4xx_error(api, path, params):
    assert_zoho_error(api.get(path, params=params))


@pytest.mark.parametrize(("path", "params"), HARMLESS_GETS.values(), ids=HARMLESS_GETS.keys())
def test_odd_but_harmless_reads_are_answered(api, path, params):
    response = api.get(path, params=params)

    assert response.status_code in {200, 204, 404}
    if response.status_code == 404:
        assert_zoho_error(response)
