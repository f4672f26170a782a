"""Collection rounds: the cadence, dry-run rows, one platform's trouble not stopping the others,
the job and the `wst collect` command, over real SQLite and the stand-ins."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from standins.bluesky import BlueskyStandIn
from standins.facebook import FacebookStandIn
from standins.mailchimp import MailchimpStandIn
from standins.mastodon import MastodonStandIn
from standins.x import XStandIn
from test_metrics_support import NOW, config_for, publish, write_config

from pipeline.metrics.collect import collect_due, collect_job, due_refs
from pipeline.metrics.snapshots import Snapshots
from pipeline.store import open_store


def test_an_item_published_two_hours_ago_is_due_once_until_six_hours(tmp_path: Path) -> None:
    """1 h step: collected once at 2 h; not at 3 h or 5 h 59; again at 6 h; never after 28 days."""
    with MastodonStandIn(clock=lambda: NOW) as standin:
        config, store = config_for(tmp_path, {"mastodon": {"api_base": standin.base_url}})
        status = standin.add_status("p", favourites_count=1)
        publish(store, "mastodon", status, NOW - timedelta(hours=2))
        env = standin.environ
        assert collect_due(store, config, env, NOW).platforms["mastodon"].collected == 1
        for later in (NOW + timedelta(hours=1), NOW + timedelta(hours=3, minutes=59)):
            assert collect_due(store, config, env, later).platforms == {}
        assert collect_due(store, config, env, NOW + timedelta(hours=4)).platforms["mastodon"].due == 1
        assert len(standin.status_reads) == 2
        # Three steps missed (24 h, 72 h, 168 h): done once at the next run, not three times.
        assert collect_due(store, config, env, NOW + timedelta(days=8)).platforms["mastodon"].due == 1
        assert collect_due(store, config, env, NOW + timedelta(days=8, hours=1)).platforms == {}
        assert collect_due(store, config, env, NOW + timedelta(days=29)).platforms["mastodon"].due == 1
        assert collect_due(store, config, env, NOW + timedelta(days=400)).platforms == {}
        assert len(standin.status_reads) == 4
        assert len(Snapshots(store).last_collected()) == 1


def test_due_refs_start_a_bulletin_at_its_send_time(tmp_path: Path) -> None:
    """A bulletin handed over a day early starts its cadence when it goes out."""
    _config, store = config_for(tmp_path, {})
    from pipeline.ledger import Publications

    publish(store, "mailchimp", "abc", NOW - timedelta(hours=25), kind="bulletin",
            due=NOW - timedelta(minutes=30))
    entries = Publications(store).entries()
    assert due_refs(entries, {}, [1.0, 6.0], NOW) == []
    (due,) = due_refs(entries, {}, [1.0, 6.0], NOW + timedelta(hours=1))
    assert due.ref.published_at == NOW - timedelta(minutes=30)


def test_dry_run_publications_are_skipped(tmp_path: Path) -> None:
    """A dry-run row has no platform to ask: no call, no snapshot."""
    with MastodonStandIn(clock=lambda: NOW) as standin:
        config, store = config_for(tmp_path, {"mastodon": {"api_base": standin.base_url}})
        publish(store, "mastodon", "outbox/123", NOW - timedelta(hours=2), dry_run=True)
        summary = collect_due(store, config, standin.environ, NOW, only_due=False)
        assert summary.platforms == {} and standin.calls == []
        assert Snapshots(store).all() == []


def test_a_429_on_one_platform_does_not_stop_the_others(tmp_path: Path) -> None:
    """X rate-limited; Facebook, Bluesky, Mastodon and Mailchimp still collected and stored."""
    with XStandIn(clock=lambda: NOW) as x, FacebookStandIn(clock=lambda: NOW) as fb, \
            BlueskyStandIn(clock=lambda: NOW) as bsky, MastodonStandIn(clock=lambda: NOW) as masto, \
            MailchimpStandIn(clock=lambda: NOW) as mc:
        config, store = config_for(tmp_path, {
            "x": {"api_base": x.base_url},
            "facebook": {"api_base": fb.base_url, "api_version": fb.version,
                         "account_id": fb.page_id},
            "bluesky": {"api_base": bsky.base_url},
            "mastodon": {"api_base": masto.base_url},
            "mailchimp": {"api_base": mc.api_base, "account_id": mc.list_id}})
        published = NOW - timedelta(hours=2)
        publish(store, "x", x.add_tweet("x", like_count=1), published)
        publish(store, "facebook", fb.add_post("fb", reactions=2), published)
        publish(store, "bluesky", bsky.add_post("b", likeCount=3), published)
        publish(store, "mastodon", masto.add_status("m", favourites_count=4), published)
        publish(store, "mailchimp", mc.add_sent_campaign("B"), published, kind="bulletin")
        reset = x.rate_limit()
        env = {**x.environ, **fb.environ, **bsky.environ, **masto.environ, **mc.environ()}
        summary = collect_due(store, config, env, NOW)
        assert summary.platforms["x"].rate_limited_until == reset.isoformat()
        assert summary.platforms["x"].snapshots == 0
        for kind in ("facebook", "bluesky", "mastodon", "mailchimp"):
            assert summary.platforms[kind].collected == 1, kind
            assert summary.platforms[kind].errors == [], kind
        stored = {s.platform for s in Snapshots(store).all()}
        assert stored == {"facebook", "bluesky", "mastodon", "mailchimp"}
        assert summary.calls_made == sum(p.calls for p in summary.platforms.values())
        # The rate-limited X post is still due on the next round.
        x.clear_faults()
        again = collect_due(store, config, env, NOW + timedelta(minutes=15))
        assert set(again.platforms) == {"x"} and again.platforms["x"].collected == 1


def test_expired_credentials_skip_the_platform_and_record_the_error(tmp_path: Path) -> None:
    """No token in the environment: an error naming the variable, no calls to that platform."""
    with MastodonStandIn(clock=lambda: NOW) as masto:
        config, store = config_for(tmp_path, {"mastodon": {"api_base": masto.base_url}})
        publish(store, "mastodon", masto.add_status("m"), NOW - timedelta(hours=2))
        summary = collect_due(store, config, {}, NOW)
        assert "WST_MASTODON_TOKEN" in summary.errors[0] and masto.calls == []


def test_disabled_and_manual_channels_are_skipped(tmp_path: Path) -> None:
    """A channel switched off, or posted by hand, is reported as skipped, not an error."""
    config, store = config_for(tmp_path, {"whatsapp": {"kind": "manual"},
                                          "mastodon": {"api_base": "http://127.0.0.1:9",
                                                       "enabled": False}})
    publish(store, "whatsapp", "by-hand", NOW - timedelta(hours=2))
    publish(store, "mastodon", "1", NOW - timedelta(hours=2))
    summary = collect_due(store, config, {}, NOW)
    assert sorted(summary.skipped_channels) == ["mastodon", "whatsapp"] and summary.errors == []


def test_collect_job_runs_from_the_config_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scheduler's entry point: builds everything from the path, reads the real clock."""
    with MastodonStandIn() as masto:
        path = write_config(tmp_path, {"mastodon": {"api_base": masto.base_url}})
        monkeypatch.setenv("WST_MASTODON_TOKEN", masto.token)
        from pipeline.config import load_config

        store = open_store(load_config(path).store_url)
        publish(store, "mastodon", masto.add_status("m", favourites_count=5),
                datetime.now(UTC) - timedelta(hours=2))
        collect_job(str(path))
        (likes,) = [s for s in Snapshots(store).all() if s.measure == "likes"]
        assert likes.value == 5


