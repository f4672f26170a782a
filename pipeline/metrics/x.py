"""X post metrics: up to 100 posts a call, each post read at most once a UTC day, within budget."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipeline.channels.base import AuthExpired, ChannelError
from pipeline.channels.x import XAdapter
from pipeline.metrics.base import (
    POST_FIELD,
    CollectResult,
    MetricSource,
    Ref,
    chunks,
    with_engagements,
)
from pipeline.metrics.budget import XReads
from pipeline.metrics.snapshots import Snapshot

GROUPS = ("public_metrics", "non_public_metrics", "organic_metrics")
# Each group's fields as X documents them, so a refused group is recorded field by field.
GROUP_FIELDS = {
    "public_metrics": ("impression_count", "like_count", "retweet_count", "reply_count",
                       "quote_count", "bookmark_count"),
    "non_public_metrics": ("impression_count", "url_link_clicks", "user_profile_clicks",
                           "engagements"),
    "organic_metrics": ("impression_count", "like_count", "retweet_count", "reply_count",
                        "url_link_clicks", "user_profile_clicks"),
}
# Platform field → our measure. Views come from public_metrics (present for every post); the
# private groups add clicks and X's own engagement total where X lets us read them.
MEASURES = {
    "public_metrics.impression_count": "views",
    "public_metrics.like_count": "likes",
    "public_metrics.retweet_count": "shares",
    "public_metrics.reply_count": "replies",
    "public_metrics.quote_count": "quotes",
    "non_public_metrics.url_link_clicks": "clicks",
    "non_public_metrics.engagements": "engagements",
}
NOT_AUTHORISED = "not-authorized-for-field"
NOT_FOUND = "resource-not-found"
API_VERSION = "2"


class XSource(MetricSource):
    """GET /2/tweets?ids=... with public, non-public and organic metrics."""

    kind = "x"
    batch_size = 100

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._adapter = self.adapter(XAdapter)
        self._counting = False

    @property
    def api_version(self) -> str:
        """X's API version: fixed at 2 by tweepy."""
        return API_VERSION

    def collect(self, refs: list[Ref], now: datetime) -> CollectResult:
        """Claim the reads (day rule and budget), then read the granted posts 100 at a time."""
        result = CollectResult()
        start_calls = self.http_calls
        try:
            client = self._adapter._connect()   # the adapter's signing and re-addressing
        except AuthExpired as exc:
            result.errors.append(str(exc))
            return result
        if not self._counting:
            self.counted(client.session)
            self._counting = True
        by_id = {r.remote_id: r for r in refs}
        reads = XReads(self.store)
        claim = reads.claim(list(by_id), now, self.metrics.x_read_cost_usd,
                            self.metrics.x_monthly_budget_usd, channel=self.name)
        result.deferred = [by_id[i] for i in claim.read_today]
        result.skipped_budget = [by_id[i] for i in claim.over_budget]
        for i in claim.over_budget:
            result.snapshots.append(self.missing(
                by_id[i], POST_FIELD, None,
                f"skipped: the X budget of ${self.metrics.x_monthly_budget_usd:.2f} for this "
                "month is spent", now))
        pending = list(claim.granted)
        for batch in chunks(claim.granted, self.batch_size):
            try:
                with self._adapter._errors(sending=False):
                    answer = client.get_tweets(ids=list(batch), tweet_fields=list(GROUPS),
                                               user_auth=True)
            except ChannelError as exc:
                if result.failed(exc):
                    break
                reads.release(batch, now)
                pending = [i for i in pending if i not in set(batch)]
                continue
            pending = [i for i in pending if i not in set(batch)]
            unread = self._read(answer, batch, by_id, now, result)
            # X charges only for posts it returned.
            reads.release(unread, now)
        # Posts never asked about (the round stopped) were not charged.
        reads.release(pending, now)
        result.calls_made = self.http_calls - start_calls
        return result

    def _read(self, answer: Any, batch: Any, by_id: dict[str, Ref], now: datetime,
              result: CollectResult) -> list[str]:
        """Snapshots from one answer; returns the ids X did not return."""
        errors: dict[str, list[dict[str, Any]]] = {}
        for error in answer.errors or []:
            errors.setdefault(str(error.get("resource_id") or error.get("value") or ""), []).append(error)
        returned = set()
        for tweet in answer.data or []:
            tweet_id = str(tweet.id)
            returned.add(tweet_id)
            ref = by_id[tweet_id]
            result.snapshots += with_engagements(self._tweet(ref, tweet, errors.get(tweet_id, []), now),
                                                 ref, self, now)
        unread = [i for i in batch if i not in returned]
        for i in unread:
            reason = next((e.get("detail") or e.get("title") for e in errors.get(i, [])), "")
            result.snapshots.append(self.missing(by_id[i], POST_FIELD, None,
                                                 f"not returned by X: {reason or 'no reason given'}",
                                                 now))
        return unread

    def _tweet(self, ref: Ref, tweet: Any, errors: list[dict[str, Any]],
               now: datetime) -> list[Snapshot]:
        out: list[Snapshot] = []
        for group in GROUPS:
            values = getattr(tweet, group, None) or tweet.data.get(group)
            if values:
                for key, value in values.items():
                    name = f"{group}.{key}"
                    out.append(self.snapshot(ref, name, MEASURES.get(name), value, now))
                continue
            refusal = next((e for e in errors if NOT_AUTHORISED in str(e.get("type", ""))
                            and group in (e.get("field"), e.get("value"), e.get("parameter"))), None)
            reason = (f"refused by X: {refusal.get('detail') or refusal.get('title')}"
                      if refusal else "not given by X")
            for key in GROUP_FIELDS[group]:
                name = f"{group}.{key}"
                out.append(self.missing(ref, name, MEASURES.get(name), reason, now))
        return out
