import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_sent_to_login_page(client):
    response = client.get(reverse("massupdate:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_operator_logs_in_and_sees_the_dashboard(client, operator):
    response = client.post(
        reverse("accounts:login"), {"username": "olivia", "password": PASSWORD}, follow=True
    )
    assert response.status_code == 200
    assert response.context["user"] == operator
    assert b"Your mass updates" in response.content
    assert b"Operator" in response.content


def test_wrong_password_gets_a_clear_message_and_no_session(client, operator):
    response = client.post(reverse("accounts:login"), {"username": "olivia", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_logout_needs_a_post_and_ends_the_session(operator_client):
    assert operator_client.get(reverse("accounts:logout")).status_code == 405
    response = operator_client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in operator_client.session


def test_login_next_cannot_send_anyone_off_site(client, operator):
    response = client.post(
        reverse("accounts:login") + "?next=https://evil.example/",
        {"username": "olivia", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("massupdate:home")


def test_roles_exist_as_groups_with_their_permissions():
    operator = Group.objects.get(name="Operator")
    manager = Group.objects.get(name="Manager")
    operator_perms = set(operator.permissions.values_list("codename", flat=True))
    manager_perms = set(manager.permissions.values_list("codename", flat=True))
    assert "use_connection" in operator_perms
    assert "change_connection" not in operator_perms
    assert {"use_connection", "add_connection", "change_connection"} <= manager_perms


def test_only_managers_see_the_connections_link(operator_client, manager, client):
    assert b"Connections" not in operator_client.get(reverse("massupdate:home")).content
    client.force_login(manager)
    assert b"Connections" in client.get(reverse("massupdate:home")).content
