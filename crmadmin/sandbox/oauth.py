"""The sandbox's OAuth accounts server, as plain Python for set-up code and tests.

Other apps may call these functions (the sandbox never imports them)::

    from crmadmin.sandbox import oauth
    client = oauth.create_client("crmadmin", ["http://localhost:8000/connections/callback"])
    client.client_id, client.client_secret
    refresh = oauth.issue_refresh_token(client)                 # all scopes, patricia
    token = oauth.issue_access_token(scopes=["ZohoCRM.modules.ALL"])
    code = oauth.issue_grant_code(client, oauth.ALL_SCOPES)     # a self-client code
    oauth.expire_all_access_tokens()                            # every client gets INVALID_TOKEN

Tokens look like Zoho's (``1000.<hex>.<hex>``); only their sha256 is stored.
"""

import secrets
import string
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .models import (
    AccessToken,
    FaultConfig,
    GrantCode,
    OAuthClient,
    RefreshToken,
    SandboxUser,
    hash_secret,
)

ALL_SCOPES = [
    "ZohoCRM.modules.ALL",
    "ZohoCRM.settings.ALL",
    "ZohoCRM.mass_update.ALL",
    "ZohoCRM.coql.READ",
    "ZohoSearch.securesearch.READ",
]
REFRESH_WINDOW = timedelta(minutes=10)
THROTTLED = {
    "error": "Access Denied",
    "error_description": "You have made too many requests continuously. "
    "Please try again after some time.",
    "status": "failure",
}


def new_token() -> str:
    return f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"


def parse_scopes(scopes: list[str] | str | None) -> list[str]:
    """Scopes as a list; a string may separate them with commas or spaces. None → all."""
    if scopes is None:
        return list(ALL_SCOPES)
    if isinstance(scopes, str):
        scopes = scopes.replace(",", " ").split()
    return list(dict.fromkeys(s.strip() for s in scopes if s.strip()))


def create_client(name: str, redirect_uris: list[str]) -> OAuthClient:
    """Register a client, as in Zoho's API console. The secret is ``client.client_secret``."""
    alphabet = string.ascii_uppercase + string.digits
    return OAuthClient.objects.create(
        client_id="1000." + "".join(secrets.choice(alphabet) for _ in range(30)),
        client_secret=secrets.token_hex(21),
        name=name,
        redirect_uris=list(redirect_uris),
    )


def issue_grant_code(
    client: OAuthClient,
    scopes: list[str] | str | None,
    redirect_uri: str | None = None,
    access_type: str = "offline",
    user: SandboxUser | None = None,
    ttl: int | None = None,
) -> str:
    """A single-use grant code. Without ``redirect_uri`` it is a self-client code: it is
    exchanged without one, and always yields a refresh token. ``ttl`` defaults to the
    fault configuration's ``grant_code_ttl`` (120 s)."""
    code = new_token()
    lifetime = ttl if ttl is not None else FaultConfig.current().grant_code_ttl
    GrantCode.objects.create(
        code_hash=hash_secret(code),
        client=client,
        user=user or SandboxUser.default(),
        scopes=",".join(parse_scopes(scopes)),
        redirect_uri=redirect_uri or "",
        access_type=access_type,
        expires_at=timezone.now() + timedelta(seconds=lifetime),
    )
    return code


def issue_refresh_token(
    client: OAuthClient,
    scopes: list[str] | str | None = None,
    user: SandboxUser | None = None,
) -> str:
    """A refresh token for ``client`` (all scopes and patricia by default)."""
    user = user or SandboxUser.default()
    return _new_refresh_token(client, parse_scopes(scopes), user, FaultConfig.current())[0]


def issue_access_token(
    scopes: list[str] | str | None = None,
    user: SandboxUser | None = None,
    client: OAuthClient | None = None,
) -> str:
    """An access token straight away (all scopes, patricia, no client by default); it
    lives ``FaultConfig.token_ttl`` seconds."""
    return _new_access_token(
        scopes=parse_scopes(scopes),
        user=user or SandboxUser.default(),
        client=client,
        refresh=None,
        source=AccessToken.DIRECT,
        config=FaultConfig.current(),
    )


def expire_all_access_tokens() -> int:
    """Make every live access token expire now; returns how many there were."""
    now = timezone.now()
    return AccessToken.objects.filter(revoked_at__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )


def revoke_refresh_token(token: str) -> bool:
    """Revoke a refresh token and the access tokens made from it; False if unknown."""
    now = timezone.now()
    with transaction.atomic():
        found = RefreshToken.objects.filter(
            token_hash=hash_secret(token), revoked_at__isnull=True
        ).first()
        if found is None:
            return False
        _revoke(found, now)
    return True


# --- The token endpoint's grants --------------------------------------------------------


