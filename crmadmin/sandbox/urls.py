from django.urls import path, re_path

from . import api, oauth_views

app_name = "sandbox"

urlpatterns = [
    path("", oauth_views.index, name="index"),
    path("oauth/v2/auth", oauth_views.authorize, name="authorize"),
    path("oauth/v2/token", oauth_views.token, name="token"),
    path("oauth/v2/token/revoke", oauth_views.revoke, name="revoke"),
    path("oauth/v2/self-client", oauth_views.self_client, name="self-client"),
    # Every CRM path goes to one dispatcher, which answers unknown ones as Zoho does.
    re_path(r"^crm/(?P<path>.*)$", api.crm_api, name="api"),
]
