"""X metrics over real HTTP through tweepy against the X stand-in: batching, partial errors, budget."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from standins.x import XStandIn
from test_metrics_support import NOW, by_field, config_for, measures, publish

from pipeline.metrics.base import Ref, make_source
from pipeline.metrics.budget import XReads
from pipeline.metrics.collect import collect_due
from pipeline.metrics.snapshots import Snapshots


@pytest.fixture
def standin() -> Iterator[XStandIn]:
    """A started X stand-in whose clock is the tests' fake now."""
    with XStandIn(clock=lambda: NOW) as s:
        yield s


def _setup(tmp_path: Path, standin: XStandIn, **metrics: object):
    return config_for(tmp_path, {"x": {"api_base": standin.base_url, "handle": "@wvsafeguarding"}},
                      metrics or None)


def _source(config, store, standin: XStandIn):
    return make_source("x", config.settings.channels["x"], standin.environ,
                       metrics=config.settings.metrics, store=store, timeout=5)


def _ref(tweet_id: str) -> Ref:
    return Ref(f"item/{tweet_id}", "x", tweet_id, "post", NOW - timedelta(hours=2))


def test_own_post_gives_every_measure_and_xs_own_engagements(tmp_path: Path, standin: XStandIn) -> None:
    """Views from impressions, clicks and engagements from the non-public metrics."""
    config, store = _setup(tmp_path, standin)
    tweet = standin.add_tweet("Know the signs", impression_count=900, like_count=12,
                              retweet_count=3, reply_count=2, quote_count=1, clicks=7)
    result = _source(config, store, standin).collect([_ref(tweet)], NOW)
    assert result.errors == []
    assert measures(result.snapshots, tweet) == {
        "views": 900, "likes": 12, "shares": 3, "replies": 2, "quotes": 1, "clicks": 7,
        "engagements": 7 + 12 + 3 + 2 + 1}
    fields = by_field(result.snapshots, tweet)
    assert fields["non_public_metrics.engagements"].measure == "engagements"
    assert fields["organic_metrics.like_count"].value == 12
    assert all(s.platform == "x" and s.api_version == "2" for s in result.snapshots)


def test_refused_private_metrics_are_missing_and_public_ones_kept(tmp_path: Path,
                                                                  standin: XStandIn) -> None:
    """A 200 with not-authorized-for-field errors: public metrics stored, private ones missing."""
    config, store = _setup(tmp_path, standin)
    old = standin.add_tweet("An old post", private=False, impression_count=500, like_count=4,
                            retweet_count=1, reply_count=0)
    result = _source(config, store, standin).collect([_ref(old)], NOW)
    fields = by_field(result.snapshots, old)
    assert fields["public_metrics.impression_count"].value == 500
    clicks = fields["non_public_metrics.url_link_clicks"]
    assert clicks.missing and clicks.measure == "clicks"
    assert "not authorized" in clicks.reason and "non_public_metrics" in clicks.reason
    assert fields["organic_metrics.like_count"].missing
    # No engagement total from X, so ours is the sum of what X did give.
    assert fields["derived.engagements"].value == 5
    assert measures(result.snapshots, old)["engagements"] == 5


def test_250_posts_take_three_calls(tmp_path: Path, standin: XStandIn) -> None:
    """100 ids per call: 250 posts, 3 calls, every post snapshotted."""
    config, store = _setup(tmp_path, standin)
    ids = [standin.add_tweet(f"post {i}", like_count=i) for i in range(250)]
    result = _source(config, store, standin).collect([_ref(i) for i in ids], NOW)
    assert len(standin.lookup_calls) == 3 and result.calls_made == 3
    assert {len(c.arg("ids").split(",")) for c in standin.lookup_calls} == {100, 50}
    assert {s.remote_id for s in result.snapshots if s.measure == "likes"} == set(ids)


