import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_pages_carry_a_csp_without_inline_scripts_or_styles(operator_client):
    response = operator_client.get(reverse("massupdate:home"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp


def test_layout_has_no_inline_script_or_style(operator_client):
    html = operator_client.get(reverse("massupdate:home")).content.decode()
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag, f"inline script: {tag}"
    assert "<style" not in html
    assert " style=" not in html


def test_layout_vendors_htmx_and_puts_the_csrf_token_on_body(operator_client):
    html = operator_client.get(reverse("massupdate:home")).content.decode()
    assert re.search(r'<script src="/static/django_htmx/htmx[^"]*\.js"', html)
    body = re.search(r"<body[^>]*>", html).group(0)
    assert "X-CSRFToken" in body


def test_stylesheet_is_served_as_a_static_file(client, live_server):
    import requests

    response = requests.get(live_server.url + "/static/css/crmadmin.css", timeout=5)
    assert response.status_code == 200
    assert "--brand" in response.text
