"""Mastodon status metrics: one GET /api/v1/statuses/{id} each (the API has no batch read)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipeline.channels.base import AuthExpired, ChannelError, RateLimited, Rejected
from pipeline.channels.mastodon import MastodonAdapter
from pipeline.metrics.base import POST_FIELD, CollectResult, MetricSource, Ref, with_engagements

MEASURES = {"favourites_count": "likes", "reblogs_count": "shares", "replies_count": "replies",
            "quotes_count": "quotes"}


class MastodonSource(MetricSource):
    """The status's own counts, through the adapter's session and error mapping."""

    kind = "mastodon"
    batch_size = 1

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._adapter = MastodonAdapter(self.name, self.settings, self.environ, timeout=self.timeout)
        self.counted(self._adapter._session)

    def collect(self, refs: list[Ref], now: datetime) -> CollectResult:
        """One call per status; a 429 or a dead token ends the round for this instance."""
        result = CollectResult()
        start_calls = self.http_calls
        for ref in refs:
            try:
                status = self._adapter._call("GET", f"/api/v1/statuses/{ref.remote_id}",
                                             sending=False).json()
            except (RateLimited, AuthExpired) as exc:
                result.errors.append(str(exc))
                if isinstance(exc, RateLimited):
                    result.rate_limited_until = exc.retry_at
                break
            except Rejected as exc:
                result.snapshots.append(self.missing(ref, POST_FIELD, None,
                                                     f"the status could not be read: {exc.detail}", now))
                continue
            except ChannelError as exc:
                result.errors.append(str(exc))
                continue
            snaps = [self.snapshot(ref, name, measure, status.get(name), now)
                     for name, measure in MEASURES.items() if name in status]
            result.snapshots += with_engagements(snaps, ref, self, now)
        result.calls_made = self.http_calls - start_calls
        return result
