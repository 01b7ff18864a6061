"""Who may open and act on which page of the mass-update workflow.

Every URL of ``crmadmin/massupdate/urls.py`` is reached with a real job: anonymous users go
to the login page, people without a role are refused, operators see only their own jobs,
managers see every job and may stop a running one, but shape only their own drafts.
"""

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from crmadmin.massupdate import urls as massupdate_urls
from crmadmin.massupdate.models import Job, JobEvent, JobRecord

from .conftest import SUCCESS_IDS, drafted_job, previewed_job, state, text

pytestmark = pytest.mark.usefixtures("eager_tasks")

PATTERNS: list[URLPattern] = massupdate_urls.urlpatterns
JOB_URL_NAMES = [p.name for p in PATTERNS if "pk" in p.pattern.converters]
# The views that accept only POST, and only GET.
POST_ONLY = {
    "modules-refresh",
    "job-change-remove",
    "job-records-select",
    "job-include",
    "job-cancel",
    "job-retry",
    "job-revert",
}
GET_ONLY = {"home", "job-list", "job-detail", "job-records", "job-export", "approvals"}
# The steps that shape a draft: only its owner may open or post to them.
DRAFT_STEPS = ["job-changes", "job-records", "job-preview", "job-confirm"]


def url_of(name: str, job: Job) -> str:
    pattern = next(p for p in PATTERNS if p.name == name)
    values = {"pk": job.pk, "method": "paste"}
    kwargs = {key: values[key] for key in pattern.pattern.converters}
    return reverse(f"massupdate:{name}", kwargs=kwargs)


def step_posts(job: Job) -> dict[str, dict]:
    """For each URL that takes a POST, data a real page of the owner would send."""
    return {
        "job-new": {"connection": job.connection_id, "module": "Leads"},
        "modules-refresh": {"connection": job.connection_id},
        "job-changes": {"field": "Designation", "value": "Taken over"},
        "job-change-remove": {"field": "Designation"},
        "job-records-select": {"ids": SUCCESS_IDS[0]},
        "job-preview": {},
        "job-include": {"include": "on"},
        "job-confirm": {"reason": "Somebody else's job", "token": str(job.submit_token)},
        "job-cancel": {},
        "job-retry": {},
        "job-revert": {},
        "job-approval": {"decision": "approve", "note": "Fine by me"},
    }


def olivias_client(operator) -> Client:
    # A client of her own: the test's ``client`` may be logged in as someone else.
    own = Client()
    own.force_login(operator)
    return own


@pytest.fixture
def olivias_job(operator, connection) -> Job:
    return drafted_job(olivias_client(operator), connection)


@pytest.fixture
def olivias_queued_job(operator, connection) -> Job:
    job = previewed_job(olivias_client(operator), connection)
    # As if submitted, before any worker claimed it.
    Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED)
    job.refresh_from_db()
    return job


def test_every_massupdate_url_is_covered_by_these_tests():
    names = {p.name for p in PATTERNS}

    assert names == {
        "home",
        "job-list",
        "job-new",
        "approvals",
        *POST_ONLY,
        *GET_ONLY,
        *JOB_URL_NAMES,
    }
    assert set(JOB_URL_NAMES) >= {*DRAFT_STEPS, "job-detail", "job-cancel", "job-export"}


# --- Anonymous -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [p.name for p in PATTERNS])
def test_anonymous_visitors_are_sent_to_the_login_page_from_every_url(client, olivias_job, name):
    url = url_of(name, olivias_job)
    before = state(olivias_job)
    login = reverse("accounts:login")

    for response in (client.get(url), client.post(url, step_posts(olivias_job).get(name, {}))):
        assert response.status_code == 302, (name, response.status_code)
        assert response.url.startswith(f"{login}?next="), (name, response.url)

    assert state(olivias_job) == before


# --- No role ---------------------------------------------------------------------------------


def test_a_user_without_a_role_cannot_open_the_new_job_page(client, outsider, connection):
    client.force_login(outsider)

    assert client.get(reverse("massupdate:job-new")).status_code == 403
    response = client.post(
        reverse("massupdate:job-new"), {"connection": connection.pk, "module": "Leads"}
    )
    assert response.status_code == 403
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    "name",
    [
        "modules-refresh",
        "job-changes",
        "job-change-remove",
        "job-records-select",
        "job-preview",
        "job-include",
        "job-confirm",
        "job-retry",
    ],
)
def test_a_user_without_a_role_is_refused_on_posting_to_any_step(
    client, outsider, olivias_job, name
):
    client.force_login(outsider)
    before = state(olivias_job)

    response = client.post(url_of(name, olivias_job), step_posts(olivias_job)[name])

    assert response.status_code == 403
    assert state(olivias_job) == before


def test_a_user_without_a_role_cannot_see_or_cancel_anyones_job(client, outsider, olivias_job):
    client.force_login(outsider)
    before = state(olivias_job)

    assert client.get(url_of("job-detail", olivias_job)).status_code == 404
    assert client.get(url_of("job-export", olivias_job)).status_code == 404
    assert client.get(url_of("job-records", olivias_job)).status_code == 403
    assert client.post(url_of("job-cancel", olivias_job)).status_code == 404
    assert state(olivias_job) == before


def test_a_user_without_a_role_sees_no_jobs_in_the_list_or_at_home(client, outsider, olivias_job):
    client.force_login(outsider)

    listing = client.get(reverse("massupdate:job-list"))
    home = client.get(reverse("massupdate:home"))

    assert listing.status_code == 200
    assert list(listing.context["page"].object_list) == []
    assert "No job." in text(listing)
    assert url_of("job-detail", olivias_job) not in listing.content.decode()
    assert home.status_code == 200
    assert url_of("job-detail", olivias_job) not in home.content.decode()
    assert "New mass update" not in text(home)


