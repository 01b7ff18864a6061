"""GET /{module}/search: v2.1 criteria, email/phone/word, paging and errors."""

import pytest

from crmadmin.sandbox import oauth
from crmadmin.sandbox.models import Record


def _searchable_leads() -> list[Record]:
    # Search leaves out converted leads and, by default, those awaiting approval.
    return list(
        Record.objects.filter(module="Leads", converted=False, approval_state=Record.APPROVED)
    )


def _ids(response) -> list[str]:
    return [row["id"] for row in response.json()["data"]]


def test_equals_and_starts_with_combined_with_and_find_exactly_the_matching_records(api):
    sample = _searchable_leads()[0]
    rating, prefix = sample.data["Rating"] or "Hot", sample.data["Last_Name"][:2]
    expected = sorted(
        (
            r.id
            for r in _searchable_leads()
            if r.data["Rating"] == rating and r.data["Last_Name"].lower().startswith(prefix.lower())
        ),
        key=int,
    )

    response = api.get(
        "Leads/search",
        params={"criteria": f"((Rating:equals:{rating})and(Last_Name:starts_with:{prefix}))"},
    )

    assert response.status_code == 200
    assert _ids(response) == expected
    assert response.json()["info"]["count"] == len(expected)


def test_or_finds_records_matching_either_condition(api):
    expected = sorted(
        (r.id for r in _searchable_leads() if r.data["Rating"] in {"Hot", "Cold"}), key=int
    )

    response = api.get(
        "Leads/search",
        params={"criteria": "((Rating:equals:Hot)or(Rating:equals:Cold))", "per_page": 200},
    )

    assert _ids(response) == expected


def test_escaped_parentheses_and_commas_are_part_of_the_value(api, free_leads):
    lead = free_leads[0]
    lead.data["Company"] = "Smith (UK), Ltd"
    lead.save()

    response = api.get("Leads/search", params={"criteria": r"(Company:equals:Smith \(UK\)\, Ltd)"})

    assert _ids(response) == [lead.id]


def test_no_match_gives_204_with_no_body(api):
    response = api.get("Leads/search", params={"criteria": "(Last_Name:equals:Nobody-At-All)"})

    assert response.status_code == 204
    assert response.content == b""


@pytest.mark.parametrize(
    "criteria",
    [
        "(No_of_Employees:greater_than:10)",
        "(Nope:equals:1)",
        "((Rating:equals:Hot)",
        "(Rating:equals:Hot)and",
        "(Rating:equals)",
        "(" + ")and(".join(["Rating:equals:Hot"] * 11) + ")",
    ],
    ids=["operator", "field", "parenthesis", "dangling and", "no value", "eleven conditions"],
)
def test_bad_criteria_are_an_invalid_query(api, criteria):
    response = api.get("Leads/search", params={"criteria": criteria})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "INVALID_QUERY" and body["message"] == "invalid query formed"
    assert set(body) == {"code", "details", "message", "status"}


def test_ten_conditions_are_allowed(api):
    criteria = "(" + ")or(".join(["Rating:equals:Hot"] * 10) + ")"

    response = api.get("Leads/search", params={"criteria": criteria})

    assert response.status_code == 200


def test_email_search_finds_the_record_with_that_email(api, free_leads):
    lead = free_leads[3]

    response = api.get("Leads/search", params={"email": lead.data["Email"].upper()})

    assert lead.id in _ids(response)


def test_phone_search_matches_the_digits(api, free_leads):
    lead = free_leads[2]
    lead.data["Mobile"] = "+1 (415) 555-0199"
    lead.save()

    response = api.get("Leads/search", params={"phone": "4155550199"})

    assert _ids(response) == [lead.id]


def test_word_search_finds_text_anywhere(api, free_leads):
    lead = free_leads[1]
    lead.data["Company"] = "Quixotic Widgets Ltd"
    lead.save()

    response = api.get("Leads/search", params={"word": "quixotic"})

    assert _ids(response) == [lead.id]


@pytest.mark.parametrize("word", ["q", "wid<gets>"])
def test_a_word_that_is_too_short_or_has_special_characters_is_invalid(api, word):
    response = api.get("Leads/search", params={"word": word})

    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_DATA"


def test_search_without_criteria_email_phone_or_word_is_refused(api):
    response = api.get("Leads/search")

    assert response.status_code == 400
    assert response.json()["code"] == "EXPECTED_PARAM_MISSING"


def test_search_pages_and_says_when_more_records_follow(api):
    criteria = "((Rating:equals:Hot)or(Rating:equals:Warm)or(Rating:equals:Cold))"
    ratings = {"Hot", "Warm", "Cold"}
    expected = sorted((r.id for r in _searchable_leads() if r.data["Rating"] in ratings), key=int)
    assert len(expected) > 10

    first = api.get("Leads/search", params={"criteria": criteria, "per_page": 5})
    second = api.get("Leads/search", params={"criteria": criteria, "per_page": 5, "page": 2})

    assert first.json()["info"] == {"per_page": 5, "count": 5, "page": 1, "more_records": True}
    assert _ids(first) + _ids(second) == expected[:10]


def test_results_beyond_the_first_2000_are_out_of_reach(api):
    response = api.get(
        "Leads/search", params={"criteria": "(Rating:equals:Hot)", "page": 11, "per_page": 200}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "LIMIT_REACHED"
    assert response.json()["message"] == "Maximum response iteration limit reached"


def test_search_needs_the_zoho_search_scope(api):
    token = oauth.issue_access_token(["ZohoCRM.modules.ALL"])

    response = api.get("Leads/search", params={"word": "acme"}, token=token)

    assert response.status_code == 401
    assert response.json()["code"] == "OAUTH_SCOPE_MISMATCH"
