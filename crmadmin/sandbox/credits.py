"""Zoho's daily API credits: a budget per rolling 24 hours, spent by every API call.

The budget is ``FaultConfig.credits`` (0: no limit). The ledger is ``CreditBucket``, one
row per minute, so it holds across threads and processes and survives restarts. A
minute's credits come back a whole day after the minute ends: at most a minute later than
Zoho, never earlier.

A call is charged once it has passed the dispatcher's checks (auth, URL, method, module,
scope: a 401 or a call to no API costs nothing), before its handler runs; a 401 from the
handler (COQL's module scope) is refunded. A call that would go over the budget is refused
with the same 429 as the concurrency limit. Once half the budget is spent, every response
to an authenticated call carries ``X-API-CREDITS-REMAINING``; 401s and injected faults
don't.

Costs (reference §7.1, §10.8): 1 a call; PUT 1 per 10 records; COQL 1/2/3 by LIMIT;
mass update 1.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Sum
from django.http import HttpResponse
from django.utils import timezone

from .models import CreditBucket, FaultConfig

HEADER = "X-API-CREDITS-REMAINING"
WINDOW = timedelta(hours=24)


def per_ten(records: int) -> int:
    """Insert, update and upsert: 1 credit per 10 records, rounded up, at least 1."""
    return max(1, math.ceil(records / 10))


def coql_credits(limit: int) -> int:
    """COQL by LIMIT: 1–200 rows cost 1, 201–1000 cost 2, 1001–2000 cost 3."""
    if limit <= 200:
        return 1
    return 2 if limit <= 1000 else 3


@dataclass(frozen=True)
class Charge:
    """One call's dealings with the budget."""

    minute: datetime
    cost: int
    used: int  # credits spent in the window, this call's included when it was charged
    budget: int  # 0: no limit
    refused: bool = False

    @property
    def remaining(self) -> int:
        return max(0, self.budget - self.used)

    def stamp(self, response: HttpResponse) -> HttpResponse:
        """Zoho's header, sent only once half of the day's credits or more are used."""
        if self.budget and self.used * 2 >= self.budget:
            response[HEADER] = str(self.remaining)
        return response


def charge(budget: int, cost: int) -> Charge:
    """Spend ``cost`` credits now, or refuse when that would go over ``budget``."""
    now = timezone.now()
    minute = _minute(now)
    with transaction.atomic():
        # Check and spend as one step across threads and processes: SQLite's IMMEDIATE
        # transaction already holds the write lock; other databases lock the config row.
        if connection.features.has_select_for_update:
            list(FaultConfig.objects.select_for_update().filter(pk=1).values_list("pk"))
        spent = used(now) if budget else 0
        if budget and spent + cost > budget:
            return Charge(minute, cost, spent, budget, refused=True)
        if not CreditBucket.objects.filter(minute=minute).update(credits=F("credits") + cost):
            CreditBucket.objects.create(minute=minute, credits=cost)
            # A new minute: the buckets that have left the window can go.
            CreditBucket.objects.filter(minute__lt=_window_start(now)).delete()
    return Charge(minute, cost, spent + cost, budget)


def standing(budget: int) -> Charge:
    """Where the budget stands, for a response that costs nothing."""
    now = timezone.now()
    return Charge(_minute(now), 0, used(now) if budget else 0, budget)


def refund(spent: Charge) -> None:
    """Give a charged call its credits back (a 401 found by the handler costs nothing)."""
    if spent.refused or not spent.cost:
        return
    CreditBucket.objects.filter(minute=spent.minute).update(credits=F("credits") - spent.cost)


def used(now: datetime | None = None) -> int:
    """Credits spent in the rolling 24 hours up to ``now``."""
    window = CreditBucket.objects.filter(minute__gte=_window_start(now or timezone.now()))
    return window.aggregate(total=Sum("credits"))["total"] or 0


def summary(config: FaultConfig) -> dict:
    """Used and remaining credits, for ``sandbox_faults``; remaining is None without a limit."""
    spent = used()
    remaining = max(0, config.credits - spent) if config.credits else None
    return {"credits_used": spent, "credits_remaining": remaining}


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _window_start(now: datetime) -> datetime:
    return _minute(now) - WINDOW
