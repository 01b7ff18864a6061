"""OAuth 2.0 with Zoho's accounts server: authorize, exchange codes, refresh, revoke.

The token endpoint answers errors with **HTTP 200** and ``{"error": "invalid_code"}``, so
success is decided by the presence of ``access_token``, never by the status. These
functions only talk to the accounts server; storing what they return is the caller's job
(``Connection.store_tokens``).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import requests
from django.conf import settings

from .datacentres import DATA_CENTRES
from .errors import ZohoOAuthError, ZohoServerError, ZohoTransportError
from .transport import Exchange, json_object, send_once

if TYPE_CHECKING:
    from .models import Connection

# What each documented ``error`` value means for the person who has to fix it.
OAUTH_ERROR_MESSAGES = {
    "invalid_client": (
        "Zoho does not know this client id: the client id is wrong, or the client was "
        "registered in another data centre"
    ),
    "invalid_code": (
        "the code expired, was already used, or the refresh token was revoked: "
        "generate a new code or connect again"
    ),
    "invalid_client_secret": "the client secret is wrong",
    "invalid_redirect_uri": (
        "the redirect URI does not match the one registered for this client in Zoho's API console"
    ),
    "access_denied": "Zoho refused the request (access denied); wait a few minutes and try again",
    "Access Denied": (
        "Zoho is throttling token requests for this client; wait a few minutes and try again"
    ),
    "invalid_token": "the token is not valid any more (already revoked?)",
}


@dataclass(frozen=True)
class Tokens:
    """What the token endpoint granted. ``refresh_token`` is empty on a refresh."""

    access_token: str
    expires_in: int
    api_domain: str = ""
    refresh_token: str = ""
    scope: str = ""

    def __repr__(self) -> str:
        # Never let a token reach a log line or a traceback through repr().
        return f"Tokens(expires_in={self.expires_in}, api_domain={self.api_domain!r})"


def authorization_url(connection: "Connection", *, redirect_uri: str, state: str) -> str:
    """Where to send the manager's browser to grant crmadmin access to the org."""
    query = urlencode(
        {
            "scope": connection.scopes,
            "client_id": connection.client_id,
            "response_type": "code",
            "access_type": "offline",
            "prompt": "consent",
            "redirect_uri": redirect_uri,
            "state": state,
        }
    )
    return f"{connection.accounts_url.rstrip('/')}/oauth/v2/auth?{query}"


def trusted_accounts_url(connection: "Connection", accounts_server: str) -> str:
    """Return ``accounts_server`` if it may receive the client secret, else refuse.

    Zoho appends ``accounts-server=`` to the redirect so that a user of another data
    centre is served by the right one. The value comes from the browser, so anything
    but the connection's own accounts server or a known data centre's is refused: the
    token call carries the client secret.
    """
    wanted = _normalise(accounts_server)
    allowed = {_normalise(connection.accounts_url)}
    allowed |= {_normalise(dc.accounts_url) for dc in DATA_CENTRES.values()}
    if wanted not in allowed:
        raise ZohoOAuthError(
            "untrusted_accounts_server",
            "the accounts server named in the redirect is neither this connection's nor a "
            "known Zoho data centre's, so the client secret was not sent to it",
        )
    return accounts_server.rstrip("/")


def exchange_code(
    connection: "Connection",
    *,
    code: str,
    redirect_uri: str | None,
    accounts_url: str | None = None,
    session: requests.Session | None = None,
    timeout: float | None = None,
    on_exchange: Callable[[Exchange], None] | None = None,
) -> Tokens:
    """Trade a grant code for tokens.

    ``redirect_uri`` is required for the authorization-code flow and must be ``None``
    for a self-client code, which Zoho issues without one.
    """
    form = {
        "grant_type": "authorization_code",
        "client_id": connection.client_id,
        "client_secret": connection.client_secret,
        "code": code,
    }
    if redirect_uri is not None:
        form["redirect_uri"] = redirect_uri
    return _token_call(
        accounts_url or connection.accounts_url,
        form,
        secrets=[connection.client_secret, code],
        session=session,
        timeout=timeout,
        on_exchange=on_exchange,
    )


