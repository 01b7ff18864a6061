"""Production refuses to start on missing or bad configuration; development runs as it is."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.conftest import run_python_with_settings

ROOT = Path(__file__).resolve().parents[1]
GOOD_PRODUCTION = {
    "CRMADMIN_ENV": "production",
    "DJANGO_SECRET_KEY": "x" * 64,
    "DJANGO_ALLOWED_HOSTS": "crm.example.com",
    "DATABASE_URL": "postgres://u:p@db.example.com:5432/crmadmin",
    "CELERY_BROKER_URL": "redis://redis.example.com:6379/0",
    "CRMADMIN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
}


def load_settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "from django.contrib import admin; from django.urls import Resolver404, resolve; "
        "from crmadmin.sandbox.models import Record\n"
        "try: resolve('/sandbox/crm/v2.1/Leads'); routed = True\n"
        "except Resolver404: routed = False\n"
        "assert routed == settings.CRMADMIN_SANDBOX_ENABLED == admin.site.is_registered(Record)\n"
        "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL, "
        "settings.DEBUG, settings.CRMADMIN_SANDBOX_ENABLED)"
    )
    return run_python_with_settings(code, env)


def test_development_defaults_run_as_they_are():
    result = load_settings({})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "filesystem://", "True", "True"]


def test_complete_production_settings_load_with_debug_and_sandbox_off():
    result = load_settings(GOOD_PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "redis://redis.example.com:6379/0",
        "False",
        "False",
    ]


@pytest.mark.parametrize(
    "missing",
    [
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "CRMADMIN_ENCRYPTION_KEYS",
    ],
)
def test_production_fails_loudly_without(missing):
    env = {k: v for k, v in GOOD_PRODUCTION.items() if k != missing}
    result = load_settings(env)
    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("DJANGO_SECRET_KEY", "short", "at least 50 characters"),
        ("DJANGO_ALLOWED_HOSTS", "*", "'*' is refused"),
        ("DATABASE_URL", "notaurl", "DATABASE_URL"),
        ("CELERY_BROKER_URL", "kafka://x", "CELERY_BROKER_URL must start with"),
        ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG must be one of"),
        ("DJANGO_DEBUG", "1", "DJANGO_DEBUG cannot be on"),
        ("CRMADMIN_ENV", "staging", "CRMADMIN_ENV must be"),
        ("CRMADMIN_DEMO", "1", "CRMADMIN_DEMO cannot be on"),
    ],
)
def test_production_fails_loudly_on_bad_values(name, value, complaint):
    result = load_settings({**GOOD_PRODUCTION, name: value})
    assert result.returncode != 0
    assert complaint in result.stderr


def test_sandbox_can_be_enabled_explicitly_in_production():
    result = load_settings({**GOOD_PRODUCTION, "CRMADMIN_SANDBOX": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "True"


def test_production_settings_pass_the_deployment_checklist():
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CRMADMIN_", "DJANGO_"))}
    clean.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **clean,
            **GOOD_PRODUCTION,
            "DJANGO_SECRET_KEY": "k3y-" + "aZ9" * 20,
            "DATABASE_URL": "sqlite:////tmp/crmadmin-check-deploy.sqlite3",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_setup_finds_a_python_new_enough_for_django_6():
    found = subprocess.run(
        ["scripts/find-python.sh"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert found.returncode == 0, found.stderr
    version = subprocess.run(
        [found.stdout.strip(), "-c", "import sys; print(sys.version_info >= (3, 12))"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert version.stdout.strip() == "True"


def test_setup_prefers_the_python_it_is_given():
    found = subprocess.run(
        ["scripts/find-python.sh"],
        cwd=ROOT,
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert found.stdout.strip() == sys.executable