# --- Another operator ----------------------------------------------------------------------


@pytest.mark.parametrize("name", JOB_URL_NAMES)
def test_another_operator_gets_404_on_every_url_of_olivias_job(
    client, other_operator, olivias_job, name
):
    client.force_login(other_operator)
    url = url_of(name, olivias_job)
    before = state(olivias_job)

    if name not in POST_ONLY:
        assert client.get(url).status_code == 404, name
    if name not in GET_ONLY:
        assert client.post(url, step_posts(olivias_job)[name]).status_code == 404, name

    assert state(olivias_job) == before


def test_another_operator_does_not_see_olivias_job_in_the_list_or_at_home(
    client, other_operator, olivias_job
):
    client.force_login(other_operator)
    detail_url = url_of("job-detail", olivias_job)

    listing = client.get(reverse("massupdate:job-list"))
    home = client.get(reverse("massupdate:home"))

    assert olivias_job not in listing.context["page"].object_list
    assert detail_url not in listing.content.decode()
    assert "olivia" not in text(listing)
    assert detail_url not in home.content.decode()


def test_olivia_herself_sees_her_job_in_the_list_and_at_home(operator_client, olivias_job):
    # The counterpart of the tests above: the job is listed for its owner.
    detail_url = url_of("job-detail", olivias_job)

    assert detail_url in operator_client.get(reverse("massupdate:job-list")).content.decode()
    assert detail_url in operator_client.get(reverse("massupdate:home")).content.decode()


# --- A manager ---------------------------------------------------------------------------------


def test_a_manager_sees_olivias_job_its_export_and_its_row_in_the_list(manager_client, olivias_job):
    detail = manager_client.get(url_of("job-detail", olivias_job))
    export = manager_client.get(url_of("job-export", olivias_job))
    listing = manager_client.get(reverse("massupdate:job-list"))

    assert detail.status_code == 200
    assert "olivia" in text(detail)
    assert export.status_code == 200
    assert SUCCESS_IDS[0] in b"".join(export.streaming_content).decode()
    assert olivias_job in listing.context["page"].object_list
    assert url_of("job-detail", olivias_job) in listing.content.decode()


@pytest.mark.parametrize(
    "name", [*DRAFT_STEPS, "job-change-remove", "job-records-select", "job-include"]
)
def test_a_manager_cannot_shape_olivias_draft(manager_client, olivias_job, name):
    url = url_of(name, olivias_job)
    before = state(olivias_job)

    if name not in POST_ONLY:
        assert manager_client.get(url).status_code == 404, name
    if name not in GET_ONLY:
        assert manager_client.post(url, step_posts(olivias_job)[name]).status_code == 404, name

    assert state(olivias_job) == before


def test_a_manager_cannot_confirm_olivias_previewed_job(manager_client, olivias_queued_job):
    Job.objects.filter(pk=olivias_queued_job.pk).update(status=Job.Status.PREVIEWED)
    olivias_queued_job.refresh_from_db()
    url = url_of("job-confirm", olivias_queued_job)
    data = {"reason": "Submitting for her", "token": str(olivias_queued_job.submit_token)}

    assert manager_client.post(url, data).status_code == 404

    olivias_queued_job.refresh_from_db()
    assert olivias_queued_job.status == Job.Status.PREVIEWED
    assert not olivias_queued_job.events.filter(kind=JobEvent.Kind.SUBMITTED).exists()


def test_a_manager_cancels_olivias_queued_job_and_none_of_its_records_is_sent(
    manager_client, manager, olivias_queued_job
):
    job = olivias_queued_job

    response = manager_client.post(url_of("job-cancel", job), follow=True)

    assert "Cancelling: batches not yet sent will not be sent." in text(response)
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert job.cancelled_by == manager
    assert job.outcome_counts == {"NOT_SENT": len(SUCCESS_IDS)}
    records = JobRecord.objects.filter(job=job)
    assert records.count() == len(SUCCESS_IDS)
    assert set(records.values_list("status", "code")) == {(JobRecord.Status.ERROR, "NOT_SENT")}
    assert not job.batches.exists()
    assert job.events.filter(kind=JobEvent.Kind.CANCEL_REQUESTED, actor=manager).exists()


def test_another_operator_cannot_cancel_olivias_queued_job(
    client, other_operator, olivias_queued_job
):
    client.force_login(other_operator)

    assert client.post(url_of("job-cancel", olivias_queued_job)).status_code == 404

    olivias_queued_job.refresh_from_db()
    assert olivias_queued_job.status == Job.Status.QUEUED
    assert olivias_queued_job.cancel_requested_at is None


# --- Methods ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(POST_ONLY))
def test_post_only_views_refuse_get_with_405(operator_client, olivias_job, name):
    before = state(olivias_job)

    assert operator_client.get(url_of(name, olivias_job)).status_code == 405

    assert state(olivias_job) == before


@pytest.mark.parametrize("name", sorted(GET_ONLY))
def test_get_only_views_refuse_post_with_405(operator_client, olivias_job, name):
    assert operator_client.post(url_of(name, olivias_job)).status_code == 405


@pytest.mark.parametrize("name", ["job-new", "job-changes", "job-preview", "job-confirm"])
def test_pages_that_take_get_and_post_refuse_other_methods_with_405(
    operator_client, olivias_job, name
):
    url = url_of(name, olivias_job)
    before = state(olivias_job)

    assert operator_client.put(url).status_code == 405
    assert operator_client.delete(url).status_code == 405
    assert state(olivias_job) == before
