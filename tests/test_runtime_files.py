"""The production runtime: compose.yaml, .env.example and the Dockerfile.

There is no Docker engine here, so the files are read as Docker would read them and their
commands are run on this machine: the image's gunicorn command and health check under
production settings, the build's collectstatic step, compose's environment through
``manage.py check --deploy``.
"""

import json
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

from tests.conftest import environ_without_settings

ROOT = Path(__file__).resolve().parents[1]
APP_SERVICES = ("migrate", "web", "worker", "beat")
SECRETS = ("DJANGO_SECRET_KEY", "CRMADMIN_ENCRYPTION_KEYS", "POSTGRES_PASSWORD")
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def _compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def _compose_interpolations() -> list[tuple[str, str, str]]:
    """(name, operator, argument) of every ${…} in compose.yaml's values (not its comments)."""

    def strings(node):
        if isinstance(node, dict):
            for value in node.values():
                yield from strings(value)
        elif isinstance(node, list):
            for value in node:
                yield from strings(value)
        elif isinstance(node, str):
            yield node

    return [found for text in strings(_compose()) for found in INTERPOLATION.findall(text)]


def _services() -> dict:
    return _compose()["services"]


def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    lines = [
        line
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if not line.lstrip().startswith("#")
    ]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    pairs = []
    for line in joined.splitlines():
        if line.strip():
            instruction, _, arguments = line.strip().partition(" ")
            pairs.append((instruction.upper(), arguments.strip()))
    return pairs


def _instructions(name: str) -> list[str]:
    return [arguments for instruction, arguments in _dockerfile() if instruction == name]


def _image_env() -> dict[str, str]:
    env = {}
    for arguments in _instructions("ENV"):
        for pair in shlex.split(arguments):
            key, _, value = pair.partition("=")
            env[key] = value
    return env


def _healthcheck_command() -> str:
    (healthcheck,) = _instructions("HEALTHCHECK")
    return healthcheck.split(" CMD ", 1)[1]


def _interpolate(value: str, variables: dict[str, str]) -> str:
    """What compose makes of ``value`` given ``variables`` (the .env file)."""

    def replace(match: re.Match) -> str:
        name, operator, argument = match.groups()
        current = variables.get(name)
        missing = current is None or (current == "" and operator and operator.startswith(":"))
        if operator and operator.endswith("?") and missing:
            raise ValueError(f"compose refuses to start: {argument}")
        if operator and operator.endswith("-") and missing:
            return argument
        return current or ""

    return INTERPOLATION.sub(replace, value.replace("$$", "\0")).replace("\0", "$")


def _env_example() -> dict[str, str]:
    """The variables .env.example sets, each with the command its comment gives to make it."""
    found, command = {}, ""
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.startswith("#   python3 -c "):
            command = line.removeprefix("#   ")
        elif re.match(r"^[A-Z_]+=", line):
            name, _, value = line.partition("=")
            found[name] = {"value": value, "command": command}
            command = ""
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- compose.yaml -------------------------------------------------------------------------


def test_compose_runs_web_worker_beat_postgres_redis_and_a_one_shot_migrate():
    services = _services()
    assert set(services) == {*APP_SERVICES, "postgres", "redis"}
    for name in APP_SERVICES:
        assert services[name]["build"] == "."
        assert services[name]["image"] == services["web"]["image"]
        assert services[name]["environment"]["CRMADMIN_ENV"] == "production"
    # web runs the image's own command, which is gunicorn (checked on the Dockerfile below).
    assert "command" not in services["web"]
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert services["migrate"]["restart"] == "no"
    assert services["worker"]["command"][:4] == ["celery", "-A", "crmadmin", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "crmadmin", "beat"]
    # One scheduler whatever the number of workers: no worker embeds one.
    assert not {"--beat", "-B"} & set(services["worker"]["command"])
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    env = services["web"]["environment"]
    assert (
        env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
    )
    assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"


def test_app_services_start_after_migrations_on_healthy_postgres_and_redis():
    services = _services()
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}
        assert depends["redis"] == {"condition": "service_healthy"}
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"][1]
    assert "redis-cli ping" in services["redis"]["healthcheck"]["test"][1]


def test_only_web_keeps_the_images_http_health_check():
    services = _services()
    # The image's HEALTHCHECK asks gunicorn on $PORT: right for web, wrong elsewhere.
    assert "healthcheck" not in services["web"]
    assert "/healthz" in _healthcheck_command()
    worker_check = services["worker"]["healthcheck"]["test"]
    assert worker_check[0] == "CMD-SHELL"
    assert "celery -A crmadmin inspect ping --destination celery@$$HOSTNAME" in worker_check[1]
    assert services["beat"]["healthcheck"] == {"disable": True}
    assert services["migrate"]["healthcheck"] == {"disable": True}


def test_compose_holds_no_secret_literal():
    secret_name = re.compile(r"SECRET|PASSWORD|KEYS?$|TOKEN")
    environments = [s.get("environment", {}) for s in _services().values()]
    secret_entries = [
        (k, v) for env in environments for k, v in env.items() if secret_name.search(k)
    ]
    assert {k for k, _ in secret_entries} == set(SECRETS)
    for name, value in secret_entries:
        # Only from .env or the environment, with no default to fall back on.
        assert re.fullmatch(rf"\$\{{{name}:\?[^}}]+\}}", value), (name, value)
    passwords = [
        re.search(r"://[^:/@\s]+:(.*)@", str(value)).group(1)
        for env in environments
        for value in env.values()
        if re.search(r"://[^:/@\s]+:(.*)@", str(value))
    ]
    assert passwords  # DATABASE_URL carries one
    for password in passwords:
        assert re.fullmatch(r"\$\{POSTGRES_PASSWORD:\?[^}]+\}", password), password
    # No default anywhere for a secret, e.g. ${POSTGRES_PASSWORD:-changeme}.
    for name, operator, _ in _compose_interpolations():
        if name in SECRETS:
            assert operator == ":?", name


