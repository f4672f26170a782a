"""Facebook Page post metrics through Graph batch requests: 50 operations a call, each insight
metric its own operation, so one retired metric name cannot lose the others."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import requests

from pipeline.channels.base import AuthExpired, ChannelError, RateLimited
from pipeline.channels.facebook import GRAPH, RATE_CODES, RATE_FALLBACK, WORDING, _graph_error
from pipeline.channels.http import send
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


class FacebookSource(MetricSource):
    """POST / with batch=[...]: per post one fields operation and one per insight metric."""

    kind = "facebook"
    batch_size = BATCH_LIMIT

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._session = self.counted(requests.Session())

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
        ops: list[tuple[Ref, str | None]] = []
        for ref in refs:
            ops.append((ref, None))
            ops += [(ref, metric) for metric in insights]
        gathered: dict[Ref, list[Snapshot]] = {}
        for batch in chunks(ops, BATCH_LIMIT):
            try:
                answers = self._batch([self._relative_url(ref, metric) for ref, metric in batch])
            except ChannelError as exc:
                if result.failed(exc):
                    break
                continue
            stop: ChannelError | None = None
            for (ref, metric), answer in zip(batch, answers, strict=False):
                try:
                    gathered.setdefault(ref, []).extend(self._parse(ref, metric, answer, now))
                except (RateLimited, AuthExpired) as exc:
                    stop = stop or exc
            if stop is not None and result.failed(stop):
                break
        for ref, snapshots in gathered.items():
            result.snapshots += with_engagements(snapshots, ref, self, now)
        result.calls_made = self.http_calls - start_calls
        return result

    @staticmethod
    def _relative_url(ref: Ref, metric: str | None) -> str:
        if metric is None:
            return f"{ref.remote_id}?fields={POST_FIELDS}"
        return f"{ref.remote_id}/insights?metric={metric}"

    def _parse(self, ref: Ref, metric: str | None, answer: Any, now: datetime) -> list[Snapshot]:
        """Snapshots from one operation's answer; raises only for a limit or a dead token."""
        if not isinstance(answer, dict):
            # Graph answers null for an operation it did not get to within its time.
            return [self.missing(ref, metric or POST_FIELD, INSIGHT_MEASURES.get(metric or ""),
                                 "Graph gave no answer to this operation", now)]
        try:
            body = json.loads(answer.get("body") or "null")
        except ValueError:
            body = None
        if answer.get("code") != 200 or not isinstance(body, dict) or "error" in body:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            code = error.get("code")
            message = str(error.get("message") or f"HTTP {answer.get('code')}")
            if code == 190:
                raise AuthExpired(self.name, f"the Page token no longer works: {message}; "
                                  "generate a new Page access token")
            if code in RATE_CODES:
                # An operation's own answer carries no usage header: Meta's hour is the rule.
                raise RateLimited(self.name, now + RATE_FALLBACK, f"rate limited: {message}")
            if metric is None:
                return [self.missing(ref, POST_FIELD, None, f"the post could not be read: {message}",
                                     now)]
            if error.get("error_subcode") == 33:
                why = "the post could not be read"   # deleted or hidden, not a retired metric
            elif code == 100:
                why = "retired or unknown metric"
            else:
                why = f"refused (code {code})"
            return [self.missing(ref, metric, INSIGHT_MEASURES.get(metric), f"{why}: {message}",
                                 now)]
        if metric is None:
            return self._fields(ref, body, now)
        return self._insight(ref, metric, body, now)

    def _fields(self, ref: Ref, body: dict[str, Any], now: datetime) -> list[Snapshot]:
        # Graph leaves `shares` out altogether for a post nobody has shared.
        shares = (body.get("shares") or {}).get("count", 0)
        reactions = ((body.get("reactions") or {}).get("summary") or {}).get("total_count")
        comments = ((body.get("comments") or {}).get("summary") or {}).get("total_count")
        values = {"shares.count": shares, "reactions.summary.total_count": reactions,
                  "comments.summary.total_count": comments}
        return [self.snapshot(ref, name, FIELD_MEASURES[name], value, now)
                for name, value in values.items()]

    def _insight(self, ref: Ref, metric: str, body: dict[str, Any], now: datetime) -> list[Snapshot]:
        data = [d for d in body.get("data") or [] if d.get("name") == metric] or body.get("data") or []
        if not data:
            return [self.missing(ref, metric, INSIGHT_MEASURES.get(metric),
                                 "Graph returned no data for this metric", now)]
        values = data[0].get("values") or [{}]
        value = values[-1].get("value")
        if isinstance(value, dict):
            # A breakdown (e.g. by reaction type): kept under the platform's names, no measure.
            return [self.snapshot(ref, f"{metric}.{key}", None, part, now)
                    for key, part in value.items()]
        return [self.snapshot(ref, metric, INSIGHT_MEASURES.get(metric), value, now)]

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
                        wording=WORDING, data={"batch": batch, "access_token": token,
                                               "include_headers": "false"})
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.ok and isinstance(body, list):
            return body
        raise _graph_error(self.name, response, body, "batch")
