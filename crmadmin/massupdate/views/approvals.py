"""Approvals: the managers' queue of waiting jobs, and a job's approve / reject page; revert."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from .. import operations
from ..forms import DecisionForm, PageForm, PreviewFilterForm
from ..models import Job
from . import describe_changes, get_job_for_user, operator_required, query_without_page
from .preview import preview_table

APPROVE_PERMISSION = "massupdate.approve_job"
QUEUE_PAGE_SIZE = 50

approver_required = permission_required(APPROVE_PERMISSION, raise_exception=True)


@require_http_methods(["GET"])
@approver_required
def approvals(request: HttpRequest) -> HttpResponse:
    waiting = (
        Job.objects.for_user(request.user)
        .filter(status=Job.Status.AWAITING_APPROVAL)
        .select_related("owner", "connection")
        .order_by("submitted_at", "pk")
    )
    form = PageForm(request.GET)
    form.is_valid()  # a bad page number shows the first page
    page = Paginator(waiting, QUEUE_PAGE_SIZE).get_page(form.cleaned_data.get("page"))
    context = {
        "form": form,
        "page": page,
        "max_age_hours": settings.CRMADMIN_APPROVAL_MAX_AGE_HOURS,
    }
    return render(request, "massupdate/approvals.html", context)


@require_http_methods(["GET", "POST"])
def job_approval(request: HttpRequest, pk: int) -> HttpResponse:
    """The job's preview as its owner saw it, with the approve / reject form."""
    # A job the user may not see is not found, whoever asks; seeing it is not approving it.
    job = get_job_for_user(request, pk)
    if not request.user.has_perm(APPROVE_PERMISSION):
        raise PermissionDenied
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        note = form.cleaned_data["note"]
        try:
            if form.cleaned_data["decision"] == "approve":
                operations.approve(job=job, user=request.user, note=note)
                messages.success(request, f"Job {job.pk} is approved and queued.")
            else:
                operations.reject(job=job, user=request.user, note=note)
                messages.info(request, f"Job {job.pk} is rejected; nothing was sent.")
        except operations.WorkflowError as exc:
            messages.error(request, str(exc))
            job.refresh_from_db()
            if job.status == Job.Status.AWAITING_APPROVAL:
                return redirect("massupdate:job-approval", job.pk)
        return redirect("massupdate:job-detail", job.pk)
    filters = PreviewFilterForm(request.GET)
    filters.is_valid()  # a bad parameter is dropped; the others still apply
    context = {
        "job": job,
        "form": form,
        "filters": filters,
        "query": query_without_page(request),
        "changes": describe_changes(job),
        "own_job": request.user.pk in (job.owner_id, job.submitted_by_id),
        "max_age_hours": settings.CRMADMIN_APPROVAL_MAX_AGE_HOURS,
        **preview_table(job, filters.cleaned_data),
    }
    if job.status == Job.Status.AWAITING_APPROVAL:
        context["cost"] = operations.estimate_cost(job)
    status = 400 if request.method == "POST" else 200
    return render(request, "massupdate/job_approval.html", context, status=status)


@require_POST
@operator_required
def job_revert(request: HttpRequest, pk: int) -> HttpResponse:
    """Start a revert job: its owner, or a manager, undoes a finished job."""
    job = get_job_for_user(request, pk)
    try:
        revert = operations.start_revert(job=job, user=request.user)
    except operations.WorkflowError as exc:
        messages.error(request, str(exc))
        return redirect("massupdate:job-detail", job.pk)
    messages.success(
        request,
        f"Job {revert.pk} reverts job {job.pk}: check its preview, then confirm it.",
    )
    return redirect("massupdate:job-preview", revert.pk)