def test_budget_is_never_exceeded_and_the_rest_recorded_skipped(tmp_path: Path,
                                                                standin: XStandIn) -> None:
    """A budget of 10 reads: the 10 soonest due are read, 15 are recorded as skipped for budget."""
    config, store = _setup(tmp_path, standin, x_monthly_budget_usd=0.05)
    ids = [standin.add_tweet(f"post {i}") for i in range(25)]
    result = _source(config, store, standin).collect([_ref(i) for i in ids], NOW)
    read = {tweet_id for tweet_id, _ in standin.reads}
    assert read == set(ids[:10])
    assert standin.charged_usd() == pytest.approx(0.05)
    assert XReads(store).spent_usd(2026, 11) == pytest.approx(0.05)
    assert XReads(store).remaining_usd(NOW, 0.05) == pytest.approx(0.0)
    skipped = [s for s in result.snapshots if s.field == "post"]
    assert {s.remote_id for s in skipped} == set(ids[10:])
    assert all(s.missing and "budget" in s.reason for s in skipped)
    # Next round the budget is spent: nothing more is read at all.
    calls = len(standin.lookup_calls)
    _source(config, store, standin).collect([_ref(i) for i in ids], NOW + timedelta(hours=1))
    assert len(standin.lookup_calls) == calls
    assert standin.charged_usd() == pytest.approx(0.05)


def test_no_post_is_read_twice_in_one_utc_day(tmp_path: Path, standin: XStandIn) -> None:
    """A second collection the same UTC day leaves the post due; the next day reads it."""
    config, store = _setup(tmp_path, standin)
    tweet = standin.add_tweet("once a day")
    source = _source(config, store, standin)
    source.collect([_ref(tweet)], NOW)
    later = source.collect([_ref(tweet)], NOW.replace(hour=23, minute=59))
    assert later.snapshots == [] and [r.remote_id for r in later.deferred] == [tweet]
    assert len(standin.lookup_calls) == 1
    tomorrow = NOW.replace(hour=0) + timedelta(days=1)
    standin.clock = lambda: tomorrow
    source.collect([_ref(tweet)], tomorrow)
    assert len(standin.lookup_calls) == 2
    assert len(set(standin.reads)) == 2 and len(standin.reads) == 2


def test_the_day_rule_holds_through_collect_due_with_all(tmp_path: Path, standin: XStandIn) -> None:
    """`--all` twice in one day reads each post once; the spend shows in the summary."""
    config, store = _setup(tmp_path, standin)
    for i in range(3):
        publish(store, "x", standin.add_tweet(f"p{i}"), NOW - timedelta(days=2))
    first = collect_due(store, config, standin.environ, NOW, only_due=False)
    second = collect_due(store, config, standin.environ, NOW + timedelta(hours=3), only_due=False)
    assert first.platforms["x"].calls == 1 and second.platforms["x"].calls == 0
    assert second.platforms["x"].deferred == 3
    assert len(standin.reads) == 3
    assert second.x_spent_usd == pytest.approx(0.015)


def test_a_deleted_post_is_missing_and_not_charged(tmp_path: Path, standin: XStandIn) -> None:
    """X's resource-not-found entry: a missing 'post' snapshot, and the claim given back."""
    config, store = _setup(tmp_path, standin)
    alive = standin.add_tweet("still here")
    result = _source(config, store, standin).collect([_ref(alive), _ref("1234")], NOW)
    gone = by_field(result.snapshots, "1234")["post"]
    assert gone.missing and "Could not find tweet" in gone.reason
    assert XReads(store).spent_usd(2026, 11) == pytest.approx(0.005)


def test_rate_limit_stops_the_round_and_gives_the_reads_back(tmp_path: Path,
                                                             standin: XStandIn) -> None:
    """A 429: no snapshots, the reset time kept, nothing counted as spent."""
    config, store = _setup(tmp_path, standin)
    tweet = standin.add_tweet("busy")
    reset = standin.rate_limit()
    result = _source(config, store, standin).collect([_ref(tweet)], NOW)
    assert result.snapshots == [] and result.rate_limited_until == reset
    assert "rate limited" in result.errors[0]
    assert XReads(store).spent_usd(2026, 11) == 0.0


def test_revoked_credentials_are_an_error_without_secrets(tmp_path: Path, standin: XStandIn) -> None:
    """401: the error is recorded, nothing spent, and no credential appears in it."""
    config, store = _setup(tmp_path, standin)
    tweet = standin.add_tweet("locked out")
    standin.expire_token()
    result = _source(config, store, standin).collect([_ref(tweet)], NOW)
    assert result.snapshots == [] and "401" in result.errors[0]
    assert not any(secret in result.errors[0] for secret in standin.secrets)
    assert XReads(store).spent_usd(2026, 11) == 0.0
    assert Snapshots(store).all() == []
