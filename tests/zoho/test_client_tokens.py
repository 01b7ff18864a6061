"""Access tokens: the cached one while valid, a refresh shortly before expiry, a refresh and
a replay on 401 INVALID_TOKEN (again if a long call outlives the new token, never for a token
refused as soon as it was refreshed), and no double refresh when another worker did it."""

from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.utils import timezone

from crmadmin.zoho.client import MAX_TOKEN_REPLAYS
from crmadmin.zoho.errors import ZohoAuthError, ZohoOAuthError
from crmadmin.zoho.models import Connection

from .conftest import (
    ACCESS_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    INTERNAL,
    INVALID_TOKEN,
    LEADS_MODULE,
    MODULES_URL,
    NEW_ACCESS_TOKEN,
    REFRESH_TOKEN,
    TOKEN_URL,
    token_response,
)


def expire_in(connection: Connection, seconds: int) -> None:
    connection.access_token_expires_at = timezone.now() + timedelta(seconds=seconds)
    connection.save()


def test_a_valid_cached_token_is_sent_as_zoho_oauthtoken_without_refreshing(wire, make_client):
    wire.get(MODULES_URL, json=LEADS_MODULE)
    client = make_client()

    client.modules()

    assert wire.calls[0].request.headers["Authorization"] == f"Zoho-oauthtoken {ACCESS_TOKEN}"
    assert client.stats.refreshes == {}


def test_a_token_expiring_within_a_minute_is_refreshed_before_the_call(
    wire, make_client, connection
):
    expire_in(connection, 30)
    wire.post(TOKEN_URL, json=token_response())
    wire.get(MODULES_URL, json=LEADS_MODULE)
    client = make_client()

    client.modules()

    form = parse_qs(wire.calls[0].request.body)
    assert form == {
        "grant_type": ["refresh_token"],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
        "refresh_token": [REFRESH_TOKEN],
    }
    assert wire.calls[1].request.headers["Authorization"] == f"Zoho-oauthtoken {NEW_ACCESS_TOKEN}"
    assert client.stats.refreshes == {"expiring": 1}
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.access_token == NEW_ACCESS_TOKEN
    assert stored.refresh_token == REFRESH_TOKEN
    remaining = stored.access_token_expires_at - timezone.now()
    assert timedelta(seconds=3590) < remaining <= timedelta(seconds=3600)


def test_a_connection_without_an_access_token_gets_one_first(wire, make_client, connection):
    connection.access_token = ""
    connection.access_token_expires_at = None
    connection.save()
    wire.post(TOKEN_URL, json=token_response())
    wire.get(MODULES_URL, json=LEADS_MODULE)

    make_client().modules()

    assert [c.request.url.split("?")[0] for c in wire.calls] == [TOKEN_URL, MODULES_URL]


def test_invalid_token_is_refreshed_once_and_the_call_replayed(wire, make_client, connection):
    wire.get(MODULES_URL, json=INVALID_TOKEN, status=401)
    wire.post(TOKEN_URL, json=token_response())
    wire.get(MODULES_URL, json=LEADS_MODULE)
    client = make_client()

    assert client.modules()[0]["api_name"] == "Leads"

    assert wire.calls[0].request.headers["Authorization"] == f"Zoho-oauthtoken {ACCESS_TOKEN}"
    assert wire.calls[2].request.headers["Authorization"] == f"Zoho-oauthtoken {NEW_ACCESS_TOKEN}"
    assert client.stats.refreshes == {"invalid_token": 1}
    assert Connection.objects.get(pk=connection.pk).access_token == NEW_ACCESS_TOKEN


def test_a_second_invalid_token_after_refreshing_raises_an_auth_error(wire, make_client):
    wire.get(MODULES_URL, json=INVALID_TOKEN, status=401)
    wire.post(TOKEN_URL, json=token_response())
    wire.get(MODULES_URL, json=INVALID_TOKEN, status=401)

    with pytest.raises(ZohoAuthError) as caught:
        make_client().modules()

    assert caught.value.code == "INVALID_TOKEN"
    assert len(wire.calls) == 3


