"""OAuth with the accounts server: the authorization URL, code exchanges, errors that come
back with HTTP 200, revocation, and which accounts servers may receive the secret."""

from urllib.parse import parse_qs, urlsplit

import pytest

from crmadmin.zoho import oauth
from crmadmin.zoho.errors import ZohoOAuthError, ZohoServerError

from .conftest import (
    ACCOUNTS_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    NEW_ACCESS_TOKEN,
    REFRESH_TOKEN,
    TOKEN_URL,
    token_response,
)

REDIRECT_URI = "https://crmadmin.example.test/connections/oauth/callback/"


def form(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


def test_the_authorization_url_asks_for_offline_access_with_consent_and_state(connection):
    url = oauth.authorization_url(connection, redirect_uri=REDIRECT_URI, state="s-123")

    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == ACCOUNTS_URL + "/oauth/v2/auth"
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == {
        "scope": connection.scopes,
        "client_id": CLIENT_ID,
        "response_type": "code",
        "access_type": "offline",
        "prompt": "consent",
        "redirect_uri": REDIRECT_URI,
        "state": "s-123",
    }


def test_exchanging_an_authorization_code_sends_the_redirect_uri(wire, connection):
    wire.post(TOKEN_URL, json=token_response(refresh_token="1000.fresh-refresh"))

    tokens = oauth.exchange_code(connection, code="1000.grant", redirect_uri=REDIRECT_URI)

    assert form(wire.calls[0]) == {
        "grant_type": "authorization_code",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "code": "1000.grant",
        "redirect_uri": REDIRECT_URI,
    }
    assert (tokens.access_token, tokens.refresh_token, tokens.expires_in) == (
        NEW_ACCESS_TOKEN,
        "1000.fresh-refresh",
        3600,
    )


def test_exchanging_a_self_client_code_sends_no_redirect_uri(wire, connection):
    wire.post(TOKEN_URL, json=token_response(refresh_token="1000.fresh-refresh"))

    oauth.exchange_code(connection, code="1000.selfclient", redirect_uri=None)

    assert "redirect_uri" not in form(wire.calls[0])
    assert form(wire.calls[0])["grant_type"] == "authorization_code"


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ({"error": "invalid_code"}, "invalid_code", "expired, was already used"),
        ({"error": "invalid_client"}, "invalid_client", "another data centre"),
        ({"error": "invalid_client_secret"}, "invalid_client_secret", "client secret is wrong"),
        ({"error": "invalid_redirect_uri"}, "invalid_redirect_uri", "redirect URI does not match"),
        (
            {
                "error": "Access Denied",
                "error_description": "You have made too many requests continuously.",
                "status": "failure",
            },
            "Access Denied",
            "throttling",
        ),
        ({"token_type": "Bearer"}, "no_access_token", "without an access token"),
    ],
    ids=["invalid_code", "invalid_client", "secret", "redirect", "throttled", "no token"],
)
def test_token_endpoint_errors_answered_with_http_200_raise_a_helpful_oauth_error(
    wire, connection, body, code, words
):
    wire.post(TOKEN_URL, json=body, status=200)

    with pytest.raises(ZohoOAuthError) as caught:
        oauth.refresh_access_token(connection)

    assert caught.value.code == code
    assert words in str(caught.value)
    assert CLIENT_SECRET not in str(caught.value)


def test_a_token_endpoint_that_does_not_answer_json_raises_a_server_error(wire, connection):
    wire.post(TOKEN_URL, body="<html>oops</html>", status=502)

    with pytest.raises(ZohoServerError):
        oauth.refresh_access_token(connection)


def test_expires_in_sec_wins_over_the_old_milliseconds_expires_in(wire, connection):
    wire.post(TOKEN_URL, json=token_response(expires_in=3600000, expires_in_sec=3600))

    assert oauth.refresh_access_token(connection).expires_in == 3600


def test_revoking_posts_the_refresh_token_in_the_body_not_the_url(wire, connection):
    wire.post(TOKEN_URL + "/revoke", json={"status": "success"})

    oauth.revoke_refresh_token(connection)

    assert form(wire.calls[0]) == {"token": REFRESH_TOKEN}
    assert REFRESH_TOKEN not in wire.calls[0].request.url


def test_a_refused_revocation_raises_an_oauth_error(wire, connection):
    wire.post(TOKEN_URL + "/revoke", json={"error": "invalid_token"}, status=400)

    with pytest.raises(ZohoOAuthError):
        oauth.revoke_refresh_token(connection)


@pytest.mark.parametrize(
    "server",
    [
        ACCOUNTS_URL,
        ACCOUNTS_URL + "/",
        "https://accounts.zoho.com",
        "https://accounts.zohocloud.ca",
    ],
)
def test_the_connections_own_or_a_known_data_centres_accounts_server_is_trusted(connection, server):
    assert oauth.trusted_accounts_url(connection, server) == server.rstrip("/")


@pytest.mark.parametrize(
    "server",
    [
        "https://evil.example.com",
        "http://accounts.zoho.eu",
        "https://accounts.zoho.eu.evil.example.com",
        "https://accounts.zoho.eu@evil.example.com",
        "https://accounts.zoho.eu/steal",
        "not a url",
    ],
)
def test_any_other_accounts_server_is_refused(connection, server):
    with pytest.raises(ZohoOAuthError) as caught:
        oauth.trusted_accounts_url(connection, server)

    assert caught.value.code == "untrusted_accounts_server"


def test_tokens_do_not_show_their_secrets_in_repr():
    tokens = oauth.Tokens(access_token=NEW_ACCESS_TOKEN, expires_in=3600, refresh_token="r-secret")

    assert NEW_ACCESS_TOKEN not in repr(tokens)
    assert "r-secret" not in repr(tokens)
