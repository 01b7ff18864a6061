"""The Django admin shows connections without ever putting a secret in the page."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from crmadmin.zoho.models import Connection

from .conftest import ACCESS_TOKEN, CLIENT_SECRET, REFRESH_TOKEN


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.test", "pw-root-123"))
    return client


def test_the_admin_change_page_masks_every_secret(admin_client, connection):
    response = admin_client.get(reverse("admin:zoho_connection_change", args=[connection.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    for secret in (CLIENT_SECRET, REFRESH_TOKEN, ACCESS_TOKEN):
        assert secret not in html
    assert html.count("•••• set") == 3
    assert 'name="new_client_secret"' in html


def _post_change(admin_client, connection, **changes):
    data = {
        "name": connection.name,
        "data_centre": connection.data_centre,
        "accounts_url": connection.accounts_url,
        "api_domain": connection.api_domain,
        "client_id": connection.client_id,
        "scopes": connection.scopes,
        "concurrency_limit": connection.concurrency_limit,
        "new_client_secret": "",
        **changes,
    }
    return admin_client.post(reverse("admin:zoho_connection_change", args=[connection.pk]), data)


def test_saving_without_a_new_secret_keeps_the_current_one(admin_client, connection):
    response = _post_change(admin_client, connection, concurrency_limit=3)

    assert response.status_code == 302
    stored = Connection.objects.get(pk=connection.pk)
    assert (stored.client_secret, stored.concurrency_limit) == (CLIENT_SECRET, 3)
    assert stored.refresh_token == REFRESH_TOKEN


def test_a_new_client_secret_typed_in_the_admin_replaces_the_old_one(admin_client, connection):
    _post_change(admin_client, connection, new_client_secret="rotated-secret-value")

    assert Connection.objects.get(pk=connection.pk).client_secret == "rotated-secret-value"
