#!/usr/bin/env python3
"""Audit every pinned dependency (requirements.lock) for known vulnerabilities.

`make test` runs it before the suite; it fails on any known vulnerability. Per pin, the
first source that answers decides:

1. OSV (api.osv.dev), the database pip-audit uses: one batch query for all pins.
2. PyPI's JSON API, where OSV cannot be reached: the release's own endpoint lists its known
   vulnerabilities. Where that endpoint is unavailable too, the project's endpoint answers
   for the project's latest release (its list is the latest release's), so it decides for a
   pin that is the latest release.

A pin no source could decide for is listed as "not audited". Exit status: 1 on a known
vulnerability; 2 when no pin could be audited at all (no source reachable), or with
``--strict`` when any pin was not audited; 0 otherwise.
"""

import argparse
import re
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

OSV_BATCH_URL = "https://api.osv.dev/v1/querybatch"
PYPI_URL = "https://pypi.org/pypi"
TIMEOUT = 20
LOCK_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


@dataclass(frozen=True)
class Pin:
    name: str
    version: str


@dataclass
class Finding:
    pin: Pin
    source: str = ""  # who decided; empty: nobody could
    vulnerabilities: list[str] = field(default_factory=list)
    why_not: str = ""


def read_lock(path: Path) -> list[Pin]:
    pins = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = LOCK_LINE.match(line)
        if not match:
            raise SystemExit(f"{path}:{number}: not a pinned requirement (name==version): {line}")
        pins.append(Pin(*match.groups()))
    return pins


def ask_osv(session: requests.Session, pins: list[Pin]) -> list[list[str]] | None:
    """Vulnerability ids per pin, or None when OSV cannot be reached or answers oddly."""
    queries = [
        {"package": {"name": pin.name, "ecosystem": "PyPI"}, "version": pin.version} for pin in pins
    ]
    try:
        response = session.post(OSV_BATCH_URL, json={"queries": queries}, timeout=TIMEOUT)
        response.raise_for_status()
        results = response.json()["results"]
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        print(f"  OSV not reachable ({type(exc).__name__}); asking PyPI instead")
        return None
    if len(results) != len(pins):
        print("  OSV answered for a different number of pins; asking PyPI instead")
        return None
    return [sorted(v["id"] for v in result.get("vulns", [])) for result in results]


def describe(vulnerability: dict) -> str:
    fixed = ", ".join(vulnerability.get("fixed_in") or []) or "no fixed release listed"
    return f"{vulnerability.get('id', '?')} (fixed in {fixed})"


def ask_pypi(session: requests.Session, pin: Pin) -> Finding:
    finding = Finding(pin)
    try:
        release = session.get(f"{PYPI_URL}/{pin.name}/{pin.version}/json", timeout=TIMEOUT)
        if release.status_code == 200:
            finding.source = "PyPI (release)"
            finding.vulnerabilities = [describe(v) for v in release.json()["vulnerabilities"]]
            return finding
        project = session.get(f"{PYPI_URL}/{pin.name}/json", timeout=TIMEOUT)
        project.raise_for_status()
        data = project.json()
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        finding.why_not = f"PyPI not reachable ({type(exc).__name__})"
        return finding
    latest = data["info"]["version"]
    if latest != pin.version:
        finding.why_not = f"no per-release data reachable, and the latest release is {latest}"
        return finding
    finding.source = "PyPI (latest release)"
    finding.vulnerabilities = [describe(v) for v in data.get("vulnerabilities", [])]
    return finding


def audit(pins: list[Pin], session: requests.Session) -> list[Finding]:
    osv = ask_osv(session, pins)
    if osv is not None:
        return [Finding(pin, "OSV", ids) for pin, ids in zip(pins, osv, strict=True)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda pin: ask_pypi(session, pin), pins))


def report(findings: Iterable[Finding]) -> tuple[int, int, int]:
    vulnerable = audited = 0
    unaudited = []
    for finding in findings:
        pin = finding.pin
        if not finding.source:
            unaudited.append(finding)
            continue
        audited += 1
        if finding.vulnerabilities:
            vulnerable += 1
            print(f"  VULNERABLE   {pin.name} {pin.version} ({finding.source}):")
            for vulnerability in finding.vulnerabilities:
                print(f"                 {vulnerability}")
    for finding in unaudited:
        print(f"  not audited  {finding.pin.name} {finding.pin.version}: {finding.why_not}")
    return vulnerable, audited, len(unaudited)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lock", nargs="?", default="requirements.lock", type=Path)
    parser.add_argument("--strict", action="store_true", help="fail when a pin is not audited")
    options = parser.parse_args(argv)

    pins = read_lock(options.lock)
    print(f"Dependency audit of {options.lock}: {len(pins)} pins")
    with requests.Session() as session:
        findings = audit(pins, session)
    sources = sorted({f.source for f in findings if f.source})
    vulnerable, audited, unaudited = report(findings)
    print(
        f"  {vulnerable} with known vulnerabilities among {audited} audited pins "
        f"({', '.join(sources) or 'no source'}); {unaudited} not audited"
    )
    if vulnerable:
        return 1
    if audited == 0 or (options.strict and unaudited):
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
