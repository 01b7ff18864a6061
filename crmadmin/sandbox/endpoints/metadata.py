"""GET /settings/modules, /settings/fields?module=, /settings/custom_views?module=."""

from django.http import HttpResponse

from ..envelope import ApiError, Call, json_response
from ..models import CustomView, iso
from ..schema import MODULES, Module, field_metadata, find_module, module_metadata

CATEGORY_LABELS = {
    "public_views": "Public Views",
    "other_users_views": "Other Users' Views",
    "shared_with_me": "Shared With Me",
    "created_by_me": "Created By Me",
}


def _module_param(call: Call) -> Module:
    name = call.param("module")
    if not name:
        raise ApiError(
            400,
            "REQUIRED_PARAM_MISSING",
            "One of the expected parameter is missing",
            {"param_name": "module"},
        )
    module = find_module(name)
    if module is None:
        raise ApiError(400, "INVALID_MODULE", "the module name given seems to be invalid")
    if not module.api_supported:
        raise ApiError(400, "INVALID_MODULE", "the given module is not supported in api")
    return module


def list_modules(call: Call) -> HttpResponse:
    return json_response({"modules": [module_metadata(m) for m in MODULES]})


def list_fields(call: Call) -> HttpResponse:
    module = _module_param(call)
    return json_response({"fields": [field_metadata(module, f) for f in module.fields]})


def view_payload(view: CustomView, *, detailed: bool = False) -> dict:
    creator = view.created_by.as_ref() if view.created_by else None
    payload = {
        "id": view.id,
        "name": view.name,
        "display_value": view.name,
        "system_name": view.system_name,
        "system_defined": view.system_defined,
        "default": view.is_default,
        "category": view.category,
        "created_by": creator,
        "modified_by": creator,
        "created_time": iso(view.created_time),
        "modified_time": iso(view.created_time),
        "last_accessed_time": None,
        "locked": False,
        "favorite": None,
        "offline": False,
    }
    if detailed:
        payload["criteria"] = view.criteria
    return payload


def list_custom_views(call: Call) -> HttpResponse:
    module = _module_param(call)
    views = list(CustomView.objects.filter(module=module.api_name).select_related("created_by"))
    default = next((v.id for v in views if v.is_default), None)
    info = {
        "per_page": 200,
        "page": 1,
        "count": len(views),
        "more_records": False,
        "default": default,
        "translation": CATEGORY_LABELS,
    }
    return json_response({"custom_views": [view_payload(v) for v in views], "info": info})


def get_custom_view(call: Call) -> HttpResponse:
    module = _module_param(call)
    view = CustomView.objects.filter(pk=call.resource, module=module.api_name).first()
    if view is None:
        raise ApiError(
            400, "INVALID_DATA", "the id given seems to be invalid", {"id": call.resource}
        )
    return json_response({"custom_views": [view_payload(view, detailed=True)]})
