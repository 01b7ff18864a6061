from django.conf import settings
from django.db import models

from .crypto import EncryptedTextField
from .datacentres import DATA_CENTRE_CHOICES

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
