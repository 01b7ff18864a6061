"""Keep secrets out of log lines and stored API exchanges.

Tokens appear in headers (``Authorization: Zoho-oauthtoken …``), in form bodies and query
strings (``refresh_token=…``, ``client_secret=…``, ``code=…``) and in JSON bodies of the
token endpoint (``"access_token": "…"``). Each is replaced by ``[REDACTED]``.
"""

import logging
import re

REDACTED = "[REDACTED]"

_SECRET_KEYS = r"access_token|refresh_token|client_secret|code|token|password|secret"
_PATTERNS = [
    # Authorization header values, whatever the scheme.
    re.compile(r"(?i)\b(Zoho-oauthtoken|Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+"),
    # JSON: "access_token": "…"
    re.compile(rf'(?i)("(?:{_SECRET_KEYS})"\s*:\s*")[^"]*(")'),
    # Form bodies and query strings: refresh_token=…
    re.compile(rf"(?i)\b((?:{_SECRET_KEYS})=)[^&\s\"']+"),
]


def redact(text: str) -> str:
    """Return ``text`` with every token-looking value replaced by ``[REDACTED]``."""
    if not text:
        return text
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
