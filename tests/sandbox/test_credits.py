"""Daily API credits: what each call costs, the 429 when they run out, the header."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from crmadmin.sandbox import credits, faults, oauth
from crmadmin.sandbox.models import CreditBucket, Record

TOO_MANY = {
    "code": "TOO_MANY_REQUESTS",
    "details": {},
    "message": (
        "Number of API requests for the 24 hour period is exceeded or the concurrency "
        "limit of the user for the app is exceeded."
    ),
    "status": "error",
}
HEADER = "X-API-CREDITS-REMAINING"
COQL = "select Last_Name from Leads where id is not null"


def _get(api) -> requests.Response:
    return api.get("Leads", params={"per_page": 1, "fields": "Last_Name"})


def _put(api, leads: list[Record], count: int) -> requests.Response:
    entries = [{"id": leads[n % len(leads)].id, "Rating": "Cold"} for n in range(count)]
    return api.put("Leads", json={"data": entries})


def _minute_ago(minutes: int):
    return timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=minutes)


def test_when_the_budget_is_spent_calls_get_429_without_retry_after(api):
    faults.configure(credits=3)

    spent = [_get(api).status_code for _ in range(3)]
    refused = _get(api)

    assert spent == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.json() == TOO_MANY
    assert refused.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert "Retry-After" not in refused.headers
    assert refused.headers[HEADER] == "0"
    assert credits.used() == 3  # the refused call cost nothing


def test_the_remaining_credits_header_appears_from_half_the_budget_on(api):
    faults.configure(credits=4)

    first, second, third = (_get(api) for _ in range(3))

    assert HEADER not in first.headers  # 1 of 4 used
    assert second.headers[HEADER] == "2"  # 2 of 4: half
    assert third.headers[HEADER] == "1"


def test_a_call_refused_for_its_parameters_is_charged_and_carries_the_header(api):
    faults.configure(credits=2)
    _get(api)

    response = api.get("Leads", params={"page": "two"})

    assert response.status_code == 400 and response.json()["code"] == "INVALID_DATA"
    assert response.headers[HEADER] == "0"
    assert credits.used() == 2


def test_a_call_refused_before_it_reaches_an_api_is_free_but_carries_the_header(api):
    faults.configure(credits=4)
    early = api.get("Nope")
    _get(api)
    _get(api)

    responses = [api.get("Nope"), api.get("Leads/actions/nothing"), api.post("Leads")]

    assert early.status_code == 400 and HEADER not in early.headers
    assert [r.status_code for r in responses] == [400, 404, 400]
    assert [r.headers[HEADER] for r in responses] == ["2", "2", "2"]
    assert credits.used() == 2


def test_the_default_budget_never_shows_the_header_or_refuses(api):
    assert faults.get_config().credits == 1_000_000

    responses = [_get(api) for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert all(HEADER not in r.headers for r in responses)
    assert credits.used() == 3


@pytest.mark.parametrize(("records", "cost"), [(1, 1), (10, 1), (11, 2), (20, 2), (21, 3)])
def test_put_costs_one_credit_per_ten_records(api, free_leads, records, cost):
    response = _put(api, free_leads, records)

    assert response.status_code == 200
    assert credits.used() == cost


def test_a_put_the_budget_cannot_pay_for_is_refused_and_writes_nothing(api, free_leads):
    faults.configure(credits=2)
    lead = free_leads[0]

    refused = _put(api, [lead], 21)  # 3 credits
    paid = _put(api, [lead], 11)  # 2 credits

    assert refused.status_code == 429 and refused.json() == TOO_MANY
    assert HEADER not in refused.headers  # nothing spent yet
    assert paid.status_code == 200 and paid.headers[HEADER] == "0"
    assert credits.used() == 2


@pytest.mark.parametrize(
    ("version", "limit", "cost"),
    [
        ("v2.1", "", 1),  # no LIMIT: 200 rows
        ("v2.1", " limit 200", 1),
        ("v7", " limit 201", 2),
        ("v7", " limit 0, 1000", 2),
        ("v7", " limit 1001", 3),
        ("v7", " limit 2000 offset 10", 3),
    ],
)
def test_coql_costs_by_its_limit(api, version, limit, cost):
    response = api.post("coql", json={"select_query": COQL + limit}, version=version)

    assert response.status_code == 200
    assert credits.used() == cost


def test_a_coql_limit_above_what_the_version_allows_is_refused_for_one_credit(api):
    v2 = api.post("coql", json={"select_query": COQL + " limit 201"})
    v7 = api.post("coql", json={"select_query": COQL + " limit 2001"}, version="v7")

    assert v2.status_code == v7.status_code == 400
    assert v2.json()["details"] == {"limit": 200}
    assert v7.json()["details"] == {"limit": 2000}
    assert credits.used() == 2


def test_mass_update_costs_one_credit_whatever_the_number_of_ids(api, free_leads):
    ids = [lead.id for lead in free_leads[:30]]

    response = api.mass_update("Leads", {"data": [{"Rating": "Hot"}], "ids": ids})

    assert response.status_code == 200
    assert credits.used() == 1


def test_failed_authentication_costs_nothing(api):
    faults.configure(credits=1)
    no_coql_scope = oauth.issue_access_token(["ZohoCRM.modules.ALL"])
    no_module_scope = oauth.issue_access_token(["ZohoCRM.coql.READ"])  # found in the handler

    failures = [
        api.get("Leads", token=None),
        api.get("Leads", token="1000.not-a-token"),
        api.post("coql", json={"select_query": COQL}, token=no_coql_scope),
        api.post("coql", json={"select_query": COQL}, token=no_module_scope),
    ]

    assert [r.status_code for r in failures] == [401, 401, 401, 401]
    assert failures[3].json()["code"] == "OAUTH_SCOPE_MISMATCH"
    assert credits.used() == 0
    assert _get(api).status_code == 200
    assert _get(api).status_code == 429


def test_the_budget_holds_across_simultaneous_calls(api):
    faults.configure(credits=5)

    def call(_):
        return requests.get(
            api.url("Leads?per_page=1"),
            headers={"Authorization": f"Zoho-oauthtoken {api.token}"},
            timeout=10,
        ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(call, range(12)))

    assert sorted(statuses) == [200] * 5 + [429] * 7
    assert credits.used() == 5


def test_credits_spent_earlier_in_the_day_count_and_older_ones_do_not(api):
    # What a server that was restarted finds in its database.
    CreditBucket.objects.create(minute=_minute_ago(23 * 60), credits=4)
    CreditBucket.objects.create(minute=_minute_ago(24 * 60 + 1), credits=100)
    faults.configure(credits=5)

    last = _get(api)
    over = _get(api)

    assert last.status_code == 200 and last.headers[HEADER] == "0"
    assert over.status_code == 429
    assert credits.used() == 5


def test_a_new_minute_clears_the_buckets_that_left_the_window(api):
    CreditBucket.objects.create(minute=_minute_ago(24 * 60 + 1), credits=100)
    CreditBucket.objects.create(minute=_minute_ago(60), credits=7)

    _get(api)

    assert sorted(CreditBucket.objects.values_list("credits", flat=True)) == [1, 7]


def test_a_full_day_of_buckets_is_summed(api):
    minutes = 24 * 60
    # This minute and the 1439 before it: should a new minute begin before the call, the
    # oldest bucket is still inside the server's window.
    CreditBucket.objects.bulk_create(
        CreditBucket(minute=_minute_ago(m), credits=70) for m in range(minutes)
    )
    faults.configure(credits=minutes * 70 + 1)

    assert _get(api).headers[HEADER] == "0"
    assert _get(api).status_code == 429
