"""Steps 6 and 7: a job's live progress and results; the home page and the job list."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HTMX_STOP_POLLING

from crmadmin.accounts.roles import role_names

from .. import exports, operations
from ..fieldvalues import FieldSpec
from ..forms import ExportForm, JobListFilterForm, ResultsFilterForm
from ..models import Job, JobRecord
from . import describe_changes, get_job_for_user, operator_required, query_without_page
from .preview import described_rows

PAGE_SIZE = 100
JOBS_PAGE_SIZE = 50
RECENT_JOBS = 10


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    jobs = Job.objects.filter(owner=request.user).select_related("connection")
    context = {
        "roles": role_names(request.user),
        "running": list(jobs.running()[:RECENT_JOBS]),
        "recent": list(jobs.exclude(status__in=Job.ACTIVE_STATUSES)[:RECENT_JOBS]),
    }
    if request.htmx and request.htmx.target == "running-jobs":
        response = render(request, "massupdate/home.html#running-jobs", context)
        if not context["running"]:
            # Polling only ever ran because a job was running: it has finished, so the
            # page reloads once to show it among the recent jobs.
            response.status_code = HTMX_STOP_POLLING
            response["HX-Refresh"] = "true"
        return response
    return render(request, "massupdate/home.html", context)


@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    form = JobListFilterForm(request.GET)
    jobs = Job.objects.for_user(request.user).select_related("owner", "connection")
    if form.is_valid() and form.cleaned_data["status"]:
        jobs = jobs.filter(status=form.cleaned_data["status"])
    page = Paginator(jobs, JOBS_PAGE_SIZE).get_page(
        form.cleaned_data.get("page") if form.is_valid() else 1
    )
    return render(
        request,
        "massupdate/job_list.html",
        {"form": form, "page": page, "query": query_without_page(request)},
    )


@require_GET
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_job_for_user(request, pk)
    if request.htmx and request.htmx.target == "job-progress":
        response = render(request, "massupdate/job_detail.html#job-progress", {"job": job})
        if not job.is_active:
            # htmx reloads the page on HX-Refresh (before any swap), which shows the final
            # counts and the complete table; 286 alone would stop the polling too.
            response.status_code = HTMX_STOP_POLLING
            response["HX-Refresh"] = "true"
        return response
    # The jobs that retry or revert this one, in one query; only those the user may see
    # are linked, but any revert of it means it is not reverted again.
    visible = Job.objects.for_user(request.user).filter(pk=OuterRef("pk"))
    follow_ups = list(
        Job.objects.filter(Q(retry_of=job) | Q(revert_of=job))
        .annotate(visible=Exists(visible))
        .order_by("pk")
    )
    all_reverts = [j for j in follow_ups if j.revert_of_id == job.pk]
    follow_ups = [j for j in follow_ups if j.visible]
    reverts = [j for j in follow_ups if j.revert_of_id == job.pk]
    context = {
        **results_table(request, job),
        "changes": describe_changes(job),
        "events": job.events.select_related("actor").defer("detail"),
        "retryable": job.retryable_count,
        "retries": [j for j in follow_ups if j.retry_of_id == job.pk],
        "reverts": reverts,
        "can_revert": (
            job.is_final
            and job.success_count > 0
            and request.user.has_perm("massupdate.add_job")
            and all(r.status in Job.UNDONE_NOTHING_STATUSES for r in all_reverts)
        ),
    }
    return render(request, "massupdate/job_detail.html", context)


def results_table(request: HttpRequest, job: Job) -> dict:
    """The page of the job's records, with their outcomes, that the query string asks for."""
    form = ResultsFilterForm(request.GET, codes=list(job.outcome_counts))
    form.is_valid()  # a bad parameter is dropped; the others still apply
    filters = form.cleaned_data
    records = JobRecord.objects.filter(job=job)
    if filters.get("code"):
        records = records.filter(code=filters["code"])
    if filters.get("q"):
        records = records.filter(record_id=filters["q"].strip())
    page = Paginator(records.order_by("position"), PAGE_SIZE).get_page(filters.get("page"))
    specs = [FieldSpec.from_dict(f) for f in job.fields]
    return {
        "job": job,
        "form": form,
        "query": query_without_page(request),
        "page": page,
        "rows": described_rows(page.object_list, specs),
        "specs": specs,
    }


@require_POST
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_job_for_user(request, pk)
    if job.owner_id != request.user.pk and not request.user.has_perm("massupdate.view_all_jobs"):
        messages.error(request, "Only the job's owner or a manager can cancel it.")
    elif operations.cancel(job=job, user=request.user):
        messages.info(request, "Cancelling: batches not yet sent will not be sent.")
    else:
        messages.info(request, "The job is not running; there is nothing to cancel.")
    return redirect("massupdate:job-detail", job.pk)


@require_POST
@operator_required
def job_retry(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_job_for_user(request, pk)
    try:
        retry = operations.retry_failed(job=job, user=request.user)
    except operations.WorkflowError as exc:
        messages.error(request, str(exc))
        return redirect("massupdate:job-detail", job.pk)
    messages.success(request, f"Job {retry.pk} retries the failures of job {job.pk}.")
    return redirect("massupdate:job-preview", retry.pk)


@require_GET
def job_export(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_job_for_user(request, pk)
    form = ExportForm(request.GET)
    failures = form.is_valid() and form.cleaned_data["failures"]
    records = JobRecord.objects.filter(job=job).order_by("position")
    if failures:
        records = records.filter(Q(status=JobRecord.Status.ERROR) | Q(verified=False))
    name = f"job-{job.pk}-{'failures' if failures else 'records'}.csv"
    response = StreamingHttpResponse(exports.job_records_csv(job, records), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