def test_a_token_that_expires_during_a_long_call_is_refreshed_again(wire, make_client):
    # The first token is refused, the call is replayed with a new one, meets a server
    # error, and by the time it is sent again that token has expired too.
    third = "1000.third-access-token"
    wire.get(MODULES_URL, json=INVALID_TOKEN, status=401)
    wire.post(TOKEN_URL, json=token_response())
    wire.get(MODULES_URL, json=INTERNAL, status=500)
    wire.get(MODULES_URL, json=INVALID_TOKEN, status=401)
    wire.post(TOKEN_URL, json=token_response(third))
    wire.get(MODULES_URL, json=LEADS_MODULE)
    client = make_client()

    assert client.modules()[0]["api_name"] == "Leads"

    sent = [c.request.headers.get("Authorization") for c in wire.calls]
    assert sent[2:4] == [f"Zoho-oauthtoken {NEW_ACCESS_TOKEN}"] * 2
    assert sent[5] == f"Zoho-oauthtoken {third}"
    assert client.stats.refreshes == {"invalid_token": 2}


def test_a_call_replays_after_a_refused_token_a_bounded_number_of_times(wire, make_client):
    for n in range(MAX_TOKEN_REPLAYS):
        wire.get(MODULES_URL, json=INVALID_TOKEN, status=401)
        wire.post(TOKEN_URL, json=token_response(f"1000.token-{n}"))
        wire.get(MODULES_URL, json=INTERNAL, status=500)
    wire.get(MODULES_URL, json=INVALID_TOKEN, status=401)

    with pytest.raises(ZohoAuthError):
        make_client(max_attempts=10).modules()

    refreshes = [c for c in wire.calls if c.request.url.startswith(TOKEN_URL)]
    assert len(refreshes) == MAX_TOKEN_REPLAYS


def test_a_revoked_refresh_token_raises_an_oauth_error_that_says_so(wire, make_client, connection):
    expire_in(connection, -10)
    wire.post(TOKEN_URL, json={"error": "invalid_code"}, status=200)

    with pytest.raises(ZohoOAuthError) as caught:
        make_client().modules()

    assert caught.value.code == "invalid_code"
    assert "refresh token was revoked" in str(caught.value)


def test_a_token_another_worker_refreshed_meanwhile_is_adopted_without_refreshing_again(
    wire, make_client, connection
):
    expire_in(connection, 10)
    # Another worker refreshed the row after this client loaded its (stale) copy.
    other = Connection.objects.get(pk=connection.pk)
    other.access_token = NEW_ACCESS_TOKEN
    other.access_token_expires_at = timezone.now() + timedelta(hours=1)
    other.save()
    wire.get(MODULES_URL, json=LEADS_MODULE)
    client = make_client()

    client.modules()

    assert len(wire.calls) == 1
    assert wire.calls[0].request.headers["Authorization"] == f"Zoho-oauthtoken {NEW_ACCESS_TOKEN}"
    assert client.stats.refreshes == {}


def test_the_api_domain_the_token_endpoint_returns_is_used_from_then_on(
    wire, make_client, connection
):
    expire_in(connection, 0)
    wire.post(TOKEN_URL, json=token_response(api_domain="https://www.zohoapis.com"))
    wire.get("https://www.zohoapis.com/crm/v2.1/settings/modules", json=LEADS_MODULE)

    make_client().modules()

    assert Connection.objects.get(pk=connection.pk).api_domain == "https://www.zohoapis.com"


def test_a_token_endpoint_timeout_is_retried_like_any_transport_failure(
    wire, make_client, connection
):
    import requests

    expire_in(connection, 0)
    wire.post(TOKEN_URL, body=requests.ConnectTimeout("connect timed out"))
    wire.post(TOKEN_URL, json=token_response())
    wire.get(MODULES_URL, json=LEADS_MODULE)
    client = make_client()

    client.modules()

    assert client.stats.retries == {"token_endpoint": 1}
    assert client.stats.refreshes == {"expiring": 1}
