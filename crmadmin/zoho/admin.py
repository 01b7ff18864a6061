from django import forms
from django.contrib import admin
from django.http import HttpRequest

from crmadmin.formfields import PlainIntegerField

from .forms import ConnectionChecks
from .models import Connection


def _mask(value: str) -> str:
    return "•••• set" if value else "—"


class ConnectionAdminForm(ConnectionChecks, forms.ModelForm):
    # Write-only: the stored secret is never put back into the page.
    new_client_secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the current client secret.",
    )

    class Meta:
        model = Connection
        # Listed one by one so that a secret field added later is not shown by default.
        fields = [
            "name",
            "data_centre",
            "accounts_url",
            "api_domain",
            "client_id",
            "redirect_uri",
            "scopes",
            "concurrency_limit",
        ]
        field_classes = {"concurrency_limit": PlainIntegerField}


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionAdminForm
    list_display = ["name", "data_centre", "api_domain", "connected", "last_check_ok"]
    list_filter = ["data_centre", "last_check_ok"]
    search_fields = ["name", "client_id"]
    readonly_fields = [
        "client_secret_status",
        "refresh_token_status",
        "access_token_status",
        "access_token_expires_at",
        "last_checked_at",
        "last_check_ok",
        "last_check_message",
        "created_by",
        "created_at",
        "updated_at",
    ]

    @admin.display(boolean=True)
    def connected(self, obj: Connection) -> bool:
        return obj.is_connected

    @admin.display(description="Client secret")
    def client_secret_status(self, obj: Connection) -> str:
        return _mask(obj.client_secret)

    @admin.display(description="Refresh token")
    def refresh_token_status(self, obj: Connection) -> str:
        return _mask(obj.refresh_token)

    @admin.display(description="Access token")
    def access_token_status(self, obj: Connection) -> str:
        return _mask(obj.access_token)

    def save_model(
        self, request: HttpRequest, obj: Connection, form: ConnectionAdminForm, change: bool
    ) -> None:
        if form.cleaned_data.get("new_client_secret"):
            obj.client_secret = form.cleaned_data["new_client_secret"]
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
