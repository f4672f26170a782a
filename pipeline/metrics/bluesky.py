"""Bluesky post metrics: app.bsky.feed.getPosts, 25 posts a call, on the adapter's kept session."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import requests

from pipeline.channels.base import ChannelError
from pipeline.channels.bluesky import BlueskyAdapter
from pipeline.metrics.base import (
    POST_FIELD,
    CollectResult,
    MetricSource,
    Ref,
    chunks,
    with_engagements,
)

GET_POSTS = "app.bsky.feed.getPosts"
MEASURES = {"likeCount": "likes", "repostCount": "shares", "replyCount": "replies",
            "quoteCount": "quotes", "bookmarkCount": None}


class BlueskySource(MetricSource):
    """Counts for up to 25 AT URIs per call; logs in once and refreshes, like the adapter."""

    kind = "bluesky"
    batch_size = 25

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # The adapter holds the session and turns XRPC errors into ours; keep this source (and so
        # the session) between rounds, because createSession is limited to about 100 a day.
        self._adapter = self.adapter(BlueskyAdapter, http=self.counted(requests.Session()))
        self.redactor = self._adapter.redactor  # it learns the session's tokens

    def collect(self, refs: list[Ref], now: datetime) -> CollectResult:
        """getPosts 25 at a time; a post the view does not return is recorded as missing."""
        result = CollectResult()
        start_calls = self.http_calls
        by_uri = {r.remote_id: r for r in refs}
        for batch in chunks(list(by_uri), self.batch_size):
            query = urlencode([("uris", uri) for uri in batch])
            try:
                # The adapter's authenticated call, with the query in the method name's address.
                answer = self._adapter._authed("GET", f"{GET_POSTS}?{query}", write=False)
            except ChannelError as exc:
                if result.failed(exc):
                    break
                continue
            seen = set()
            for post in answer.get("posts") or []:
                ref = by_uri.get(post.get("uri", ""))
                if ref is None:
                    continue
                seen.add(ref.remote_id)
                snaps = [self.snapshot(ref, name, measure, post.get(name), now)
                         for name, measure in MEASURES.items() if name in post]
                result.snapshots += with_engagements(snaps, ref, self, now)
            for uri in batch:
                if uri not in seen:
                    result.snapshots.append(self.missing(by_uri[uri], POST_FIELD, None,
                                                         "not returned by getPosts (deleted?)", now))
        result.calls_made = self.http_calls - start_calls
        return result
