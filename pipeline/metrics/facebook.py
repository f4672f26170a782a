"""Facebook Page post metrics through Graph batch requests: 50 operations a call, each insight
metric its own operation, so one retired metric name cannot lose the others.

`GraphSource` (the batch call, running operations 50 to a call, reading one operation's answer
and an insight's value) is shared with Instagram, whose media insights go through the same
Graph host."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

import requests

from pipeline.channels.base import AuthExpired, ChannelError, RateLimited
from pipeline.channels.facebook import (
    FACEBOOK,
    GRAPH,
    RATE_CODES,
    RATE_FALLBACK,
    GraphVoice,
    graph_error,
)
from pipeline.channels.http import send, settle_environment
from pipeline.metrics.base import (
    POST_FIELD,
    CollectResult,
    MetricSource,
    Ref,
    chunks,
    with_engagements,
)
from pipeline.metrics.snapshots import Snapshot

BATCH_LIMIT = 50
# The post's own counts; limit(0) asks for the totals without the lists of people.
POST_FIELDS = "shares,reactions.summary(total_count).limit(0),comments.summary(true).limit(0)"
# Insight metric → our measure, for the names Meta uses now and the ones it retired (history
# collected under an old name keeps its measure).
INSIGHT_MEASURES = {
    "post_media_view": "views",
    "post_impressions": "views",
    "post_total_media_view_unique": "reach",
    "post_impressions_unique": "reach",
    "post_clicks": "clicks",
}
FIELD_MEASURES = {
    "shares.count": "shares",
    "reactions.summary.total_count": "likes",
    "comments.summary.total_count": "replies",
}
# An operation: the item it is about, and a metric name (None: the item's own fields, or for
# Instagram every configured metric at once).
Op = tuple[Ref, str | None]


class GraphSource(MetricSource):
    """A source that reads through Graph's batch endpoint, 50 operations a call."""

    batch_size = BATCH_LIMIT
    voice: ClassVar[GraphVoice] = FACEBOOK

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._session = settle_environment(self.counted(requests.Session()),
                                           self.settings.api_base or GRAPH, self.environ)

    def run(self, ops: list[Op], now: datetime, result: CollectResult,
            relative_url: Callable[[Ref, str | None], str],
            parse: Callable[[Ref, str | None, Any, datetime], list[Snapshot]],
            gathered: dict[Ref, list[Snapshot]]) -> bool:
        """Send `ops` 50 to a batch call, adding each answer's snapshots to `gathered`; False
        when a limit or dead credentials ended the round (recorded in `result`)."""
        for batch in chunks(ops, BATCH_LIMIT):
            try:
                answers = self._batch([relative_url(ref, metric) for ref, metric in batch])
            except ChannelError as exc:
                if result.failed(exc):
                    return False
                continue
            stop: ChannelError | None = None
            for (ref, metric), answer in zip(batch, answers, strict=False):
                try:
                    gathered.setdefault(ref, []).extend(parse(ref, metric, answer, now))
                except (RateLimited, AuthExpired) as exc:
                    stop = stop or exc
            if stop is not None and result.failed(stop):
                return False
        return True

    def finish(self, result: CollectResult, gathered: dict[Ref, list[Snapshot]], now: datetime,
               start_calls: int) -> CollectResult:
        """Each item's snapshots with its engagements, and the calls this round made."""
        for ref, snapshots in gathered.items():
            result.snapshots += with_engagements(snapshots, ref, self, now)
        result.calls_made = self.http_calls - start_calls
        return result

    def operation(self, answer: Any, now: datetime) -> tuple[Any, dict[str, Any] | None]:
        """One operation's (body, None), or (None, Graph's error with a clean message); raises
        only for a limit or a dead token, which end the round. A null answer (Graph did not get
        to the operation in time) is an error without a code."""
        if not isinstance(answer, dict):
            return None, {"message": "Graph gave no answer to this operation"}
        try:
            body = json.loads(answer.get("body") or "null")
        except ValueError:
            body = None
        if answer.get("code") == 200 and isinstance(body, dict) and "error" not in body:
            return body, None
        error = dict(body.get("error") or {}) if isinstance(body, dict) else {}
        error["message"] = str(error.get("message") or f"HTTP {answer.get('code')}")
        if error.get("code") == 190:
            raise AuthExpired(self.name, f"{self.voice.token} no longer works: {error['message']}; "
                              f"{self.voice.renew}")
        if error.get("code") in RATE_CODES:
            # An operation's own answer carries no usage header: Meta's hour is the rule.
            raise RateLimited(self.name, now + RATE_FALLBACK, f"rate limited: {error['message']}")
        return None, error

    def insight(self, ref: Ref, metric: str, measure: str | None, body: dict[str, Any],
                now: datetime) -> list[Snapshot]:
        """The snapshots of one insight metric in an insights answer (a breakdown as
        `metric.key` without a measure), or a missing one when Graph gave no data."""
        data = [d for d in body.get("data") or [] if d.get("name") == metric]
        if not data:
            return [self.missing(ref, metric, measure, "Graph returned no data for this metric", now)]
        values = data[0].get("values") or [{}]
        value = values[-1].get("value")
        if isinstance(value, dict):
            # A breakdown (e.g. by reaction type): kept under the platform's names, no measure.
            return [self.snapshot(ref, f"{metric}.{key}", None, part, now)
                    for key, part in value.items()]
        return [self.snapshot(ref, metric, measure, value, now)]

    def _batch(self, relative_urls: list[str]) -> list[Any]:
        """One batch call; every vendor and transport error of the call itself becomes ours here."""
        token = self.settings.secret("token", self.environ)
        if not token:
            var = self.settings.env_names.get("token_env", "<token_env not set in config>")
            raise AuthExpired(self.name, f"credential missing: set the environment variable {var}")
        base = (self.settings.api_base or GRAPH).rstrip("/")
        version = self.settings.api_version.strip("/")
        url = f"{base}/{version}/" if version else f"{base}/"
        batch = json.dumps([{"method": "GET", "relative_url": u} for u in relative_urls])
        # The token goes in the form body, never the URL an error message might print.
        response = send(self._session, self.name, "batch", "POST", url, write=False, timeout=self.timeout,
                        wording=self.voice.wording,
                        data={"batch": batch, "access_token": token, "include_headers": "false"})
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.ok and isinstance(body, list):
            return body
        raise graph_error(self.name, response, body, "batch", self.clock, self.voice)

    @staticmethod
    def why(error: dict[str, Any]) -> str:
        """Why an insight metric could not be read, from Graph's error."""
        code = error.get("code")
        if code is None:
            return "no answer"
        if error.get("error_subcode") == 33:
            return "the post could not be read"   # deleted or hidden, not a retired metric
        if code == 100:
            return "retired or unknown metric"
        return f"refused (code {code})"