def test_env_is_ignored_by_git_and_docker():
    ignored = subprocess.run(["git", "check-ignore", "--quiet", ".env"], cwd=ROOT, timeout=30)
    assert ignored.returncode == 0
    tracked = subprocess.run(
        ["git", "ls-files", ".env"], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert tracked.stdout == ""
    assert ".env" in (ROOT / ".dockerignore").read_text().split()


def test_env_example_leaves_every_required_value_empty_and_says_how_to_make_the_secrets():
    required = {name for name, operator, _ in _compose_interpolations() if operator == ":?"}
    example = _env_example()
    assert required == set(example)
    assert all(entry["value"] == "" for entry in example.values())
    for name in SECRETS:
        assert example[name]["command"], f"{name}: no command to make it"


def test_compose_environment_from_a_filled_env_example_passes_the_deployment_checklist():
    """Fill .env.example as its comments say, then run the web service's settings."""
    filled = {}
    for name, entry in _env_example().items():
        if entry["command"]:
            command = shlex.split(entry["command"])
            made = subprocess.run(
                [sys.executable, *command[1:]], capture_output=True, text=True, timeout=30
            )
            filled[name] = made.stdout.strip()
        else:
            filled[name] = "crm-tools.example.com"
    Fernet(filled["CRMADMIN_ENCRYPTION_KEYS"].encode())  # a valid key, or this raises
    assert re.fullmatch(r"[A-Za-z0-9]+", filled["POSTGRES_PASSWORD"])
    with pytest.raises(ValueError, match="set DJANGO_SECRET_KEY in .env"):
        _interpolate(_compose()["x-app"]["environment"]["DJANGO_SECRET_KEY"], {})

    web = _services()["web"]["environment"]
    env = {name: _interpolate(str(value), filled) for name, value in web.items()}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environ_without_settings(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


# --- Dockerfile -----------------------------------------------------------------------------


def test_dockerfile_runs_gunicorn_as_a_non_root_user_with_a_health_check():
    steps = _dockerfile()
    users = _instructions("USER")
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    # Static files are collected while building, before the switch to that user.
    collect = next(i for i, (_, arguments) in enumerate(steps) if "collectstatic" in arguments)
    assert steps[collect][0] == "RUN"
    assert collect < [instruction for instruction, _ in steps].index("USER")
    (cmd,) = _instructions("CMD")
    assert json.loads(cmd)[:2] == ["gunicorn", "crmadmin.wsgi"]
    assert _image_env()["CRMADMIN_ENV"] == "production"
    # Build placeholders live in the RUN step only; the image carries no secret.
    assert not {"DJANGO_SECRET_KEY", "CRMADMIN_ENCRYPTION_KEYS", "DATABASE_URL"} & set(_image_env())
    assert _instructions("HEALTHCHECK")


def test_the_build_step_collects_static_files_under_production_settings():
    (step,) = [arguments for arguments in _instructions("RUN") if "collectstatic" in arguments]
    # --dry-run: the real step writes into staticfiles/, which is not this test's to fill.
    result = subprocess.run(
        ["sh", "-c", step + " --dry-run"],
        cwd=ROOT,
        env=environ_without_settings(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("broker_reachable", [True, False], ids=["healthy", "broker-down"])
def test_the_images_gunicorn_command_and_health_check_work_under_production_settings(
    tmp_path, broker_reachable
):
    port = _free_port()
    broker = "filesystem://" if broker_reachable else f"redis://127.0.0.1:{_free_port()}/0"
    env = environ_without_settings(
        **{
            **_image_env(),
            "PORT": str(port),
            "WEB_CONCURRENCY": "1",
            "DJANGO_SECRET_KEY": "k3y-" + "aZ9" * 20,
            "DJANGO_ALLOWED_HOSTS": "crm-tools.example.com,.example.org",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "CELERY_BROKER_URL": broker,
            "CRMADMIN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "CRMADMIN_DATA_DIR": str(tmp_path),
        }
    )
    migrated = subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrated.returncode == 0, migrated.stderr
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            json.loads(_instructions("CMD")[0]),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_port(port, server, log_path)
        probe = subprocess.run(
            ["sh", "-c", _healthcheck_command()], env=env, capture_output=True, timeout=30
        )
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/healthz?code=1000.oauth0code0xyz",
            headers={"Host": "crm-tools.example.com", "X-Forwarded-Proto": "https"},
        )
        try:
            status = urllib.request.urlopen(request, timeout=10).status
        except urllib.error.HTTPError as error:
            status = error.code
    finally:
        server.terminate()
        server.wait(timeout=30)

    if broker_reachable:
        assert probe.returncode == 0, probe.stderr
        assert status == 200
    else:
        assert probe.returncode != 0
        assert status == 503
    log_text = log_path.read_text()
    assert '"GET /healthz HTTP/1.1" ' + str(status) in log_text
    assert "1000.oauth0code0xyz" not in log_text


def _wait_for_port(port: int, server: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, log_path.read_text()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"gunicorn did not listen within 60 s:\n{log_path.read_text()}")
