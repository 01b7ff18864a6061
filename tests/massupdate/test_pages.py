"""The workflow's pages: what they show, their htmx partials, and their cost at 50,000 records."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from crmadmin.massupdate.models import Job, JobRecord, MetadataCache
from crmadmin.sandbox.models import CustomView, Record
from crmadmin.sandbox.operations import view_record_ids
from crmadmin.sandbox.seed import LOCKED_LEAD, NOT_APPROVED_LEAD
from crmadmin.zoho.models import Connection
from tests.conftest import make_sandbox_connection

from .conftest import build_job, filter_data, post_selection, preview, run, upload, writable

BIG = 50_000
CITY = {
    "api_name": "City",
    "label": "City",
    "data_type": "text",
    "max_length": 100,
    "decimal_place": None,
    "mandatory": False,
    "choices": [],
}


def big_job(owner, status: str = Job.Status.COMPLETED_WITH_ERRORS, records: int = BIG) -> Job:
    """A finished job of ``records`` records, written straight to the database."""
    connection = Connection.objects.filter(name="Scale").first() or make_sandbox_connection(
        "http://crm.invalid", name="Scale"
    )
    job = Job.objects.create(
        owner=owner,
        connection=connection,
        module="Leads",
        module_label="Leads",
        status=status,
        fields=[CITY],
        changes=[{"field": "City", "value": "Lima", "mode": ""}],
        record_count=records,
        reason="scale",
        started_at=timezone.now(),
        finished_at=timezone.now(),
        outcome_counts={"SUCCESS": records - records // 10, "RECORD_LOCKED": records // 10},
    )
    JobRecord.objects.bulk_create(
        (
            JobRecord(
                job=job,
                position=n,
                record_id=str(10**17 + n),
                found=True,
                before={"City": f"Town {n}"},
                after={"City": "Lima"},
                will_change=True,
                batch=n // 500 + 1,
                status="error" if n % 10 == 0 else "success",
                code="RECORD_LOCKED" if n % 10 == 0 else "SUCCESS",
                message="locked" if n % 10 == 0 else "",
                http_status=207,
                verified=None if n % 10 == 0 else True,
            )
            for n in range(records)
        ),
        batch_size=5000,
    )
    return job


# --- Module and changes --------------------------------------------------------------------


def test_the_module_page_lists_the_crms_modules_and_refreshes_them(operator_client, connection):
    page = operator_client.get(reverse("massupdate:job-new"))
    assert b'value="Leads"' in page.content and b'value="Deals"' in page.content
    cached = MetadataCache.objects.get(connection=connection, key="modules")
    MetadataCache.objects.filter(pk=cached.pk).update(payload=[], fetched_at=cached.fetched_at)

    assert b'value="Leads"' not in operator_client.get(reverse("massupdate:job-new")).content
    refresh = operator_client.post(
        reverse("massupdate:modules-refresh"), {"connection": connection.pk}, follow=True
    )
    assert b'value="Leads"' in refresh.content


def test_only_fields_open_to_mass_update_are_offered(operator, operator_client, connection):
    job = build_job(operator, connection, "Leads", {}, [])
    page = operator_client.get(reverse("massupdate:job-changes", args=[job.pk])).content
    assert b'value="Lead_Status"' in page and b'value="Product_Interest"' in page
    assert b'value="Email"' not in page and b'value="Description"' not in page


def test_choosing_a_field_with_htmx_swaps_in_only_its_value_form(
    operator, operator_client, connection
):
    job = build_job(operator, connection, "Leads", {}, [])
    response = operator_client.get(
        reverse("massupdate:job-changes", args=[job.pk]),
        {"field": "Product_Interest"},
        headers={"HX-Request": "true", "HX-Target": "value-form"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="value-form">')
    assert "Add to the current values" in html and "<html" not in html


# --- Records and preview ---------------------------------------------------------------------


def test_a_csv_with_a_bom_and_semicolons_selects_its_id_column(
    operator, operator_client, connection
):
    job = build_job(operator, connection, "Leads", {"City": {"value": "Faro"}}, [])
    ids = writable("Leads", 3)
    body = "\ufeffName;Record Id\n" + "".join(f"Lead {n};{i}\n" for n, i in enumerate(ids))
    response = post_selection(
        operator_client, job, "csv", {"file": upload("leads.csv", body.encode())}
    )
    assert response.status_code == 302
    job.refresh_from_db()
    assert list(job.records.values_list("record_id", flat=True)) == ids
    assert job.selection_detail["column"] == "Record Id"


def test_a_filter_selects_the_records_the_crm_matches(operator, operator_client, connection):
    job = build_job(operator, connection, "Leads", {"City": {"value": "Faro"}}, [])
    status = Record.objects.filter(module="Leads").exclude(data__Lead_Status=None).first()
    wanted = status.data["Lead_Status"]
    form = filter_data(("Lead_Status", "equals", wanted))
    response = post_selection(operator_client, job, "filter", form)
    assert response.status_code == 302, response.content.decode()[-3000:]
    expected = set(
        Record.objects.filter(module="Leads", data__Lead_Status=wanted).values_list("id", flat=True)
    )
    assert set(job.records.values_list("record_id", flat=True)) == expected


def test_a_custom_view_selects_its_records(operator, operator_client, connection):
    view = CustomView.objects.filter(module="Leads").first()
    job = build_job(operator, connection, "Leads", {"City": {"value": "Faro"}}, [])
    response = post_selection(operator_client, job, "view", {"cvid": view.pk})
    assert response.status_code == 302
    selected = list(job.records.values_list("record_id", flat=True))
    assert sorted(selected) == sorted(view_record_ids(view)) and selected


@pytest.mark.usefixtures("eager_tasks")
def test_the_preview_shows_before_and_after_and_filters_by_outcome(
    operator, operator_client, connection
):
    ids = writable("Leads", 3)
    job = preview(build_job(operator, connection, "Leads", {"City": {"value": "Évora"}}, ids))
    url = reverse("massupdate:job-preview", args=[job.pk])
    html = operator_client.get(url).content.decode()
    assert "<ins>Évora</ins>" in html
    assert "3</strong> will change" in html

    only_missing = operator_client.get(url, {"show": "not_found"}).content.decode()
    assert "No record matches." in only_missing
    one = operator_client.get(url, {"q": ids[1]}).content.decode()
    assert ids[1] in one and ids[0] not in one


def test_the_preview_progress_polls_until_done_then_reloads_the_page(
    operator, operator_client, connection
):
    job = build_job(operator, connection, "Leads", {"City": {"value": "Faro"}}, ["1" * 18])
    Job.objects.filter(pk=job.pk).update(status=Job.Status.PREVIEWING)
    url = reverse("massupdate:job-preview", args=[job.pk])
    htmx = {"HX-Request": "true", "HX-Target": "preview-progress"}
    polling = operator_client.get(url, headers=htmx)
    assert 'hx-trigger="every 1s"' in polling.content.decode()

    Job.objects.filter(pk=job.pk).update(status=Job.Status.PREVIEWED)
    assert operator_client.get(url, headers=htmx)["HX-Refresh"] == "true"


# --- Results ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("eager_tasks")
def test_the_results_page_counts_filters_and_searches(operator, operator_client, connection):
    ids = writable("Leads", 3)
    job = run(
        build_job(operator, connection, "Leads", {"City": {"value": "Braga"}}, [*ids, LOCKED_LEAD])
    )
    url = reverse("massupdate:job-detail", args=[job.pk])
    html = operator_client.get(url).content.decode()
    assert "RECORD_LOCKED</span> 1" in html and "SUCCESS</span> 3" in html
    assert "Completed with errors" in html

    locked = operator_client.get(url, {"code": "RECORD_LOCKED"}).content.decode()
    assert LOCKED_LEAD in locked and ids[0] not in locked
    found = operator_client.get(url, {"q": ids[2]}).content.decode()
    assert ids[2] in found and ids[1] not in found
    assert "Submitted</strong> by olivia: A test run" in html


def test_job_progress_polls_while_running_and_stops_with_286_when_done(operator, operator_client):
    job = big_job(operator, status=Job.Status.RUNNING, records=10)
    url = reverse("massupdate:job-detail", args=[job.pk])
    htmx = {"HX-Request": "true", "HX-Target": "job-progress"}
    running = operator_client.get(url, headers=htmx)
    assert running.status_code == 200 and 'hx-trigger="every 1s"' in running.content.decode()

    Job.objects.filter(pk=job.pk).update(status=Job.Status.COMPLETED)
    done = operator_client.get(url, headers=htmx)
    assert done.status_code == 286
    assert "every 1s" not in done.content.decode()


@pytest.mark.usefixtures("eager_tasks")
def test_the_csv_download_streams_all_records_or_only_failures(
    operator, operator_client, connection
):
    ids = writable("Leads", 2)
    values = {"City": {"value": '=HYPERLINK("http://evil")'}}
    job = run(build_job(operator, connection, "Leads", values, [*ids, NOT_APPROVED_LEAD]))
    url = reverse("massupdate:job-export", args=[job.pk])

    everything = operator_client.get(url)
    assert everything.streaming
    rows = list(
        csv.DictReader(io.StringIO(b"".join(everything.streaming_content).decode("utf-8-sig")))
    )
    assert [r["record_id"] for r in rows] == [*ids, NOT_APPROVED_LEAD]
    assert rows[0]["City after"] == '\'=HYPERLINK("http://evil")'

    failures = operator_client.get(url, {"failures": "on"})
    body = b"".join(failures.streaming_content).decode("utf-8-sig")
    failed = list(csv.DictReader(io.StringIO(body)))
    assert [(r["record_id"], r["code"]) for r in failed] == [(NOT_APPROVED_LEAD, "NOT_APPROVED")]


def test_home_lists_the_operators_running_and_recent_jobs(
    operator, other_operator, operator_client
):
    mine = big_job(operator, records=3)
    running = big_job(operator, status=Job.Status.RUNNING, records=3)
    theirs = big_job(other_operator, records=3)
    html = operator_client.get(reverse("massupdate:home")).content.decode()
    assert f"#{mine.pk}<" in html and f"#{running.pk}<" in html
    assert f"#{theirs.pk}<" not in html
    assert 'id="running-jobs"' in html and "every 2s" in html


# --- Cost at scale ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_50000_record_results_and_preview_pages_cost_the_same_queries_on_any_page(
    operator, operator_client, django_assert_max_num_queries
):
    job = big_job(operator)
    url = reverse("massupdate:job-detail", args=[job.pk])
    operator_client.get(url)  # sessions and permissions warmed
    pages = ({}, {"page": 250}, {"code": "RECORD_LOCKED", "page": 40}, {"q": str(10**17 + 777)})
    for params in pages:
        with django_assert_max_num_queries(9):
            response = operator_client.get(url, params)
        assert response.status_code == 200
    assert "Page 250 of 500" in operator_client.get(url, {"page": 250}).content.decode()

    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.PREVIEWED,
        previewed_at=timezone.now(),
        preview_counts={"to_send": BIG, "will_change": BIG},
    )
    url = reverse("massupdate:job-preview", args=[job.pk])
    with django_assert_max_num_queries(8):
        response = operator_client.get(url, {"show": "change", "page": 300})
    assert "Page 300 of 500" in response.content.decode()


@pytest.mark.django_db
def test_the_job_list_and_home_cost_a_fixed_number_of_queries(
    operator, manager, client, django_assert_max_num_queries
):
    for _ in range(30):
        big_job(operator, records=2)
    client.force_login(manager)
    client.get(reverse("massupdate:job-list"))
    with django_assert_max_num_queries(8):
        listing = client.get(reverse("massupdate:job-list"))
    assert listing.content.decode().count("olivia") == 30
    client.force_login(operator)
    client.get(reverse("massupdate:home"))
    with django_assert_max_num_queries(8):
        assert client.get(reverse("massupdate:home")).status_code == 200


def test_home_stops_polling_and_reloads_once_the_last_running_job_ends(operator, operator_client):
    running = big_job(operator, status=Job.Status.RUNNING, records=3)
    htmx = {"HX-Request": "true", "HX-Target": "running-jobs"}
    polling = operator_client.get(reverse("massupdate:home"), headers=htmx)
    assert polling.status_code == 200 and f"#{running.pk}<" in polling.content.decode()

    Job.objects.filter(pk=running.pk).update(status=Job.Status.COMPLETED)
    done = operator_client.get(reverse("massupdate:home"), headers=htmx)
    assert done.status_code == 286 and done["HX-Refresh"] == "true"


@pytest.mark.usefixtures("eager_tasks")
def test_retry_failed_leads_to_a_preview_whose_confirmation_names_the_original_job(
    operator, operator_client, connection
):
    job = run(build_job(operator, connection, "Leads", {"City": {"value": "Vigo"}}, [LOCKED_LEAD]))
    response = operator_client.post(reverse("massupdate:job-retry", args=[job.pk]))
    retry = Job.objects.get(retry_of=job)
    assert response["Location"] == reverse("massupdate:job-preview", args=[retry.pk])

    confirm = operator_client.get(reverse("massupdate:job-confirm", args=[retry.pk]))
    assert f"Retry of job {job.pk}: A test run" in confirm.content.decode()
    detail = operator_client.get(reverse("massupdate:job-detail", args=[job.pk])).content.decode()
    assert f"job #{retry.pk}" in detail


def test_pages_of_a_running_job_reload_themselves_when_javascript_is_off(operator, operator_client):
    job = big_job(operator, status=Job.Status.RUNNING, records=3)
    html = operator_client.get(reverse("massupdate:job-detail", args=[job.pk])).content.decode()
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in html
    Job.objects.filter(pk=job.pk).update(status=Job.Status.COMPLETED)
    html = operator_client.get(reverse("massupdate:job-detail", args=[job.pk])).content.decode()
    assert 'http-equiv="refresh"' not in html
