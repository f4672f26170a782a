"""Bluesky metrics over real HTTP against the PDS stand-in: getPosts 25 at a time, one session."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from standins.bluesky import BlueskyStandIn
from test_metrics_support import NOW, by_field, config_for, measures

from pipeline.metrics.base import Ref, make_source


@pytest.fixture
def standin() -> Iterator[BlueskyStandIn]:
    """A started PDS stand-in."""
    with BlueskyStandIn(clock=lambda: NOW) as s:
        yield s


def _source(tmp_path: Path, standin: BlueskyStandIn):
    config, store = config_for(tmp_path, {"bluesky": {"api_base": standin.base_url,
                                                      "handle": standin.handle}})
    return make_source("bluesky", config.settings.channels["bluesky"], standin.environ,
                       metrics=config.settings.metrics, store=store, timeout=5)


def _ref(uri: str) -> Ref:
    return Ref(f"item/{uri[-13:]}", "bluesky", uri, "post", NOW - timedelta(hours=2))


def test_counts_become_measures(tmp_path: Path, standin: BlueskyStandIn) -> None:
    """likeCount, repostCount, replyCount, quoteCount; bookmarks kept without a measure."""
    uri = standin.add_post("Know the signs", likeCount=9, repostCount=3, replyCount=2,
                           quoteCount=1, bookmarkCount=4)
    result = _source(tmp_path, standin).collect([_ref(uri)], NOW)
    assert result.errors == []
    assert measures(result.snapshots, uri) == {"likes": 9, "shares": 3, "replies": 2, "quotes": 1,
                                               "engagements": 15}
    fields = by_field(result.snapshots, uri)
    assert fields["bookmarkCount"].value == 4 and fields["bookmarkCount"].measure is None
    assert fields["derived.engagements"].value == 15


def test_60_posts_take_three_calls_and_one_login(tmp_path: Path, standin: BlueskyStandIn) -> None:
    """25 URIs a call; the session is kept for the next round too."""
    uris = [standin.add_post(f"post {i}", likeCount=i) for i in range(60)]
    source = _source(tmp_path, standin)
    result = source.collect([_ref(u) for u in uris], NOW)
    assert len(standin.get_posts_calls) == 3
    assert standin.create_session_calls == 1 and result.calls_made == 4
    assert {s.remote_id for s in result.snapshots if s.measure == "likes"} == set(uris)
    again = source.collect([_ref(u) for u in uris[:5]], NOW + timedelta(hours=1))
    assert standin.create_session_calls == 1 and again.calls_made == 1


def test_expired_access_token_is_refreshed_not_relogged(tmp_path: Path,
                                                        standin: BlueskyStandIn) -> None:
    """ExpiredToken: one refresh, then the read succeeds."""
    uri = standin.add_post("p", likeCount=1)
    source = _source(tmp_path, standin)
    source.collect([_ref(uri)], NOW)
    standin.expire_access()
    result = source.collect([_ref(uri)], NOW)
    assert measures(result.snapshots, uri)["likes"] == 1
    assert standin.create_session_calls == 1 and standin.refresh_session_calls == 1


def test_a_post_not_returned_is_missing(tmp_path: Path, standin: BlueskyStandIn) -> None:
    """getPosts leaves out what it can't find: recorded as a missing post."""
    gone = f"at://{standin.did}/app.bsky.feed.post/3kzzzzzzzzzzz"
    result = _source(tmp_path, standin).collect([_ref(gone)], NOW)
    (snap,) = result.snapshots
    assert snap.field == "post" and snap.missing and "deleted" in snap.reason


def test_rate_limit_stops_the_round(tmp_path: Path, standin: BlueskyStandIn) -> None:
    """429 RateLimitExceeded: reset time from ratelimit-reset, later batches not asked."""
    uris = [standin.add_post(f"p{i}") for i in range(30)]
    reset = standin.rate_limit_reads()
    result = _source(tmp_path, standin).collect([_ref(u) for u in uris], NOW)
    assert result.rate_limited_until == reset and result.snapshots == []
    assert len(standin.get_posts_calls) == 1


def test_bad_app_password_is_an_error_without_it(tmp_path: Path, standin: BlueskyStandIn) -> None:
    """A refused login is recorded, and the password never appears."""
    uri = standin.add_post("p")
    password = standin.password
    source = _source(tmp_path, standin)   # holds the password from before it was deleted
    standin.revoke_password()
    result = source.collect([_ref(uri)], NOW)
    assert result.snapshots == [] and result.errors
    assert password not in result.errors[0]