class FacebookSource(GraphSource):
    """POST / with batch=[...]: per post one fields operation and one per insight metric."""

    kind = "facebook"

    @classmethod
    def minimum_calls(cls, count: int, metrics: Any = None) -> int:
        """ceil(operations / 50), with 1 + one per insight metric operations per post."""
        per_post = 1 + (len(metrics.facebook_insights) if metrics is not None else 3)
        return -(-count * per_post // BATCH_LIMIT)

    def collect(self, refs: list[Ref], now: datetime) -> CollectResult:
        """Every post's operations, packed 50 to a call."""
        result = CollectResult()
        start_calls = self.http_calls
        insights = list(self.metrics.facebook_insights)
        ops: list[Op] = []
        for ref in refs:
            ops.append((ref, None))
            ops += [(ref, metric) for metric in insights]
        gathered: dict[Ref, list[Snapshot]] = {}
        self.run(ops, now, result, self._relative_url, self._parse, gathered)
        return self.finish(result, gathered, now, start_calls)

    @staticmethod
    def _relative_url(ref: Ref, metric: str | None) -> str:
        if metric is None:
            return f"{ref.remote_id}?fields={POST_FIELDS}"
        return f"{ref.remote_id}/insights?metric={metric}"

    def _parse(self, ref: Ref, metric: str | None, answer: Any, now: datetime) -> list[Snapshot]:
        """Snapshots from one operation's answer; raises only for a limit or a dead token."""
        body, error = self.operation(answer, now)
        if error is not None:
            if metric is None:
                return [self.missing(ref, POST_FIELD, None,
                                     f"the post could not be read: {error['message']}", now)]
            return [self.missing(ref, metric, INSIGHT_MEASURES.get(metric),
                                 f"{self.why(error)}: {error['message']}", now)]
        if metric is None:
            return self._fields(ref, body, now)
        return self.insight(ref, metric, INSIGHT_MEASURES.get(metric), body, now)

    def _fields(self, ref: Ref, body: dict[str, Any], now: datetime) -> list[Snapshot]:
        # Graph leaves `shares` out altogether for a post nobody has shared.
        shares = (body.get("shares") or {}).get("count", 0)
        reactions = ((body.get("reactions") or {}).get("summary") or {}).get("total_count")
        comments = ((body.get("comments") or {}).get("summary") or {}).get("total_count")
        values = {"shares.count": shares, "reactions.summary.total_count": reactions,
                  "comments.summary.total_count": comments}
        return [self.snapshot(ref, name, FIELD_MEASURES[name], value, now)
                for name, value in values.items()]
