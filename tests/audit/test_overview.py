"""The managers' overview: jobs, records changed, failures and people, drawn as SVG."""

import re
from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crmadmin.audit import charts, stats
from crmadmin.massupdate.models import Job

from .conftest import bulk_jobs, client_of, page_text

OVERVIEW = reverse("audit:overview")


def at(day: date, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


@pytest.fixture
def history(operator, other_operator, offline_connection) -> date:
    """Jobs over the last days (and one too old to count); returns today."""
    today = timezone.localdate()
    for days_ago, owner, count, outcomes in [
        (0, operator, 2, {"SUCCESS": 10, "RECORD_LOCKED": 1}),
        (3, other_operator, 1, {"SUCCESS": 5, "INVALID_DATA": 2, "CONFLICT": 4}),
        (3, operator, 1, {"SUCCESS": 1}),
        (29, other_operator, 1, {"NOT_APPROVED": 3}),
        (30, operator, 4, {"SUCCESS": 100, "INVALID_DATA": 50}),  # before the window
    ]:
        moment = at(today - timedelta(days=days_ago))
        bulk_jobs(
            owner,
            offline_connection,
            count,
            created_at=moment,
            finished_at=moment,
            outcome_counts=outcomes,
        )
    # Still running: created today, but it has changed nothing yet.
    bulk_jobs(operator, offline_connection, 1, status=Job.Status.RUNNING, finished_at=None)
    return today


def test_the_numbers_count_jobs_records_failures_and_people_of_the_last_30_days(history):
    numbers = stats.overview()

    today = history
    assert numbers.days[0] == today - timedelta(days=29) and numbers.days[-1] == today
    jobs = dict(numbers.jobs_per_day)
    assert len(jobs) == 30
    assert jobs[today] == 3
    assert jobs[today - timedelta(days=3)] == 2
    assert jobs[today - timedelta(days=29)] == 1
    assert sum(jobs.values()) == 6
    changed = dict(numbers.records_changed_per_day)
    assert changed[today] == 20
    assert changed[today - timedelta(days=3)] == 6
    assert sum(changed.values()) == 26
    # CONFLICT is a record a revert left alone, not a failure.
    assert numbers.failures_by_code == [
        ("NOT_APPROVED", 3),
        ("INVALID_DATA", 2),
        ("RECORD_LOCKED", 2),
    ]
    assert numbers.jobs_per_person == [("olivia", 4), ("oscar", 2)]


def test_the_overview_page_draws_four_charts_with_their_numbers(history, manager_client):
    response = manager_client.get(OVERVIEW)

    content = response.content.decode()
    text = page_text(response)
    assert content.count("<svg") == 4
    assert content.count('role="img"') == 4
    for chart in ("jobs-per-day", "records-per-day", "failures-by-code", "jobs-per-person"):
        assert f'aria-labelledby="{chart}-title {chart}-desc"' in content
    assert f"6 jobs in all; the most, 3, for {history.isoformat()}." in text
    assert "26 records changed in all; the most, 20" in text
    assert "NOT_APPROVED 3 INVALID_DATA 2 RECORD_LOCKED 2 Total 7" in text
    assert "Person Jobs olivia 4 oscar 2 Total 6" in text
    # One column a day in the daily charts, one bar a code or person in the others.
    assert content.count('<rect class="chart-rect"') == 30 + 30 + 3 + 2
    assert " style=" not in content and "<style" not in content


def test_an_empty_overview_says_so_instead_of_drawing(manager_client):
    text = page_text(manager_client.get(OVERVIEW))

    assert "Nothing to show: no failures in these days." in text
    assert "Nothing to show: no jobs in these days." in text


def test_the_overview_is_for_managers_only(operator, outsider, client):
    assert client_of(operator).get(OVERVIEW).status_code == 403
    assert client_of(outsider).get(OVERVIEW).status_code == 403
    assert client.get(OVERVIEW).status_code == 302


# --- The charts' geometry ---------------------------------------------------------------------


def test_the_tallest_column_reaches_the_top_and_the_others_are_in_proportion():
    first = date(2026, 11, 1)
    series = [(first + timedelta(days=n), n % 4) for n in range(12)]

    chart = charts.daily_columns("c", "Jobs", "jobs", series)

    tallest = max(chart.bars, key=lambda bar: bar.height)
    assert tallest.y == charts.COLUMNS_TOP
    assert all(bar.y + bar.height == pytest.approx(chart.baseline) for bar in chart.bars)
    assert all(bar.height == pytest.approx(tallest.height * bar.value / 3) for bar in chart.bars)
    xs = [bar.x for bar in chart.bars]
    assert xs == sorted(xs) and xs[-1] + chart.bars[-1].width <= chart.width
    assert chart.bars[-1].tick == "12 Nov"  # the last day always has its date
    assert sum(1 for bar in chart.bars if bar.tick) == 6


def test_a_chart_of_zeros_draws_flat_bars():
    chart = charts.daily_columns("c", "Jobs", "jobs", [(date(2026, 1, 1), 0)])
    rows = charts.ranked_bars("r", "People", "jobs", "Person", [])

    assert chart.bars[0].height == 0 and chart.total == 0
    assert chart.summary == "No jobs."
    assert rows.bars == [] and rows.height == charts.ROW


def test_bars_are_as_long_as_their_share_and_long_labels_are_cut():
    name = "a-very-long-user-name-from-the-directory"

    chart = charts.ranked_bars("r", "People", "jobs", "Person", [(name, 8), ("b", 2)])

    longest, short = chart.bars
    assert longest.width == charts.WIDTH - charts.LABEL_WIDTH - charts.VALUE_WIDTH
    assert short.width == pytest.approx(longest.width / 4)
    assert longest.tick == name[:19] + "…" and longest.label == name
    assert short.y == longest.y + charts.ROW


def test_the_chart_template_writes_the_numbers_escaped(manager, offline_connection, db):
    bulk_jobs(manager, offline_connection, 1)
    manager.username = "<script>maria</script>"
    manager.save()

    content = client_of(manager).get(OVERVIEW).content.decode()

    assert "<script>maria" not in content
    assert len(re.findall(r"&lt;script&gt;maria", content)) >= 2  # a bar's title, its row
