"""The shared concurrency limiter: slots counted across processes, given back by dead ones.

Holders run in real subprocesses (``python -c``), since what matters is what one process
sees of another's slots; they are killed with SIGKILL, as a crashed worker would be.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from crmadmin.zoho.client import ZohoClient
from crmadmin.zoho.errors import ZohoRateLimitError, ZohoTransportError
from crmadmin.zoho.limits import FileSlots, RedisSlots, hold, limiter_for, open_slots
from tests.conftest import run_python_with_settings

from .conftest import LEADS_MODULE, MODULES_URL, TOO_MANY

ROOT = Path(__file__).resolve().parents[2]

# Holds one slot of KEY (limit 1) until killed; prints the lease once it has it.
HOLDER = """
import sys, time
import redis
from crmadmin.zoho.limits import RedisSlots, open_slots
url, key, lease_seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
if url.startswith("redis"):
    slots = RedisSlots(redis.Redis.from_url(url), lease_seconds=lease_seconds)
else:
    slots = open_slots(url)
held = slots.try_acquire(key, 1)
print("held" if held is None else "held " + str(held), flush=True)
time.sleep(600)
"""

# THREADS threads take a slot of KEY ROUNDS times each, and note when they held it.
CONTENDER = """
import json, sys, threading, time
from pathlib import Path
from crmadmin.zoho.limits import hold, open_slots
url, key, limit, threads, rounds, go, out = sys.argv[1:]
slots = open_slots(url)
held = []
def work():
    for _ in range(int(rounds)):
        with hold(slots, key, int(limit)):
            start = time.monotonic()
            time.sleep(0.03)
            held.append((start, time.monotonic()))
while not Path(go).exists():
    time.sleep(0.005)
workers = [threading.Thread(target=work) for _ in range(int(threads))]
for w in workers:
    w.start()
for w in workers:
    w.join()
Path(out).write_text(json.dumps(held))
"""


def python(code: str, *args: str, **options) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "crmadmin.settings"},
        text=True,
        **options,
    )


@pytest.fixture
def start_holder():
    """Start a process holding one slot; any still alive after the test is killed."""
    started = []

    def start(url: str, key: str, lease_seconds: float = 15.0) -> tuple[subprocess.Popen, str]:
        holder = python(HOLDER, url, key, str(lease_seconds), stdout=subprocess.PIPE)
        started.append(holder)
        line = holder.stdout.readline().split()
        assert line[:1] == ["held"] and len(line) == 2, f"the holder got no slot: {line}"
        return holder, line[1]

    yield start
    for holder in started:
        if holder.poll() is None:
            kill(holder)


def kill(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    process.stdout.close()


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    # At equal times an end comes before a start: touching intervals do not overlap.
    events = sorted([(end, -1) for _, end in intervals] + [(start, 1) for start, _ in intervals])
    count = peak = 0
    for _, step in events:
        count += step
        peak = max(peak, count)
    return peak


@pytest.fixture
def redis_client(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


def test_slots_are_never_held_by_more_than_the_limit_across_processes(limiter_url, tmp_path):
    # Three processes of three threads each want nine slots; there are two.
    go = tmp_path / "go"
    outs = [tmp_path / f"held-{n}.json" for n in range(3)]
    contenders = [
        python(CONTENDER, limiter_url, "org-1", "2", "3", "5", str(go), str(out)) for out in outs
    ]
    go.touch()
    for contender in contenders:
        assert contender.wait(timeout=120) == 0

    held = [tuple(interval) for out in outs for interval in json.loads(out.read_text())]

    assert len(held) == 3 * 3 * 5
    assert most_at_once(held) == 2


def test_the_os_gives_a_killed_processs_file_slot_back_at_once(start_holder, tmp_path):
    url = (tmp_path / "limits").as_uri()
    slots = FileSlots(tmp_path / "limits")
    holder, _ = start_holder(url, "org-1")
    assert slots.try_acquire("org-1", 1) is None

    kill(holder)

    assert slots.try_acquire("org-1", 1) is not None


def test_a_live_holder_renews_its_redis_lease_beyond_the_lease_time(
    start_holder, redis_client, redis_url
):
    slots = RedisSlots(redis_client, lease_seconds=2.0)
    _, lease = start_holder(redis_url, "org-1", lease_seconds=2.0)

    time.sleep(3.0)  # one and a half lease times: only renewals keep the slot taken

    assert slots.try_acquire("org-1", 1) is None
    assert redis_client.zrange(RedisSlots.redis_key("org-1"), 0, -1) == [lease.encode()]


def test_a_killed_processs_redis_lease_expires_and_its_slot_comes_back(
    start_holder, redis_client, redis_url
):
    slots = RedisSlots(redis_client, lease_seconds=2.0)
    holder, dead_lease = start_holder(redis_url, "org-1", lease_seconds=2.0)
    assert slots.try_acquire("org-1", 1) is None

    kill(holder)

    with hold(slots, "org-1", 1, max_wait=30):
        leases = redis_client.zrange(RedisSlots.redis_key("org-1"), 0, -1)
        assert leases == [lease.encode() for lease in slots.held()]
        assert dead_lease.encode() not in leases
    assert redis_client.zcard(RedisSlots.redis_key("org-1")) == 0


# Takes a slot, forks a child that lives on, lets the slot go, and says whether it is free.
FORKER = """
import os, signal, sys, time
from pathlib import Path
from crmadmin.zoho.limits import FileSlots
slots = FileSlots(Path(sys.argv[1]))
held = slots.try_acquire("org-1", 1)
ready, say_ready = os.pipe()
child = os.fork()
if child == 0:
    os.write(say_ready, b"x")
    time.sleep(60)
    os._exit(0)
