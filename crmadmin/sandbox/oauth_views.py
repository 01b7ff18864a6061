"""The simulated Zoho accounts server: consent page, token endpoint, revoke, API console.

As at Zoho, the consent page needs a signed-in user, and the API console (which shows client
secrets) one allowed to register clients; the token and revoke endpoints authenticate the
client by its credentials instead.
"""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib.auth.decorators import login_not_required, permission_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from . import oauth
from .envelope import json_response
from .forms import AuthorizeForm, ConsentForm, RevokeForm, SelfClientForm, TokenForm
from .models import SandboxUser

# Who may use the API console: it creates clients and shows their secrets.
CONSOLE_PERMISSION = "sandbox.add_oauthclient"


def sandbox_base_url(request: HttpRequest) -> str:
    """Both the accounts server and the api_domain: ``http://HOST/sandbox``."""
    return request.build_absolute_uri(reverse("sandbox:index")).rstrip("/")


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params.items()])
    return urlunsplit(parts._replace(query=query))


class _AnyRedirect(HttpResponseRedirect):
    # Registered redirect URIs of native apps may use their own schemes.
    allowed_schemes = ["http", "https", "ftp", "app", "com", "zoho"]


@login_not_required
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "sandbox/index.html", {"base_url": sandbox_base_url(request)})


@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _consent_decision(request)
    form = AuthorizeForm(request.GET)
    if not form.is_valid():
        return render(request, "sandbox/oauth_error.html", {"form": form}, status=400)
    default_user = SandboxUser.default()
    consent = ConsentForm(
        initial={
            **form.cleaned_data,
            "scope": ",".join(form.cleaned_data["scope"]),
            "user": default_user.id,
        }
    )
    context = {"form": consent, "client": form.client, "scopes": form.cleaned_data["scope"]}
    return render(request, "sandbox/consent.html", context)


def _consent_decision(request: HttpRequest) -> HttpResponse:
    form = ConsentForm(request.POST)
    if not form.is_valid():
        authorize_errors = set(form.errors) - {"user", "decision"}
        if authorize_errors:
            return render(request, "sandbox/oauth_error.html", {"form": form}, status=400)
        context = {"form": form, "client": form.client, "scopes": form.cleaned_data["scope"]}
        return render(request, "sandbox/consent.html", context, status=400)
    data = form.cleaned_data
    state = {"state": data["state"]} if data["state"] else {}
    if data["decision"] == "deny":
        return _AnyRedirect(_with_query(data["redirect_uri"], {"error": "access_denied", **state}))
    code = oauth.issue_grant_code(
        form.client,
        data["scope"],
        redirect_uri=data["redirect_uri"],
        access_type=data["access_type"],
        user=data["user"],
    )
    params = {
        "code": code,
        "location": "us",
        "accounts-server": sandbox_base_url(request),
        **state,
    }
    return _AnyRedirect(_with_query(data["redirect_uri"], params))


@csrf_exempt
@login_not_required
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    # Zoho takes the parameters as form fields or in the query string.
    form = TokenForm({**request.GET.dict(), **request.POST.dict()})
    form.is_valid()  # every field is optional: a missing one is reported as Zoho does
    payload = oauth.token_response(form.cleaned_data, api_domain=sandbox_base_url(request))
    return json_response(payload, 200)


@csrf_exempt
@login_not_required
@require_POST
def revoke(request: HttpRequest) -> HttpResponse:
    form = RevokeForm({**request.GET.dict(), **request.POST.dict()})
    if form.is_valid() and oauth.revoke_refresh_token(form.cleaned_data["token"]):
        return json_response({"status": "success"})
    return json_response({"status": "failure", "error": "invalid_token"}, 400)


@require_http_methods(["GET", "POST"])
@permission_required(CONSOLE_PERMISSION, raise_exception=True)
def self_client(request: HttpRequest) -> HttpResponse:
    default_user = SandboxUser.default()
    form = SelfClientForm(request.POST or None, initial={"user": default_user.id})
    context: dict = {"form": form}
    if request.method == "POST" and form.is_valid():
        client = form.cleaned_data["client"] or oauth.create_client("Self Client", [])
        context["client"] = client
        context["code"] = oauth.issue_grant_code(
            client,
            form.cleaned_data["scopes"],
            user=form.cleaned_data["user"],
            ttl=form.cleaned_data["duration"],
        )
        context["token_url"] = request.build_absolute_uri(reverse("sandbox:token"))
    return render(request, "sandbox/self_client.html", context)
