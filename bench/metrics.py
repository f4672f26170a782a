"""Collection benchmark: prints figures, asserts nothing (shared machines are noisy).

For 1,000 published X posts, 300 each of Facebook, Instagram, LinkedIn and Bluesky posts and
24 bulletins (ledger rows
written directly into a temporary store, every platform a stand-in on loopback): the HTTP calls
made against the fewest each platform allows (the ratio should be 1.0), and the wall time of one
whole collection round.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from standins.bluesky import BlueskyStandIn  # noqa: E402 - after the path set-up above
from standins.facebook import FacebookStandIn  # noqa: E402
from standins.instagram import InstagramStandIn  # noqa: E402
from standins.linkedin import LinkedInStandIn  # noqa: E402
from standins.mailchimp import MailchimpStandIn  # noqa: E402
from standins.x import XStandIn  # noqa: E402
from test_metrics_support import config_for, publish  # noqa: E402

from pipeline.channels.registry import KINDS, load  # noqa: E402
from pipeline.metrics.collect import collect_due  # noqa: E402

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
COUNTS = {"x": 1000, "facebook": 300, "instagram": 300, "linkedin": 300, "bluesky": 300,
          "mailchimp": 24}


def minimum(kind: str, count: int, metrics) -> int:
    """The fewest calls the platform allows for `count` items (Bluesky: plus its one login)."""
    return load(KINDS[kind].source).minimum_calls(count, metrics) + (1 if kind == "bluesky" else 0)


def main() -> None:
    """Seed, collect once, print the figures."""
    clock = lambda: NOW  # noqa: E731 - the stand-ins' fixed clock
    with tempfile.TemporaryDirectory() as folder, XStandIn(clock=clock) as x, \
            FacebookStandIn(clock=clock) as fb, BlueskyStandIn(clock=clock) as bsky, \
            MailchimpStandIn(clock=clock) as mc, InstagramStandIn(clock=clock) as ig, \
            LinkedInStandIn(clock=clock) as li:
        # A budget that fits 1,000 reads, so the figure is the batching, not the budget.
        config, store = config_for(Path(folder), {
            "x": {"api_base": x.base_url},
            "facebook": {"api_base": fb.base_url, "api_version": fb.version, "account_id": fb.page_id},
            "instagram": {"api_base": ig.base_url, "api_version": ig.version,
                          "account_id": ig.ig_user_id, "image_base_url": ig.site_url},
            "linkedin": {"api_base": li.base_url, "api_version": "202511",
                         "account_id": li.organisation_id},
            "bluesky": {"api_base": bsky.base_url},
            "mailchimp": {"api_base": mc.api_base, "account_id": mc.list_id}},
            {"x_monthly_budget_usd": 10.0})
        published = NOW - timedelta(hours=2)
        for i in range(COUNTS["x"]):
            publish(store, "x", x.add_tweet(f"x {i}", like_count=i), published)
        for i in range(COUNTS["facebook"]):
            publish(store, "facebook", fb.add_post(f"fb {i}", reactions=i, post_media_view=10 * i),
                    published)
        for i in range(COUNTS["instagram"]):
            publish(store, "instagram", ig.published_earlier(f"ig {i}", published, likes=i), published)
        for i in range(COUNTS["linkedin"]):
            publish(store, "linkedin", li.add_post(f"li {i}", likeCount=i), published)
        for i in range(COUNTS["bluesky"]):
            publish(store, "bluesky", bsky.add_post(f"b {i}", likeCount=i), published)
        for i in range(COUNTS["mailchimp"]):
            publish(store, "mailchimp", mc.add_sent_campaign(f"Bulletin {i}"), published,
                    kind="bulletin")
        env = {**x.environ, **fb.environ, **ig.environ, **li.environ, **bsky.environ,
               **mc.environ()}
        started = time.perf_counter()
        summary = collect_due(store, config, env, NOW)
        seconds = time.perf_counter() - started
        metrics = config.settings.metrics
        print(f"{'platform':<10} {'items':>6} {'calls':>6} {'minimum':>8} {'ratio':>6}")
        total_calls = total_min = 0
        for kind, count in COUNTS.items():
            made = summary.platforms[kind].calls
            least = minimum(kind, count, metrics)
            total_calls += made
            total_min += least
            print(f"{kind:<10} {count:>6} {made:>6} {least:>8} {made / least:>6.1f}")
        print(f"{'overall':<10} {sum(COUNTS.values()):>6} {total_calls:>6} {total_min:>8} "
              f"{total_calls / total_min:>6.1f}")
        print(f"snapshots stored: {summary.snapshots_stored} ({summary.missing} missing); "
              f"errors: {len(summary.errors)}")
        print(f"X spend this month: ${summary.x_spent_usd:.3f}")
        print(f"collection wall time: {seconds:.2f} s")
        store.close()
    # The reports engineer's figure: a report over two years holding 100,000 snapshots.
    report_figure()


def report_figure() -> None:
    """bench/_report_bench.py's report_benchmark() when it exists."""
    if (Path(__file__).resolve().parent / "_report_bench.py").exists():
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _report_bench import report_benchmark

        report_benchmark()
    else:
        print("report benchmark: not available")


if __name__ == "__main__":
    main()
