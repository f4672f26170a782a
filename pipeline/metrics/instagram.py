"""Instagram media insights through Graph batch requests: one operation per post naming every
configured metric, 50 operations a call. A name Meta has retired fails the whole operation
(code 100): that post's metrics are then asked one operation each, so the others survive."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipeline.channels.instagram import INSTAGRAM
from pipeline.metrics.base import POST_FIELD, CollectResult, Ref
from pipeline.metrics.facebook import BATCH_LIMIT, GraphSource, Op
from pipeline.metrics.snapshots import Snapshot

# Insight metric → our measure. `total_interactions` is Instagram's own total (likes, saves,
# comments and shares), so it is the engagements; retired names keep their measure for history.
MEASURES: dict[str, str | None] = {
    "views": "views",
    "impressions": "views",
    "reach": "reach",
    "likes": "likes",
    "comments": "replies",
    "shares": "shares",
    "total_interactions": "engagements",
    "engagement": "engagements",
}


class InstagramSource(GraphSource):
    """POST / with batch=[...]: per post one insights operation for every configured metric."""

    kind = "instagram"
    voice = INSTAGRAM

    @classmethod
    def minimum_calls(cls, count: int, metrics: Any = None) -> int:
        """ceil(posts / 50): one operation a post."""
        return -(-count // BATCH_LIMIT)

    def collect(self, refs: list[Ref], now: datetime) -> CollectResult:
        """Every post's insights at once; one by one only for a post whose request failed on a
        retired metric name."""
        result = CollectResult()
        start_calls = self.http_calls
        metrics = list(self.metrics.instagram_insights)
        gathered: dict[Ref, list[Snapshot]] = {}
        one_by_one: list[Op] = []

        def every_metric(ref: Ref, _: str | None, answer: Any, now: datetime) -> list[Snapshot]:
            body, error = self.operation(answer, now)
            if error is None:
                return [s for m in metrics for s in self.insight(ref, m, MEASURES.get(m), body, now)]
            if error.get("code") == 100 and error.get("error_subcode") != 33:
                one_by_one.extend((ref, m) for m in metrics)
                return []
            return self._unread(ref, metrics, error, now)

        def one_metric(ref: Ref, metric: str | None, answer: Any, now: datetime) -> list[Snapshot]:
            assert metric is not None
            body, error = self.operation(answer, now)
            if error is None:
                return self.insight(ref, metric, MEASURES.get(metric), body, now)
            return self._unread(ref, [metric], error, now)

        if self.run([(ref, None) for ref in refs], now, result,
                    lambda ref, _: _insights(ref, metrics), every_metric, gathered) and one_by_one:
            self.run(one_by_one, now, result, lambda ref, m: _insights(ref, [str(m)]), one_metric,
                     gathered)
        return self.finish(result, gathered, now, start_calls)

    def _unread(self, ref: Ref, metrics: list[str], error: dict[str, Any],
                now: datetime) -> list[Snapshot]:
        """Why these metrics of a post could not be read: the post itself (deleted, hidden), or
        each metric (retired, too few viewers, no permission)."""
        if error.get("error_subcode") == 33:
            return [self.missing(ref, POST_FIELD, None,
                                 f"the post could not be read: {error['message']}", now)]
        return [self.missing(ref, m, MEASURES.get(m), f"{self.why(error)}: {error['message']}", now)
                for m in metrics]


def _insights(ref: Ref, metrics: list[str]) -> str:
    return f"{ref.remote_id}/insights?metric={','.join(metrics)}"
