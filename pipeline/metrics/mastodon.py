"""Mastodon status metrics: one GET /api/v1/statuses/{id} each (the API has no batch read)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipeline.channels.mastodon import MastodonAdapter
from pipeline.metrics.base import CollectResult, MetricSource, Ref, with_engagements
from pipeline.metrics.snapshots import Snapshot

MEASURES = {"favourites_count": "likes", "reblogs_count": "shares", "replies_count": "replies",
            "quotes_count": "quotes"}


class MastodonSource(MetricSource):
    """The status's own counts, through the adapter's session and error mapping."""

    kind = "mastodon"
    batch_size = 1

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._adapter = self.adapter(MastodonAdapter)
        self.counted(self._adapter._session)

    def collect(self, refs: list[Ref], now: datetime) -> CollectResult:
        """One call per status; a 429 or a dead token ends the round for this instance."""
        return self.one_call_each(
            refs, now,
            lambda ref: self._adapter._call("GET", f"/api/v1/statuses/{ref.remote_id}",
                                            sending=False).json(),
            self._status, "the status could not be read")

    def _status(self, ref: Ref, status: dict[str, Any], now: datetime) -> list[Snapshot]:
        snaps = [self.snapshot(ref, name, measure, status.get(name), now)
                 for name, measure in MEASURES.items() if name in status]
        return with_engagements(snaps, ref, self, now)
