"""Authentication, scopes and Zoho's order of checks on the API."""

import pytest

from crmadmin.sandbox import faults, oauth
from crmadmin.sandbox.auth import covers

BODY = {"data": [{"Rating": "Hot"}], "ids": ["738964000002131264"]}


def test_the_zoho_header_and_bearer_are_both_accepted(api):
    for scheme in ("Zoho-oauthtoken", "Bearer"):
        assert api.get("Leads", scheme=scheme).status_code == 200, scheme


def test_bearer_can_be_refused_by_configuration(api):
    faults.configure(accept_bearer=False)

    refused = api.get("Leads", scheme="Bearer")

    assert refused.status_code == 401
    assert refused.json()["code"] == "AUTHENTICATION_FAILURE"
    assert api.get("Leads", scheme="Zoho-oauthtoken").status_code == 200


@pytest.mark.parametrize(
    "header", [None, "", "Zoho-oauthtoken", "Zoho-oauthtoken ", "Basic dXNlcjpwYXNz", "token"]
)
def test_a_missing_or_unreadable_header_is_an_authentication_failure(api, header):
    headers = {} if header is None else {"Authorization": header}

    response = api.get("Leads", token=None, headers=headers)

    assert response.status_code == 401
    assert response.json() == {
        "code": "AUTHENTICATION_FAILURE",
        "details": {},
        "message": "Authentication failed",
        "status": "error",
    }


def _invalid_token(response) -> bool:
    return response.status_code == 401 and response.json() == {
        "code": "INVALID_TOKEN",
        "details": {},
        "message": "invalid oauth token",
        "status": "error",
    }


def test_an_unknown_token_is_an_invalid_token(api):
    assert _invalid_token(api.get("Leads", token="1000.abc.def"))


def test_an_expired_token_is_an_invalid_token(api):
    assert api.get("Leads").status_code == 200

    expired = oauth.expire_all_access_tokens()

    assert expired == 1
    assert _invalid_token(api.get("Leads"))


def test_tokens_live_as_long_as_the_configured_ttl(api):
    faults.configure(token_ttl=0)
    short_lived = oauth.issue_access_token()

    assert _invalid_token(api.get("Leads", token=short_lived))


def test_the_token_of_a_revoked_refresh_token_is_an_invalid_token(api):
    client = oauth.create_client("app", [])
    refresh = oauth.issue_refresh_token(client)
    token = oauth.token_response(
        {
            "grant_type": "refresh_token",
            "client_id": client.client_id,
            "client_secret": client.client_secret,
            "refresh_token": refresh,
        },
        api_domain="x",
    )["access_token"]
    assert api.get("Leads", token=token).status_code == 200

    oauth.revoke_refresh_token(refresh)

    assert _invalid_token(api.get("Leads", token=token))


ENDPOINTS = [
    ("POST", "Leads/actions/mass_update", BODY, "ZohoCRM.modules.ALL", "ZohoCRM.mass_update.ALL"),
    (
        "POST",
        "Leads/actions/mass_update",
        BODY,
        "ZohoCRM.mass_update.Contacts.UPDATE",
        "ZohoCRM.mass_update.Leads.UPDATE",
    ),
    (
        "GET",
        "Leads/actions/mass_update?job_id=1",
        None,
        "ZohoCRM.mass_update.UPDATE",
        "ZohoCRM.mass_update.READ",
    ),
    ("GET", "Leads", None, "ZohoCRM.modules.Contacts.READ", "ZohoCRM.modules.Leads.READ"),
    ("GET", "Leads", None, "ZohoCRM.mass_update.ALL", "ZohoCRM.modules.leads.all"),
    (
        "PUT",
        "Leads",
        {"data": [{"id": "738964000002131264", "Rating": "Hot"}]},
        "ZohoCRM.modules.Leads.READ",
        "ZohoCRM.modules.Leads.WRITE",
    ),
    (
        "GET",
        "settings/fields?module=Leads",
        None,
        "ZohoCRM.settings.modules.READ",
        "ZohoCRM.settings.fields.READ",
    ),
    ("GET", "settings/modules", None, "ZohoCRM.modules.ALL", "ZohoCRM.settings.ALL"),
    (
        "GET",
        "settings/custom_views?module=Leads",
        None,
        "ZohoCRM.settings.fields.ALL",
        "ZohoCRM.settings.custom_views.READ",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "insufficient", "enough"), ENDPOINTS)
def test_each_endpoint_needs_its_own_scope(api, method, path, body, insufficient, enough):
    weak = oauth.issue_access_token([insufficient])
    strong = oauth.issue_access_token([enough])

    refused = api.request(method, path, json=body, token=weak)
    served = api.request(method, path, json=body, token=strong)

    assert refused.status_code == 401
    assert refused.json() == {
        "code": "OAUTH_SCOPE_MISMATCH",
        "details": {},
        "message": "invalid oauth scope to access this URL",
        "status": "error",
    }
    assert served.status_code != 401


def test_authentication_is_checked_before_the_url(api):
    assert api.get("No/Such/Url/At/All", token=None).status_code == 401


def test_an_unknown_url_is_an_invalid_url_pattern(api):
    for path in ("Leads/actions/nope", "settings/nope", "Leads/1/2/3", ""):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "INVALID_URL_PATTERN"
    assert api.get("Leads", version="v99x").status_code == 404


def test_the_method_is_checked_before_the_module(api):
    response = api.request("DELETE", "NoSuchModule/actions/mass_update")

    assert response.json()["code"] == "INVALID_REQUEST_METHOD"


def test_the_module_is_checked_before_the_scope(api):
    token = oauth.issue_access_token(["ZohoCRM.settings.ALL"])

    response = api.get("NoSuchModule", token=token)

    assert response.status_code == 400
    assert response.json() == {
        "code": "INVALID_MODULE",
        "details": {"resource_path_index": 0},
        "message": "the module name given seems to be invalid",
        "status": "error",
    }


@pytest.mark.parametrize(
    ("granted", "required", "expected"),
    [
        ("ZohoCRM.modules.ALL", "ZohoCRM.modules.Leads.READ", True),
        ("ZohoCRM.modules.Leads.ALL", "ZohoCRM.modules.Leads.UPDATE", True),
        ("ZohoCRM.modules.Leads.WRITE", "ZohoCRM.modules.Leads.UPDATE", True),
        ("ZohoCRM.modules.Leads.WRITE", "ZohoCRM.modules.Leads.READ", False),
        ("ZohoCRM.modules.Contacts.ALL", "ZohoCRM.modules.Leads.READ", False),
        ("ZohoCRM.mass_update.UPDATE", "ZohoCRM.mass_update.Leads.UPDATE", True),
        ("ZohoCRM.mass_update.UPDATE", "ZohoCRM.mass_update.Leads.READ", False),
        ("ZohoCRM.modules.ALL", "ZohoCRM.mass_update.Leads.UPDATE", False),
        ("zohocrm.settings.all", "ZohoCRM.settings.fields.READ", True),
        ("ZohoSearch.securesearch.READ", "ZohoSearch.securesearch.READ", True),
        ("ZohoCRM.ALL", "ZohoSearch.securesearch.READ", False),
    ],
)
def test_a_granted_scope_covers_narrower_scopes_of_the_same_service(granted, required, expected):
    assert covers(granted, required) is expected
