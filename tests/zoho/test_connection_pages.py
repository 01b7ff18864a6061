"""The managers' Connections pages, through the test client; Zoho is mocked by responses."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from crmadmin.zoho.models import Connection
from crmadmin.zoho.views import OAUTH_SESSION_KEY

from .conftest import (
    ACCOUNTS_URL,
    CLIENT_SECRET,
    LEADS_MODULE,
    MODULES_URL,
    REFRESH_TOKEN,
    TOKEN_URL,
    make_connection,
    token_response,
)

CALLBACK_URI = "http://testserver/connections/oauth/callback/"


def page_urls(pk: int) -> list[tuple[str, str]]:
    return [
        ("get", reverse("zoho:connection-list")),
        ("get", reverse("zoho:connection-create")),
        ("post", reverse("zoho:connection-create")),
        ("get", reverse("zoho:connection-detail", args=[pk])),
        ("post", reverse("zoho:connection-connect", args=[pk])),
        ("get", reverse("zoho:oauth-callback") + "?state=x&code=y"),
        ("post", reverse("zoho:connection-test", args=[pk])),
        ("post", reverse("zoho:connection-self-client", args=[pk])),
        ("post", reverse("zoho:connection-disconnect", args=[pk])),
    ]


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def start_connect(client, connection) -> str:
    """Press Connect; return the state the accounts server would send back."""
    response = client.post(reverse("zoho:connection-connect", args=[connection.pk]))
    return parse_qs(urlsplit(response["Location"]).query)["state"][0]


# --- Who may see them ----------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["operator", "outsider"])
def test_users_without_the_manage_permission_get_403_on_every_page(
    client, connection, persona, request
):
    client.force_login(request.getfixturevalue(persona))

    for method, url in page_urls(connection.pk):
        response = getattr(client, method)(url)
        assert response.status_code == 403, (method, url)
    assert Connection.objects.get(pk=connection.pk).refresh_token == REFRESH_TOKEN


def test_anonymous_visitors_are_sent_to_the_login_page(client, connection):
    for method, url in page_urls(connection.pk):
        response = getattr(client, method)(url)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith(reverse("accounts:login"))


def test_a_manager_opening_a_missing_connection_gets_404(manager_client, db):
    assert manager_client.get(reverse("zoho:connection-detail", args=[999])).status_code == 404


# --- List and create -----------------------------------------------------------------------


def test_the_list_shows_each_connections_status_and_last_test(
    manager_client, connection, django_assert_max_num_queries
):
    connection.record_check(ok=False, message="INVALID_TOKEN: invalid oauth token")
    make_connection(name="Sandbox", refresh_token="", access_token="")

    with django_assert_max_num_queries(6):
        response = manager_client.get(reverse("zoho:connection-list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Acme EU" in html and "Sandbox" in html
    assert html.count('badge badge-ok">Connected') == 1
    assert "Not connected" in html
    assert "Last test failed" in html and "INVALID_TOKEN: invalid oauth token" in html
    assert "Never tested" in html
    assert CLIENT_SECRET not in html


def test_choosing_a_data_centre_fills_in_both_urls(manager_client, manager):
    response = manager_client.post(
        reverse("zoho:connection-create"),
        {
            "name": "Acme AU",
            "data_centre": "AU",
            "accounts_url": "https://ignored.example.com",
            "client_id": "1000.AU",
            "client_secret": "au-secret-value",
            "concurrency_limit": 5,
        },
    )

    connection = Connection.objects.get(name="Acme AU")
    assert response.status_code == 302
    assert response["Location"] == reverse("zoho:connection-detail", args=[connection.pk])
    assert connection.accounts_url == "https://accounts.zoho.com.au"
    assert connection.api_domain == "https://www.zohoapis.com.au"
    assert connection.client_secret == "au-secret-value"
    assert connection.created_by == manager
    assert not connection.is_connected


def test_a_custom_data_centre_requires_both_urls(manager_client, db):
    response = manager_client.post(
        reverse("zoho:connection-create"),
        {
            "name": "Sandbox",
            "data_centre": "CUSTOM",
            "client_id": "1000.SB",
            "client_secret": "sandbox-secret-value",
            "concurrency_limit": 5,
        },
    )

    assert response.status_code == 400
    assert response.content.decode().count("Required for a Custom data centre.") == 2
    assert not Connection.objects.exists()


def test_bad_input_is_explained_and_the_secret_is_not_sent_back(manager_client, connection):
    response = manager_client.post(
        reverse("zoho:connection-create"),
        {
            "name": "Acme EU",
            "data_centre": "Mars",
            "client_id": "",
            "client_secret": "typed-secret-value",
            "concurrency_limit": 0,
        },
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "Connection with this Name already exists." in html
    assert "Select a valid choice." in html
    assert "This field is required." in html
    assert "Allow at least one call at a time." in html
    assert "typed-secret-value" not in html
    assert Connection.objects.count() == 1


# --- Detail ------------------------------------------------------------------------------------


def test_the_detail_page_masks_secrets_and_shows_the_redirect_uri(manager_client, connection):
    response = manager_client.get(reverse("zoho:connection-detail", args=[connection.pk]))

    html = response.content.decode()
    assert "•••• set" in html
    assert CLIENT_SECRET not in html and REFRESH_TOKEN not in html
    assert CALLBACK_URI in html
    assert 'id="connection-status"' in html


# --- Connect (authorization-code flow) ----------------------------------------------------------


def test_connect_redirects_to_the_accounts_server_with_a_state_kept_in_the_session(
    manager_client, connection
):
    response = manager_client.post(reverse("zoho:connection-connect", args=[connection.pk]))

    location = urlsplit(response["Location"])
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert response.status_code == 302
    assert (
        f"{location.scheme}://{location.netloc}{location.path}" == ACCOUNTS_URL + "/oauth/v2/auth"
    )
    assert query["redirect_uri"] == CALLBACK_URI
    assert query["access_type"] == "offline"
    assert manager_client.session[OAUTH_SESSION_KEY]["state"] == query["state"]
    assert len(query["state"]) >= 32


def test_the_callback_exchanges_the_code_and_stores_the_refresh_token(manager_client, wire, db):
    connection = make_connection(refresh_token="", access_token="")
    state = start_connect(manager_client, connection)
    wire.post(TOKEN_URL, json=token_response(refresh_token="1000.granted-refresh-token"))

    response = manager_client.get(
        reverse("zoho:oauth-callback"),
        {"state": state, "code": "1000.grant", "location": "eu", "accounts-server": ACCOUNTS_URL},
    )

    assert response["Location"] == reverse("zoho:connection-detail", args=[connection.pk])
    assert parse_qs(wire.calls[0].request.body)["redirect_uri"] == [CALLBACK_URI]
    connection.refresh_from_db()
    assert connection.refresh_token == "1000.granted-refresh-token"
    assert connection.is_connected
    assert messages_of(response) == ["Connected to Zoho. Use “Test connection” to check it."]
    assert OAUTH_SESSION_KEY not in manager_client.session


def test_a_callback_whose_state_does_not_match_is_refused(manager_client, wire, db):
    connection = make_connection(refresh_token="", access_token="")
    start_connect(manager_client, connection)

    response = manager_client.get(
        reverse("zoho:oauth-callback"), {"state": "forged", "code": "1000.grant"}
    )

    assert response["Location"] == reverse("zoho:connection-list")
    assert "does not match" in messages_of(response)[0]
    assert len(wire.calls) == 0
    assert not Connection.objects.get(pk=connection.pk).is_connected


def test_a_callback_without_a_connect_in_progress_is_refused(manager_client, wire, connection):
    response = manager_client.get(reverse("zoho:oauth-callback"), {"state": "", "code": "x"})

    assert response.status_code == 302
    assert "does not match" in messages_of(response)[0]
    assert len(wire.calls) == 0


def test_declined_consent_is_reported_clearly(manager_client, wire, db):
    connection = make_connection(refresh_token="", access_token="")
    state = start_connect(manager_client, connection)

    response = manager_client.get(
        reverse("zoho:oauth-callback"), {"state": state, "error": "access_denied"}
    )

    assert response["Location"] == reverse("zoho:connection-detail", args=[connection.pk])
    assert "consent screen was declined" in messages_of(response)[0]
    assert len(wire.calls) == 0


def test_an_accounts_server_pointing_elsewhere_never_receives_the_secret(manager_client, wire, db):
    connection = make_connection(refresh_token="", access_token="")
    state = start_connect(manager_client, connection)

    response = manager_client.get(
        reverse("zoho:oauth-callback"),
        {"state": state, "code": "1000.grant", "accounts-server": "https://evil.example.com"},
    )

    assert len(wire.calls) == 0
    assert "client secret was not sent" in messages_of(response)[0]
    assert not Connection.objects.get(pk=connection.pk).is_connected


def test_an_accounts_server_of_another_data_centre_is_used_and_remembered(manager_client, wire, db):
    connection = make_connection(refresh_token="", access_token="")
    state = start_connect(manager_client, connection)
    wire.post(
        "https://accounts.zoho.com/oauth/v2/token",
        json=token_response(refresh_token="1000.us-refresh", api_domain="https://www.zohoapis.com"),
    )

    manager_client.get(
        reverse("zoho:oauth-callback"),
        {"state": state, "code": "1000.grant", "accounts-server": "https://accounts.zoho.com"},
    )

    connection.refresh_from_db()
    assert (connection.data_centre, connection.accounts_url, connection.api_domain) == (
        "US",
        "https://accounts.zoho.com",
        "https://www.zohoapis.com",
    )


def test_a_code_the_accounts_server_rejects_is_reported_without_a_500(manager_client, wire, db):
    connection = make_connection(refresh_token="", access_token="")
    state = start_connect(manager_client, connection)
    wire.post(TOKEN_URL, json={"error": "invalid_code"})

    response = manager_client.get(
        reverse("zoho:oauth-callback"), {"state": state, "code": "1000.stale"}
    )

    assert response.status_code == 302
    assert "expired, was already used" in messages_of(response)[0]


def test_a_callback_with_neither_code_nor_error_is_explained(manager_client, wire, db):
    connection = make_connection(refresh_token="", access_token="")
    state = start_connect(manager_client, connection)

    response = manager_client.get(reverse("zoho:oauth-callback"), {"state": state})

    assert "neither a code nor an error" in messages_of(response)[0]


# --- Self-client code ---------------------------------------------------------------------------


def test_a_self_client_code_is_exchanged_without_a_redirect_uri(manager_client, wire, db):
    connection = make_connection(refresh_token="", access_token="")
    wire.post(TOKEN_URL, json=token_response(refresh_token="1000.self-refresh"))

    response = manager_client.post(
        reverse("zoho:connection-self-client", args=[connection.pk]), {"code": " 1000.code "}
    )

    assert response.status_code == 302
    sent = parse_qs(wire.calls[0].request.body)
    assert sent["code"] == ["1000.code"] and "redirect_uri" not in sent
    assert Connection.objects.get(pk=connection.pk).refresh_token == "1000.self-refresh"


def test_an_empty_self_client_code_shows_the_form_error(manager_client, wire, connection):
    response = manager_client.post(
        reverse("zoho:connection-self-client", args=[connection.pk]), {"code": ""}
    )

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert len(wire.calls) == 0


def test_a_self_client_code_zoho_rejects_is_reported(manager_client, wire, connection):
    wire.post(TOKEN_URL, json={"error": "invalid_client"})

    response = manager_client.post(
        reverse("zoho:connection-self-client", args=[connection.pk]), {"code": "1000.code"}
    )

    assert "another data centre" in messages_of(response)[0]
    assert Connection.objects.get(pk=connection.pk).refresh_token == REFRESH_TOKEN


# --- Test connection ------------------------------------------------------------------------------


def test_testing_a_connection_records_success_and_redirects_back(manager_client, wire, connection):
    wire.get(MODULES_URL, json=LEADS_MODULE)

    response = manager_client.post(reverse("zoho:connection-test", args=[connection.pk]))

    assert response["Location"] == reverse("zoho:connection-detail", args=[connection.pk])
    connection.refresh_from_db()
    assert connection.last_check_ok is True
    assert connection.last_check_message == "Connected: 1 modules available (Leads)."
    assert connection.last_checked_at is not None


def test_testing_with_htmx_returns_only_the_status_region(manager_client, wire, connection):
    wire.get(
        MODULES_URL,
        json={
            "code": "OAUTH_SCOPE_MISMATCH",
            "details": {},
            "message": "invalid oauth scope to access this URL",
            "status": "error",
        },
        status=401,
    )

    response = manager_client.post(
        reverse("zoho:connection-test", args=[connection.pk]), headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.strip().startswith('<section class="card" id="connection-status"')
    assert "<html" not in html
    assert "Last test failed" in html
    assert "OAUTH_SCOPE_MISMATCH" in html
    assert Connection.objects.get(pk=connection.pk).last_check_ok is False


def test_testing_an_unconnected_connection_says_so_without_calling_zoho(manager_client, wire, db):
    connection = make_connection(refresh_token="", access_token="")

    manager_client.post(reverse("zoho:connection-test", args=[connection.pk]))

    connection.refresh_from_db()
    assert (connection.last_check_ok, connection.last_check_message) == (
        False,
        "Not connected yet: connect it first.",
    )
    assert len(wire.calls) == 0


# --- Disconnect ---------------------------------------------------------------------------


def test_disconnecting_revokes_the_token_and_forgets_it(manager_client, wire, connection):
    wire.post(TOKEN_URL + "/revoke", json={"status": "success"})

    response = manager_client.post(reverse("zoho:connection-disconnect", args=[connection.pk]))

    assert parse_qs(wire.calls[0].request.body) == {"token": [REFRESH_TOKEN]}
    connection.refresh_from_db()
    assert (connection.refresh_token, connection.access_token) == ("", "")
    assert any("disconnected" in m for m in messages_of(response))


def test_a_failed_revocation_still_forgets_the_token_and_warns(manager_client, wire, connection):
    wire.post(TOKEN_URL + "/revoke", json={"error": "invalid_token"}, status=400)

    response = manager_client.post(reverse("zoho:connection-disconnect", args=[connection.pk]))

    assert not Connection.objects.get(pk=connection.pk).is_connected
    assert "revoke it in Zoho's API console" in messages_of(response)[0]
