from django.urls import path

from . import views

app_name = "zoho"

urlpatterns = [
    path("", views.connection_list, name="connection-list"),
    path("new/", views.connection_create, name="connection-create"),
    path("oauth/callback/", views.oauth_callback, name="oauth-callback"),
    path("<int:pk>/", views.connection_detail, name="connection-detail"),
    path("<int:pk>/connect/", views.connection_connect, name="connection-connect"),
    path("<int:pk>/self-client/", views.connection_self_client, name="connection-self-client"),
    path("<int:pk>/test/", views.connection_test, name="connection-test"),
    path("<int:pk>/disconnect/", views.connection_disconnect, name="connection-disconnect"),
]
