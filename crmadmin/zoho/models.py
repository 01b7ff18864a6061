from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone

from .crypto import EncryptedTextField
from .datacentres import CUSTOM, DATA_CENTRE_CHOICES, DATA_CENTRES

if TYPE_CHECKING:
    from .oauth import Tokens

# Refresh a little before Zoho would refuse the token: a call that starts just before
# expiry can arrive just after it.
ACCESS_TOKEN_MARGIN = timedelta(seconds=60)

DEFAULT_SCOPES = ",".join(
    [
        "ZohoCRM.modules.ALL",
        "ZohoCRM.settings.ALL",
        "ZohoCRM.mass_update.ALL",
        "ZohoCRM.coql.READ",
        "ZohoSearch.securesearch.READ",
    ]
)


class Connection(models.Model):
    """One Zoho CRM org that crmadmin talks to, with its OAuth credentials."""

    name = models.CharField(max_length=100, unique=True)
    data_centre = models.CharField(max_length=10, choices=DATA_CENTRE_CHOICES)
    accounts_url = models.URLField(help_text="e.g. https://accounts.zoho.eu")
    api_domain = models.URLField(help_text="e.g. https://www.zohoapis.eu")
    client_id = models.CharField(max_length=200)
    client_secret = EncryptedTextField()
    # Checked by forms.check_redirect_uri (a URLField would refuse hosts without a dot).
    redirect_uri = models.CharField(
        "registered redirect URI",
        max_length=300,
        blank=True,
        default="",
        help_text=(
            "The redirect URI registered for this client in Zoho's API console: crmadmin's "
            "own /connections/oauth/callback/ address. Connect sends this one, and only "
            "from a page served at that address."
        ),
    )
    refresh_token = EncryptedTextField(blank=True, default="")
    access_token = EncryptedTextField(blank=True, default="")
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    scopes = models.TextField(default=DEFAULT_SCOPES)
    concurrency_limit = models.PositiveSmallIntegerField(
        default=10, help_text="Simultaneous API calls allowed to this org, across all workers."
    )
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_ok = models.BooleanField(null=True)
    last_check_message = models.CharField(max_length=500, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [("use_connection", "Can run mass updates through a connection")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_connected(self) -> bool:
        return bool(self.refresh_token)

    @property
    def scope_list(self) -> list[str]:
        return [scope.strip() for scope in self.scopes.split(",") if scope.strip()]

    def has_fresh_access_token(self, margin: timedelta = ACCESS_TOKEN_MARGIN) -> bool:
        return bool(
            self.access_token
            and self.access_token_expires_at
            and self.access_token_expires_at - margin > timezone.now()
        )

    def store_tokens(self, tokens: "Tokens", *, accounts_url: str = "") -> None:
        """Keep what the token endpoint granted; Zoho says which API domain to use."""
        self.access_token = tokens.access_token
        self.access_token_expires_at = timezone.now() + timedelta(seconds=tokens.expires_in)
        fields = ["access_token", "access_token_expires_at", "updated_at"]
        if tokens.refresh_token:
            self.refresh_token = tokens.refresh_token
            fields.append("refresh_token")
        if tokens.api_domain:
            self.api_domain = tokens.api_domain.rstrip("/")
            fields.append("api_domain")
        if accounts_url and accounts_url != self.accounts_url:
            # A user of another data centre was sent there by Zoho: later refreshes must
            # go to the same accounts server.
            self.accounts_url = accounts_url
            self.data_centre = next(
                (dc.code for dc in DATA_CENTRES.values() if dc.accounts_url == accounts_url),
                CUSTOM,
            )
            fields += ["accounts_url", "data_centre"]
        self.save(update_fields=fields)

    def forget_tokens(self) -> None:
        self.refresh_token = ""
        self.access_token = ""
        self.access_token_expires_at = None
        self.save(
            update_fields=["refresh_token", "access_token", "access_token_expires_at", "updated_at"]
        )

    def record_check(self, *, ok: bool, message: str) -> None:
        self.last_check_ok = ok
        self.last_check_message = message[: self._meta.get_field("last_check_message").max_length]
        self.last_checked_at = timezone.now()
        self.save(
            update_fields=["last_check_ok", "last_check_message", "last_checked_at", "updated_at"]
        )
