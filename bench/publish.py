"""Publishing daemon benchmark: lateness under a burst, reconcile time, and the idle daemon's cost.

1. Lateness: 100 and then 500 items (25 and 125 reactive posts x facebook, x, bluesky, mastodon)
   due at one moment about 30 s ahead, in live mode, on loopback stand-ins that answer every post
   creation 50 ms late; `wst run` as a subprocess publishes them; lateness = published_at - due,
   read back with `wst history --json`. Goal: p99 under 1 s at 100 items and under 3 s at 500.
2. Reconcile: pipeline.scheduler.reconcile on a real SQLite store with APScheduler's SQLAlchemy
   job store: 10,000 new items, then nothing changed, then 100 moved. Goal: under 5 s.
3. Idle: `wst run` with 10,000 future items scheduled; RSS (VmRSS) and CPU (utime + stime) over
   60 s (10 s with --quick). Goal: under 150 MB and 1% of a core.

Prints figures beside their goals; asserts nothing (machines differ). Everything runs on
127.0.0.1, is bounded in time, and cleans up its processes and temporary folders.
Run with `.venv/bin/python bench/publish.py [--quick]`.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _publish_helpers import (  # bench/ is put on the path just above
    CHANNELS,
    DaemonProcess,
    count_rows,
    cpu_seconds,
    daemon_env,
    percentile,
    reactive_posts,
    rss_mib,
    standins,
    write_project,
    wst_json,
)

BURSTS = {25: 1.0, 125: 3.0}      # reactive posts (x 4 channels = 100, 500 items): p99 goal, s
BURST_LEAD = timedelta(seconds=30)
CREATE_DELAY = 0.05               # each stand-in answers a post creation 50 ms late
PUBLISH_TIMEOUT = 120             # seconds after the due time before giving up
RECONCILE_ITEMS = 10_000
RECONCILE_MOVED = 100
IDLE_POSTS = 2_500                # x 4 channels = 10,000 future items
READY_TIMEOUT = 300
SETTLE_SECONDS = 8.0             # > watch_seconds (5 s by default)


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def line(label: str, value: str, goal: str = "") -> None:
    print(f"  {label:<44} {value:>14}   {goal}")


# -- 1. lateness ---------------------------------------------------------------------------------


def lateness(posts: int, goal: float, workers: int | None = None) -> None:
    print(f"1. Lateness: {posts} reactive posts x {len(CHANNELS)} channels "
          f"({', '.join(CHANNELS)}) due at one moment, live mode, stand-ins answer post creation "
          f"{CREATE_DELAY * 1000:.0f} ms late; `wst run` subprocess")
    with tempfile.TemporaryDirectory(prefix="wst-bench-publish-") as tmp, \
            standins(CREATE_DELAY) as servers:
        config = write_project(Path(tmp), servers,
                               f"workers = {workers}" if workers is not None else "")
        env = daemon_env(servers)
        due = (datetime.now(UTC) + BURST_LEAD).replace(microsecond=0)
        t0 = time.perf_counter()
        made = reactive_posts(config, env, [due] * posts, approve=True, tag="Burst")
        print(f"  {made} items saved and approved in {time.perf_counter() - t0:.1f} s; "
              f"due {due:%H:%M:%S} UTC")
        daemon = DaemonProcess(config, env)
        try:
            ready = daemon.wait_ready(READY_TIMEOUT)
            if ready is None:
                print("  the daemon did not become ready:\n" + daemon.tail())
                return
            ahead = (due - datetime.now(UTC)).total_seconds()
            print(f"  daemon ready in {ready:.1f} s, {ahead:.1f} s before the due time")
            deadline = due + timedelta(seconds=PUBLISH_TIMEOUT)
            # CPU from just before the due time to the end: is the burst bound by the daemon's
            # CPU (the GIL), or by waiting? The stand-ins run in this process, on the same cores.
            time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds() - 0.5))
            cpu0, own0, wall0 = cpu_seconds(daemon.pid), time.process_time(), time.monotonic()
            db = Path(tmp) / "var" / "wst.sqlite"
            sql = "SELECT count(*) FROM ledger WHERE state = 'published'"
            published = 0
            while datetime.now(UTC) < deadline:
                created = sum(len(s.posts) for s in servers.values())
                if created >= made:
                    published = count_rows(db, sql)
                    if published >= made:
                        break
                if daemon.proc.poll() is not None:
                    print("  the daemon exited:\n" + daemon.tail())
                    break
                time.sleep(0.25 if datetime.now(UTC) > due else 1.0)
            settled = (datetime.now(UTC) - due).total_seconds()
            burst_cpu = (cpu_seconds(daemon.pid) - cpu0, time.process_time() - own0,
                         time.monotonic() - wall0)
        finally:
            daemon.stop()
        today = datetime.now(UTC).date()
        rows = wst_json(config, env, "history", "--from", str(today - timedelta(days=1)),
                        "--to", str(today + timedelta(days=1)))
    states: dict[str, int] = {}
    for r in rows:
        states[r["state"]] = states.get(r["state"], 0) + 1
    done = [r for r in rows if r["state"] == "published" and r["published_at"]]
    print(f"  history: {len(rows)} rows: "
          + ", ".join(f"{k} {v}" for k, v in sorted(states.items()))
          + f"; the wait ended {settled:.1f} s after due")
    daemon_cpu, own_cpu, wall = burst_cpu
    print(f"  CPU over those {wall:.1f} s: daemon {daemon_cpu:.2f} s "
          f"({daemon_cpu / wall * 100:.0f}% of a core), stand-ins and this script {own_cpu:.2f} s")
    if not done:
        print("  nothing was published; no lateness figures")
        return
    late = [(datetime.fromisoformat(r["published_at"]) - datetime.fromisoformat(r["due"]))
            .total_seconds() for r in done]
    start = [r["lateness_seconds"] for r in done if r["lateness_seconds"] is not None]
    p99 = percentile(late, 99)
    line("published_at - due, p50", f"{percentile(late, 50) * 1000:.0f} ms")
    line("published_at - due, p99", f"{p99 * 1000:.0f} ms",
         f"goal < {goal * 1000:.0f} ms: {verdict(p99 < goal and len(done) == made)}")
    line("published_at - due, max", f"{max(late) * 1000:.0f} ms")
    if start:
        line("start of the call - due (ledger), p50 / p99",
             f"{percentile(start, 50) * 1000:.0f} / {percentile(start, 99) * 1000:.0f} ms")
    if len(done) < made:
        print(f"  only {len(done)} of {made} published (goal counts as not met)")


# -- 2. reconcile --------------------------------------------------------------------------------


def reconcile_items(now: datetime, n: int) -> list:
    from pipeline.plan import Item

    items = []
    for i in range(n):
        due = now + timedelta(days=1, minutes=37 * i)
        channel = CHANNELS[i % len(CHANNELS)]
        items.append(Item(id=f"bench/post-{i // len(CHANNELS)}/{due.date().isoformat()}/{channel}",
                          kind="post", campaign="bench", channel=channel, due=due,
                          title=f"Benchmark post {i}", version=f"{i:012x}", status="planned",
                          source=f"bench/post-{i // len(CHANNELS)}"))
    return items


def reconcile_bench() -> None:
    from zoneinfo import ZoneInfo

    from pipeline.scheduler import JOBS_TABLE, make_scheduler, reconcile
    from pipeline.store import open_store

    print(f"\n2. Reconcile: {RECONCILE_ITEMS:,} future items, SQLite store, APScheduler "
          f"SQLAlchemy job store (scheduler started paused, as the daemon does)")
    with tempfile.TemporaryDirectory(prefix="wst-bench-reconcile-") as tmp:
        db = Path(tmp) / "wst.sqlite"
        store = open_store(f"sqlite:///{db}")
        scheduler = make_scheduler(store.engine, ZoneInfo("Europe/London"), workers=16,
                                   grace_seconds=3600)
        scheduler.start(paused=True)
        try:
            now = datetime.now(UTC)
            items = reconcile_items(now, RECONCILE_ITEMS)
            moved = [dataclasses.replace(i, due=i.due + timedelta(minutes=5))
                     if n % (RECONCILE_ITEMS // RECONCILE_MOVED) == 0 else i
                     for n, i in enumerate(items)]
            for label, batch, goal in (
                    (f"first ({RECONCILE_ITEMS:,} to add)", items, 5.0),
                    ("second (nothing changed)", items, None),
                    (f"third ({RECONCILE_MOVED} moved)", moved, None)):
                t0 = time.perf_counter()
                result = reconcile(scheduler, batch, "/bench/config.toml", now)
                seconds = time.perf_counter() - t0
                line(label, f"{seconds * 1000:.0f} ms",
                     f"goal < {goal * 1000:.0f} ms: {verdict(seconds < goal)}" if goal else "")
                print(f"    {result}")
            print(f"  jobs in {JOBS_TABLE}: {count_rows(db, f'SELECT count(*) FROM {JOBS_TABLE}'):,}")
        finally:
            scheduler.shutdown(wait=False)
            store.close()


# -- 3. idle -------------------------------------------------------------------------------------


def idle(window: float) -> None:
    print(f"\n3. Idle: `wst run` subprocess with {IDLE_POSTS * len(CHANNELS):,} future items "
          f"({IDLE_POSTS:,} reactive posts x {len(CHANNELS)} channels, from 2 days to ~300 days "
          f"ahead); window {window:.0f} s")
    with tempfile.TemporaryDirectory(prefix="wst-bench-idle-") as tmp, standins() as servers:
        config = write_project(Path(tmp), servers)
        env = daemon_env(servers)
        start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=2)
        dues = [start + timedelta(minutes=173 * n) for n in range(IDLE_POSTS)]
        t0 = time.perf_counter()
        reactive_posts(config, env, dues, approve=False, tag="Idle")
        print(f"  posts saved in {time.perf_counter() - t0:.1f} s")
        daemon = DaemonProcess(config, env)
        try:
            ready = daemon.wait_ready(READY_TIMEOUT)
            if ready is None:
                print("  the daemon did not become ready:\n" + daemon.tail())
                return
            db = Path(tmp) / "var" / "wst.sqlite"
            jobs = count_rows(db, "SELECT count(*) FROM apscheduler_jobs")
            publish_jobs = count_rows(db, "SELECT count(*) FROM apscheduler_jobs "
                                          "WHERE id LIKE 'publish:%'")
            line("start-up to ready (sync + reconcile)", f"{ready:.1f} s")
            print(f"  jobs scheduled: {jobs:,} ({publish_jobs:,} item jobs)")
            # the first watch round does the hourly housekeeping (the unapproved-items alert reads
            # every planned row); let it pass so the window sees the steady state
            time.sleep(SETTLE_SECONDS)
            print(f"  window opens {SETTLE_SECONDS:.0f} s after ready (after the first watch round)")
            pid = daemon.pid
            rss_start, cpu_start, t_start = rss_mib(pid), cpu_seconds(pid), time.monotonic()
            peak = rss_start
            while time.monotonic() - t_start < window and daemon.proc.poll() is None:
                time.sleep(0.5)
                peak = max(peak, rss_mib(pid))
            if daemon.proc.poll() is not None:
                print("  the daemon exited during the window:\n" + daemon.tail())
                return
            rss_end, cpu_end = rss_mib(pid), cpu_seconds(pid)
            elapsed = time.monotonic() - t_start
        finally:
            daemon.stop()
    cpu = (cpu_end - cpu_start) / elapsed * 100
    line("RSS at start / end of the window", f"{rss_start:.0f} / {rss_end:.0f} MiB")
    line("RSS peak in the window", f"{peak:.0f} MiB",
         f"goal < 150 MB ({150e6 / 2**20:.0f} MiB): {verdict(peak * 2**20 < 150e6)}")
    line(f"CPU over {elapsed:.0f} s (utime + stime)", f"{cpu:.2f} % core",
         f"goal < 1% of a core: {verdict(cpu < 1)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 10 s idle window (smoke run)")
    parser.add_argument("--workers", type=int, default=None,
                        help="[scheduler] workers for the lateness run (default: the config default)")
    parser.add_argument("--only", choices=("lateness", "reconcile", "idle"),
                        help="run one benchmark")
    args = parser.parse_args()
    window = 10.0 if args.quick else 60.0
    print(f"Python {sys.version.split()[0]}; {os.cpu_count()} cores; idle window {window:.0f} s"
          f"{' (--quick)' if args.quick else ''}; {date.today()}\n")
    if args.only in (None, "lateness"):
        for posts, goal in BURSTS.items():
            lateness(posts, goal, args.workers)
    if args.only in (None, "reconcile"):
        reconcile_bench()
    if args.only in (None, "idle"):
        idle(window)


if __name__ == "__main__":
    main()