def test_wst_collect_prints_a_summary_and_json(tmp_path: Path) -> None:
    """`wst collect` and `wst collect --json --all` over the real command."""
    from pipeline.cli import cli

    with MastodonStandIn() as masto:
        path = write_config(tmp_path, {"mastodon": {"api_base": masto.base_url}})
        from pipeline.config import load_config

        store = open_store(load_config(path).store_url)
        publish(store, "mastodon", masto.add_status("m", reblogs_count=2),
                datetime.now(UTC) - timedelta(hours=2))
        runner = CliRunner()
        env = {"WST_MASTODON_TOKEN": masto.token}
        first = runner.invoke(cli, ["--config", str(path), "collect"], env=env)
        assert first.exit_code == 0, first.output
        assert "mastodon: 1/1 items, 1 calls" in first.output
        second = runner.invoke(cli, ["--config", str(path), "collect", "--json"], env=env)
        assert "nothing due" not in second.output and json.loads(second.output)["platforms"] == {}
        third = runner.invoke(cli, ["--config", str(path), "collect", "--json", "--all"], env=env)
        data = json.loads(third.output)
        assert data["platforms"]["mastodon"]["calls"] == 1 and data["calls_made"] == 1
        refused = runner.invoke(cli, ["--config", str(path), "collect", "--all"], env={})
        assert refused.exit_code == 1 and "WST_MASTODON_TOKEN" in refused.output
