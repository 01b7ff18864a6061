from django.urls import path

from .views import jobs, overview, records

app_name = "audit"

urlpatterns = [
    path("", jobs.job_list, name="job-list"),
    path("export/", jobs.job_list_export, name="job-list-export"),
    path("jobs/<int:pk>/", jobs.job_detail, name="job-detail"),
    path("jobs/<int:pk>/exchanges/", jobs.job_exchanges, name="job-exchanges"),
    path("jobs/<int:pk>/export.json", jobs.job_export_json, name="job-export-json"),
    path("jobs/<int:pk>/review/", jobs.job_review, name="job-review"),
    path("records/", records.record_search, name="record-search"),
    path("overview/", overview.overview, name="overview"),
]
