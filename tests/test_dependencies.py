"""Pinned dependencies and their vulnerability audit (issue 6, item 6).

The audit script is run here against recorded answers of OSV and PyPI (through `responses`),
so that each verdict is shown to fail when it must; `make test` runs it for real first."""

import importlib.util
import re
import tomllib
from importlib import metadata

import pytest
import requests
import responses

from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("audit_deps", ROOT / "scripts" / "audit_deps.py")
audit_deps = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit_deps)

OSV = audit_deps.OSV_BATCH_URL
PYPI = audit_deps.PYPI_URL


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture
def lock(tmp_path):
    path = tmp_path / "requirements.lock"
    path.write_text("# pinned\nDjango==4.2.0\nrequests==2.34.2\n\n")
    return path


@pytest.fixture
def wire():
    with responses.RequestsMock() as mock:
        yield mock


def osv_answer(*vulns_per_pin: list[str]) -> dict:
    return {
        "results": [
            {"vulns": [{"id": v} for v in vulns]} if vulns else {} for vulns in vulns_per_pin
        ]
    }


def test_a_vulnerability_known_to_osv_fails_the_audit(wire, lock, capsys):
    wire.post(OSV, json=osv_answer(["GHSA-aaaa-bbbb-cccc", "PYSEC-2023-61"], []))

    assert audit_deps.main([str(lock)]) == 1

    out = capsys.readouterr().out
    assert "VULNERABLE   Django 4.2.0 (OSV):" in out
    assert "GHSA-aaaa-bbbb-cccc" in out and "PYSEC-2023-61" in out
    assert "VULNERABLE   requests" not in out
    assert "1 with known vulnerabilities among 2 audited pins (OSV); 0 not audited" in out


def test_a_clean_osv_answer_passes_and_the_query_names_every_pin(wire, lock, capsys):
    wire.post(OSV, json=osv_answer([], []))

    assert audit_deps.main([str(lock)]) == 0

    sent = wire.calls[0].request.body
    assert b'"name": "Django"' in sent and b'"version": "4.2.0"' in sent
    assert b'"name": "requests"' in sent and b'"ecosystem": "PyPI"' in sent
    assert "0 with known vulnerabilities among 2 audited pins (OSV)" in capsys.readouterr().out


def test_without_osv_the_release_data_of_pypi_decides(wire, lock, capsys):
    wire.post(OSV, body=requests.ConnectionError("no route"))
    wire.get(
        f"{PYPI}/Django/4.2.0/json",
        json={"vulnerabilities": [{"id": "PYSEC-2023-100", "fixed_in": ["4.2.2", "4.1.10"]}]},
    )
    wire.get(f"{PYPI}/requests/2.34.2/json", json={"vulnerabilities": []})

    assert audit_deps.main([str(lock)]) == 1

    out = capsys.readouterr().out
    assert "OSV not reachable (ConnectionError)" in out
    assert "PYSEC-2023-100 (fixed in 4.2.2, 4.1.10)" in out


def test_without_release_data_the_latest_release_is_decided_by_the_project_page(wire, lock, capsys):
    wire.post(OSV, status=503)
    for name, version in [("Django", "4.2.0"), ("requests", "2.34.2")]:
        wire.get(f"{PYPI}/{name}/{version}/json", status=404)
    wire.get(
        f"{PYPI}/Django/json",
        json={"info": {"version": "4.2.0"}, "vulnerabilities": [{"id": "GHSA-1", "fixed_in": []}]},
    )
    wire.get(f"{PYPI}/requests/json", json={"info": {"version": "2.34.2"}, "vulnerabilities": []})

    assert audit_deps.main([str(lock)]) == 1
    assert "GHSA-1 (fixed in no fixed release listed)" in capsys.readouterr().out


def test_a_pin_that_no_source_can_decide_is_listed_and_fails_only_when_strict(wire, lock, capsys):
    wire.post(OSV, body=requests.ConnectionError())
    for name, version, latest in [("Django", "4.2.0", "6.1.3"), ("requests", "2.34.2", "2.34.2")]:
        wire.get(f"{PYPI}/{name}/{version}/json", status=404)
        wire.get(f"{PYPI}/{name}/json", json={"info": {"version": latest}, "vulnerabilities": []})

    assert audit_deps.main([str(lock)]) == 0
    out = capsys.readouterr().out
    assert (
        "not audited  Django 4.2.0: no per-release data reachable, and the latest release is 6.1.3"
        in out
    )
    assert (
        "0 with known vulnerabilities among 1 audited pins (PyPI (latest release)); 1 not audited"
        in out
    )

    assert audit_deps.main([str(lock), "--strict"]) == 2


def test_with_no_source_reachable_the_audit_fails_instead_of_passing_silently(wire, lock, capsys):
    wire.post(OSV, body=requests.ConnectionError())
    for name, version in [("Django", "4.2.0"), ("requests", "2.34.2")]:
        wire.get(f"{PYPI}/{name}/{version}/json", body=requests.ConnectionError())

    assert audit_deps.main([str(lock)]) == 2
    assert "0 audited pins (no source); 2 not audited" in capsys.readouterr().out


def test_a_lock_line_that_is_not_a_pin_is_refused(tmp_path):
    path = tmp_path / "requirements.lock"
    path.write_text("Django>=4.2\n")

    with pytest.raises(SystemExit, match="not a pinned requirement"):
        audit_deps.read_lock(path)


# --- The pins themselves -------------------------------------------------------------------


def test_the_lock_pins_every_installed_package_at_its_installed_version():
    pinned = {
        canonical(p.name): p.version for p in audit_deps.read_lock(ROOT / "requirements.lock")
    }
    installed = {
        canonical(dist.metadata["Name"]): dist.version
        for dist in metadata.distributions()
        if canonical(dist.metadata["Name"]) not in {"crmadmin", "pip", "setuptools", "wheel"}
    }

    assert installed == pinned


def test_pyproject_pins_its_direct_dependencies_as_the_lock_does():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    direct = project["dependencies"] + project["optional-dependencies"]["dev"]
    pinned = {
        canonical(p.name): p.version for p in audit_deps.read_lock(ROOT / "requirements.lock")
    }

    for requirement in direct:
        name, _, version = re.sub(r"\[.*\]", "", requirement).partition("==")
        assert version, f"{requirement} is not pinned with =="
        assert pinned[canonical(name)] == version, requirement