os.read(ready, 1)
slots.release("org-1", held)
print("free" if slots.try_acquire("org-1", 1) is not None else "taken")
os.kill(child, signal.SIGKILL)
"""


def test_a_forked_child_does_not_keep_its_parents_file_slot(tmp_path):
    # Celery's prefork pool forks; a child sharing the parent's open slot file would hold
    # its lock after the parent released it.
    forker = python(FORKER, str(tmp_path), stdout=subprocess.PIPE)
    output, _ = forker.communicate(timeout=30)

    assert output.split() == ["free"]


def test_a_waiter_gives_up_with_a_rate_limit_error_when_no_slot_frees(tmp_path):
    slots = FileSlots(tmp_path)
    assert slots.try_acquire("org-1", 1) is not None

    with pytest.raises(ZohoRateLimitError) as raised, hold(slots, "org-1", 1, max_wait=0.2):
        pass

    assert raised.value.code == "CONCURRENCY_LIMIT_WAIT"


def test_an_unreachable_redis_is_a_transport_error_not_a_free_slot():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    slots = open_slots(f"redis://127.0.0.1:{port}/0")

    with pytest.raises(ZohoTransportError) as raised:
        slots.try_acquire("org-1", 1)

    assert raised.value.code == "LIMITER_UNAVAILABLE"


def test_a_call_holds_its_connections_slot_only_while_its_request_is_out(
    wire, connection, settings, tmp_path
):
    settings.CRMADMIN_LIMITER_URL = tmp_path.as_uri()
    connection.concurrency_limit = 1
    probe = FileSlots(tmp_path)
    key = str(connection.pk)
    slot_free = []

    def slot_is_free() -> bool:
        held = probe.try_acquire(key, 1)
        if held is not None:
            probe.release(key, held)
        return held is not None

    def answer(response):
        def callback(request):
            slot_free.append(("request", slot_is_free()))
            return response

        return callback

    wire.add_callback("GET", MODULES_URL, callback=answer((429, {}, json.dumps(TOO_MANY))))
    wire.add_callback("GET", MODULES_URL, callback=answer((200, {}, json.dumps(LEADS_MODULE))))
    client = ZohoClient(
        connection,
        limiter=limiter_for(connection),
        sleep=lambda seconds: slot_free.append(("backoff", slot_is_free())),
    )

    assert [m["api_name"] for m in client.modules()] == ["Leads"]
    assert slot_free == [("request", False), ("backoff", True), ("request", False)]
    assert slot_is_free()


SHOW_LIMITER_URL = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.CRMADMIN_LIMITER_URL)"
)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "file:"),
        (
            {"CELERY_BROKER_URL": "redis://broker.example.com:6379/0"},
            "redis://broker.example.com:6379/0",
        ),
        ({"CRMADMIN_LIMITER_URL": "memcached://cache:11211"}, "ImproperlyConfigured"),
    ],
)
def test_the_limiter_is_the_redis_brokers_by_default_else_file_locks(env, expected):
    result = run_python_with_settings(SHOW_LIMITER_URL, env)

    assert expected in (result.stdout + result.stderr)
