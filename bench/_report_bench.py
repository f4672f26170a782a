"""Benchmark: the evaluation report over two years holding 100,000 metric snapshots (goal < 2 s)."""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pipeline.metrics.records import Records  # noqa: E402
from pipeline.metrics.report import (  # noqa: E402
    AuditReach,
    CampaignInfo,
    ReportInputs,
    build_report,
    months_between,
)
from pipeline.metrics.snapshots import Snapshot, Snapshots  # noqa: E402
from pipeline.store import Store, ledger_table, open_store  # noqa: E402
from renderers.report import render_html  # noqa: E402

LONDON = ZoneInfo("Europe/London")
SNAPSHOTS = 100_000
GOAL_SECONDS = 2.0
CHANNELS = ("x", "facebook", "bluesky", "mastodon", "linkedin", "instagram")
CAMPAIGNS = ("safer-internet-day", "childrens-mental-health-week", "exploitation-day",
             "mental-health-awareness-week", "county-lines", "safeguarding-week",
             "world-mental-health-day", "anti-bullying-week", "safeguarding-adults-week",
             "orange-wolverhampton", "hate-crime-awareness-week", "suicide-prevention")
CADENCE_HOURS = (1, 6, 24, 72, 168, 672)
POST_MEASURES = ("views", "reach", "likes", "shares", "replies", "clicks", "engagements")
BULLETIN_MEASURES = ("delivered", "unique_opens", "open_rate", "unique_clicks", "click_rate",
                     "unsubscribes", "bounces")
AUDIT = {
    "wmp-wolverhampton-twitter": AuditReach("wmp-wolverhampton-twitter", "West Midlands Police",
                                            "Wolverhampton Twitter", "public", 12000),
    "cwc-city-people": AuditReach("cwc-city-people", "City of Wolverhampton Council",
                                  "Intranet – City People", "workforce", 5000),
    "hww-facebook": AuditReach("hww-facebook", "Healthwatch Wolverhampton", "HWW Facebook",
                               "both", 10379),
}


def _ledger_row(item_id: str, channel: str, kind: str, campaign: str, title: str,
                due: datetime, late_seconds: float, published: bool) -> dict:
    return dict(key=f"k{abs(hash((item_id, channel))) % 10**18:018d}", item_id=item_id,
                channel=channel, version="v1", kind=kind, campaign=campaign, title=title,
                responsibility="campaign-posts", help=False, due=due,
                state="published" if published else "failed", attempts=1,
                remote_id=f"r-{item_id}" if published else None,
                url=f"https://example.org/{item_id}" if published else None,
                published_at=due + timedelta(seconds=late_seconds) if published else None,
                lateness_seconds=late_seconds if published else None, dry_run=False,
                created_at=due - timedelta(days=30), updated_at=due)


