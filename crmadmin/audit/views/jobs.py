"""Every job with its filters and exports; a job's audit page, its raw exchanges, its JSON
export; and a manager's "reviewed" sign-off."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from crmadmin.massupdate import operations
from crmadmin.massupdate.forms import PageForm
from crmadmin.massupdate.models import Job, JobEvent
from crmadmin.massupdate.views import (
    describe_changes,
    get_job_for_user,
    operator_required,
    query_without_page,
)
from crmadmin.massupdate.views.jobs import results_table

from .. import exports
from ..forms import KNOWN_CODES, ExportFormatForm, JobFilterForm, ReviewForm
from . import htmx_target

# The people a job's audit page names besides its owner.
NAMED = ["submitted_by", "decided_by", "reviewed_by", "cancelled_by"]
JOBS_PAGE_SIZE = 50
# What the list never shows: read only on a job's own page.
LIST_DEFERRED = [
    "fields",
    "changes",
    "selection_detail",
    "preview_counts",
    "verification",
    "client_stats",
    "error_message",
]


def _filtered_jobs(request: HttpRequest) -> tuple[JobFilterForm, QuerySet[Job]]:
    visible = Job.objects.for_user(request.user)
    form = JobFilterForm(request.GET, jobs=visible)
    form.is_valid()  # a bad filter is left out; the others still apply
    jobs = form.filter(visible.select_related("owner").defer(*LIST_DEFERRED))
    return form, jobs


@require_GET
@operator_required
@vary_on_headers("HX-Request")
def job_list(request: HttpRequest) -> HttpResponse:
    form, jobs = _filtered_jobs(request)
    page = Paginator(jobs, JOBS_PAGE_SIZE).get_page(form.cleaned_data.get("page"))
    rows = list(page.object_list)
    for job in rows:
        job.changed_fields = [name for name in job.field_index.split("|") if name]
    context = {
        "form": form,
        "page": page,
        "jobs": rows,
        "query": query_without_page(request),
        "known_codes": KNOWN_CODES,
    }
    if htmx_target(request, "job-results"):
        return render(request, "audit/job_list.html#job-results", context)
    return render(request, "audit/job_list.html", context)


@require_GET
@operator_required
def job_list_export(request: HttpRequest) -> HttpResponse:
    export = ExportFormatForm(request.GET)
    if not export.is_valid():
        return HttpResponseBadRequest("Ask for format=csv or format=json.")
    _, jobs = _filtered_jobs(request)
    kind = export.cleaned_data["format"]
    if kind == "csv":
        response = StreamingHttpResponse(exports.jobs_csv(jobs), content_type="text/csv")
    else:
        response = StreamingHttpResponse(exports.jobs_json(jobs), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="jobs.{kind}"'
    return response


def _get_audited_job(request: HttpRequest, pk: int) -> Job:
    """A job the user may see (else 404), with everyone its audit page names."""
    jobs = Job.objects.for_user(request.user).select_related("connection", "owner", *NAMED)
    return get_object_or_404(jobs, pk=pk)


@require_GET
@operator_required
@vary_on_headers("HX-Request")
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_audited_job(request, pk)
    if htmx_target(request, "job-records"):
        return render(request, "audit/job_detail.html#job-records", results_table(request, job))
    return render(request, "audit/job_detail.html", _job_page(request, job, ReviewForm()))


def _job_page(request: HttpRequest, job: Job, review_form: ReviewForm) -> dict:
    visible = Job.objects.for_user(request.user).only(
        "pk", "kind", "status", "created_at", "retry_of", "revert_of"
    )
    linked = [pk for pk in (job.retry_of_id, job.revert_of_id) if pk]
    user = request.user
    return {
        **results_table(request, job),
        "changes": describe_changes(job),
        "selection_detail": json.dumps(job.selection_detail, indent=2, ensure_ascii=False),
        "events": _timeline(job),
        "originals": visible.filter(pk__in=linked) if linked else [],
        "follow_ups": visible.filter(Q(retry_of=job) | Q(revert_of=job)),
        "review_form": review_form,
        "can_review": user.has_perm("massupdate.review_job") and job.is_final,
        "own_job": user.pk in (job.owner_id, job.submitted_by_id),
    }


def _timeline(job: Job) -> list[JobEvent]:
    """The job's events without their details; a sent batch knows its exchanges' page."""
    events = list(job.events.select_related("actor").defer("detail"))
    sent = 0
    for event in events:
        if event.kind == JobEvent.Kind.BATCH_SENT:
            sent += 1
            event.exchanges_page = sent
    return events


@require_GET
@operator_required
def job_exchanges(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_job_for_user(request, pk)
    form = PageForm(request.GET)
    form.is_valid()
    sent = job.events.filter(kind=JobEvent.Kind.BATCH_SENT).select_related("batch")
    page = Paginator(sent, 1).get_page(form.cleaned_data.get("page"))
    calls = [
        {"event": event, "exchanges": [_readable(e) for e in event.detail.get("exchanges", [])]}
        for event in page.object_list
    ]
    context = {"job": job, "form": form, "page": page, "calls": calls}
    return render(request, "audit/job_exchanges.html", context)


def _readable(exchange: dict) -> dict:
    """An exchange as stored (already redacted), its JSON bodies indented for reading."""
    return {
        **exchange,
        "request_body": _indented(exchange.get("request_body", "")),
        "response_body": _indented(exchange.get("response_body", "")),
    }


def _indented(body: str) -> str:
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


@require_GET
@operator_required
def job_export_json(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_job_for_user(request, pk)
    response = StreamingHttpResponse(exports.job_json(job), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="job-{job.pk}.json"'
    return response


@require_POST
@permission_required("massupdate.review_job", raise_exception=True)
def job_review(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_audited_job(request, pk)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return render(request, "audit/job_detail.html", _job_page(request, job, form), status=400)
    try:
        operations.mark_reviewed(job=job, user=request.user, note=form.cleaned_data["note"])
    except operations.WorkflowError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Job {job.pk} is marked reviewed.")
    return redirect("audit:job-detail", job.pk)
