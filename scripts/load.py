"""Simultaneous users browsing crmadmin's pages over HTTP: p50/p95 latency and errors.

    .venv/bin/python scripts/load.py --base-url http://127.0.0.1:8000 \\
        --username manager --password crmadmin-demo --path /jobs/1/ --path '/jobs/1/?page=7'

Each user is a thread with its own session: it logs in through the login form, then,
until the time is up, requests one of the paths at random, waits a random think time and
does it again. A response other than 200, or none at all, is an error. ``make bench``
drives this module (``browse``) with 20 users while a 50,000-record job runs; the
command line above runs it against any crmadmin, ``make demo``'s for instance.

A path is requested as htmx would when it ends in ``#target``: ``/jobs/3/#job-progress``
sends ``HX-Request`` and ``HX-Target: job-progress``, as the live progress does.
"""

import argparse
import random
import re
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import requests

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class LoadResult:
    users: int
    seconds: float
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        return sum(len(samples) for samples in self.latencies.values()) + self.error_count

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def all_latencies(self) -> list[float]:
        return [s for samples in self.latencies.values() for s in samples]

    def percentile(self, pct: float) -> float:
        return percentile(self.all_latencies(), pct)

    def report(self) -> list[str]:
        lines = [
            f"{self.users} users for {self.seconds:.0f} s: {self.requests:,} requests "
            f"({self.requests / self.seconds:.1f}/s), {self.error_count} errors"
        ]
        header = f"  {'page':<34} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"
        lines += [header, "  " + "-" * (len(header) - 2)]
        rows = sorted(self.latencies.items()) + [("all pages", self.all_latencies())]
        for label, samples in rows:
            if samples:
                p50, p95 = percentile(samples, 50), percentile(samples, 95)
                lines.append(
                    f"  {label:<34} {len(samples):>6} {p50 * 1000:>8.0f} {p95 * 1000:>8.0f} "
                    f"{max(samples) * 1000:>8.0f}"
                )
        lines += [f"  error: {kind} × {n}" for kind, n in self.errors.most_common()]
        return lines


def percentile(samples: Sequence[float], pct: float) -> float:
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[int(pct) - 1]


def log_in(base_url: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base_url}/login/", timeout=30)
    page.raise_for_status()
    token = CSRF_INPUT.search(page.text)
    if token is None:
        raise RuntimeError("the login page has no CSRF token")
    answer = session.post(
        f"{base_url}/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)},
        headers={"Referer": f"{base_url}/login/"},
        timeout=30,
        allow_redirects=False,
    )
    if answer.status_code != 302:
        raise RuntimeError(f"{username} could not log in (HTTP {answer.status_code})")
    return session


def log_in_all(base_url: str, logins: Sequence[tuple[str, str]]) -> list[requests.Session]:
    return [log_in(base_url, username, password) for username, password in logins]


def browse(
    base_url: str,
    sessions: Sequence[requests.Session],
    pages: Sequence[tuple[str, str]],
    *,
    seconds: float,
    think: float = 1.0,
    stop: Callable[[], bool] = lambda: False,
) -> LoadResult:
    """Each session browses ``pages`` ((label, path) pairs) until time is up or ``stop()``.

    Think times are uniform between 0 and twice ``think``.
    """
    result = LoadResult(users=len(sessions), seconds=seconds)
    lock = threading.Lock()
    start = threading.Event()
    deadline = [0.0]

    def user(session: requests.Session, seed: int) -> None:
        rng = random.Random(seed)
        start.wait()
        while time.monotonic() < deadline[0] and not stop():
            label, path = rng.choice(pages)
            path, _, target = path.partition("#")
            headers = {"HX-Request": "true", "HX-Target": target} if target else {}
            clock = time.perf_counter()
            try:
                response = session.get(base_url + path, headers=headers, timeout=60)
                response.content  # noqa: B018 - the whole body, as a browser reads it
                error = "" if response.status_code in (200, 286) else f"HTTP {response.status_code}"
            except requests.RequestException as exc:
                error = type(exc).__name__
            elapsed = time.perf_counter() - clock
            with lock:
                if error:
                    result.errors[f"{label}: {error}"] += 1
                else:
                    result.latencies.setdefault(label, []).append(elapsed)
            time.sleep(rng.uniform(0, 2 * think))

    threads = [
        threading.Thread(target=user, args=(session, n), daemon=True)
        for n, session in enumerate(sessions)
    ]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    deadline[0] = began + seconds
    start.set()
    for thread in threads:
        thread.join()
    result.seconds = time.monotonic() - began
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--path", action="append", required=True, help="a page to browse")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=1.0, help="mean think time (s)")
    args = parser.parse_args()
    base_url = args.base_url.rstrip("/")
    result = browse(
        base_url,
        log_in_all(base_url, [(args.username, args.password)] * args.users),
        [(path, path) for path in args.path],
        seconds=args.seconds,
        think=args.think,
    )
    print("\n".join(result.report()))


if __name__ == "__main__":
    main()
