"""Where crmadmin sends people and codes (issue 6, item 5): the OAuth redirect URI is the one
registered for the connection, and `next` after login or logout never leaves the site."""

from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.contrib.messages import get_messages
from django.urls import reverse

from crmadmin.zoho.models import Connection
from crmadmin.zoho.views import OAUTH_SESSION_KEY
from tests.conftest import PASSWORD
from tests.zoho.conftest import ACCOUNTS_URL, make_connection

pytestmark = pytest.mark.django_db

CALLBACK = "http://testserver/connections/oauth/callback/"


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def connect(client, connection: Connection, **extra):
    return client.post(reverse("zoho:connection-connect", args=[connection.pk]), **extra)


# --- The OAuth redirect URI -------------------------------------------------------------


def test_connect_sends_exactly_the_registered_redirect_uri(manager_client):
    connection = make_connection(redirect_uri=CALLBACK)

    response = connect(manager_client, connection)

    query = parse_qs(urlsplit(response["Location"]).query)
    assert response["Location"].startswith(ACCOUNTS_URL + "/oauth/v2/auth?")
    assert query["redirect_uri"] == [CALLBACK]
    assert manager_client.session[OAUTH_SESSION_KEY]["redirect_uri"] == CALLBACK


def test_connect_without_a_registered_redirect_uri_is_refused_with_a_clear_message(
    manager_client,
):
    connection = make_connection(redirect_uri="")

    response = connect(manager_client, connection)

    assert response["Location"] == reverse("zoho:connection-detail", args=[connection.pk])
    assert any("No redirect URI is registered" in m for m in messages_of(response))
    assert OAUTH_SESSION_KEY not in manager_client.session


def test_connect_from_another_host_name_is_refused(manager_client, alias):
    """A page reached under another of the site's names (or a forged Host header) would make
    Zoho send the code elsewhere than where the Connect started: refused, nothing sent."""
    connection = make_connection(redirect_uri=CALLBACK)

    response = connect(manager_client, connection, HTTP_HOST=alias)

    assert response.status_code == 302
    assert not response["Location"].startswith(ACCOUNTS_URL)
    [message] = messages_of(response)
    assert "served at http://alias.example.com/connections/oauth/callback/" in message
    assert f"registered for this connection is {CALLBACK}" in message
    assert OAUTH_SESSION_KEY not in manager_client.session


