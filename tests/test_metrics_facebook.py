"""Facebook metrics over real HTTP against the Graph stand-in: batches of 50, retired metrics."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from standins.facebook import FacebookStandIn
from test_metrics_support import NOW, by_field, config_for, measures

from pipeline.metrics.base import Ref, make_source


@pytest.fixture
def standin() -> Iterator[FacebookStandIn]:
    """A started Graph stand-in."""
    with FacebookStandIn(clock=lambda: NOW) as s:
        yield s


def _source(tmp_path: Path, standin: FacebookStandIn, insights: list[str] | None = None):
    config, store = config_for(
        tmp_path, {"facebook": {"api_base": standin.base_url, "api_version": standin.version,
                                "account_id": standin.page_id}},
        {"facebook_insights": insights} if insights else None)
    return make_source("facebook", config.settings.channels["facebook"], standin.environ,
                       metrics=config.settings.metrics, store=store, timeout=5)


def _ref(post_id: str) -> Ref:
    return Ref(f"item/{post_id}", "facebook", post_id, "post", NOW - timedelta(hours=2))


def test_post_counts_and_insights_become_measures(tmp_path: Path, standin: FacebookStandIn) -> None:
    """shares, reactions, comments and the three default insights, under our measure names."""
    post = standin.add_post("Know the signs", shares=4, reactions=30, comments=5,
                            post_media_view=1200, post_total_media_view_unique=800, post_clicks=25)
    result = _source(tmp_path, standin).collect([_ref(post)], NOW)
    assert result.errors == []
    assert measures(result.snapshots, post) == {
        "views": 1200, "reach": 800, "clicks": 25, "shares": 4, "likes": 30, "replies": 5,
        "engagements": 4 + 30 + 5 + 25}
    fields = by_field(result.snapshots, post)
    assert fields["reactions.summary.total_count"].value == 30
    assert fields["post_media_view"].api_version == "v21.0"
    (call,) = standin.batch_calls
    assert call.path == "/v21.0/"
    assert len(result.snapshots) == 7


def test_an_unshared_post_has_zero_shares(tmp_path: Path, standin: FacebookStandIn) -> None:
    """Graph omits `shares` for a post nobody shared: that is 0, not missing."""
    post = standin.add_post("Quiet", reactions=1)
    result = _source(tmp_path, standin).collect([_ref(post)], NOW)
    assert by_field(result.snapshots, post)["shares.count"].value == 0


def test_a_retired_metric_is_missing_and_the_others_survive(tmp_path: Path,
                                                            standin: FacebookStandIn) -> None:
    """post_impressions fails with code 100; the other metrics of the same post still arrive."""
    post = standin.add_post("Old names", post_media_view=300, post_clicks=9, reactions=2)
    source = _source(tmp_path, standin, ["post_impressions", "post_media_view", "post_clicks"])
    result = source.collect([_ref(post)], NOW)
    fields = by_field(result.snapshots, post)
    retired = fields["post_impressions"]
    assert retired.missing and retired.measure == "views"
    assert "retired" in retired.reason and "(#100)" in retired.reason
    assert fields["post_media_view"].value == 300 and fields["post_clicks"].value == 9
    assert measures(result.snapshots, post)["views"] == 300
    assert result.errors == []


def test_a_single_request_naming_a_retired_metric_fails_whole(standin: FacebookStandIn) -> None:
    """The stand-in answers as Graph does: one retired name fails a request naming several."""
    import requests

    post = standin.add_post("x", post_media_view=3)
    answer = requests.get(f"{standin.base_url}/v21.0/{post}/insights",
                          params={"metric": "post_media_view,post_impressions"},
                          headers={"Authorization": f"OAuth {standin.token}"}, timeout=5)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == 100


def test_120_posts_take_ceil_ops_over_50_batch_calls(tmp_path: Path,
                                                    standin: FacebookStandIn) -> None:
    """4 operations a post (fields + 3 insights): 480 operations, 10 calls."""
    posts = [standin.add_post(f"post {i}", reactions=i) for i in range(120)]
    source = _source(tmp_path, standin)
    result = source.collect([_ref(p) for p in posts], NOW)
    expected = math.ceil(120 * 4 / 50)
    assert len(standin.batch_calls) == expected == result.calls_made
    assert type(source).minimum_calls(120, source.metrics) == expected
    assert {s.remote_id for s in result.snapshots if s.measure == "likes"} == set(posts)


def test_a_deleted_post_is_missing(tmp_path: Path, standin: FacebookStandIn) -> None:
    """A post Graph can't load is recorded as missing, once for the post and per metric."""
    result = _source(tmp_path, standin).collect([_ref(f"{standin.page_id}_1")], NOW)
    fields = by_field(result.snapshots, f"{standin.page_id}_1")
    assert fields["post"].missing and "does not exist" in fields["post"].reason
    assert all(s.missing for s in fields.values())


def test_rate_limit_stops_and_says_when(tmp_path: Path, standin: FacebookStandIn) -> None:
    """Code 80001 on the batch: the round stops with Meta's regain time."""
    post = standin.add_post("busy")
    reset = standin.rate_limit(code=80001, regain_minutes=20)
    result = _source(tmp_path, standin).collect([_ref(post)], NOW)
    assert result.snapshots == [] and result.rate_limited_until == reset


def test_expired_token_is_an_error_and_the_token_never_in_a_url(tmp_path: Path,
                                                                standin: FacebookStandIn) -> None:
    """Code 190 is recorded; the token travels in the form body only."""
    post = standin.add_post("p")
    source = _source(tmp_path, standin)
    source.collect([_ref(post)], NOW)
    standin.expire_token()
    result = source.collect([_ref(post)], NOW)
    assert result.snapshots == [] and "token no longer works" in result.errors[0]
    assert standin.token not in result.errors[0]
    assert all(standin.token not in c.raw_query and standin.token not in c.path
               for c in standin.calls)