def token_response(params: dict[str, str], *, api_domain: str) -> dict:
    """What ``POST /oauth/v2/token`` answers (always HTTP 200, errors included)."""
    client = OAuthClient.objects.filter(client_id=params.get("client_id") or "").first()
    if client is None:
        return {"error": "invalid_client"}
    if not secrets.compare_digest(params.get("client_secret") or "", client.client_secret):
        return {"error": "invalid_client_secret"}
    grant_type = params.get("grant_type")
    if grant_type == "authorization_code":
        return _exchange_code(client, params, api_domain)
    if grant_type == "refresh_token":
        return _refresh(client, params, api_domain)
    return {"error": "unsupported_grant_type"}


def _exchange_code(client: OAuthClient, params: dict[str, str], api_domain: str) -> dict:
    now = timezone.now()
    with transaction.atomic():
        grant = (
            GrantCode.objects.select_related("user")
            .filter(code_hash=hash_secret(params.get("code") or ""), client=client)
            .first()
        )
        if grant is None or grant.used_at is not None or grant.expires_at <= now:
            return {"error": "invalid_code"}
        if not grant.self_client and params.get("redirect_uri") != grant.redirect_uri:
            return {"error": "invalid_redirect_uri"}
        # Claim the code: only one of two simultaneous exchanges can win.
        claimed = GrantCode.objects.filter(pk=grant.pk, used_at__isnull=True).update(used_at=now)
        if not claimed:
            return {"error": "invalid_code"}
        scopes = grant.scopes.split(",")
        config = FaultConfig.current()
        refresh, plain_refresh = None, None
        if grant.self_client or grant.access_type == "offline":
            plain_refresh, refresh = _new_refresh_token(client, scopes, grant.user, config)
        access = _new_access_token(
            scopes=scopes,
            user=grant.user,
            client=client,
            refresh=refresh,
            source=AccessToken.CODE,
            config=config,
        )
    payload = {"access_token": access}
    if plain_refresh:
        payload["refresh_token"] = plain_refresh
    return _with_common(payload, scopes, api_domain, config)


def _refresh(client: OAuthClient, params: dict[str, str], api_domain: str) -> dict:
    now = timezone.now()
    config = FaultConfig.current()
    with transaction.atomic():
        refresh = (
            RefreshToken.objects.select_related("user")
            .filter(token_hash=hash_secret(params.get("refresh_token") or ""), client=client)
            .first()
        )
        if refresh is None or refresh.revoked_at is not None:
            return {"error": "invalid_code"}
        if config.refresh_limit:
            recent = refresh.access_tokens.filter(
                source=AccessToken.REFRESH, created_at__gt=now - REFRESH_WINDOW
            ).count()
            if recent >= config.refresh_limit:
                return dict(THROTTLED)
        scopes = refresh.scopes.split(",")
        access = _new_access_token(
            scopes=scopes,
            user=refresh.user,
            client=client,
            refresh=refresh,
            source=AccessToken.REFRESH,
            config=config,
        )
    return _with_common({"access_token": access}, scopes, api_domain, config)


def _with_common(payload: dict, scopes: list[str], api_domain: str, config: FaultConfig) -> dict:
    # expires_in from the config the token was made with: the lifetime it really has.
    return {
        **payload,
        "scope": " ".join(scopes),
        "api_domain": api_domain,
        "token_type": "Bearer",
        "expires_in": config.token_ttl,
    }


def _new_refresh_token(
    client: OAuthClient, scopes: list[str], user: SandboxUser, config: FaultConfig
) -> tuple[str, RefreshToken]:
    plain = new_token()
    refresh = RefreshToken.objects.create(
        token_hash=hash_secret(plain), client=client, user=user, scopes=",".join(scopes)
    )
    limit = config.refresh_tokens_per_user
    if limit:
        # Zoho keeps 20 per user and client; the 21st deletes the oldest, even in use.
        live = RefreshToken.objects.filter(
            client=client, user=user, revoked_at__isnull=True
        ).order_by("-created_at", "-id")
        now = timezone.now()
        for old in live[limit:]:
            _revoke(old, now)
    return plain, refresh


def _new_access_token(
    *,
    scopes: list[str],
    user: SandboxUser,
    client: OAuthClient | None,
    refresh: RefreshToken | None,
    source: str,
    config: FaultConfig,
) -> str:
    plain = new_token()
    AccessToken.objects.create(
        token_hash=hash_secret(plain),
        client=client,
        refresh_token=refresh,
        user=user,
        scopes=",".join(scopes),
        source=source,
        expires_at=timezone.now() + timedelta(seconds=config.token_ttl),
    )
    if refresh is not None and config.access_tokens_per_refresh:
        # At most N live access tokens per refresh token; the oldest stop working.
        now = timezone.now()
        live = refresh.access_tokens.filter(revoked_at__isnull=True, expires_at__gt=now)
        stale = live.order_by("-created_at", "-id").values_list("pk", flat=True)[
            config.access_tokens_per_refresh :
        ]
        AccessToken.objects.filter(pk__in=list(stale)).update(revoked_at=now)
    return plain


def _revoke(refresh: RefreshToken, now) -> None:
    RefreshToken.objects.filter(pk=refresh.pk).update(revoked_at=now)
    AccessToken.objects.filter(refresh_token=refresh, revoked_at__isnull=True).update(
        revoked_at=now
    )
