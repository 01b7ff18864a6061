"""The simulated accounts server over real HTTP: consent, token grants, refresh, revoke."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client

from crmadmin.sandbox import faults, oauth
from crmadmin.sandbox.models import GrantCode, SandboxUser
from tests.conftest import signed_in_browser

REDIRECT = "https://app.example.test/oauth/callback"
SCOPES = "ZohoCRM.modules.ALL,ZohoCRM.mass_update.ALL"


@pytest.fixture
def client(transactional_db):
    return oauth.create_client("Mass Updater", [REDIRECT, "http://localhost:9/cb"])


@pytest.fixture
def accounts(sandbox_url) -> str:
    return sandbox_url + "/oauth/v2"


@pytest.fixture
def browser(transactional_db, manager) -> requests.Session:
    """A browser signed in to crmadmin as a manager, as the consent page and console need."""
    return signed_in_browser(Client(), manager)


def _auth_params(client, **overrides) -> dict:
    return {
        "scope": SCOPES,
        "client_id": client.client_id,
        "response_type": "code",
        "access_type": "offline",
        "redirect_uri": REDIRECT,
        "state": "xyz-123",
        "prompt": "consent",
        **overrides,
    }


def _consent(session, accounts, client, decision: str, **overrides) -> requests.Response:
    page = session.get(f"{accounts}/auth", params=_auth_params(client, **overrides), timeout=10)
    assert page.status_code == 200, page.text
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    form["user"] = SandboxUser.default().id
    form["decision"] = decision
    return session.post(f"{accounts}/auth", data=form, allow_redirects=False, timeout=10)


def _token(accounts, **params) -> requests.Response:
    return requests.post(f"{accounts}/token", data=params, timeout=10)


def _refresh_params(client, refresh_token: str) -> dict[str, str]:
    return {
        "grant_type": "refresh_token",
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        "refresh_token": refresh_token,
    }


def _exchange(accounts, client, code, redirect_uri=REDIRECT) -> requests.Response:
    params = {
        "grant_type": "authorization_code",
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        "code": code,
    }
    if redirect_uri is not None:
        params["redirect_uri"] = redirect_uri
    return _token(accounts, **params)


def test_the_consent_page_names_the_client_and_scopes_without_inline_code(
    accounts, client, crm, browser
):
    page = browser.get(f"{accounts}/auth", params=_auth_params(client), timeout=10)

    assert page.status_code == 200
    assert "Mass Updater" in page.text
    assert "ZohoCRM.mass_update.ALL" in page.text
    assert "patricia patricia" in page.text and "Maya Rao" in page.text
    assert "<script" not in page.text and "style=" not in page.text


def test_accepting_redirects_with_a_code_that_becomes_working_tokens(
    accounts, client, sandbox_url, crm, browser
):
    session = browser

    decision = _consent(session, accounts, client, "accept")

    assert decision.status_code == 302
    location = urlsplit(decision.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["location"] == "us"
    assert query["accounts-server"] == sandbox_url
    assert query["state"] == "xyz-123"
    tokens = _exchange(accounts, client, query["code"])
    assert tokens.status_code == 200
    body = tokens.json()
    assert body["access_token"].startswith("1000.") and body["refresh_token"].startswith("1000.")
    assert body["api_domain"] == sandbox_url
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert set(body["scope"].split()) == set(SCOPES.split(","))
    leads = requests.get(
        f"{body['api_domain']}/crm/v2.1/Leads",
        headers={"Authorization": f"Zoho-oauthtoken {body['access_token']}"},
        timeout=10,
    )
    assert leads.status_code == 200


def test_denying_redirects_with_access_denied_and_the_state(accounts, client, browser):
    decision = _consent(browser, accounts, client, "deny")

    assert decision.status_code == 302
    query = parse_qs(urlsplit(decision.headers["Location"]).query)
    assert query == {"error": ["access_denied"], "state": ["xyz-123"]}


@pytest.mark.parametrize(
    "overrides",
    [
        {"redirect_uri": "https://evil.example.test/oauth/callback"},
        {"redirect_uri": REDIRECT + "/"},
        {"client_id": "1000.UNKNOWN"},
        {"response_type": "token"},
    ],
    ids=["foreign redirect", "near-miss redirect", "unknown client", "response type"],
)
def test_a_bad_authorization_request_shows_an_error_page_and_never_redirects(
    accounts, client, overrides, browser
):
    response = browser.get(
        f"{accounts}/auth",
        params=_auth_params(client, **overrides),
        allow_redirects=False,
        timeout=10,
    )

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "not valid" in response.text


def test_a_tampered_redirect_uri_in_the_consent_post_is_refused(accounts, client, browser):
    session = browser
    page = session.get(f"{accounts}/auth", params=_auth_params(client), timeout=10)
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    form.update(user=SandboxUser.default().id, decision="accept")
    form["redirect_uri"] = "https://evil.example.test/steal"

    tampered = session.post(f"{accounts}/auth", data=form, allow_redirects=False, timeout=10)

    assert tampered.status_code == 400
    assert "Location" not in tampered.headers


def test_a_code_works_only_once(accounts, client):
    code = oauth.issue_grant_code(client, SCOPES, redirect_uri=REDIRECT)

    first = _exchange(accounts, client, code)
    second = _exchange(accounts, client, code)

    assert "access_token" in first.json()
    assert second.status_code == 200
    assert second.json() == {"error": "invalid_code"}


def test_an_expired_code_is_an_invalid_code(accounts, client):
    code = oauth.issue_grant_code(client, SCOPES, redirect_uri=REDIRECT, ttl=0)

    assert _exchange(accounts, client, code).json() == {"error": "invalid_code"}


def test_codes_expire_after_120_seconds_by_default(client):
    oauth.issue_grant_code(client, SCOPES)

    grant = GrantCode.objects.get()
    assert (grant.expires_at - grant.created_at).total_seconds() == pytest.approx(120, abs=1)


def test_the_redirect_uri_must_match_the_one_the_code_was_given_for(accounts, client):
    code = oauth.issue_grant_code(client, SCOPES, redirect_uri=REDIRECT)

    response = _exchange(accounts, client, code, redirect_uri="http://localhost:9/cb")

    assert response.status_code == 200
    assert "access_token" not in response.json()


def test_an_online_code_gives_no_refresh_token(accounts, client):
    code = oauth.issue_grant_code(client, SCOPES, redirect_uri=REDIRECT, access_type="online")

    body = _exchange(accounts, client, code).json()

    assert "access_token" in body and "refresh_token" not in body


def test_a_self_client_code_is_exchanged_without_redirect_uri_for_a_refresh_token(accounts, client):
    code = oauth.issue_grant_code(client, SCOPES, access_type="online")

    body = _exchange(accounts, client, code, redirect_uri=None).json()

    assert "refresh_token" in body


def test_a_refresh_gives_a_new_working_access_token_and_no_refresh_token(accounts, client, api):
    refresh = oauth.issue_refresh_token(client)

    response = _token(
        accounts,
        grant_type="refresh_token",
        client_id=client.client_id,
        client_secret=client.client_secret,
        refresh_token=refresh,
    )

    body = response.json()
    assert set(body) == {"access_token", "api_domain", "token_type", "expires_in", "scope"}
    assert api.get("Leads", token=body["access_token"]).status_code == 200


def test_the_token_endpoint_also_reads_query_parameters(accounts, client):
    refresh = oauth.issue_refresh_token(client)
    params = _refresh_params(client, refresh)

    response = requests.post(f"{accounts}/token", params=params, timeout=10)

    assert "access_token" in response.json()


def test_refreshing_too_often_is_throttled_with_zohos_access_denied(accounts, client):
    faults.configure(refresh_limit=3)
    refresh = oauth.issue_refresh_token(client)
    params = _refresh_params(client, refresh)

    answers = [_token(accounts, **params).json() for _ in range(4)]

    assert all("access_token" in a for a in answers[:3])
    assert answers[3]["error"] == "Access Denied"
    assert answers[3]["status"] == "failure"
    assert "too many requests" in answers[3]["error_description"]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"client_id": "1000.NOPE"}, "invalid_client"),
        ({"client_secret": "wrong"}, "invalid_client_secret"),
        ({"refresh_token": "1000.bad.token"}, "invalid_code"),
    ],
)
def test_token_errors_come_back_as_http_200(accounts, client, change, error):
    params = {
        "grant_type": "refresh_token",
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        "refresh_token": oauth.issue_refresh_token(client),
        **change,
    }

    response = _token(accounts, **params)

    assert response.status_code == 200
    assert response.json() == {"error": error}


def test_revoking_a_refresh_token_ends_it_and_its_access_tokens(accounts, client, api):
    refresh = oauth.issue_refresh_token(client)
    params = _refresh_params(client, refresh)
    access = _token(accounts, **params).json()["access_token"]

    revoked = requests.post(f"{accounts}/token/revoke", params={"token": refresh}, timeout=10)

    assert revoked.status_code == 200 and revoked.json() == {"status": "success"}
    assert _token(accounts, **params).json() == {"error": "invalid_code"}
    assert api.get("Leads", token=access).json()["code"] == "INVALID_TOKEN"
    again = requests.post(f"{accounts}/token/revoke", data={"token": refresh}, timeout=10)
    assert again.status_code == 400


def test_only_15_access_tokens_per_refresh_token_stay_valid(accounts, client, api):
    faults.configure(refresh_limit=0)
    refresh = oauth.issue_refresh_token(client)
    params = _refresh_params(client, refresh)
    tokens = [_token(accounts, **params).json()["access_token"] for _ in range(16)]

    assert api.get("Leads", token=tokens[0]).json()["code"] == "INVALID_TOKEN"
    assert api.get("Leads", token=tokens[1]).status_code == 200


def test_the_self_client_page_generates_a_code_that_can_be_exchanged(accounts, crm, browser):
    session = browser
    page = session.get(f"{accounts}/self-client", timeout=10)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)

    result = session.post(
        f"{accounts}/self-client",
        data={
            "csrfmiddlewaretoken": csrf,
            "client": "",
            "scopes": "ZohoCRM.modules.ALL",
            "user": SandboxUser.default().id,
            "duration": "180",
        },
        timeout=10,
    )

    assert result.status_code == 200
    assert "<script" not in result.text and "style=" not in result.text
    found = {
        key: re.search(rf'id="{key}">([^<]+)<', result.text).group(1)
        for key in ("client-id", "client-secret", "grant-code")
    }
    tokens = _token(
        accounts,
        grant_type="authorization_code",
        client_id=found["client-id"],
        client_secret=found["client-secret"],
        code=found["grant-code"],
    ).json()
    assert "refresh_token" in tokens and tokens["scope"] == "ZohoCRM.modules.ALL"


def test_the_consent_page_sends_an_anonymous_visitor_to_sign_in_first(accounts, client):
    page = requests.get(
        f"{accounts}/auth", params=_auth_params(client), allow_redirects=False, timeout=10
    )

    assert page.status_code == 302
    assert urlsplit(page.headers["Location"]).path == "/login/"


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_api_console_shows_no_secret_to_an_anonymous_visitor(accounts, client, method):
    page = requests.request(
        method,
        f"{accounts}/self-client",
        data={"client": client.client_id, "scopes": "ZohoCRM.modules.ALL", "duration": "180"},
        allow_redirects=False,
        timeout=10,
    )

    assert page.status_code in {302, 403}
    assert client.client_secret not in page.text


def test_the_api_console_is_refused_to_an_operator(accounts, client, operator):
    browser = signed_in_browser(Client(), operator)

    page = browser.get(f"{accounts}/self-client", allow_redirects=False, timeout=10)

    assert page.status_code == 403
    assert client.client_secret not in page.text
