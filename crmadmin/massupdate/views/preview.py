"""Steps 4 and 5: the before → after preview, and the confirmation that submits the job."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from .. import operations
from ..fieldvalues import FieldSpec, display_value
from ..forms import ConfirmForm, IncludeUnchangedForm, PreviewFilterForm
from ..models import PREVIEW_GROUPS, Job, JobRecord
from . import describe_changes, get_own_job, operator_required, query_without_page

PAGE_SIZE = 100
Status = Job.Status

STALE_FORM = (
    "This confirmation was made for an earlier preview, so nothing was submitted. "
    "Check the current preview and confirm again."
)


@require_http_methods(["GET", "POST"])
@operator_required
def job_preview(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_own_job(request, pk)
    if request.method == "POST":
        try:
            operations.start_preview(job=job, user=request.user)
        except operations.WorkflowError as exc:
            messages.error(request, str(exc))
        return redirect("massupdate:job-preview", job.pk)
    if request.htmx and request.htmx.target == "preview-progress":
        if job.status != Status.PREVIEWING:
            return HttpResponseClientRefresh()
        return render(request, "massupdate/job_preview.html#preview-progress", {"job": job})
    form = PreviewFilterForm(request.GET)
    form.is_valid()  # a bad parameter is dropped; the others still apply
    filters = form.cleaned_data
    context = {
        "job": job,
        "form": form,
        "query": query_without_page(request),
        **preview_table(job, filters),
    }
    if job.status in (Status.PREVIEWED, Status.AWAITING_APPROVAL):
        context["cost"] = operations.estimate_cost(job)
    return render(request, "massupdate/job_preview.html", context)


def preview_table(job: Job, filters: dict) -> dict:
    """The page of the preview's before → after table that ``filters`` ask for."""
    if job.status not in (Status.PREVIEWED, Status.AWAITING_APPROVAL):
        return {}
    records = JobRecord.objects.filter(job=job)
    show = filters.get("show")
    if show in PREVIEW_GROUPS:
        records = records.filter(PREVIEW_GROUPS[show])
    if filters.get("q"):
        records = records.filter(record_id=filters["q"].strip())
    page = Paginator(records.order_by("position"), PAGE_SIZE).get_page(filters.get("page"))
    specs = [FieldSpec.from_dict(f) for f in job.fields]
    return {"page": page, "rows": described_rows(page.object_list, specs), "specs": specs}


def described_rows(records, specs: list[FieldSpec]) -> list[dict]:
    """Each record with its fields' before and after as text, for the tables."""
    rows = []
    for record in records:
        before, after = record.before or {}, record.after or {}
        cells = [
            {
                "before": display_value(spec, before.get(spec.api_name)),
                "after": display_value(spec, after.get(spec.api_name)),
                "same": record.found
                and spec.api_name in after
                and display_value(spec, before.get(spec.api_name))
                == display_value(spec, after.get(spec.api_name)),
            }
            for spec in specs
        ]
        warnings = [operations.WARNING_TEXT.get(w, w) for w in record.warnings or []]
        rows.append({"record": record, "cells": cells, "warnings": warnings})
    return rows


@require_POST
@operator_required
def job_include_unchanged(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_own_job(request, pk)
    form = IncludeUnchangedForm(request.POST)
    if form.is_valid():
        try:
            operations.set_include_unchanged(job=job, include=form.cleaned_data["include"])
        except operations.WorkflowError as exc:
            messages.error(request, str(exc))
    return redirect("massupdate:job-preview", job.pk)


@require_http_methods(["GET", "POST"])
@operator_required
def job_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_own_job(request, pk)
    if job.status in (Status.QUEUED, Status.RUNNING, Status.AWAITING_APPROVAL) or job.is_final:
        messages.info(request, "This job was already submitted.")
        return redirect("massupdate:job-detail", job.pk)
    if job.status != Status.PREVIEWED:
        messages.error(request, "Preview the job before confirming it.")
        return redirect("massupdate:job-preview", job.pk)
    initial = {"token": job.submit_token}
    if job.is_revert and job.revert_of is not None and job.retry_of is None:
        initial["reason"] = f"Revert of job {job.revert_of_id}: "
    if job.retry_of is not None:
        initial["reason"] = f"Retry of job {job.retry_of_id}: {job.retry_of.reason}"[:2000]
    form = ConfirmForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            submitted = operations.submit(
                job=job,
                user=request.user,
                reason=form.cleaned_data["reason"],
                token=form.cleaned_data["token"],
            )
        except operations.WorkflowError as exc:
            messages.error(request, str(exc))
            return redirect("massupdate:job-preview", job.pk)
        if submitted:
            job.refresh_from_db()
            if job.status == Status.AWAITING_APPROVAL:
                messages.info(
                    request,
                    "This job waits for a manager's approval: "
                    + "; ".join(job.approval_reasons)
                    + ".",
                )
            return redirect("massupdate:job-detail", job.pk)
        job.refresh_from_db()
        if job.status == Status.PREVIEWED:
            messages.error(request, STALE_FORM)
            return redirect("massupdate:job-preview", job.pk)
        messages.info(request, "This job was already submitted; it was not started twice.")
        return redirect("massupdate:job-detail", job.pk)
    context = {
        "job": job,
        "form": form,
        "cost": operations.estimate_cost(job),
        "changes": describe_changes(job),
        "preview_max_age": settings.CRMADMIN_PREVIEW_MAX_AGE_MINUTES,
        "approval_reasons": operations.approval_reasons(job),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "massupdate/job_confirm.html", context, status=status)
