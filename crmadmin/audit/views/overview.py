"""The managers' overview: jobs, records changed and failures of the last days, as charts."""

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .. import charts, stats


@require_GET
@permission_required("massupdate.view_all_jobs", raise_exception=True)
def overview(request: HttpRequest) -> HttpResponse:
    numbers = stats.overview()
    context = {
        "days": stats.DAYS,
        "charts": [
            charts.daily_columns("jobs-per-day", "Jobs per day", "jobs", numbers.jobs_per_day),
            charts.daily_columns(
                "records-per-day",
                "Records changed per day",
                "records changed",
                numbers.records_changed_per_day,
            ),
            charts.ranked_bars(
                "failures-by-code", "Failures by code", "failures", "Code", numbers.failures_by_code
            ),
            charts.ranked_bars(
                "jobs-per-person", "Jobs per person", "jobs", "Person", numbers.jobs_per_person
            ),
        ],
    }
    return render(request, "audit/overview.html", context)