def test_a_host_outside_allowed_hosts_gets_a_400_not_a_redirect(manager_client):
    connection = make_connection(redirect_uri=CALLBACK)

    response = connect(manager_client, connection, HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert OAUTH_SESSION_KEY not in manager_client.session


@pytest.fixture
def alias(settings) -> str:
    """A second name the site answers to (or a Host header an attacker chose)."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "alias.example.com"]
    return "alias.example.com"


def callback_at(manager_client, host: str, *, registered_meanwhile: str = ""):
    """Connect, then come back at ``host`` with a code; no call to Zoho may happen."""
    connection = make_connection(redirect_uri=CALLBACK, refresh_token="", access_token="")
    state = parse_qs(urlsplit(connect(manager_client, connection)["Location"]).query)["state"][0]
    if registered_meanwhile:
        Connection.objects.filter(pk=connection.pk).update(redirect_uri=registered_meanwhile)
    with responses.RequestsMock():  # any call to Zoho would fail the test
        response = manager_client.get(
            reverse("zoho:oauth-callback"), {"state": state, "code": "1000.grant"}, HTTP_HOST=host
        )
    return response, Connection.objects.get(pk=connection.pk)


def test_a_callback_arriving_at_another_address_exchanges_nothing(manager_client, alias):
    response, connection = callback_at(manager_client, alias)

    assert any("Nothing changed" in m for m in messages_of(response))
    assert not connection.refresh_token


def test_a_registered_uri_changed_between_connect_and_callback_exchanges_nothing(
    manager_client, alias
):
    response, connection = callback_at(
        manager_client, alias, registered_meanwhile=f"http://{alias}/connections/oauth/callback/"
    )

    assert any("changed since Connect" in m for m in messages_of(response))
    assert not connection.refresh_token


def test_the_new_connection_form_offers_this_sites_callback_address(manager_client):
    response = manager_client.get(reverse("zoho:connection-create"))

    assert f'value="{CALLBACK}"' in response.text


def new_connection(manager_client, redirect_uri: str):
    return manager_client.post(
        reverse("zoho:connection-create"),
        {
            "name": "Acme",
            "data_centre": "EU",
            "client_id": "1000.ID",
            "client_secret": "secret",
            "redirect_uri": redirect_uri,
            "concurrency_limit": 5,
        },
    )


@pytest.mark.parametrize(
    ("redirect_uri", "complaint"),
    [
        ("javascript:alert(1)", "Enter a full address"),
        ("ftp://crm.example.com/connections/oauth/callback/", "Enter a full address"),
        ("https://[::1/connections/oauth/callback/", "Enter a full address"),
        ("https://evil.example/steal", "ending in /connections/oauth/callback/"),
        ("https://crm.example.com/connections/oauth/callback/?next=x", "no query"),
        ("https://crm.example.com/connections/oauth/callback/#x", "no query"),
        ("https://user:pw@crm.example.com/connections/oauth/callback/", "no query"),
        ("http://crm.example.com/connections/oauth/callback/", "Use https"),
    ],
)
def test_a_bad_registered_redirect_uri_is_refused_with_a_clear_message(
    manager_client, redirect_uri, complaint
):
    response = new_connection(manager_client, redirect_uri)

    assert response.status_code == 400
    assert complaint in response.text
    assert not Connection.objects.filter(name="Acme").exists()


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://crm-tools.example.com/connections/oauth/callback/",
        "http://localhost:8000/connections/oauth/callback/",
    ],
)
def test_a_good_registered_redirect_uri_is_kept(manager_client, redirect_uri):
    response = new_connection(manager_client, redirect_uri)

    assert response.status_code == 302
    assert Connection.objects.get(name="Acme").redirect_uri == redirect_uri


# --- `next` after login and logout -------------------------------------------------------

OFF_SITE = [
    "https://evil.example/",
    "http://evil.example",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "\\/evil.example",
    "https:evil.example",
    "https:/evil.example",
    " //evil.example",
    "\t//evil.example",
    "//evil.example%2F",
    "http://testserver@evil.example/",
    "http://evil.example#@testserver/",
    "javascript:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "https://testserver.evil.example/",
    "https://evil.example/?next=/jobs/",
]


def assert_on_site(location: str) -> None:
    parts = urlsplit(location)
    assert parts.scheme in {"", "http"} and parts.netloc in {"", "testserver"}, location
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location


@pytest.mark.parametrize("target", OFF_SITE)
def test_next_after_login_cannot_send_anyone_off_site(client, operator, target):
    response = client.post(
        reverse("accounts:login") + "?next=" + target,
        {"username": "olivia", "password": PASSWORD, "next": target},
    )

    assert response.status_code == 302
    assert_on_site(response["Location"])
    assert response["Location"] == reverse("massupdate:home")


@pytest.mark.parametrize("target", OFF_SITE[:8])
def test_next_after_logout_cannot_send_anyone_off_site(operator_client, target):
    response = operator_client.post(reverse("accounts:logout") + "?next=" + target)

    assert response.status_code == 302
    assert_on_site(response["Location"])


def test_an_on_site_next_is_followed(client, operator):
    response = client.post(
        reverse("accounts:login"),
        {"username": "olivia", "password": PASSWORD, "next": "/jobs/?status=failed"},
    )

    assert response["Location"] == "/jobs/?status=failed"


def test_an_already_signed_in_visitor_is_not_bounced_off_site_either(operator_client):
    response = operator_client.get(reverse("accounts:login") + "?next=https://evil.example/")

    assert response.status_code == 302
    assert_on_site(response["Location"])
