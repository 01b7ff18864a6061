"""One concurrency limit per CRM connection, shared by every worker process on every machine.

Zoho counts an org's concurrent calls (5 to 25 by edition, 10 for heavy calls such as a
mass update) and answers 429 above the count. A job's own threads stay within the
connection's limit (``massupdate.calls``), but jobs in other worker processes, or on other
machines, know nothing of them: they all take their slots here. A slot is held for one HTTP
attempt only (``ZohoClient(limiter=…)`` enters it around the send), never while a call
backs off, so a call that waits out a 429 leaves its slot to others.

Two backends, chosen by ``settings.CRMADMIN_LIMITER_URL``:

* ``redis://…``: a counting semaphore in Redis, for workers on many machines. A holder
  adds a lease id to a sorted set, scored by the time its lease expires; one Lua script
  drops expired leases and adds the new one only below the limit, so no two processes can
  take the last slot. A process renews its leases while it lives; one killed with
  ``kill -9`` stops renewing, and its slots come back when the leases expire. Expiry is
  read from the Redis server's clock, so the machines' clocks need not agree.
* ``file:`` (``file:///dir``; bare ``file:`` is ``DATA_DIR/limits``): one machine and no
  server. A connection has N slot files; a holder keeps an exclusive ``flock`` on one. The
  kernel drops the lock when the process dies, however it dies, so a killed worker's
  slots come back at once. The database was the other candidate for the embedded
  default, but SQLite has no row locks: a slot would be either a write transaction held
  for the length of an HTTP call, locking the whole database against the job's own writes,
  or lease rows written twice per call and left behind by a killed worker until they
  expire.

A waiter polls with short, jittered, growing sleeps: a slot frees up within one HTTP call,
so the wait is short and needs no wake-up channel.
"""

import contextlib
import fcntl
import functools
import logging
import os
import random
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlsplit

import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .errors import ZohoRateLimitError, ZohoTransportError
from .transport import Limiter

if TYPE_CHECKING:
    from .models import Connection

logger = logging.getLogger("crmadmin.zoho")

# How long a Redis lease outlives its last renewal: the time a killed worker's slots stay
# taken. Renewed every third of it, so a live holder keeps its slot however long its call.
LEASE_SECONDS = 15.0
# A waiter gives up after this long (the call then fails with a rate-limit error, which a
# job records like Zoho's own 429 after retries).
MAX_WAIT_SECONDS = 600.0
FIRST_PAUSE = 0.005
LONGEST_PAUSE = 0.1


class Slots(Protocol):
    """A counting semaphore per key; ``try_acquire`` never waits."""

    def try_acquire(self, key: str, limit: int) -> Any | None: ...

    def release(self, key: str, held: Any) -> None: ...


@contextlib.contextmanager
def hold(
    slots: Slots, key: str, limit: int, *, max_wait: float = MAX_WAIT_SECONDS
) -> Iterator[None]:
    """Hold one of ``key``'s ``limit`` slots for the length of the ``with`` block."""
    deadline = time.monotonic() + max_wait
    pause = FIRST_PAUSE
    while (held := slots.try_acquire(key, limit)) is None:
        if time.monotonic() >= deadline:
            raise ZohoRateLimitError(
                "CONCURRENCY_LIMIT_WAIT",
                f"no free slot among the connection's {limit} within {max_wait:.0f} s",
                {"limit": limit},
            )
        time.sleep(random.uniform(pause / 2, pause))
        pause = min(LONGEST_PAUSE, pause * 2)
    try:
        yield
    finally:
        slots.release(key, held)


def limiter_for(connection: "Connection") -> Limiter:
    """The shared limiter of ``connection``: its ``concurrency_limit`` slots, all workers'."""
    slots = slots_at(settings.CRMADMIN_LIMITER_URL)
    return functools.partial(hold, slots, str(connection.pk), max(1, connection.concurrency_limit))


_opened: dict[str, Slots] = {}
_opened_lock = threading.Lock()


def slots_at(url: str) -> Slots:
    """The backend for ``url``, one per process (it keeps the Redis connection pool)."""
    with _opened_lock:
        if url not in _opened:
            _opened[url] = open_slots(url)
        return _opened[url]


def open_slots(url: str) -> Slots:
    parts = urlsplit(url)
    if parts.scheme in {"redis", "rediss"}:
        return RedisSlots(
            redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5),
        )
    if parts.scheme == "file":
        path = unquote(parts.path)
        return FileSlots(Path(path) if path else settings.DATA_DIR / "limits")
    raise ImproperlyConfigured(
        f"CRMADMIN_LIMITER_URL must start with redis://, rediss:// or file:; got {url!r}"
    )