def build_store(store: Store, start: date, end: date, snapshots: int = SNAPSHOTS,
                seed: int = 7) -> dict:
    """Fill `store` with ledger rows, snapshots and records over [start, end]; returns counts."""
    rng = random.Random(seed)
    rows: list[dict] = []
    snaps: list[Snapshot] = []
    months = months_between(start.strftime("%Y-%m"), end.strftime("%Y-%m"))
    for m in months:
        due = datetime(int(m[:4]), int(m[5:7]), 5, 9, 0, tzinfo=UTC)
        item = f"bulletin/{m}/mailchimp"
        rows.append(_ledger_row(item, "mailchimp", "bulletin", "e-bulletin", f"{m} e-bulletin",
                                due, 0.0, True))
        delivered = 2241 + rng.randint(-40, 60)
        opens = int(delivered * rng.uniform(0.28, 0.42))
        clicks = int(delivered * rng.uniform(0.02, 0.06))
        values = dict(delivered=delivered, unique_opens=opens, open_rate=opens / delivered,
                      unique_clicks=clicks, click_rate=clicks / delivered,
                      unsubscribes=rng.randint(0, 6), bounces=rng.randint(0, 12))
        for hours in CADENCE_HOURS:
            at = due + timedelta(hours=hours)
            snaps += [Snapshot(item, "mailchimp", "mailchimp", "c1", k, k, float(v), at)
                      for k, v in values.items()]
    days = (end - start).days + 1
    n = 0
    while len(snaps) < snapshots:
        day = start + timedelta(days=n * 7919 % days)
        campaign = CAMPAIGNS[n % len(CAMPAIGNS)]
        channel = CHANNELS[n % len(CHANNELS)]
        item = f"{campaign}/post-{n}/{day.isoformat()}/{channel}"
        due = datetime(day.year, day.month, day.day, 10, 0, tzinfo=LONDON).astimezone(UTC)
        late = rng.choice((0.0, 12.0, 40.0, 95.0, 5400.0))
        published = n % 41 != 0
        rows.append(_ledger_row(item, channel, "post", campaign, f"Post {n} for {campaign}",
                                due, late, published))
        n += 1
        if not published:
            continue
        views = rng.randint(200, 6000)
        for step, hours in enumerate(CADENCE_HOURS, start=1):
            grown = views * step / len(CADENCE_HOURS)
            likes, shares, replies, clicks = (int(grown * f) for f in (0.03, 0.008, 0.004, 0.01))
            values = dict(views=grown, reach=grown * 0.8, likes=likes, shares=shares,
                          replies=replies, clicks=clicks,
                          engagements=likes + shares + replies + clicks)
            at = due + timedelta(hours=hours)
            snaps += [Snapshot(item, channel, channel, f"r-{item}", f"{channel}_{k}", k,
                               float(v), at) for k, v in values.items()]
    snaps = snaps[:snapshots]
    with store.engine.begin() as conn:
        conn.execute(ledger_table.insert(), rows)
    Snapshots(store).add(snaps)
    records = Records(store)
    now = datetime(end.year, end.month, end.day, 23, 0, tzinfo=UTC)
    for i in range(60):
        day = start + timedelta(days=i * 11 % days)
        records.add_engagement(day, f"Community event {i}", rng.randint(5, 120), rng.randint(0, 4),
                               "bench", now)
    for i in range(80):
        post = rows[(i * 37) % len(rows)]
        day = post["due"].date()
        channel = list(AUDIT.values())[i % len(AUDIT)]
        from pipeline.metrics.records import PartnerChannel

        records.add_share(PartnerChannel(channel.id, channel.organisation, channel.name,
                                         channel.audience, channel.reach),
                          post["item_id"], day, "bench", now)
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "concerns.csv"
        lines = ["month,children,adults"]
        for m in months_between("2022-04", "2023-03") + months:
            lines.append(f"{m},{rng.randint(300, 380)},{rng.randint(150, 210)}")
        csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        records.import_concerns(csv_path, "bench", now)
    return {"ledger_rows": len(rows), "snapshots": len(snaps)}


def bench_inputs(start: date, end: date, now: datetime) -> ReportInputs:
    """Report inputs for the benchmark's made-up campaigns (each live for a fortnight a year)."""
    infos = {}
    for i, cid in enumerate(CAMPAIGNS):
        spans = []
        for year in range(start.year, end.year + 1):
            a = date(year, 1 + i, 3)
            spans.append((a, a + timedelta(days=13)))
        infos[cid] = CampaignInfo(cid, cid.replace("-", " ").capitalize(), tuple(spans))
    return ReportInputs(start=start, end=end, tz=LONDON, now=now, campaigns=infos, audit=AUDIT,
                        partnership="Wolverhampton Safeguarding Together",
                        bulletin_stories={m: 5 for m in months_between(
                            start.strftime("%Y-%m"), end.strftime("%Y-%m"))},
                        x_spend=lambda year, month: 0.005 * (30 + month))


def report_benchmark() -> None:
    """Build a two-year store with 100,000 snapshots and print how long the report takes."""
    start, end = date(2025, 1, 1), date(2026, 12, 31)
    now = datetime(2027, 1, 2, 9, 0, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/bench.sqlite")
        try:
            counts = build_store(store, start, end)
            began = time.perf_counter()
            data = build_report(store, bench_inputs(start, end, now))
            built = time.perf_counter()
            html = render_html(data)
            done = time.perf_counter()
        finally:
            store.close()
    total = done - began
    verdict = "within" if total < GOAL_SECONDS else "OVER"
    print(f"report: 2 years, {counts['snapshots']:,} snapshots, {counts['ledger_rows']:,} "
          f"ledger rows: data {built - began:.3f} s + HTML {done - built:.3f} s "
          f"({len(html) // 1024} KiB) = {total:.3f} s, {verdict} the {GOAL_SECONDS:g} s goal")


if __name__ == "__main__":
    report_benchmark()
