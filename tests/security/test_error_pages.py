"""What a person sees when a request is refused before any form runs: a page that says what
happened and that nothing was saved, never a bare status line (issue 6, item 2)."""

from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from crmadmin.massupdate.models import Job
from tests.massupdate import conftest as massupdate
from tests.massupdate.conftest import drafted_job, post_change, post_selection
from tests.security.test_authorization_matrix import INLINE_CODE

crm = massupdate.crm
connection = massupdate.connection


def ids(count: int) -> str:
    return "\n".join(str(738964000100000000 + n) for n in range(count))


def selection_of(job: Job) -> tuple:
    job.refresh_from_db()
    return job.status, job.selection, job.selection_summary, job.records.count()


def test_pasting_150000_ids_reaches_the_forms_own_message(operator_client, connection):
    job = drafted_job(operator_client, connection)
    before = selection_of(job)

    response = post_selection(operator_client, job, "paste", {"ids": ids(150_000)})

    assert response.status_code == 400  # the records page again, with the form's errors
    assert "a job takes at most 50,000" in response.text
    assert selection_of(job) == before


def test_a_paste_above_6_mb_gets_a_page_that_says_nothing_was_saved(operator_client, connection):
    job = drafted_job(operator_client, connection)
    before = selection_of(job)

    response = post_selection(operator_client, job, "paste", {"ids": ids(400_000)})  # 7.6 MB

    assert response.status_code == 400
    assert "This request could not be read" in response.text
    assert "Nothing was saved" in response.text
    assert "upload their IDs as a CSV file" in response.text
    assert selection_of(job) == before


def test_more_than_5000_form_fields_get_the_same_page(operator_client, connection):
    job = drafted_job(operator_client, connection)
    changes = list(job.changes)

    response = post_change(
        operator_client, job, "Product_Interest", {"value": ["CRM"] * 5_001, "mode": "add"}
    )

    assert response.status_code == 400
    assert "at most 6 MB of text and 5,000 fields" in response.text
    job.refresh_from_db()
    assert job.changes == changes


def test_a_form_without_its_csrf_token_says_it_expired(db, operator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)

    response = client.post(reverse("massupdate:job-new"), {"module": "Leads"})

    assert response.status_code == 403
    assert "This form has expired" in response.text
    assert "nothing was saved" in response.text
    assert not Job.objects.exists()


def test_a_refused_page_says_why(operator_client):
    response = operator_client.get(reverse("massupdate:approvals"))

    assert response.status_code == 403
    assert "Your role does not allow this page" in response.text
    assert "signed in as olivia" in response.text


def test_a_missing_page_says_it_may_be_someone_elses(operator_client):
    response = operator_client.get("/jobs/99999999/")

    assert response.status_code == 404
    assert "belongs to a job you cannot see" in response.text


def test_the_server_error_page_renders_without_a_request_or_inline_code():
    html = render_to_string("500.html")

    assert "Something went wrong on our side" in html
    assert '<link rel="stylesheet" href="/static/css/crmadmin.css">' in html
    assert not [what for pattern, what in INLINE_CODE if pattern.search(html)]
