"""The managers' Connections pages: add a Zoho org, connect it, test it, disconnect it."""

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import operations
from .errors import ZohoError
from .forms import ConnectionForm, OAuthCallbackForm, SelfClientCodeForm
from .models import Connection

MANAGE_PERMISSION = "zoho.change_connection"
# Where the authorization-code flow keeps its state between Connect and the callback.
OAUTH_SESSION_KEY = "zoho_oauth"

manager_required = permission_required(MANAGE_PERMISSION, raise_exception=True)


def _get_connection_for_user(request: HttpRequest, pk: int) -> Connection:
    if not request.user.has_perm(MANAGE_PERMISSION):
        raise PermissionDenied
    return get_object_or_404(Connection, pk=pk)


def _redirect_uri(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("zoho:oauth-callback"))


def _render_detail(
    request: HttpRequest, connection: Connection, self_client_form: SelfClientCodeForm | None = None
) -> HttpResponse:
    return render(
        request,
        "zoho/connection_detail.html",
        {
            "connection": connection,
            "redirect_uri": _redirect_uri(request),
            "redirect_uri_problem": _redirect_uri_problem(request, connection),
            "self_client_form": self_client_form or SelfClientCodeForm(),
        },
        status=400 if self_client_form is not None else 200,
    )


@require_GET
@manager_required
def connection_list(request: HttpRequest) -> HttpResponse:
    connections = Connection.objects.all()
    return render(request, "zoho/connection_list.html", {"connections": connections})


@require_http_methods(["GET", "POST"])
@manager_required
def connection_create(request: HttpRequest) -> HttpResponse:
    # Bound on every POST, an empty one too (`request.POST or None` would show it no errors).
    data = request.POST if request.method == "POST" else None
    form = ConnectionForm(data, initial={"redirect_uri": _redirect_uri(request)})
    if request.method == "POST" and form.is_valid():
        connection = form.save(commit=False)
        connection.created_by = request.user
        connection.save()
        messages.success(request, f"Connection “{connection}” added. Now connect it to Zoho.")
        return redirect("zoho:connection-detail", connection.pk)
    status = 400 if form.is_bound else 200  # a form sent back with its errors
    return render(request, "zoho/connection_form.html", {"form": form}, status=status)


@require_GET
@manager_required
def connection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _get_connection_for_user(request, pk))


@require_POST
@manager_required
def connection_connect(request: HttpRequest, pk: int) -> HttpResponse:
    connection = _get_connection_for_user(request, pk)
    problem = _redirect_uri_problem(request, connection)
    if problem:
        messages.error(request, problem)
        return redirect("zoho:connection-detail", connection.pk)
    redirect_uri = connection.redirect_uri
    url, state = operations.start_authorization(connection=connection, redirect_uri=redirect_uri)
    request.session[OAUTH_SESSION_KEY] = {
        "state": state,
        "connection": connection.pk,
        "redirect_uri": redirect_uri,
    }
    return redirect(url)


@require_GET
@manager_required
def oauth_callback(request: HttpRequest) -> HttpResponse:
    form = OAuthCallbackForm(request.GET)
    form_ok = form.is_valid()
    pending = _pop_pending_authorization(request, form.cleaned_data.get("state", ""))
    if pending is None:
        messages.error(request, "This sign-in answer does not match a Connect you started here.")
        return redirect("zoho:connection-list")
    connection = _get_connection_for_user(request, pending["connection"])
    problem = _redirect_uri_problem(request, connection)
    if not problem and pending["redirect_uri"] != connection.redirect_uri:
        problem = "The connection's registered redirect URI changed since Connect; start again."
    if problem:
        messages.error(request, f"{problem} Nothing changed.")
    elif not form_ok:
        messages.error(request, "Zoho's answer was not understood: " + _form_errors(form))
    elif form.cleaned_data["error"]:
        messages.error(request, _denied_message(form.cleaned_data["error"]))
    else:
        try:
            operations.complete_authorization(
                connection=connection,
                code=form.cleaned_data["code"],
                redirect_uri=pending["redirect_uri"],
                accounts_server=form.cleaned_data["accounts-server"],
            )
        except ZohoError as exc:
            messages.error(request, f"Connecting failed: {exc}")
        else:
            messages.success(request, "Connected to Zoho. Use “Test connection” to check it.")
    return redirect("zoho:connection-detail", connection.pk)


@require_POST
@manager_required
def connection_self_client(request: HttpRequest, pk: int) -> HttpResponse:
    connection = _get_connection_for_user(request, pk)
    form = SelfClientCodeForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, connection, self_client_form=form)
    try:
        operations.connect_self_client(connection=connection, code=form.cleaned_data["code"])
    except ZohoError as exc:
        messages.error(request, f"Exchanging the code failed: {exc}")
    else:
        messages.success(request, "Connected to Zoho with the self-client code.")
    return redirect("zoho:connection-detail", connection.pk)


@require_POST
@manager_required
def connection_test(request: HttpRequest, pk: int) -> HttpResponse:
    connection = _get_connection_for_user(request, pk)
    operations.check_connection(connection=connection)
    if request.htmx:
        return render(
            request, "zoho/connection_detail.html#connection-status", {"connection": connection}
        )
    return redirect("zoho:connection-detail", connection.pk)


@require_POST
@manager_required
def connection_disconnect(request: HttpRequest, pk: int) -> HttpResponse:
    connection = _get_connection_for_user(request, pk)
    warning = operations.disconnect(connection=connection)
    if warning:
        messages.warning(request, warning)
    messages.info(request, f"“{connection}” is disconnected; its tokens are forgotten.")
    return redirect("zoho:connection-detail", connection.pk)


def _redirect_uri_problem(request: HttpRequest, connection: Connection) -> str:
    """Why Connect must not go on here: the redirect URI Zoho will use is the one registered
    for the client, so this page must be served at that very address (an address taken
    from the request alone could be forged through the Host header)."""
    if not connection.redirect_uri:
        return (
            "No redirect URI is registered for this connection: set the one registered in "
            "Zoho's API console (admin → Connections) before connecting."
        )
    here = _redirect_uri(request)
    if here != connection.redirect_uri:
        return (
            f"This page is served at {here}, but the redirect URI registered for this "
            f"connection is {connection.redirect_uri}. Open crmadmin at that address to connect."
        )
    return ""


def _pop_pending_authorization(request: HttpRequest, state: str) -> dict | None:
    """The Connect this callback answers, if ``state`` matches; single use either way."""
    pending = request.session.pop(OAUTH_SESSION_KEY, None)
    if not isinstance(pending, dict) or not state:
        return None
    expected = str(pending.get("state", "")).encode()
    if not secrets.compare_digest(expected, state.encode()):
        return None
    return pending


def _denied_message(error: str) -> str:
    if error == "access_denied":
        return "Access was not granted in Zoho (the consent screen was declined). Nothing changed."
    return f"Zoho refused the authorization ({error[:100]}). Nothing changed."


def _form_errors(form: OAuthCallbackForm) -> str:
    return "; ".join(str(e) for errors in form.errors.values() for e in errors)
