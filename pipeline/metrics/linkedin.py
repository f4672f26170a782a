"""LinkedIn post statistics: organizationalEntityShareStatistics, several posts in one call
(`shares=List(...)`, and `ugcPosts=List(...)` for posts LinkedIn names ugcPost), through the
adapter's session and error mapping."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from pipeline.channels.base import ChannelError
from pipeline.channels.linkedin import LinkedInAdapter
from pipeline.metrics.base import (
    POST_FIELD,
    CollectResult,
    MetricSource,
    Ref,
    chunks,
    with_engagements,
)

# LinkedIn publishes no maximum; 20 URNs keep an address well inside every server's limit.
STATS_BATCH = 20
PREFIX = "totalShareStatistics."
# `engagement` is LinkedIn's rate ((clicks + likes + comments + shares) / impressions): kept,
# not a count, so the engagements are derived from the counts like the other platforms'.
MEASURES: dict[str, str | None] = {
    "impressionCount": "views",
    "uniqueImpressionsCount": "reach",
    "likeCount": "likes",
    "commentCount": "replies",
    "shareCount": "shares",
    "clickCount": "clicks",
    "engagement": None,
}
KINDS = (("shares", "share"), ("ugcPosts", "ugcPost"))


class LinkedInSource(MetricSource):
    """Lifetime statistics for up to 20 posts a call (shares and ugcPosts asked apart)."""

    kind = "linkedin"
    batch_size = STATS_BATCH

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._adapter = self.adapter(LinkedInAdapter)
        self.counted(self._adapter._session)

    def collect(self, refs: list[Ref], now: datetime) -> CollectResult:
        """Each kind of post in batches of 20; a post LinkedIn does not return is missing."""
        result = CollectResult()
        start_calls = self.http_calls
        by_urn = {r.remote_id: r for r in refs}
        for param, kind in KINDS:
            urns = [u for u in by_urn if u.startswith(f"urn:li:{kind}:")]
            if not self._collect(urns, param, kind, by_urn, result, now):
                break
        for urn, ref in by_urn.items():
            if not urn.startswith(tuple(f"urn:li:{kind}:" for _, kind in KINDS)):
                result.snapshots.append(self.missing(ref, POST_FIELD, None,
                                                     f"not a LinkedIn post URN: {urn}", now))
        result.calls_made = self.http_calls - start_calls
        return result

    def _collect(self, urns: list[str], param: str, kind: str, by_urn: dict[str, Ref],
                 result: CollectResult, now: datetime) -> bool:
        """One kind's batches; False when a limit or dead credentials ended the round."""
        for batch in chunks(urns, STATS_BATCH):
            members = ",".join(quote(u, safe="") for u in batch)
            # Rest.li 2.0.0: List( , ) stay as they are, each member is percent-encoded.
            query = (f"q=organizationalEntity&organizationalEntity="
                     f"{quote(self._adapter.organisation, safe='')}&{param}=List({members})")
            try:
                answer = self._adapter._call("GET", f"/rest/organizationalEntityShareStatistics?{query}",
                                             sending=False).json()
            except ChannelError as exc:
                if result.failed(exc):
                    return False
                continue
            seen = set()
            for element in answer.get("elements") or []:
                ref = by_urn.get(element.get(kind, ""))
                if ref is None:
                    continue
                seen.add(ref.remote_id)
                stats = element.get("totalShareStatistics") or {}
                snaps = [self.snapshot(ref, PREFIX + name, measure, stats.get(name), now)
                         for name, measure in MEASURES.items() if name in stats]
                result.snapshots += with_engagements(snaps, ref, self, now)
            for urn in batch:
                if urn not in seen:
                    result.snapshots.append(self.missing(
                        by_urn[urn], POST_FIELD, None, "LinkedIn returned no statistics (deleted, "
                        "or older than the 12 months it keeps)", now))
        return True
