from django.urls import path

from .views import approvals, draft, jobs, preview

app_name = "massupdate"

urlpatterns = [
    path("", jobs.home, name="home"),
    path("jobs/", jobs.job_list, name="job-list"),
    path("jobs/new/", draft.job_new, name="job-new"),
    path("jobs/new/refresh/", draft.modules_refresh, name="modules-refresh"),
    path("jobs/<int:pk>/", jobs.job_detail, name="job-detail"),
    path("jobs/<int:pk>/changes/", draft.job_changes, name="job-changes"),
    path("jobs/<int:pk>/changes/remove/", draft.job_change_remove, name="job-change-remove"),
    path("jobs/<int:pk>/records/", draft.job_records, name="job-records"),
    path(
        "jobs/<int:pk>/records/<str:method>/",
        draft.job_records_select,
        name="job-records-select",
    ),
    path("jobs/<int:pk>/preview/", preview.job_preview, name="job-preview"),
    path("jobs/<int:pk>/preview/include/", preview.job_include_unchanged, name="job-include"),
    path("jobs/<int:pk>/confirm/", preview.job_confirm, name="job-confirm"),
    path("jobs/<int:pk>/cancel/", jobs.job_cancel, name="job-cancel"),
    path("jobs/<int:pk>/retry/", jobs.job_retry, name="job-retry"),
    path("jobs/<int:pk>/export.csv", jobs.job_export, name="job-export"),
    path("jobs/<int:pk>/revert/", approvals.job_revert, name="job-revert"),
    path("approvals/", approvals.approvals, name="approvals"),
    path("jobs/<int:pk>/approval/", approvals.job_approval, name="job-approval"),
]
