"""The one entry point of the CRM API: ``/sandbox/crm/<version>/…``.

It applies Zoho's order of checks, auth → URL → method → module → scope, then charges
the call's API credits (429 when the daily budget is spent), before an endpoint function
looks at parameters and body; faults are injected in front of all of it.
"""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from . import credits, faults
from .auth import authenticate, require_scopes
from .endpoints import coql, mass_update, metadata, records
from .envelope import ApiError, Call
from .models import AccessToken, FaultConfig
from .operations import advance_jobs
from .schema import Module, find_module

logger = logging.getLogger(__name__)

VERSION_RE = re.compile(r"^v(\d+)(?:\.(\d+))?$")

Handler = Callable[[Call], HttpResponse]
Scopes = Callable[[Module | None], list[str]]
Cost = Callable[[Call], int]


def _records(op: str) -> Scopes:
    return lambda module: [f"ZohoCRM.modules.{module.api_name}.{op}"]


def _mass_update(op: str) -> Scopes:
    return lambda module: [f"ZohoCRM.mass_update.{module.api_name}.{op}"]


def _fixed(*scopes: str) -> Scopes:
    return lambda module: list(scopes)


def _search_scopes(module: Module | None) -> list[str]:
    return [*_records("READ")(module), "ZohoSearch.securesearch.READ"]


@dataclass(frozen=True)
class Route:
    methods: dict[str, tuple[Handler, Scopes]]
    # Mass update answers NOT_SUPPORTED for a module that is not editable (§10.4 M18).
    editable_only: bool = False
    # Credits by method where a call costs more than 1 (see credits.py).
    costs: dict[str, Cost] = field(default_factory=dict)


ROUTES: dict[str, Route] = {
    "modules": Route(
        {"GET": (metadata.list_modules, _fixed("ZohoCRM.settings.modules.READ"))},
    ),
    "fields": Route(
        {"GET": (metadata.list_fields, _fixed("ZohoCRM.settings.fields.READ"))},
    ),
    "custom_views": Route(
        {"GET": (metadata.list_custom_views, _fixed("ZohoCRM.settings.custom_views.READ"))},
    ),
    "custom_view": Route(
        {"GET": (metadata.get_custom_view, _fixed("ZohoCRM.settings.custom_views.READ"))},
    ),
    "coql": Route(
        {"POST": (coql.run_query, _fixed("ZohoCRM.coql.READ"))},
        costs={"POST": coql.query_credits},
    ),
    "records": Route(
        {
            "GET": (records.list_records, _records("READ")),
            "PUT": (records.update_records, _records("UPDATE")),
        },
        costs={"PUT": records.put_credits},
    ),
    "record": Route(
        {
            "GET": (records.get_record, _records("READ")),
            "PUT": (records.update_record, _records("UPDATE")),
        }
    ),
    "search": Route({"GET": (records.search_records, _search_scopes)}),
    "mass_update": Route(
        {
            "POST": (mass_update.mass_update, _mass_update("UPDATE")),
            "GET": (mass_update.job_status, _mass_update("READ")),
        },
        editable_only=True,
    ),
}


def resolve(parts: list[str]) -> tuple[str, str | None, str | None]:
    """(route name, module segment, resource id) for the path after the version."""
    if parts and parts[0] == "settings":
        tail = parts[1:]
        if tail in (["modules"], ["fields"], ["custom_views"]):
            return tail[0], None, None
        if len(tail) == 2 and tail[0] == "custom_views":
            return "custom_view", None, tail[1]
        raise _url_error()
    if parts == ["coql"]:
        return "coql", None, None
    if len(parts) == 1 and parts[0]:
        return "records", parts[0], None
    if len(parts) == 2 and parts[1] == "search":
        return "search", parts[0], None
    if len(parts) == 3 and parts[1:] == ["actions", "mass_update"]:
        return "mass_update", parts[0], None
    if len(parts) == 2 and parts[0] and parts[1] and parts[1] != "actions":
        return "record", parts[0], parts[1]
    raise _url_error()


def _url_error() -> ApiError:
    return ApiError(
        404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one"
    )


def _module(segment: str, route: Route) -> Module:
    module = find_module(segment)
    details = {"resource_path_index": 0}
    if module is None:
        raise ApiError(400, "INVALID_MODULE", "the module name given seems to be invalid", details)
    if not module.api_supported:
        raise ApiError(400, "INVALID_MODULE", "the given module is not supported in api", details)
    if route.editable_only and not module.editable:
        message = "the given module is not supported for this api"
        raise ApiError(400, "NOT_SUPPORTED", message, details)
    return module


def _prepare(
    request: HttpRequest, path: str, token: AccessToken, config: FaultConfig
) -> tuple[Route, Handler, Call]:
    """The route, handler and call of an authenticated request: URL → method → module → scope."""
    version_part, _, rest = path.strip("/").partition("/")
    version = VERSION_RE.match(version_part)
    if version is None:
        raise _url_error()
    name, module_segment, resource = resolve(rest.split("/") if rest else [])
    route = ROUTES[name]
    if request.method not in route.methods:
        # details {} as recorded (the reference suggests resource_path_index).
        raise ApiError(
            400, "INVALID_REQUEST_METHOD", "The http request method type is not a valid one"
        )
    handler, scopes = route.methods[request.method]
    module = _module(module_segment, route) if module_segment is not None else None
    require_scopes(token, scopes(module))
    call = Call(
        request=request,
        version=(int(version.group(1)), int(version.group(2) or 0)),
        token=token,
        config=config,
        module=module,
        resource=resource,
    )
    return route, handler, call


def _serve(request: HttpRequest, path: str, config: FaultConfig) -> HttpResponse:
    token = authenticate(request, config)
    try:
        route, handler, call = _prepare(request, path, token, config)
    except ApiError as error:
        if error.status == 401:
            raise
        # No API was called, so it is free; the header still says where the client stands.
        return credits.standing(config.credits).stamp(error.response())
    cost = route.costs.get(request.method, lambda _: 1)(call)
    spent = credits.charge(config.credits, cost)
    if spent.refused:
        return spent.stamp(faults.too_many_requests())
    try:
        if call.module is not None and call.module.has_records:
            advance_jobs(call.module, call.config)
        return spent.stamp(handler(call))
    except ApiError as error:
        if error.status == 401:
            # e.g. COQL's module scope, known only from the body: failed auth is free.
            credits.refund(spent)
            raise
        return spent.stamp(error.response())


@csrf_exempt
@login_not_required
def crm_api(request: HttpRequest, path: str) -> HttpResponse:
    config = FaultConfig.current()
    with faults.in_flight() as in_flight:
        if config.concurrency and in_flight > config.concurrency:
            return faults.too_many_requests()
        fault = faults.choose(config)
        faults.wait(faults.delay(config, fault))
        if fault is not None:
            injected = faults.respond(fault, request)
            if injected is not None:
                return injected
        try:
            return _serve(request, path, config)
        except ApiError as error:
            return error.response()
        except Exception:
            logger.exception("sandbox API failed on %s %s", request.method, request.path)
            return faults.internal_error()
