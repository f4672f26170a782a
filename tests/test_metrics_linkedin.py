"""LinkedIn post statistics over real HTTP against the stand-in: organizationalEntityShareStatistics
for several posts in one call; and Instagram's and LinkedIn's figures in the report."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from standins.instagram import InstagramStandIn
from standins.linkedin import LinkedInStandIn
from test_metrics_support import NOW, by_field, config_for, measures, publish

from pipeline.metrics.base import Ref, make_source
from pipeline.metrics.collect import collect_due
from pipeline.metrics.report import ReportInputs, build_report

STATS = dict(impressionCount=2000, uniqueImpressionsCount=1200, likeCount=35, commentCount=4,
             shareCount=6, clickCount=80, engagement=0.0625)


@pytest.fixture
def standin() -> Iterator[LinkedInStandIn]:
    """A started LinkedIn stand-in."""
    with LinkedInStandIn(clock=lambda: NOW) as s:
        yield s


def _source(tmp_path: Path, standin: LinkedInStandIn):
    config, store = config_for(tmp_path, {"linkedin": {
        "api_base": standin.base_url, "api_version": "202511", "account_id": standin.organisation_id}})
    return make_source("linkedin", config.settings.channels["linkedin"], standin.environ,
                       metrics=config.settings.metrics, store=store, timeout=5)


def _ref(urn: str) -> Ref:
    return Ref(f"item/{urn}", "linkedin", urn, "post", NOW - timedelta(hours=2))


def _calls(standin: LinkedInStandIn):
    return standin.calls_to("GET", "/rest/organizationalEntityShareStatistics")


def test_statistics_of_several_posts_in_one_call_under_linkedins_names(
        tmp_path: Path, standin: LinkedInStandIn) -> None:
    """Lifetime totals, kept as totalShareStatistics.*; engagements are derived from the counts
    (LinkedIn's `engagement` is a rate, kept without a measure)."""
    first, second = standin.add_post("One", **STATS), standin.add_post("Two", likeCount=2)
    result = _source(tmp_path, standin).collect([_ref(first), _ref(second)], NOW)
    assert result.errors == [] and result.calls_made == 1
    assert measures(result.snapshots, first) == {
        "views": 2000, "reach": 1200, "likes": 35, "replies": 4, "shares": 6, "clicks": 80,
        "engagements": 35 + 4 + 6 + 80}
    fields = by_field(result.snapshots, first)
    assert fields["totalShareStatistics.engagement"].value == 0.0625
    assert fields["totalShareStatistics.engagement"].measure is None
    assert fields["derived.engagements"].api_version == "202511"
    assert measures(result.snapshots, second)["likes"] == 2
    (call,) = _calls(standin)
    assert "shares=List(urn%3Ali%3Ashare%3A" in call.raw_query
    assert call.headers["linkedin-version"] == "202511"


def test_45_posts_take_three_calls(tmp_path: Path, standin: LinkedInStandIn) -> None:
    posts = [standin.add_post(f"post {i}", likeCount=i) for i in range(45)]
    source = _source(tmp_path, standin)
    result = source.collect([_ref(p) for p in posts], NOW)
    assert len(_calls(standin)) == math.ceil(45 / 20) == result.calls_made
    assert type(source).minimum_calls(45) == result.calls_made
    assert {s.remote_id for s in result.snapshots if s.measure == "likes"} == set(posts)


def test_shares_and_ugc_posts_are_asked_apart_and_an_unknown_post_is_missing(
        tmp_path: Path, standin: LinkedInStandIn) -> None:
    share = standin.add_post("a share", likeCount=3)
    ugc = standin.add_post("a video", kind="ugcPost", likeCount=7)
    gone = "urn:li:share:1"
    result = _source(tmp_path, standin).collect([_ref(share), _ref(ugc), _ref(gone)], NOW)
    assert measures(result.snapshots, share)["likes"] == 3
    assert measures(result.snapshots, ugc)["likes"] == 7
    assert by_field(result.snapshots, gone)["post"].missing
    assert [("ugcPosts=List(" in c.raw_query) for c in _calls(standin)] == [False, True]


def test_the_daily_limit_stops_the_round_until_midnight_utc(tmp_path: Path,
                                                            standin: LinkedInStandIn) -> None:
    post = standin.add_post("busy")
    standin.rate_limit()
    result = _source(tmp_path, standin).collect([_ref(post)], NOW)
    assert result.snapshots == []
    assert result.rate_limited_until == datetime(2026, 11, 11, tzinfo=UTC)


def test_statistics_need_the_admin_permission(tmp_path: Path, standin: LinkedInStandIn) -> None:
    """Without rw_organization_admin LinkedIn answers 403: recorded, naming what is needed."""
    post = standin.add_post("p")
    standin.scopes.discard("rw_organization_admin")
    result = _source(tmp_path, standin).collect([_ref(post)], NOW)
    assert result.snapshots == [] and "rw_organization_admin" in result.errors[0]
    assert standin.token not in result.errors[0]
    assert all(standin.token not in c.raw_query for c in standin.calls)


def test_instagram_and_linkedin_figures_reach_the_report(tmp_path: Path) -> None:
    """A collection round over both (the real collect_due, from config) stores the figures, and
    the evaluation report counts them per post and per channel like any other platform's."""
    published = NOW - timedelta(hours=2)
    with LinkedInStandIn(clock=lambda: NOW) as linkedin, InstagramStandIn(clock=lambda: NOW) as ig:
        config, store = config_for(tmp_path, {
            "linkedin": {"api_base": linkedin.base_url, "api_version": "202511",
                         "account_id": linkedin.organisation_id},
            "instagram": {"api_base": ig.base_url, "api_version": ig.version,
                          "account_id": ig.ig_user_id, "image_base_url": ig.site_url}})
        li_item = publish(store, "linkedin", linkedin.add_post("Hello", **STATS), published)
        ig_item = publish(store, "instagram", ig.published_earlier(
            "Hi", published, views=1500, reach=900, likes=40, comments=6, shares=3,
            total_interactions=60), published)
        summary = collect_due(store, config, {**linkedin.environ, **ig.environ}, NOW)
        assert summary.errors == []
        assert {k: (p.collected, p.calls) for k, p in summary.platforms.items()} == {
            "linkedin": (1, 1), "instagram": (1, 1)}
    day = NOW.date()
    report = build_report(store, ReportInputs(start=day, end=day, tz=ZoneInfo("Europe/London"),
                                              now=NOW))
    posts = {p["item"]: p for p in report["posts"]}
    assert (posts[li_item]["views"], posts[li_item]["reach"], posts[li_item]["engagements"]) == (
        2000, 1200, 125)
    assert (posts[ig_item]["views"], posts[ig_item]["reach"], posts[ig_item]["engagements"]) == (
        1500, 900, 60)
    channels = {c["channel"]: c for c in report["channels"]}
    assert channels["instagram"]["engagement_rate"] == round(60 / 1500, 4)
    assert report["totals"]["reach"] == 2100
