from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.urls import reverse

from crmadmin.formfields import PlainIntegerField

from .datacentres import CUSTOM, DATA_CENTRES
from .models import Connection

# Zoho's editions allow 5 to 25 calls at a time (more with add-ons); far above is a typo.
MAX_CONCURRENCY = 100


class ConnectionChecks:
    """The checks of a connection's settings, for every form that edits them (here and in
    the admin): a plain-digit concurrency limit within reason, a real redirect URI."""

    def clean_concurrency_limit(self) -> int:
        limit = self.cleaned_data["concurrency_limit"]
        if limit < 1:
            raise forms.ValidationError("Allow at least one call at a time.")
        if limit > MAX_CONCURRENCY:
            raise forms.ValidationError(
                f"At most {MAX_CONCURRENCY}: Zoho allows 5 to 25 calls at a time by edition."
            )
        return limit

    def clean_redirect_uri(self) -> str:
        """crmadmin's callback, over HTTPS unless on this machine."""
        uri = self.cleaned_data["redirect_uri"]
        if not uri:
            return uri
        try:
            parts = urlsplit(uri)
            host = parts.hostname
        except ValueError:
            host = None
        callback_path = reverse("zoho:oauth-callback")
        if host is None or parts.scheme not in {"http", "https"}:
            raise forms.ValidationError(
                "Enter a full address, such as https://crm-tools.example.com…"
            )
        if parts.query or parts.fragment or parts.username or parts.password:
            raise forms.ValidationError("Give the address alone: no query, fragment or user name.")
        if not parts.path.endswith(callback_path):
            raise forms.ValidationError(
                f"This must be crmadmin's callback address, ending in {callback_path}"
            )
        local = host in {"localhost", "127.0.0.1", "::1"}
        if parts.scheme != "https" and not local:
            raise forms.ValidationError("Use https: Zoho sends the authorization code to it.")
        return uri


class ConnectionForm(ConnectionChecks, forms.ModelForm):
    """A new connection. Choosing a data centre fills both URLs; "Custom" asks for them."""

    client_secret = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        help_text="From Zoho's API console. Stored encrypted and never shown again.",
    )

    class Meta:
        model = Connection
        fields = [
            "name",
            "data_centre",
            "accounts_url",
            "api_domain",
            "client_id",
            "client_secret",
            "redirect_uri",
            "concurrency_limit",
        ]
        labels = {"accounts_url": "Accounts server URL", "api_domain": "API domain"}
        field_classes = {"concurrency_limit": PlainIntegerField}
        help_texts = {
            "accounts_url": "Only for Custom: e.g. the sandbox's accounts URL.",
            "api_domain": "Only for Custom: e.g. the sandbox's API domain.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Filled from the data centre unless it is Custom; clean() insists then.
        self.fields["accounts_url"].required = False
        self.fields["api_domain"].required = False
        self.fields["concurrency_limit"].widget.attrs["min"] = 1

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        code = cleaned.get("data_centre")
        if code in DATA_CENTRES:
            cleaned["accounts_url"] = DATA_CENTRES[code].accounts_url
            cleaned["api_domain"] = DATA_CENTRES[code].api_domain
        elif code == CUSTOM:
            for name in ("accounts_url", "api_domain"):
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(name, "Required for a Custom data centre.")
        for name in ("accounts_url", "api_domain"):
            if cleaned.get(name):
                cleaned[name] = cleaned[name].rstrip("/")
        return cleaned


class SelfClientCodeForm(forms.Form):
    code = forms.CharField(
        max_length=500,
        strip=True,
        label="Self-client code",
        help_text=(
            "Generate it in Zoho's API console (Self Client → Generate Code) with the scopes "
            "listed above; it is valid for a few minutes and can be used once."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class OAuthCallbackForm(forms.Form):
    """The query string Zoho's accounts server sends back to the redirect URI."""

    state = forms.CharField(required=False, max_length=200)
    code = forms.CharField(required=False, max_length=1000)
    error = forms.CharField(required=False, max_length=200)
    location = forms.CharField(required=False, max_length=20)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Zoho's parameter name has a hyphen, so it cannot be a class attribute.
        self.fields["accounts-server"] = forms.URLField(required=False, max_length=300)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors and not cleaned.get("code") and not cleaned.get("error"):
            raise forms.ValidationError("Zoho sent back neither a code nor an error.")
        return cleaned