class FileSlots:
    """Slots as ``flock``-ed files under ``directory/<key>/``; one machine only.

    ``flock`` locks belong to an open file, not to a process or a thread, so two threads of
    one process exclude each other as two processes do.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._made: set[str] = set()
        self._held: set[int] = set()
        # A forked child shares its parent's open files, and with them the locks: it must
        # not keep a slot alive after the parent lets it go.
        os.register_at_fork(after_in_child=self._forget_inherited)

    def try_acquire(self, key: str, limit: int) -> int | None:
        folder = self.directory / key
        if key not in self._made:
            folder.mkdir(parents=True, exist_ok=True)
            self._made.add(key)
        # A random order spreads waiters over the slots instead of all trying slot 0.
        for slot in random.sample(range(limit), limit):
            fd = os.open(folder / f"slot-{slot}", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self._held.add(fd)
            return fd
        return None

    def release(self, key: str, held: int) -> None:
        self._held.discard(held)
        os.close(held)  # closing the file drops its lock

    def _forget_inherited(self) -> None:
        for fd in self._held:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._held = set()


# KEYS[1]: the key's sorted set. ARGV: limit, lease seconds, lease id. 1 if taken, else 0.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) * 1000))
return 1
"""

# KEYS[1]: the key's sorted set. ARGV: lease seconds, lease ids. Returns the ids already
# expired, which are not revived: another holder may have their slots by now.
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local lost = {}
for i = 2, #ARGV do
  local expires = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if expires and tonumber(expires) > now then
    redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i])
  else
    table.insert(lost, ARGV[i])
  end
end
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1]) * 1000))
return lost
"""


class RedisSlots:
    """Slots as expiring leases in a Redis sorted set per key, for workers on many machines."""

    def __init__(self, client: redis.Redis, *, lease_seconds: float = LEASE_SECONDS) -> None:
        self.client = client
        self.lease_seconds = lease_seconds
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._held: dict[str, str] = {}  # lease id -> Redis key
        self._lock = threading.Lock()
        self._renewer_pid = 0
        # A forked child must not renew its parent's leases (its renewer would start on
        # the child's first call and keep them alive after the parent let them go).
        os.register_at_fork(after_in_child=self._forget_inherited)

    @staticmethod
    def redis_key(key: str) -> str:
        return f"crmadmin:limit:{key}"

    def try_acquire(self, key: str, limit: int) -> str | None:
        lease = uuid.uuid4().hex
        redis_key = self.redis_key(key)
        try:
            taken = self._acquire(keys=[redis_key], args=[limit, self.lease_seconds, lease])
        except redis.RedisError as exc:
            raise ZohoTransportError(
                "LIMITER_UNAVAILABLE",
                f"the shared concurrency limiter (Redis) did not answer: {type(exc).__name__}",
            ) from exc
        if not taken:
            return None
        with self._lock:
            self._held[lease] = redis_key
            if self._renewer_pid != os.getpid():
                self._renewer_pid = os.getpid()
                threading.Thread(
                    target=self._renew_forever, name="slot-renewer", daemon=True
                ).start()
        return lease

    def release(self, key: str, held: str) -> None:
        with self._lock:
            self._held.pop(held, None)
        try:
            self.client.zrem(self.redis_key(key), held)
        except redis.RedisError:
            # The call itself is done; its lease expires by itself, so the slot comes back.
            logger.warning("could not release a concurrency slot of %s; it expires", key)

    def held(self) -> list[str]:
        with self._lock:
            return list(self._held)

    def renew(self) -> None:
        """Push back the expiry of every lease this process holds."""
        by_key: dict[str, list[str]] = defaultdict(list)
        with self._lock:
            for lease, redis_key in self._held.items():
                by_key[redis_key].append(lease)
        for redis_key, leases in by_key.items():
            lost = self._renew(keys=[redis_key], args=[self.lease_seconds, *leases])
            still_held = set(self.held())
            for lease in lost:
                lease = lease.decode() if isinstance(lease, bytes) else lease
                if lease in still_held:
                    logger.warning(
                        "a concurrency lease of %s expired while its call ran (the process "
                        "was paused for over %.0f s); the limit may be exceeded briefly",
                        redis_key,
                        self.lease_seconds,
                    )

    def _renew_forever(self) -> None:
        while True:
            time.sleep(self.lease_seconds / 3)
            try:
                self.renew()
            except redis.RedisError:
                logger.warning("could not renew concurrency leases", exc_info=True)

    def _forget_inherited(self) -> None:
        self._held = {}
        self._lock = threading.Lock()
        self._renewer_pid = 0
