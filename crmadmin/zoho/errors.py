"""Typed errors built from Zoho's error envelope ``{code, details, message, status}``.

Which class an error gets decides what the caller does with it:

* ``ZohoAuthError`` / ``ZohoScopeError`` / ``ZohoOAuthError``: the connection needs a
  manager's attention (reconnect, grant the missing scope, fix the client id);
* ``ZohoRateLimitError`` / ``ZohoServerError`` / ``ZohoTransportError``: transient, already
  retried by the client; a job may pause and try again later;
* ``ZohoRequestError``: the request itself is wrong (bad module, bad field, too many ids);
  retrying the same request cannot help.

``str(error)`` is a sentence for a person; it never contains a token, secret or code.
"""

from typing import Any

AUTH_CODES = {"AUTHENTICATION_FAILURE", "INVALID_TOKEN"}
SCOPE_CODES = {"OAUTH_SCOPE_MISMATCH"}
RATE_LIMIT_CODES = {"TOO_MANY_REQUESTS"}
SERVER_CODES = {"INTERNAL_ERROR"}


class ZohoError(Exception):
    """An error answered by Zoho (or raised on its behalf), with the envelope's fields."""

    hint = ""

    def __init__(
        self,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        http_status: int | None = None,
        *,
        attempts: int = 1,
    ) -> None:
        self.code = code
        self.message = message
        self.details = details or {}
        self.http_status = http_status
        # How many HTTP attempts were made before giving up (retries included).
        self.attempts = attempts
        super().__init__(code, message)

    def __str__(self) -> str:
        # Built on demand: ``attempts`` is set after construction, when retries give up.
        return self.user_message

    @property
    def user_message(self) -> str:
        text = f"{self.code}: {self.message}" if self.message else self.code
        if self.attempts > 1:
            text += f" (after {self.attempts} attempts)"
        return f"{text}. {self.hint}" if self.hint else text

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "details": self.details,
            "http_status": self.http_status,
            "attempts": self.attempts,
        }


class ZohoAuthError(ZohoError):
    hint = "The connection's token was refused: reconnect it on the Connections page."


class ZohoScopeError(ZohoError):
    hint = (
        "The token lacks a scope this call needs: reconnect and grant every scope "
        "the connection lists."
    )


class ZohoRateLimitError(ZohoError):
    hint = "Zoho's API credits or concurrency limit ran out; try again later."


class ZohoServerError(ZohoError):
    hint = "Zoho had a server error; try again later."


class ZohoTransportError(ZohoError):
    hint = "Zoho could not be reached; check the network and the API domain."


class ZohoRequestError(ZohoError):
    """The request was refused for a reason retrying cannot fix."""


class ZohoOAuthError(ZohoError):
    """The accounts server refused a token request (answered with HTTP 200 and ``error``)."""


def error_from_envelope(body: dict[str, Any], http_status: int | None) -> ZohoError:
    """The typed error for one ``{code, details, message, status}`` object."""
    code = str(body.get("code") or f"HTTP_{http_status}")
    message = str(body.get("message") or "")
    details = body.get("details") if isinstance(body.get("details"), dict) else {}
    return error_class_for(code, http_status)(code, message, details, http_status)


def error_class_for(code: str, http_status: int | None) -> type[ZohoError]:
    if code in SCOPE_CODES:
        return ZohoScopeError
    if code in AUTH_CODES or http_status == 401:
        return ZohoAuthError
    if code in RATE_LIMIT_CODES or http_status == 429:
        return ZohoRateLimitError
    if code in SERVER_CODES or (http_status is not None and http_status >= 500):
        return ZohoServerError
    return ZohoRequestError
