"""Sessions and headers (issue 6, item 4): secure cookies and HSTS in production, CSRF on
posts (htmx ones included), clickjacking protection and a CSP without inline code."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD, run_python_with_settings
from tests.test_settings import GOOD_PRODUCTION

# A real request through the production middleware stack, in a process of its own.
PRODUCTION_REQUESTS = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client, override_settings
from django.core.management import call_command
call_command("migrate", verbosity=0)
# Pages link static files through the manifest the image builds; none is built here.
storages = {**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
override_settings(STORAGES=storages).enable()
host = {"HTTP_HOST": "crm.example.com"}
plain = Client().get("/login/", **host)
page = Client().get("/login/", secure=True, **host)
sandbox = Client().get("/sandbox/", secure=True, **host)
print(json.dumps({
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location"),
    "status": page.status_code,
    "hsts": page.get("Strict-Transport-Security"),
    "csrf_cookie": {k: str(v) for k, v in page.cookies["csrftoken"].items()},
    "frame": page.get("X-Frame-Options"),
    "csp": page.get("Content-Security-Policy"),
    "sandbox_status": sandbox.status_code,
}))
"""


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    database = tmp_path_factory.mktemp("production") / "db.sqlite3"
    result = run_python_with_settings(
        PRODUCTION_REQUESTS, {**GOOD_PRODUCTION, "DATABASE_URL": f"sqlite:///{database}"}
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_sends_plain_http_to_https(production):
    assert production["plain_status"] == 301
    assert production["plain_location"] == "https://crm.example.com/login/"


def test_production_cookies_are_secure_and_hsts_is_sent(production):
    assert production["status"] == 200
    assert production["csrf_cookie"]["secure"] == "True"
    assert production["csrf_cookie"]["samesite"] == "Lax"
    assert production["hsts"] == "max-age=31536000; includeSubDomains; preload"


def test_production_session_cookie_is_secure_and_http_only():
    result = run_python_with_settings(
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, "
        "s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_AGE)",
        GOOD_PRODUCTION,
    )
    assert result.stdout.split() == ["True", "True", "Lax", "True", "28800"], result.stderr


def test_production_pages_refuse_framing_and_inline_code(production):
    assert production["frame"] == "DENY"
    assert "frame-ancestors 'none'" in production["csp"]
    assert "script-src 'self'" in production["csp"] and "style-src 'self'" in production["csp"]
    assert "unsafe-inline" not in production["csp"] and "unsafe-eval" not in production["csp"]


def test_production_does_not_serve_the_sandbox(production):
    assert production["sandbox_status"] == 404


# --- CSRF ----------------------------------------------------------------------------------


@pytest.fixture
def csrf_client(db, operator) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    return client


def test_a_login_post_without_the_csrf_token_is_refused(db, operator):
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("accounts:login"), {"username": "olivia", "password": PASSWORD})

    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_an_htmx_post_needs_the_token_and_sends_it_as_the_page_gives_it(csrf_client):
    """htmx sends the token from <body hx-headers>; without it, the post is refused."""
    url = reverse("massupdate:job-new")
    page = csrf_client.get(url)
    token = json.loads(
        page.text.split("<body hx-headers='", 1)[1].split("'", 1)[0].replace("&quot;", '"')
    )["X-CSRFToken"]

    refused = csrf_client.post(url, {}, HTTP_HX_REQUEST="true")
    accepted = csrf_client.post(url, {}, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token)

    assert refused.status_code == 403
    assert accepted.status_code != 403
