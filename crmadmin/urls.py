from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from crmadmin.accounts.forms import AdminLoginForm

from .health import healthz

# The admin's own login page is throttled like ours (crmadmin/accounts/throttle.py).
admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("", include("crmadmin.accounts.urls")),
    path("", include("crmadmin.massupdate.urls")),
    path("connections/", include("crmadmin.zoho.urls")),
    path("audit/", include("crmadmin.audit.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]

if settings.CRMADMIN_SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("crmadmin.sandbox.urls")))
