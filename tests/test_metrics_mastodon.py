"""Mastodon metrics over real HTTP against the instance stand-in: one status a call."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from standins.mastodon import MastodonStandIn
from test_metrics_support import NOW, by_field, config_for, measures

from pipeline.metrics.base import Ref, make_source


@pytest.fixture
def standin() -> Iterator[MastodonStandIn]:
    """A started instance stand-in."""
    with MastodonStandIn(clock=lambda: NOW) as s:
        yield s


def _source(tmp_path: Path, standin: MastodonStandIn):
    config, store = config_for(tmp_path, {"mastodon": {"api_base": standin.base_url}})
    return make_source("mastodon", config.settings.channels["mastodon"], standin.environ,
                       metrics=config.settings.metrics, store=store, timeout=5)


def _ref(status_id: str) -> Ref:
    return Ref(f"item/{status_id}", "mastodon", status_id, "post", NOW - timedelta(hours=2))


def test_status_counts_become_measures(tmp_path: Path, standin: MastodonStandIn) -> None:
    """favourites, reblogs, replies; one call per status."""
    a = standin.add_status("one", favourites_count=6, reblogs_count=2, replies_count=1)
    b = standin.add_status("two", favourites_count=1)
    result = _source(tmp_path, standin).collect([_ref(a), _ref(b)], NOW)
    assert measures(result.snapshots, a) == {"likes": 6, "shares": 2, "replies": 1, "quotes": 0,
                                             "engagements": 9}
    assert measures(result.snapshots, b)["likes"] == 1
    assert len(standin.status_reads) == 2 == result.calls_made


def test_a_deleted_status_is_missing(tmp_path: Path, standin: MastodonStandIn) -> None:
    """404 Record not found: a missing post, and the round goes on."""
    a = standin.add_status("here", favourites_count=2)
    result = _source(tmp_path, standin).collect([_ref("999"), _ref(a)], NOW)
    assert by_field(result.snapshots, "999")["post"].missing
    assert measures(result.snapshots, a)["likes"] == 2 and result.errors == []


def test_rate_limit_stops_the_round(tmp_path: Path, standin: MastodonStandIn) -> None:
    """429 with an ISO 8601 X-RateLimit-Reset: later statuses are not asked."""
    ids = [standin.add_status(f"s{i}") for i in range(3)]
    reset = standin.rate_limit()
    result = _source(tmp_path, standin).collect([_ref(i) for i in ids], NOW)
    assert result.rate_limited_until == reset and len(standin.status_reads) == 1


def test_revoked_token_is_an_error_without_it(tmp_path: Path, standin: MastodonStandIn) -> None:
    """401: recorded once, the round stops, the token never appears."""
    ids = [standin.add_status(f"s{i}") for i in range(3)]
    standin.expire_token()
    result = _source(tmp_path, standin).collect([_ref(i) for i in ids], NOW)
    assert len(result.errors) == 1 and standin.token not in result.errors[0]
    assert len(standin.status_reads) == 1
