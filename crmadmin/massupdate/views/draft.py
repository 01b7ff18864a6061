"""Steps 1 to 3: the module, the changes, the records."""

from typing import NamedTuple

from django.contrib import messages
from django.forms import Select
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crmadmin.zoho.client import ZohoClient
from crmadmin.zoho.errors import ZohoError
from crmadmin.zoho.models import Connection

from .. import metadata, operations, selection
from ..fieldvalues import ValueForm
from ..forms import (
    ConnectionChoiceForm,
    CsvUploadForm,
    FieldChoiceForm,
    FilterFormSet,
    NewJobForm,
    PasteIdsForm,
    RemoveChangeForm,
    ViewChoiceForm,
)
from ..models import Job, JobRecord
from . import describe_changes, get_own_job, operator_required

SAMPLE_SIZE = 20


def _usable_connections(request: HttpRequest):
    if not request.user.has_perm("zoho.use_connection"):
        return Connection.objects.none()
    usable = [c.pk for c in Connection.objects.order_by("name") if c.is_connected]
    return Connection.objects.filter(pk__in=usable).order_by("name")


@require_http_methods(["GET", "POST"])
@operator_required
def job_new(request: HttpRequest) -> HttpResponse:
    connections = _usable_connections(request)
    chooser = ConnectionChoiceForm(request.GET or None, connections=connections)
    connection = chooser.cleaned_data["connection"] if chooser.is_valid() else connections.first()
    modules, error = [], ""
    if connection is not None:
        try:
            modules = metadata.modules_for(connection)
        except ZohoError as exc:
            error = f"Could not read the modules of {connection.name}: {exc.user_message}"
    form = NewJobForm(request.POST or None, connections=connections, modules=modules)
    if request.method == "POST" and form.is_valid() and modules:
        connection, module = form.cleaned_data["connection"], form.cleaned_data["module"]
        label = metadata.module_label(connection, module) or module
        job = operations.create_draft(
            user=request.user, connection=connection, module=module, module_label=label
        )
        return redirect("massupdate:job-changes", job.pk)
    context = {
        "connections": connections,
        "connection": connection,
        "chooser": chooser,
        "form": form,
        "modules": modules,
        "error": error,
        "fetched_at": metadata.fetched_at(connection) if connection else None,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "massupdate/job_new.html", context, status=status)


@require_POST
@operator_required
def modules_refresh(request: HttpRequest) -> HttpResponse:
    form = ConnectionChoiceForm(request.POST, connections=_usable_connections(request))
    if not form.is_valid():
        messages.error(request, "Choose a connection to refresh.")
        return redirect("massupdate:job-new")
    connection = form.cleaned_data["connection"]
    try:
        metadata.modules_for(connection, refresh=True)
    except ZohoError as exc:
        messages.error(request, f"Could not refresh the modules: {exc.user_message}")
    else:
        messages.success(request, f"Modules of {connection.name} refreshed.")
    return redirect(f"{reverse('massupdate:job-new')}?connection={connection.pk}")


