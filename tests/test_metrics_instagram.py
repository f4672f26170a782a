"""Instagram media insights over real HTTP against the stand-in: one operation per post, 50
operations a batch call, a retired metric name asked again one by one."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from standins.instagram import InstagramStandIn
from test_metrics_support import NOW, by_field, config_for, measures

from pipeline.metrics.base import Ref, make_source

EVERY = dict(views=1500, reach=900, likes=40, comments=6, shares=3, saved=11, total_interactions=60)


@pytest.fixture
def standin() -> Iterator[InstagramStandIn]:
    """A started Instagram stand-in."""
    with InstagramStandIn(clock=lambda: NOW) as s:
        yield s


def _source(tmp_path: Path, standin: InstagramStandIn, insights: list[str] | None = None):
    config, store = config_for(
        tmp_path, {"instagram": {"api_base": standin.base_url, "api_version": standin.version,
                                 "account_id": standin.ig_user_id,
                                 "image_base_url": standin.site_url}},
        {"instagram_insights": insights} if insights else None)
    return make_source("instagram", config.settings.channels["instagram"], standin.environ,
                       metrics=config.settings.metrics, store=store, timeout=5)


def _ref(media_id: str) -> Ref:
    return Ref(f"item/{media_id}", "instagram", media_id, "post", NOW - timedelta(hours=2))


def _post(standin: InstagramStandIn, caption: str = "Know the signs", **insights: int) -> str:
    return standin.published_earlier(caption, NOW - timedelta(hours=2), **insights)


def test_every_metric_of_a_post_in_one_operation_under_instagrams_names(
        tmp_path: Path, standin: InstagramStandIn) -> None:
    """views, reach, likes, comments, shares, saved and total_interactions: kept under
    Instagram's names, mapped to ours; total_interactions is the engagements."""
    media = _post(standin, **EVERY)
    result = _source(tmp_path, standin).collect([_ref(media)], NOW)
    assert result.errors == []
    assert measures(result.snapshots, media) == {
        "views": 1500, "reach": 900, "likes": 40, "replies": 6, "shares": 3, "engagements": 60}
    fields = by_field(result.snapshots, media)
    assert fields["saved"].value == 11 and fields["saved"].measure is None
    assert fields["total_interactions"].api_version == "v21.0"
    assert len(result.snapshots) == 7
    (call,) = standin.batch_calls
    assert call.path == "/v21.0/" and result.calls_made == 1


def test_120_posts_take_three_calls(tmp_path: Path, standin: InstagramStandIn) -> None:
    media = [_post(standin, f"post {i}", likes=i) for i in range(120)]
    source = _source(tmp_path, standin)
    result = source.collect([_ref(m) for m in media], NOW)
    assert len(standin.batch_calls) == math.ceil(120 / 50) == result.calls_made
    assert type(source).minimum_calls(120, source.metrics) == result.calls_made
    assert {s.remote_id for s in result.snapshots if s.measure == "likes"} == set(media)


def test_a_retired_metric_is_missing_and_the_others_survive(tmp_path: Path,
                                                            standin: InstagramStandIn) -> None:
    """`impressions` fails the post's request whole (code 100): its metrics are asked again one
    each; the retired one is missing with Graph's words, the others arrive. Other posts are
    unaffected by the second round."""
    media = _post(standin, views=300, likes=9)
    source = _source(tmp_path, standin, ["impressions", "views", "likes"])
    result = source.collect([_ref(media)], NOW)
    fields = by_field(result.snapshots, media)
    retired = fields["impressions"]
    assert retired.missing and retired.measure == "views" and "retired" in retired.reason
    assert "(#100)" in retired.reason
    assert fields["views"].value == 300 and fields["likes"].value == 9
    assert measures(result.snapshots, media)["views"] == 300
    assert result.errors == [] and result.calls_made == 2


def test_too_few_viewers_and_a_deleted_post_are_missing_with_the_reason(
        tmp_path: Path, standin: InstagramStandIn) -> None:
    quiet, gone = _post(standin, "quiet"), "17999999999999999"
    standin.few_viewers.add(quiet)
    result = _source(tmp_path, standin).collect([_ref(quiet), _ref(gone)], NOW)
    quiet_fields = by_field(result.snapshots, quiet)
    assert all(s.missing and "Not enough viewers" in s.reason for s in quiet_fields.values())
    assert len(quiet_fields) == len(EVERY)
    assert by_field(result.snapshots, gone)["post"].reason.startswith("the post could not be read")
    assert result.errors == [] and result.calls_made == 1


def test_a_rate_limit_stops_the_round_and_says_when(tmp_path: Path, standin: InstagramStandIn) -> None:
    media = _post(standin)
    reset = standin.rate_limit(regain_minutes=20)
    result = _source(tmp_path, standin).collect([_ref(media)], NOW)
    assert result.snapshots == [] and result.rate_limited_until == reset


def test_an_expired_token_is_an_error_and_never_in_a_url(tmp_path: Path,
                                                         standin: InstagramStandIn) -> None:
    media = _post(standin)
    standin.expire_token()
    result = _source(tmp_path, standin).collect([_ref(media)], NOW)
    assert result.snapshots == [] and "Instagram token no longer works" in result.errors[0]
    assert standin.token not in result.errors[0]
    assert all(standin.token not in c.raw_query and standin.token not in c.path
               for c in standin.calls)
