"""A manager marks a finished job reviewed, with a note: once, and never their own job."""

import pytest
from django.urls import reverse

from crmadmin.massupdate.models import Job, JobEvent

from .conftest import bulk_jobs, client_of, events_of_every_job, page_text


@pytest.fixture
def finished(operator, offline_connection) -> Job:
    (job,) = bulk_jobs(operator, offline_connection, 1, status=Job.Status.COMPLETED)
    return job


def review(client, job: Job, note: str = "Checked the sample against the CRM"):
    return client.post(reverse("audit:job-review", args=[job.pk]), {"note": note}, follow=True)


def review_state(job: Job) -> tuple:
    job.refresh_from_db()
    return job.reviewed_by_id, job.reviewed_at, job.review_note, events_of_every_job()


def test_a_manager_marks_a_job_reviewed_and_the_page_shows_who_and_the_note(finished, manager):
    response = review(client_of(manager), finished, "Looks right <b>to me</b>")

    finished.refresh_from_db()
    assert finished.reviewed_by == manager
    assert finished.review_note == "Looks right <b>to me</b>"
    event = finished.events.get(kind=JobEvent.Kind.REVIEWED)
    assert (event.actor, event.message) == (manager, "Looks right <b>to me</b>")
    text = page_text(response)
    assert f"Job {finished.pk} is marked reviewed." in text
    assert f"Reviewed by maria at {finished.reviewed_at:%Y-%m-%d %H:%M:%S}" in text
    assert "Looks right <b>to me</b>" in text  # escaped: shown as written
    assert "Mark reviewed" not in text


def test_an_operator_may_not_mark_a_job_reviewed(finished, operator, other_operator):
    before = review_state(finished)

    for user in (operator, other_operator):
        response = client_of(user).post(
            reverse("audit:job-review", args=[finished.pk]), {"note": "Fine by me"}
        )
        assert response.status_code == 403

    assert review_state(finished) == before


def test_a_manager_may_not_review_their_own_job(manager, offline_connection):
    (own,) = bulk_jobs(manager, offline_connection, 1, status=Job.Status.COMPLETED)
    before = review_state(own)

    response = review(client_of(manager), own)

    assert "Nobody reviews their own job: another manager must." in page_text(response)
    assert review_state(own) == before


def test_a_job_is_reviewed_once(finished, manager, django_user_model):
    another = django_user_model.objects.create_user("mark")
    another.groups.set(manager.groups.all())
    review(client_of(manager), finished, "First look")
    before = review_state(finished)

    response = review(client_of(another), finished, "Second look")

    assert "This job has already been marked reviewed." in page_text(response)
    assert review_state(finished) == before
    assert finished.review_note == "First look"


def test_an_unfinished_job_cannot_be_reviewed(operator, manager, offline_connection):
    (running,) = bulk_jobs(operator, offline_connection, 1, status=Job.Status.RUNNING)
    before = review_state(running)

    response = review(client_of(manager), running)

    assert "Only a finished job can be marked reviewed." in page_text(response)
    assert review_state(running) == before


def test_a_review_needs_a_note(finished, manager):
    before = review_state(finished)

    response = client_of(manager).post(
        reverse("audit:job-review", args=[finished.pk]), {"note": "  "}
    )

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert review_state(finished) == before


def test_a_manager_cannot_review_a_job_that_does_not_exist(manager):
    response = client_of(manager).post(reverse("audit:job-review", args=[999_999]), {"note": "x"})

    assert response.status_code == 404