@require_http_methods(["GET", "POST"])
@operator_required
def job_changes(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_own_job(request, pk)
    try:
        specs = metadata.fields_for(job.connection, job.module, refresh="refresh" in request.GET)
    except ZohoError as exc:
        messages.error(request, f"Could not read the fields of {job.module}: {exc.user_message}")
        specs = []
    chooser = FieldChoiceForm(request.GET or request.POST or None, specs=specs)
    spec = next(
        (s for s in specs if chooser.is_valid() and s.api_name == chooser.cleaned_data["field"]),
        None,
    )
    value_form = ValueForm(spec, data=request.POST or None) if spec else None
    if request.method == "POST" and value_form is not None and value_form.is_valid():
        try:
            operations.set_change(job=job, spec=spec, change=value_form.change(), user=request.user)
        except operations.WorkflowError as exc:
            messages.error(request, str(exc))
        return redirect("massupdate:job-changes", job.pk)
    context = {
        "job": job,
        "specs": specs,
        "chooser": chooser,
        "spec": spec,
        "value_form": value_form,
        "changes": describe_changes(job),
    }
    if request.htmx and request.htmx.target == "value-form":
        return render(request, "massupdate/job_changes.html#value-form", context)
    status = 400 if request.method == "POST" else 200
    return render(request, "massupdate/job_changes.html", context, status=status)


@require_POST
@operator_required
def job_change_remove(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_own_job(request, pk)
    form = RemoveChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a change to remove.")
        return redirect("massupdate:job-changes", job.pk)
    try:
        operations.remove_change(job=job, field=form.cleaned_data["field"], user=request.user)
    except operations.WorkflowError as exc:
        messages.error(request, str(exc))
    return redirect("massupdate:job-changes", job.pk)


@require_GET
@operator_required
def job_records(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_own_job(request, pk)
    return _render_records(request, job)


@require_POST
@operator_required
def job_records_select(request: HttpRequest, pk: int, method: str) -> HttpResponse:
    job = get_own_job(request, pk)
    forms = _selection_forms(request, job, method)
    form = forms.get(method)
    if form is None:
        messages.error(request, "There is no such way to select records: paste, CSV, filter, view.")
        return _render_records(request, job, forms=forms, status=400)
    if not form.is_valid():
        return _render_records(request, job, forms=forms, status=400)
    try:
        chosen = _resolve(job, method, form)
        operations.select_records(
            job=job,
            ids=chosen.ids,
            method=method,
            summary=chosen.summary,
            detail=chosen.detail,
            user=request.user,
        )
    except selection.AmbiguousIdColumn as exc:
        # Offer the file's columns to choose from; the file itself must be chosen again.
        form.fields["id_column"].widget = Select(choices=[(c, c) for c in exc.columns])
        form.add_error("id_column", f"{exc} Choose it below and upload the file again.")
        return _render_records(request, job, forms=forms, status=400)
    except (selection.SelectionError, operations.WorkflowError) as exc:
        refused = {"method": method, "message": str(exc)}
        return _render_records(request, job, forms=forms, refused=refused, status=400)
    except ZohoError as exc:
        refused = {"method": method, "message": f"The CRM refused: {exc.user_message}"}
        return _render_records(request, job, forms=forms, refused=refused, status=400)
    messages.success(request, f"{len(chosen.ids):,} records selected.")
    return redirect("massupdate:job-records", job.pk)


class _Chosen(NamedTuple):
    ids: list[str]
    summary: str
    detail: dict


REJECTED_KEPT = 200


def _resolve(job: Job, method: str, form) -> _Chosen:
    """The selection a valid form describes, as record IDs and a summary for the audit."""
    if method == "paste":
        got = selection.parse_pasted_ids(form.cleaned_data["ids"])
        return _Chosen(got.ids, "pasted IDs", _parse_detail(got))
    if method == "csv":
        upload = form.cleaned_data["file"]
        got = selection.read_csv(upload.read(), form.cleaned_data["id_column"] or None)
        detail = {**_parse_detail(got), "file": upload.name[:200], "column": got.id_column}
        return _Chosen(got.ids, f"CSV {upload.name[:200]}, column {got.id_column}", detail)
    client = ZohoClient(job.connection)
    if method == "filter":
        rows = [
            selection.FilterRow(
                f.cleaned_data["field"], f.cleaned_data["operator"], f.cleaned_data["value"]
            )
            for f in form.forms
            if f.cleaned_data.get("field")
        ]
        ids = selection.resolve_filter(client, job.module, rows)
        text = " and ".join(f"{r.field} {r.operator} {r.value}" for r in rows)
        detail = {"filter": [[r.field, r.operator, r.value] for r in rows]}
        return _Chosen(ids, f"filter: {text}", detail)
    cvid = form.cleaned_data["cvid"]
    label = dict(form.fields["cvid"].choices).get(cvid, cvid)
    ids = selection.resolve_view(client, job.module, cvid)
    return _Chosen(ids, f"custom view “{label}”", {"cvid": cvid, "view": label})


def _parse_detail(got) -> dict:
    return {
        "rejected": got.rejected[:REJECTED_KEPT],
        "rejected_count": len(got.rejected),
        "duplicates": got.duplicates,
    }


def _selection_forms(request: HttpRequest, job: Job, method: str | None = None) -> dict:
    """The four ways to select records; only the submitted one is bound."""
    data = request.POST if request.method == "POST" else None

    def bound(name: str):
        return data if method == name else None

    filter_specs, views = [], []
    try:
        filter_specs = metadata.filter_fields_for(job.connection, job.module)
        views = metadata.views_for(job.connection, job.module)
    except ZohoError:
        pass  # the page says so next to the filter and view forms
    return {
        "paste": PasteIdsForm(bound("paste")),
        "csv": CsvUploadForm(bound("csv"), request.FILES if method == "csv" else None),
        "filter": FilterFormSet(
            bound("filter"), prefix="filter", form_kwargs={"specs": filter_specs}
        ),
        "view": ViewChoiceForm(bound("view"), views=views),
    }


def _render_records(
    request: HttpRequest,
    job: Job,
    *,
    forms: dict | None = None,
    refused: dict | None = None,
    status: int = 200,
) -> HttpResponse:
    forms = forms or _selection_forms(request, job)
    sample = JobRecord.objects.filter(job=job).values_list("record_id", flat=True)[:SAMPLE_SIZE]
    context = {"job": job, "forms": forms, "sample": list(sample), "refused": refused or {}}
    return render(request, "massupdate/job_records.html", context, status=status)
