"""Flows that change a Connection by talking to Zoho: connect, test, disconnect.

Views call these with cleaned form data; each returns nothing the view must interpret
beyond success, and raises ``ZohoError`` with a sentence for the user when Zoho refuses.
"""

import secrets

from .client import ZohoClient
from .errors import ZohoError, ZohoOAuthError
from .models import Connection
from .oauth import (
    authorization_url,
    exchange_code,
    revoke_refresh_token,
    trusted_accounts_url,
)

# "Test connection" runs inside a page request: give up quickly rather than make the
# manager wait through a job's full backoff.
CHECK_MAX_ATTEMPTS = 2
CHECK_BACKOFF_CAP = 2.0


def start_authorization(*, connection: Connection, redirect_uri: str) -> tuple[str, str]:
    """The accounts-server URL to send the browser to, and the ``state`` to expect back."""
    state = secrets.token_urlsafe(32)
    return authorization_url(connection, redirect_uri=redirect_uri, state=state), state


def complete_authorization(
    *, connection: Connection, code: str, redirect_uri: str, accounts_server: str = ""
) -> None:
    """Exchange the code Zoho sent back to the callback and keep the refresh token."""
    accounts_url = (
        trusted_accounts_url(connection, accounts_server)
        if accounts_server
        else connection.accounts_url
    )
    tokens = exchange_code(
        connection, code=code, redirect_uri=redirect_uri, accounts_url=accounts_url
    )
    _require_refresh_token(tokens.refresh_token)
    connection.store_tokens(tokens, accounts_url=accounts_url)


def connect_self_client(*, connection: Connection, code: str) -> None:
    """Exchange a code generated in Zoho's API console (Self Client); no redirect URI."""
    tokens = exchange_code(connection, code=code, redirect_uri=None)
    _require_refresh_token(tokens.refresh_token)
    connection.store_tokens(tokens)


def check_connection(*, connection: Connection) -> bool:
    """Make one cheap call and record the outcome on the connection."""
    if not connection.is_connected:
        connection.record_check(ok=False, message="Not connected yet: connect it first.")
        return False
    client = ZohoClient(connection, max_attempts=CHECK_MAX_ATTEMPTS, backoff_cap=CHECK_BACKOFF_CAP)
    try:
        summary = client.check()
    except ZohoError as exc:
        connection.record_check(ok=False, message=str(exc))
        return False
    connection.record_check(ok=True, message=summary)
    return True


def disconnect(*, connection: Connection) -> str:
    """Revoke the refresh token at Zoho and forget every token here.

    The tokens are forgotten even when Zoho cannot be told: the manager asked to stop
    using them. Returns a warning to show when the revocation failed, else "".
    """
    warning = ""
    if connection.refresh_token:
        try:
            revoke_refresh_token(connection)
        except ZohoError as exc:
            warning = (
                f"Zoho could not revoke the token ({exc}). It is forgotten here; revoke it "
                "in Zoho's API console too."
            )
    connection.forget_tokens()
    connection.record_check(ok=False, message="Disconnected.")
    return warning


def _require_refresh_token(refresh_token: str) -> None:
    if not refresh_token:
        raise ZohoOAuthError(
            "no_refresh_token",
            "Zoho granted no refresh token (was offline access refused?); connect again",
        )
