"""What the README promises a newcomer, run as the README says it.

``make demo`` is run on a free port and stopped with Ctrl-C (SIGINT); the README's curl call
is taken from the README itself and sent to that demo.
"""

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import requests

from crmadmin.sandbox.seed import LOCKED_LEAD, MISSING_IDS, NOT_APPROVED_LEAD, SUCCESS_LEADS
from tests.zoho.conftest import load_recordings

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _readme_curl_call() -> str:
    readme = (ROOT / "README.md").read_text()
    block = next(b for b in re.findall(r"```sh\n(.*?)```", readme, re.S) if "curl" in b)
    return block


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """``make demo``'s script on a free port, with its data in a temporary folder."""
    port = _free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "CRMADMIN_DATA_DIR": str(tmp_path_factory.mktemp("demo")),
    }
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    output = tmp_path_factory.mktemp("demo-log") / "demo.log"
    with output.open("w") as log:
        process = subprocess.Popen(
            ["bash", "scripts/demo.sh"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal gives it
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while "Sandbox (built-in):" not in output.read_text():
        assert process.poll() is None, output.read_text()
        assert time.monotonic() < deadline, output.read_text()
        time.sleep(0.5)
    yield {"base": base, "process": process, "log": output, "env": env}
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)


def test_make_demo_serves_the_login_page_and_tests_the_sandbox_connection(demo):
    log = demo["log"].read_text()
    assert "Sandbox (built-in): working" in log, log
    assert "crmadmin-demo" in log and "operator" in log and "manager" in log
    with urllib.request.urlopen(demo["base"] + "/login/", timeout=10) as response:
        assert response.status == 200
        assert b"Log in to crmadmin" in response.read()


def test_the_readme_curl_call_gets_the_shape_of_the_success_recording(demo):
    script = _readme_curl_call().replace("http://127.0.0.1:8000", demo["base"])
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        env={**demo["env"], "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    recorded = load_recordings()["SUCCESS RESPONSE"].body
    assert len(answer["data"]) == len(recorded["data"])
    for got, expected in zip(answer["data"], recorded["data"], strict=True):
        assert {k: got[k] for k in ("code", "message", "status")} == {
            k: expected[k] for k in ("code", "message", "status")
        }
        assert got["details"].keys() == expected["details"].keys()
        assert got["details"]["id"] == expected["details"]["id"]
        assert got["details"]["Created_Time"] == expected["details"]["Created_Time"]
        assert got["details"]["Created_By"] == expected["details"]["Created_By"]


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no {name} in the page"
    return match.group(1)


def _wait_for(session: requests.Session, url: str, text: str, log: Path) -> str:
    deadline = time.monotonic() + 120
    while True:
        html = session.get(url, timeout=10).text
        if text in html:
            return html
        assert time.monotonic() < deadline, f"{text!r} never showed at {url}\n{log.read_text()}"
        time.sleep(0.5)


def test_the_demo_operator_runs_a_mass_update_and_sees_every_outcome(demo):
    """What "Done when" asks: a new user runs a mass update on the demo data in the demo."""
    base, session = demo["base"], requests.Session()
    login = session.get(base + "/login/", timeout=10).text
    session.post(
        base + "/login/",
        {
            "username": "operator",
            "password": "crmadmin-demo",
            "csrfmiddlewaretoken": _hidden(login, "csrfmiddlewaretoken"),
        },
        timeout=10,
    )
    new = session.get(base + "/jobs/new/", timeout=10).text
    csrf = {"csrfmiddlewaretoken": _hidden(new, "csrfmiddlewaretoken")}
    changes = session.post(
        base + "/jobs/new/", {**csrf, "connection": _hidden(new, "connection"), "module": "Leads"}
    )
    job_url = changes.url.removesuffix("changes/")
    session.post(job_url + "changes/?field=City", {**csrf, "field": "City", "value": "Demo City"})
    ids = [i for i, _ in SUCCESS_LEADS] + [NOT_APPROVED_LEAD, LOCKED_LEAD, MISSING_IDS[0]]
    session.post(job_url + "records/paste/", {**csrf, "ids": "\n".join(ids)})
    session.post(job_url + "preview/", csrf)
    _wait_for(session, job_url + "preview/", "will change", demo["log"])
    confirm = session.get(job_url + "confirm/", timeout=10).text
    session.post(
        job_url + "confirm/", {**csrf, "token": _hidden(confirm, "token"), "reason": "Demo run"}
    )
    html = _wait_for(session, job_url, "Completed with errors", demo["log"])
    for code, count in (
        ("SUCCESS", 3),
        ("NOT_APPROVED", 1),
        ("RECORD_LOCKED", 1),
        ("INVALID_DATA", 1),
    ):
        assert f"{code}</span> {count}" in html


def test_ctrl_c_stops_the_web_server_and_the_worker(demo):
    process = demo["process"]
    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=60)
    deadline = time.monotonic() + 30
    while True:
        try:
            os.killpg(process.pid, 0)  # anything left in the demo's process group?
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, "processes of the demo outlived Ctrl-C"
        time.sleep(0.5)
    with pytest.raises(OSError):
        urllib.request.urlopen(demo["base"] + "/login/", timeout=5)
