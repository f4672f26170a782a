"""Per-recipient email deliveries: which Message-IDs an SMTP send already handed over, so a
resumed send skips those recipients."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from pipeline.store import Store
from pipeline.store.schema import deliveries_table


class Deliveries:
    """The sent-log of one channel, persisted after every accepted message."""

    def __init__(self, store: Store, channel: str, now: Callable[[], datetime]):
        self.store = store
        self.channel = channel
        self.now = now   # the clock the entry point passed in

    def sent(self) -> set[str]:
        """Message-IDs already accepted by the mail server."""
        with self.store.reading() as conn:
            return set(conn.execute(select(deliveries_table.c.message_id)
                                    .where(deliveries_table.c.channel == self.channel)).scalars())

    def record(self, message_id: str, recipient: str) -> None:
        """Save one accepted message before the next recipient is tried."""
        with self.store.writing() as conn:
            if conn.execute(select(deliveries_table.c.message_id).where(
                    deliveries_table.c.message_id == message_id)).first() is None:
                conn.execute(deliveries_table.insert().values(
                    message_id=message_id, channel=self.channel, recipient=recipient,
                    at=self.now()))
