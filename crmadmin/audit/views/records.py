"""Which mass updates touched record X? Every job the user may see that included it."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from crmadmin.massupdate.fieldvalues import FieldSpec
from crmadmin.massupdate.models import Job, JobRecord
from crmadmin.massupdate.views import operator_required, query_without_page
from crmadmin.massupdate.views.preview import described_rows

from ..forms import RecordSearchForm
from .jobs import LIST_DEFERRED

PAGE_SIZE = 50


@require_GET
@operator_required
def record_search(request: HttpRequest) -> HttpResponse:
    form = RecordSearchForm(request.GET if "record_id" in request.GET else None)
    context = {"form": form, "query": query_without_page(request), "page": None}
    form.is_valid()  # a bad page number alone shows the first page
    if form.is_bound and form.cleaned_data.get("record_id"):
        records = (
            JobRecord.objects.filter(
                record_id=form.cleaned_data["record_id"],
                job__in=Job.objects.for_user(request.user),
            )
            .select_related("job__owner")
            .defer(*(f"job__{name}" for name in LIST_DEFERRED if name != "fields"))
            .order_by("-job__created_at", "-job_id")
        )
        page = Paginator(records, PAGE_SIZE).get_page(form.cleaned_data.get("page"))
        context["page"] = page
        context["rows"] = [_touched(record) for record in page.object_list]
    return render(request, "audit/record_search.html", context)


def _touched(record: JobRecord) -> dict:
    """The record in one job: its before → after in each of the job's fields."""
    specs = [FieldSpec.from_dict(f) for f in record.job.fields]
    (row,) = described_rows([record], specs)
    fields = [{"label": spec.label, **cell} for spec, cell in zip(specs, row["cells"], strict=True)]
    return {"record": record, "job": record.job, "fields": fields}
