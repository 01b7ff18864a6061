"""A connection's modules and fields, fetched from the CRM and kept for a while.

Metadata changes rarely and every page of the workflow needs it, so it is cached per
connection in the database (shared by every web process and worker); the Module page's
"Refresh" button fetches it again.
"""

from typing import Any

from django.utils import timezone

from crmadmin.zoho.client import ZohoClient
from crmadmin.zoho.models import Connection

from .fieldvalues import FieldSpec, specs_from_metadata
from .models import MetadataCache


def modules_for(connection: Connection, *, refresh: bool = False) -> list[dict[str, Any]]:
    """The API-supported, editable modules: ``[{"api_name", "label"}]``, by label."""

    def fetch() -> list[dict[str, Any]]:
        modules = ZohoClient(connection).modules()
        rows = [
            {
                "api_name": m["api_name"],
                "label": m.get("plural_label") or m.get("module_name") or m["api_name"],
            }
            for m in modules
        ]
        return sorted(rows, key=lambda m: m["label"].lower())

    return _cached(connection, "modules", fetch, refresh=refresh)


def module_label(connection: Connection, module: str) -> str | None:
    """The module's label, or None when the connection offers no such module."""
    for m in modules_for(connection):
        if m["api_name"] == module:
            return m["label"]
    return None


def fields_for(connection: Connection, module: str, *, refresh: bool = False) -> list[FieldSpec]:
    """The fields of ``module`` a mass update can set, in the CRM's order."""

    def fetch() -> list[dict[str, Any]]:
        return ZohoClient(connection).mass_update_fields(module)

    payload = _cached(connection, f"fields:{module}", fetch, refresh=refresh)
    return specs_from_metadata(payload)


def filter_fields_for(connection: Connection, module: str) -> list[FieldSpec]:
    """Every field of ``module`` a filter can compare (not only the mass-updatable ones)."""

    def fetch() -> list[dict[str, Any]]:
        return ZohoClient(connection).fields(module)

    return specs_from_metadata(_cached(connection, f"allfields:{module}", fetch, refresh=False))


def views_for(connection: Connection, module: str) -> list[dict[str, Any]]:
    """The module's custom views: ``[{"id", "name", "display_value"}]``."""

    def fetch() -> list[dict[str, Any]]:
        views = ZohoClient(connection).custom_views(module)
        return [
            {"id": str(v["id"]), "name": v.get("name", ""), "display_value": v.get("display_value")}
            for v in views
            if v.get("id")
        ]

    return _cached(connection, f"views:{module}", fetch, refresh=False)


def fetched_at(connection: Connection, key: str = "modules"):
    row = MetadataCache.objects.filter(connection=connection, key=key).first()
    return row.fetched_at if row else None


def _cached(connection: Connection, key: str, fetch, *, refresh: bool) -> list[dict[str, Any]]:
    row = MetadataCache.objects.filter(connection=connection, key=key).first()
    if row is not None and not refresh and row.is_fresh():
        return row.payload
    payload = fetch()
    MetadataCache.objects.update_or_create(
        connection=connection, key=key, defaults={"payload": payload, "fetched_at": timezone.now()}
    )
    return payload
