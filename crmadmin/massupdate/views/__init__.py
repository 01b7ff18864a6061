"""Pages of the mass-update workflow. Every job is fetched through one of two helpers."""

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from ..fieldvalues import MODE_TEXT, Change, FieldSpec, display_value
from ..models import Job

RUN_PERMISSION = "massupdate.add_job"

operator_required = permission_required(RUN_PERMISSION, raise_exception=True)


def get_job_for_user(request: HttpRequest, pk: int) -> Job:
    """A job the user may see (managers: any; operators: their own), else 404."""
    return get_object_or_404(
        Job.objects.for_user(request.user).select_related("connection", "owner"), pk=pk
    )


def get_own_job(request: HttpRequest, pk: int) -> Job:
    """A job the user drafted: only its owner shapes it, previews and submits it."""
    return get_object_or_404(
        Job.objects.select_related("connection", "owner"), pk=pk, owner=request.user
    )


def query_without_page(request: HttpRequest) -> str:
    """The page's filters as a query string prefix, for pagination links that keep them."""
    query = request.GET.copy()
    query.pop("page", None)
    text = query.urlencode()
    return text + "&" if text else ""


def describe_changes(job: Job) -> list[dict]:
    """The job's changes with their fields' labels and values as text, for the pages."""
    specs = {f["api_name"]: FieldSpec.from_dict(f) for f in job.fields}
    described = []
    for raw in job.changes:
        change = Change.from_dict(raw)
        spec = specs[change.field]
        described.append(
            {
                "spec": spec,
                "change": change,
                "shown": display_value(spec, change.value),
                "mode_text": MODE_TEXT.get(change.mode, ""),
            }
        )
    return described
