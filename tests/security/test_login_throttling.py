"""Login throttling and session expiry (issue 6, item 4)."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crmadmin.accounts.models import FailedLogin
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
ADMIN_LOGIN = reverse("admin:login")
PAUSED = "Too many failed sign-ins"


def sign_in(client: Client, username: str, password: str, *, address: str = "10.0.0.1", url=LOGIN):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def fail(client: Client, username: str, times: int, *, address: str = "10.0.0.1") -> None:
    for _ in range(times):
        response = sign_in(client, username, "wrong password", address=address)
        assert response.status_code == 200
        assert PAUSED not in response.text


def test_five_refused_sign_ins_pause_the_account_even_for_the_right_password(client, operator):
    fail(client, "olivia", 5)

    response = sign_in(client, "olivia", PASSWORD)

    assert response.status_code == 200
    assert PAUSED in response.text
    assert "try again in 15 minutes" in response.text
    assert "_auth_user_id" not in client.session


def test_four_refusals_do_not_pause_and_a_good_sign_in_forgets_them(client, operator):
    fail(client, "olivia", 4)
    assert sign_in(client, "olivia", PASSWORD).status_code == 302
    client.logout()

    fail(client, "olivia", 4)  # counted afresh: four again, still no pause
    assert sign_in(client, "olivia", PASSWORD).status_code == 302


def test_the_count_ignores_the_case_and_spaces_of_the_username(client, operator):
    for spelling in ["OLIVIA", "Olivia", " olivia", "olivia ", "oLiViA"]:
        sign_in(client, spelling, "wrong password")

    assert PAUSED in sign_in(client, "olivia", PASSWORD).text


def test_a_paused_account_does_not_pause_another_one(client, operator, other_operator):
    fail(client, "olivia", 5)

    response = sign_in(client, "oscar", PASSWORD, address="10.0.0.2")

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(other_operator.pk)


def test_failures_on_unknown_usernames_count_and_pause_them_too(client):
    fail(client, "nobody-here", 5)
    assert PAUSED in sign_in(client, "nobody-here", "anything").text


def test_an_address_spraying_many_usernames_is_paused(client, settings, operator):
    settings.CRMADMIN_LOGIN_MAX_FAILURES_PER_ADDRESS = 20
    for number in range(20):
        sign_in(client, f"guess{number}", "Summer2026!", address="203.0.113.9")

    assert PAUSED in sign_in(client, "olivia", PASSWORD, address="203.0.113.9").text
    # The same account from another address is not paused: only the address is.
    assert sign_in(client, "olivia", PASSWORD, address="198.51.100.7").status_code == 302


def test_the_pause_ends_when_the_failures_leave_the_window(client, operator):
    fail(client, "olivia", 5)
    assert PAUSED in sign_in(client, "olivia", PASSWORD).text

    FailedLogin.objects.update(at=timezone.now() - timedelta(minutes=14))
    response = sign_in(client, "olivia", PASSWORD)
    assert "try again in 1 minute," in response.text  # still paused, one minute left

    FailedLogin.objects.update(at=timezone.now() - timedelta(minutes=15, seconds=1))
    assert sign_in(client, "olivia", PASSWORD).status_code == 302
    assert not FailedLogin.objects.filter(username="olivia").exists()


def test_attempts_while_paused_do_not_extend_the_pause(client, operator):
    fail(client, "olivia", 5)
    FailedLogin.objects.update(at=timezone.now() - timedelta(minutes=10))
    for _ in range(10):
        sign_in(client, "olivia", "still guessing")

    assert FailedLogin.objects.filter(username="olivia").count() == 5
    assert "try again in 5 minutes" in sign_in(client, "olivia", PASSWORD).text


def test_the_limits_come_from_settings(client, settings, operator):
    settings.CRMADMIN_LOGIN_MAX_FAILURES = 2
    settings.CRMADMIN_LOGIN_LOCKOUT_MINUTES = 60
    fail(client, "olivia", 2)

    assert "try again in 60 minutes" in sign_in(client, "olivia", PASSWORD).text


def test_the_admin_login_page_is_throttled_too(client, admin_user):
    for _ in range(5):
        sign_in(client, "admin", "wrong password", url=ADMIN_LOGIN)

    response = sign_in(client, "admin", "password", url=ADMIN_LOGIN)

    assert response.status_code == 200
    assert PAUSED in response.text
    assert "_auth_user_id" not in client.session


def test_an_administrator_lifts_a_pause_by_deleting_the_failures(client, admin_client, operator):
    fail(client, "olivia", 5)
    ids = list(FailedLogin.objects.values_list("pk", flat=True))

    response = admin_client.post(
        reverse("admin:accounts_failedlogin_changelist"),
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )

    assert response.status_code == 302
    assert sign_in(client, "olivia", PASSWORD).status_code == 302


def test_the_pause_is_logged_without_the_password(client, operator, caplog):
    fail(client, "olivia", 5)

    warnings = [r.getMessage() for r in caplog.records if r.name == "crmadmin.accounts.throttle"]
    assert warnings == ["Sign-in locked for 'olivia' from 10.0.0.1 after repeated failures"]
    assert "wrong password" not in caplog.text


def test_a_session_carries_an_expiry_and_an_expired_one_is_signed_out(client, operator):
    response = sign_in(client, "olivia", PASSWORD)
    cookie = response.cookies["sessionid"]
    assert int(cookie["max-age"]) == 8 * 3600
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert client.get(reverse("massupdate:home")).status_code == 200

    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("massupdate:home"))

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_signing_in_gives_a_new_session_key(client, operator):
    session = client.session
    session["marker"] = "set before signing in"
    session.save()
    before = session.session_key
    assert Session.objects.filter(session_key=before).exists()

    assert sign_in(client, "olivia", PASSWORD).status_code == 302

    assert client.cookies["sessionid"].value != before
    assert not Session.objects.filter(session_key=before).exists()  # no session fixation


# --- Behind a reverse proxy (CRMADMIN_PROXY_HOPS) ------------------------------------------


def through_proxy(client, username, password, forwarded_for: str):
    """A sign-in as the proxy passes it on: from the proxy's own address."""
    return client.post(
        LOGIN,
        {"username": username, "password": password},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def spray_from(client, forwarded_for: str, times: int = 20) -> None:
    for number in range(times):
        through_proxy(client, f"guess{number}", "Summer2026!", forwarded_for)


def test_behind_a_proxy_an_address_is_the_one_the_proxy_saw(client, settings, operator):
    settings.CRMADMIN_PROXY_HOPS = 1
    spray_from(client, "203.0.113.9")

    assert PAUSED in through_proxy(client, "olivia", PASSWORD, "203.0.113.9").text
    # Everyone else behind the same proxy still signs in.
    assert through_proxy(client, "olivia", PASSWORD, "198.51.100.7").status_code == 302


def test_a_client_cannot_escape_the_count_by_writing_its_own_forwarded_for(
    client, settings, operator
):
    settings.CRMADMIN_PROXY_HOPS = 1
    for number in range(20):
        # What the client sent comes first; the proxy appends what it saw.
        through_proxy(client, f"guess{number}", "x", f"10.9.9.{number}, 203.0.113.9")

    assert PAUSED in through_proxy(client, "olivia", PASSWORD, "203.0.113.9").text
    assert set(FailedLogin.objects.values_list("address", flat=True)) == {"203.0.113.9"}


def test_without_a_proxy_the_forwarded_header_is_ignored(client, settings, operator):
    settings.CRMADMIN_PROXY_HOPS = 0
    through_proxy(client, "nobody", "x", "203.0.113.9")
    through_proxy(client, "nobody", "x", "not an address")

    assert set(FailedLogin.objects.values_list("address", flat=True)) == {"127.0.0.1"}


def test_a_forwarded_value_that_is_no_address_falls_back_to_the_connection(client, settings):
    settings.CRMADMIN_PROXY_HOPS = 1
    through_proxy(client, "nobody", "x", "<script>")
    through_proxy(client, "nobody", "x", "")

    assert set(FailedLogin.objects.values_list("address", flat=True)) == {"127.0.0.1"}
