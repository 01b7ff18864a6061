"""Keep secrets out of log lines and stored API exchanges.

Tokens appear in headers (``Authorization: Zoho-oauthtoken …``), in form bodies and query
strings (``refresh_token=…``, ``client_secret=…``, ``code=…``) and in JSON bodies of the
token endpoint (``"access_token": "…"``). Each is replaced by ``[REDACTED]``.

The JSON rule deliberately leaves the key ``"code"`` alone: every CRM response carries
``"code": "SUCCESS"`` or an error code, which the audit needs to read. An authorization
code only ever travels in query strings and form bodies, which the third rule covers.
"""

import logging
import re
from collections.abc import Iterable

REDACTED = "[REDACTED]"

_JSON_SECRET_KEYS = r"access_token|refresh_token|id_token|client_secret|token|password|secret"
_FORM_SECRET_KEYS = rf"{_JSON_SECRET_KEYS}|code"
_PATTERNS = [
    # Authorization header values, whatever the scheme.
    re.compile(r"(?i)\b(Zoho-oauthtoken|Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+"),
    # JSON: "access_token": "…"
    re.compile(rf'(?i)("(?:{_JSON_SECRET_KEYS})"\s*:\s*")[^"]*(")'),
    # Form bodies and query strings: refresh_token=…
    re.compile(rf"(?i)\b((?:{_FORM_SECRET_KEYS})=)[^&\s\"']+"),
]

# Literal secrets shorter than this are not replaced: a 1-character "secret" would
# otherwise blank out every occurrence of that character.
_MIN_KNOWN_SECRET_LENGTH = 6


def redact(text: str, known_secrets: Iterable[str] = ()) -> str:
    """Return ``text`` with every token-looking value replaced by ``[REDACTED]``.

    ``known_secrets`` are values the caller holds (the current access token, the client
    secret…): they are replaced wherever they appear, even outside a recognisable key,
    e.g. echoed back inside an error message.
    """
    if not text:
        return text
    for secret in known_secrets:
        if secret and len(secret) >= _MIN_KNOWN_SECRET_LENGTH:
            text = text.replace(secret, REDACTED)
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _PATTERNS[1].sub(lambda m: f"{m.group(1)}{REDACTED}{m.group(2)}", text)
    return _PATTERNS[2].sub(lambda m: f"{m.group(1)}{REDACTED}", text)


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """Copy of ``headers`` with the values of credential headers redacted."""
    hidden = {"authorization", "cookie", "set-cookie", "proxy-authorization"}
    return {k: (REDACTED if k.lower() in hidden else v) for k, v in headers.items()}


class RedactSecretsFilter(logging.Filter):
    """Logging filter that redacts the formatted message of every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
