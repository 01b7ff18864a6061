"""The managers' overview: what the mass updates of the last days did, in numbers."""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from crmadmin.massupdate.models import NOT_FAILURES, Job

DAYS = 30
TOP_PEOPLE = 15


@dataclass(frozen=True)
class Overview:
    days: list[date]
    jobs_per_day: list[tuple[date, int]]
    records_changed_per_day: list[tuple[date, int]]
    failures_by_code: list[tuple[str, int]]
    jobs_per_person: list[tuple[str, int]]


def overview(*, days: int = DAYS, today: date | None = None) -> Overview:
    """Jobs created per day and per person, and records changed and failures by code of the
    jobs that finished, over the ``days`` up to ``today`` (in the site's time zone)."""
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    window = [first + timedelta(days=n) for n in range(days)]
    since = timezone.make_aware(datetime.combine(first, time.min))
    until = timezone.make_aware(datetime.combine(today + timedelta(days=1), time.min))
    created = Job.objects.filter(created_at__gte=since, created_at__lt=until)
    per_day = dict(
        created.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
        .order_by()
    )
    per_person = (
        created.values("owner__username")
        .annotate(n=Count("pk"))
        .values_list("owner__username", "n")
        .order_by("-n", "owner__username")[:TOP_PEOPLE]
    )
    # Summed here rather than in SQL: the counts are JSON, one small object a job.
    changed: Counter[date] = Counter()
    failures: Counter[str] = Counter()
    finished = Job.objects.filter(finished_at__gte=since, finished_at__lt=until)
    for finished_at, counts in finished.values_list("finished_at", "outcome_counts").iterator():
        changed[timezone.localdate(finished_at)] += counts.get("SUCCESS", 0)
        failures.update({code: n for code, n in counts.items() if code not in NOT_FAILURES})
    return Overview(
        days=window,
        jobs_per_day=[(day, per_day.get(day, 0)) for day in window],
        records_changed_per_day=[(day, changed[day]) for day in window],
        failures_by_code=sorted(failures.items(), key=lambda item: (-item[1], item[0])),
        jobs_per_person=list(per_person),
    )
