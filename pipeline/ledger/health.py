"""Channel health: a channel flagged for its credentials, or waiting out a platform's rate limit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from pipeline.ledger.rows import Health, aware
from pipeline.store import Store, channel_health_table


class ChannelHealth:
    """Recording and reading each channel's health."""

    def __init__(self, store: Store):
        self.store = store

    def flag(self, channel: str, reason: str, now: datetime) -> None:
        """Mark a channel unusable (e.g. expired credentials) until it works again."""
        self._upsert(channel, flagged=True, reason=reason, flagged_at=aware("now", now), updated_at=now)

    def clear(self, channel: str, now: datetime) -> None:
        """The channel works again."""
        self._upsert(channel, flagged=False, reason=None, flagged_at=None, updated_at=aware("now", now))

    def rate_limited_until(self, channel: str, when: datetime | None, now: datetime | None = None) -> None:
        """Record the platform's reset time (None clears it); items for the channel wait until then."""
        if when is not None:
            aware("when", when)
        values: dict[str, Any] = {"rate_limited_until": when}
        if now is not None:
            values["updated_at"] = aware("now", now)
        self._upsert(channel, **values)

    def all(self) -> dict[str, Health]:
        """Every channel with a recorded health state, by name."""
        with self.store.reading() as conn:
            rows = conn.execute(select(channel_health_table)
                                .order_by(channel_health_table.c.channel)).mappings().all()
        return {r["channel"]: Health.from_row(r) for r in rows}

    def blocked(self, channel: str, now: datetime) -> str | None:
        """Why the channel can't publish at `now` (flagged or rate-limited), or None if it can."""
        aware("now", now)
        health = self.all().get(channel)
        return None if health is None else health.blocked(now)

    def _upsert(self, channel: str, **values: Any) -> None:
        h = channel_health_table
        with self.store.writing() as conn:
            found = conn.execute(select(h.c.channel).where(h.c.channel == channel)).first()
            if found is None:
                conn.execute(h.insert().values(channel=channel, **{"flagged": False, **values}))
            else:
                conn.execute(h.update().where(h.c.channel == channel).values(**values))
