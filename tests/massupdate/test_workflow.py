"""The whole workflow through the test client, against the sandbox over real HTTP."""

import pytest
from django.urls import reverse

from crmadmin.massupdate.models import Job
from crmadmin.sandbox.models import Record
from crmadmin.sandbox.seed import LOCKED_LEAD, MISSING_IDS, NOT_APPROVED_LEAD

from .conftest import SUCCESS_IDS, confirm_fields, start_job, writable

pytestmark = pytest.mark.usefixtures("eager_tasks")


def test_operator_runs_a_mass_update_and_sees_every_records_outcome(operator_client, connection):
    page = operator_client.get(reverse("massupdate:job-new"))
    assert b"Leads" in page.content

    job = start_job(operator_client, connection, "Leads")
    changes_url = reverse("massupdate:job-changes", args=[job.pk])
    form_page = operator_client.get(changes_url, {"field": "Designation"})
    assert b"Set Title" in form_page.content
    response = operator_client.post(
        changes_url + "?field=Designation", {"field": "Designation", "value": "Met at Expo 2026"}
    )
    assert response.status_code == 302

    others = writable("Leads", 5, exclude=SUCCESS_IDS)
    pasted = "\n".join(
        [*SUCCESS_IDS, NOT_APPROVED_LEAD, LOCKED_LEAD, MISSING_IDS[0], *others, "abc"]
    )
    response = operator_client.post(
        reverse("massupdate:job-records-select", args=[job.pk, "paste"]), {"ids": pasted}
    )
    assert response.status_code == 302
    records_page = operator_client.get(reverse("massupdate:job-records", args=[job.pk]))
    assert b"<code>abc</code>" in records_page.content

    response = operator_client.post(reverse("massupdate:job-preview", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == Job.Status.PREVIEWED
    assert job.preview_counts["not_found"] == 1

    confirm_url = reverse("massupdate:job-confirm", args=[job.pk])
    hidden = confirm_fields(operator_client, job)
    response = operator_client.post(confirm_url, {"reason": "Qualified at the fair", **hidden})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.outcome_counts["NOT_APPROVED"] == 1
    assert job.outcome_counts["RECORD_LOCKED"] == 1
    assert job.outcome_counts["INVALID_DATA"] == 1
    assert job.status == Job.Status.COMPLETED_WITH_ERRORS
    detail = operator_client.get(reverse("massupdate:job-detail", args=[job.pk]))
    assert detail.status_code == 200
    for rid in [*SUCCESS_IDS, *others]:
        assert Record.objects.get(pk=rid).data["Designation"] == "Met at Expo 2026"
