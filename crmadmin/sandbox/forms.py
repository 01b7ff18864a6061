"""Forms of the sandbox's accounts-server pages and token endpoint."""

from django import forms

from .models import OAuthClient, SandboxUser
from .oauth import ALL_SCOPES, parse_scopes


class AuthorizeForm(forms.Form):
    """The query of ``GET /oauth/v2/auth``; invalid means an error page, never a redirect."""

    client_id = forms.CharField(max_length=60)
    redirect_uri = forms.CharField(max_length=500)
    scope = forms.CharField(max_length=2000)
    response_type = forms.CharField(max_length=20)
    access_type = forms.ChoiceField(
        choices=[("online", "online"), ("offline", "offline")], required=False
    )
    state = forms.CharField(max_length=500, required=False)
    prompt = forms.CharField(max_length=20, required=False)

    client: OAuthClient

    def clean_client_id(self) -> str:
        client_id = self.cleaned_data["client_id"]
        client = OAuthClient.objects.filter(client_id=client_id).first()
        if client is None:
            raise forms.ValidationError("There is no client with this client_id.")
        self.client = client
        return client_id

    def clean_response_type(self) -> str:
        value = self.cleaned_data["response_type"]
        if value != "code":
            raise forms.ValidationError("response_type must be 'code'.")
        return value

    def clean_scope(self) -> list[str]:
        scopes = parse_scopes(self.cleaned_data["scope"])
        if not scopes:
            raise forms.ValidationError("No scope was asked for.")
        return scopes

    def clean_access_type(self) -> str:
        return self.cleaned_data.get("access_type") or "online"

    def clean(self) -> dict:
        cleaned = super().clean()
        redirect_uri = cleaned.get("redirect_uri")
        client = getattr(self, "client", None)
        if client is not None and redirect_uri and redirect_uri not in client.redirect_uris:
            self.add_error("redirect_uri", "This redirect_uri is not registered for the client.")
        return cleaned


class ConsentForm(AuthorizeForm):
    """The consent page's POST: the same parameters, the user to act as, and the choice."""

    user = forms.ModelChoiceField(
        queryset=SandboxUser.objects.all(), to_field_name="id", empty_label=None
    )
    decision = forms.ChoiceField(choices=[("accept", "Accept"), ("deny", "Deny")])


class TokenForm(forms.Form):
    """``POST /oauth/v2/token``: form fields or query parameters, all optional here
    because Zoho reports a missing one as the matching ``error``."""

    grant_type = forms.CharField(required=False)
    client_id = forms.CharField(required=False)
    client_secret = forms.CharField(required=False)
    code = forms.CharField(required=False)
    redirect_uri = forms.CharField(required=False)
    refresh_token = forms.CharField(required=False)


class RevokeForm(forms.Form):
    token = forms.CharField()


class SelfClientForm(forms.Form):
    """The API console's "Generate Code" tab."""

    client = forms.ModelChoiceField(
        queryset=OAuthClient.objects.all(),
        to_field_name="client_id",
        required=False,
        empty_label="— create a new Self Client —",
    )
    scopes = forms.CharField(
        initial=",".join(ALL_SCOPES),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Comma-separated, e.g. ZohoCRM.modules.ALL,ZohoCRM.mass_update.ALL",
    )
    user = forms.ModelChoiceField(
        queryset=SandboxUser.objects.all(), to_field_name="id", empty_label=None
    )
    duration = forms.TypedChoiceField(
        choices=[(120, "2 minutes"), (180, "3 minutes"), (300, "5 minutes"), (600, "10 minutes")],
        coerce=int,
        initial=180,
    )

    def clean_scopes(self) -> list[str]:
        scopes = parse_scopes(self.cleaned_data["scopes"])
        if not scopes:
            raise forms.ValidationError("Give at least one scope.")
        return scopes
