"""What reading X costs: one charge per post per UTC day, kept under a monthly budget."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from pipeline.metrics.base import chunks
from pipeline.store import Store
from pipeline.store.schema import x_reads_table

# Room for float rounding when a budget is an exact multiple of the cost (5.0 / 0.005).
EPSILON = 1e-9
# SQLite allows a limited number of bound values per statement; ask about ids in slices.
IN_SLICE = 500

@dataclass(frozen=True)
class Claim:
    """What a claim decided: read these now; these were read today; these don't fit the budget."""

    granted: list[str]
    read_today: list[str]
    over_budget: list[str]


def utc_day(now: datetime) -> str:
    """The UTC date of `now` as X bills it."""
    return now.astimezone(UTC).date().isoformat()


class XReads:
    """The table of X post reads: the spend, and the claims that keep it within budget."""

    def __init__(self, store: Store):
        self.store = store

    def spent_usd(self, year: int, month: int) -> float:
        """What reads in this calendar month (UTC) cost."""
        first = date(year, month, 1).isoformat()
        after = date(year + month // 12, month % 12 + 1, 1).isoformat()
        t = x_reads_table
        with self.store.reading() as conn:
            total = conn.execute(select(func.coalesce(func.sum(t.c.cost_usd), 0.0))
                                 .where(t.c.day >= first, t.c.day < after)).scalar_one()
        return float(total)

    def remaining_usd(self, now: datetime, budget: float) -> float:
        """What is left of `budget` this month (UTC), never below zero."""
        moment = now.astimezone(UTC)
        return max(0.0, budget - self.spent_usd(moment.year, moment.month))

    def read_on(self, post_ids: Iterable[str], day: str) -> set[str]:
        """Which of `post_ids` were read on `day` (YYYY-MM-DD, UTC)."""
        ids = list(post_ids)
        t = x_reads_table
        found: set[str] = set()
        with self.store.reading() as conn:
            for part in chunks(ids, IN_SLICE):
                found |= set(conn.execute(select(t.c.post_id).where(
                    t.c.day == day, t.c.post_id.in_(list(part)))).scalars())
        return found

    def claim(self, post_ids: Sequence[str], now: datetime, cost: float, budget: float,
              channel: str = "") -> Claim:
        """Record reads of `post_ids` (in priority order) before they are made: none read twice in a
        UTC day and none beyond the monthly budget. One transaction, so two processes can't both
        claim the same post or the same last dollar."""
        day = utc_day(now)
        moment = now.astimezone(UTC)
        first = date(moment.year, moment.month, 1).isoformat()
        t = x_reads_table
        ids = list(dict.fromkeys(post_ids))
        with self.store.writing() as conn:
            already: set[str] = set()
            for part in chunks(ids, IN_SLICE):
                already |= set(conn.execute(select(t.c.post_id).where(
                    t.c.day == day, t.c.post_id.in_(list(part)))).scalars())
            spent = float(conn.execute(select(func.coalesce(func.sum(t.c.cost_usd), 0.0))
                                       .where(t.c.day >= first, t.c.day <= day)).scalar_one())
            fresh = [i for i in ids if i not in already]
            affordable = (len(fresh) if cost <= 0
                          else max(0, math.floor((budget - spent) / cost + EPSILON)))
            granted, over = fresh[:affordable], fresh[affordable:]
            if granted:
                conn.execute(t.insert(), [dict(post_id=i, day=day, cost_usd=cost, channel=channel,
                                               read_at=now) for i in granted])
        return Claim(granted, [i for i in ids if i in already], over)

    def release(self, post_ids: Iterable[str], now: datetime) -> None:
        """Take back claims for reads that X did not charge (the call failed, the post is gone)."""
        ids = list(post_ids)
        t = x_reads_table
        with self.store.writing() as conn:
            for part in chunks(ids, IN_SLICE):
                conn.execute(t.delete().where(t.c.day == utc_day(now), t.c.post_id.in_(list(part))))
