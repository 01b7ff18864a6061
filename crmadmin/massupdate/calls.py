"""Calling the CRM several times at once, within the connection's concurrency limit.

Worker threads only talk HTTP; the calling thread consumes their results and does every
database write, so a job's bookkeeping never races with itself. Each thread borrows a
client of its own (its own session, its own list of exchanges), so a result comes back
with exactly the raw exchanges of its call.
"""

import copy
import queue
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from django.db import connections

from crmadmin.zoho.client import ClientStats, ZohoClient
from crmadmin.zoho.models import Connection
from crmadmin.zoho.transport import Exchange

# Zoho counts concurrency per org; a job also shares the org with people and other
# integrations, so it never takes more than this many slots even on a generous edition.
MAX_PARALLEL_CALLS = 10


@dataclass
class CallResult:
    item: Any
    value: Any = None
    error: BaseException | None = None
    exchanges: list[Exchange] = field(default_factory=list)


class ClientPool:
    """One ``ZohoClient`` per parallel slot, each recording its own exchanges.

    The pool's size bounds this job's calls; the clients' shared limiter bounds the calls
    of every job on the connection, in every worker process, to its concurrency limit.
    """

    def __init__(self, connection: Connection, size: int) -> None:
        self.connection = connection
        self.size = max(1, size)
        self._idle: queue.SimpleQueue[tuple[ZohoClient, list[Exchange]]] = queue.SimpleQueue()
        self.clients: list[ZohoClient] = []
        for _ in range(self.size):
            recorded: list[Exchange] = []
            # Each client takes the connection's shared limiter (ZohoClient's default).
            client = ZohoClient(copy.copy(connection), on_exchange=recorded.append)
            self.clients.append(client)
            self._idle.put((client, recorded))

    @classmethod
    def sized(cls, connection: Connection, calls: int) -> "ClientPool":
        """As many clients as calls can usefully run at once on this connection."""
        return cls(connection, min(calls, connection.concurrency_limit or 1, MAX_PARALLEL_CALLS))

    def call(self, item: Any, work: Callable[[ZohoClient, Any], Any]) -> CallResult:
        client, recorded = self._idle.get()
        recorded.clear()
        try:
            return CallResult(item, value=work(client, item), exchanges=list(recorded))
        except Exception as exc:  # a failed call is a result the caller records
            return CallResult(item, error=exc, exchanges=list(recorded))
        finally:
            self._idle.put((client, recorded))
            # A token refresh writes the connection row from this thread.
            connections.close_all()

    def stats(self, earlier: dict[str, Any] | None = None) -> dict[str, Any]:
        """The pool's clients' stats, added to ``earlier`` ones (of a job's earlier runners)."""
        total = ClientStats.from_dict(earlier or {})
        for client in self.clients:
            total.add(client.stats)
        return total.as_dict()


def parallel_calls[T](
    connection: Connection,
    items: Iterable[T],
    work: Callable[[ZohoClient, T], Any],
    *,
    keep_going: Callable[[], bool] = lambda: True,
    pool: ClientPool | None = None,
) -> Iterator[CallResult]:
    """Run ``work(client, item)`` for each item, at most the connection's limit at once.

    Results are yielded as they complete. ``keep_going`` is asked before each new call
    starts; once it says no, calls in flight finish and nothing new starts.
    """
    pending = list(items)
    if not pending:
        return
    pool = pool or ClientPool.sized(connection, len(pending))
    # Refresh once here rather than in every thread at the same moment.
    pool.clients[0].ensure_token()
    for client in pool.clients[1:]:
        client.connection = copy.copy(pool.clients[0].connection)
    source = iter(pending)
    with ThreadPoolExecutor(max_workers=pool.size, thread_name_prefix="zoho-call") as executor:
        in_flight: set[Future[CallResult]] = set()

        def start_next() -> bool:
            item = next(source, _END)
            if item is _END:
                return False
            in_flight.add(executor.submit(pool.call, item, work))
            return True

        while len(in_flight) < pool.size and keep_going() and start_next():
            pass
        while in_flight:
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            in_flight -= done
            # The freed slots take their next calls before the caller stores these results:
            # its bookkeeping then overlaps the calls instead of leaving slots idle.
            for _ in done:
                if not (keep_going() and start_next()):
                    break
            for future in done:
                yield future.result()


_END = object()
