"""Who is calling the sandbox API, and may they call this URL: tokens and OAuth scopes."""

from django.http import HttpRequest
from django.utils import timezone

from .envelope import ApiError
from .models import AccessToken, FaultConfig, hash_secret


def authentication_failure() -> ApiError:
    return ApiError(401, "AUTHENTICATION_FAILURE", "Authentication failed")


def invalid_token() -> ApiError:
    return ApiError(401, "INVALID_TOKEN", "invalid oauth token")


def scope_mismatch() -> ApiError:
    return ApiError(401, "OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL")


# What "WRITE" grants, besides itself.
_WRITE_COVERS = {"create", "update", "delete"}


def authenticate(request: HttpRequest, config: FaultConfig) -> AccessToken:
    """The access token of the request; raise the 401 Zoho gives when there is none."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    scheme = scheme.lower()
    accepted = scheme == "zoho-oauthtoken" or (scheme == "bearer" and config.accept_bearer)
    token = token.strip()
    if not accepted or not token:
        raise authentication_failure()
    found = AccessToken.objects.select_related("user").filter(token_hash=hash_secret(token)).first()
    if found is None or not found.is_valid(timezone.now()):
        raise invalid_token()
    return found


def covers(granted: str, required: str) -> bool:
    """Whether scope ``granted`` allows ``required`` (``Service.path….OPERATION``).

    A granted scope covers a required one when it names the same service, a prefix of
    its path, and the same operation or ALL (WRITE also covers CREATE/UPDATE/DELETE):
    ``ZohoCRM.modules.ALL`` covers ``ZohoCRM.modules.Leads.READ``;
    ``ZohoCRM.mass_update.UPDATE`` covers ``ZohoCRM.mass_update.Leads.UPDATE``.
    Zoho's scope names are case-insensitive.
    """
    g = granted.strip().lower().split(".")
    r = required.strip().lower().split(".")
    if len(g) < 2 or len(r) < 2 or g[0] != r[0]:
        return False
    g_path, g_op = g[1:-1], g[-1]
    r_path, r_op = r[1:-1], r[-1]
    if r_path[: len(g_path)] != g_path:
        return False
    return g_op in {r_op, "all"} or (g_op == "write" and r_op in _WRITE_COVERS)


def require_scopes(token: AccessToken, required: list[str]) -> None:
    granted = token.scope_list
    for scope in required:
        if not any(covers(g, scope) for g in granted):
            raise scope_mismatch()