def refresh_access_token(
    connection: "Connection",
    *,
    session: requests.Session | None = None,
    timeout: float | None = None,
    on_exchange: Callable[[Exchange], None] | None = None,
) -> Tokens:
    if not connection.refresh_token:
        raise ZohoOAuthError(
            "not_connected", "this connection has no refresh token: connect it first"
        )
    form = {
        "grant_type": "refresh_token",
        "client_id": connection.client_id,
        "client_secret": connection.client_secret,
        "refresh_token": connection.refresh_token,
    }
    return _token_call(
        connection.accounts_url,
        form,
        secrets=[connection.client_secret, connection.refresh_token],
        session=session,
        timeout=timeout,
        on_exchange=on_exchange,
    )


def revoke_refresh_token(
    connection: "Connection",
    *,
    session: requests.Session | None = None,
    timeout: float | None = None,
    on_exchange: Callable[[Exchange], None] | None = None,
) -> None:
    """Revoke the refresh token (and the access tokens made from it) at Zoho."""
    token = connection.refresh_token
    # The token goes in the form body rather than the documented query string: URLs end
    # up in proxy logs, bodies do not. Zoho's own SDK does the same.
    response = _post(
        f"{connection.accounts_url.rstrip('/')}/oauth/v2/token/revoke",
        {"token": token},
        secrets=[token],
        session=session,
        timeout=timeout,
        on_exchange=on_exchange,
    )
    body = json_object(response)
    if response.status_code >= 500:
        raise ZohoServerError(
            "INTERNAL_ERROR", "the accounts server failed", {}, response.status_code
        )
    if response.status_code != 200 or (body or {}).get("status") != "success":
        error = str((body or {}).get("error") or "invalid_token")
        raise ZohoOAuthError(
            error,
            OAUTH_ERROR_MESSAGES.get(error, "Zoho refused to revoke the token"),
            {},
            response.status_code,
        )


def _token_call(
    accounts_url: str,
    form: dict[str, str],
    *,
    secrets: list[str],
    session: requests.Session | None,
    timeout: float | None,
    on_exchange: Callable[[Exchange], None] | None,
) -> Tokens:
    response = _post(
        f"{accounts_url.rstrip('/')}/oauth/v2/token",
        form,
        secrets=secrets,
        session=session,
        timeout=timeout,
        on_exchange=on_exchange,
    )
    body = json_object(response)
    if response.status_code >= 500 or body is None:
        raise ZohoServerError(
            "INVALID_RESPONSE",
            "the accounts server did not answer with JSON",
            {},
            response.status_code,
        )
    if body.get("error") or not body.get("access_token"):
        raise _oauth_error(body, response.status_code)
    # Very old responses gave ``expires_in`` in milliseconds next to ``expires_in_sec``.
    expires_in = body.get("expires_in_sec", body.get("expires_in", 3600))
    return Tokens(
        access_token=str(body["access_token"]),
        expires_in=int(expires_in),
        api_domain=str(body.get("api_domain") or ""),
        refresh_token=str(body.get("refresh_token") or ""),
        scope=str(body.get("scope") or ""),
    )


def _oauth_error(body: dict[str, Any], http_status: int) -> ZohoOAuthError:
    error = str(body.get("error") or "no_access_token")
    description = str(body.get("error_description") or "")
    message = OAUTH_ERROR_MESSAGES.get(error) or (
        description or "the accounts server answered without an access token"
    )
    details = {"error_description": description} if description else {}
    return ZohoOAuthError(error, message, details, http_status)


def _post(
    url: str,
    form: dict[str, str],
    *,
    secrets: list[str],
    session: requests.Session | None,
    timeout: float | None,
    on_exchange: Callable[[Exchange], None] | None,
) -> requests.Response:
    try:
        return send_once(
            session or requests.Session(),
            "POST",
            url,
            data=form,
            timeout=timeout or settings.CRMADMIN_HTTP_TIMEOUT,
            attempt=1,
            known_secrets=secrets,
            on_exchange=on_exchange,
        )
    except requests.Timeout:
        raise ZohoTransportError("TIMEOUT", "the accounts server did not answer in time") from None
    except requests.RequestException as exc:
        raise ZohoTransportError(
            "CONNECTION_ERROR", f"the accounts server could not be reached ({type(exc).__name__})"
        ) from None


def _normalise(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"
