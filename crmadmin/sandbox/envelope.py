"""Zoho's response envelope: JSON bodies, error objects and the per-record status rule."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

if TYPE_CHECKING:  # models build error objects with error_body, so no import at run time
    from .models import AccessToken, FaultConfig, SandboxUser
    from .schema import Module

CONTENT_TYPE = "application/json;charset=UTF-8"
MAX_INT = 2**31 - 1


def json_response(payload: dict, status: int = 200) -> HttpResponse:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return HttpResponse(body.encode(), status=status, content_type=CONTENT_TYPE)


def no_content() -> HttpResponse:
    """Zoho's "nothing matched": 204 and no body at all (the JSON content type stays)."""
    return HttpResponse(status=204, content_type=CONTENT_TYPE)


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    return {"code": code, "details": details or {}, "message": message, "status": "error"}


class ApiError(Exception):  # noqa: N818 - it is the API's error, not a Python failure
    """An error the API answers with; ``in_data`` puts it in ``{"data": [...]}``.

    The recordings show mass update's request-level errors as HTTP 200 with the error
    inside ``data[0]``; the other endpoints answer with a top-level object.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict | None = None,
        *,
        in_data: bool = False,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.in_data = in_data

    def body(self) -> dict:
        error = error_body(self.code, self.message, dict(self.details))
        return {"data": [error]} if self.in_data else error

    def response(self) -> HttpResponse:
        return json_response(self.body(), self.status)


def results_status(results: list[dict]) -> int:
    """All success → 200; one id that failed → 400; anything else with a failure → 207."""
    failures = sum(1 for r in results if r.get("status") != "success")
    if failures == 0:
        return 200
    if len(results) == 1:
        return 400
    return 207


@dataclass
class Call:
    """One authenticated API call, as the endpoint functions receive it."""

    request: HttpRequest
    version: tuple[int, int]
    token: AccessToken
    config: FaultConfig  # the switchboard as read at the start of this request
    module: Module | None = None
    resource: str | None = None  # the record or custom-view id in the URL

    @property
    def user(self) -> SandboxUser:
        return self.token.user

    def param(self, name: str) -> str | None:
        value = self.request.GET.get(name)
        return None if value is None else value.strip()

    def int_param(self, name: str, default: int) -> int:
        """A positive integer parameter; Zoho's are Java ints, so larger ones are invalid."""
        raw = self.param(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if not 1 <= value <= MAX_INT:
            raise ApiError(400, "INVALID_DATA", "invalid data", {"param_name": name})
        return value

    def json_body(self, *, in_data: bool = False) -> Any:
        status = 200 if in_data else 400
        try:
            return json.loads(self.request.body or b"null")
        except RequestDataTooBig:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            message = "the request body is larger than the sandbox accepts"
            raise ApiError(
                status, "INVALID_DATA", message, {"limit": limit}, in_data=in_data
            ) from None
        except (ValueError, UnicodeDecodeError, RecursionError):
            # RecursionError: JSON nested deeper than the parser's stack.
            message = "body is not a valid JSON"
            raise ApiError(status, "INVALID_DATA", message, in_data=in_data) from None
