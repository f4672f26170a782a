"""Time and peak memory of loading and planning: the bundled year, and a generated 60,000-item year.

Prints figures beside their goals; asserts nothing about speed (machines differ). Run with
`make bench` or `.venv/bin/python bench/plan.py`.
"""

from __future__ import annotations

import gc
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.check import load_project  # noqa: E402
from pipeline.config import load_config  # noqa: E402  (the path is set just above)
from pipeline.plan import make_plan  # noqa: E402

CAMPAIGNS, POSTS, CHANNELS = 50, 200, ("facebook", "x", "instagram", "bluesky", "mastodon",
                                       "linkedin")
YEAR = (date(2026, 9, 1), date(2027, 8, 31))
GENERATED_YEAR = (date(2027, 1, 1), date(2027, 12, 31))


def measure(fn: Callable[[], Any], repeat: int = 1) -> tuple[Any, float, float]:
    """(result, best seconds of `repeat` untraced runs, peak MiB of one traced run)."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, best, peak / 2**20


def row(label: str, seconds: float, mib: float, goal: str = "") -> None:
    print(f"  {label:<34} {seconds * 1000:9.1f} ms {mib:9.1f} MiB peak   {goal}")


def bundled() -> None:
    config_path = ROOT / "config.toml"
    project, load_s, load_mib = measure(lambda: load_project(load_config(config_path)), 3)
    plan, plan_s, plan_mib = measure(lambda: make_plan(project, *YEAR), 3)
    _, both_s, both_mib = measure(lambda: make_plan(load_project(load_config(config_path)), *YEAR), 3)
    print(f"Bundled year {YEAR[0]} to {YEAR[1]}: {len(project.posts)} posts, "
          f"{len(plan.items)} items, {len(project.errors)} load error(s)")
    row("load (config, schedules, content)", load_s, load_mib)
    row("plan alone", plan_s, plan_mib)
    row("load + plan", both_s, both_mib,
        f"goal < 500 ms: {'met' if both_s < 0.5 else 'NOT MET'}")


CONFIG = """\
[partnership]
name = "Benchmark Partnership"
website = "https://example.org"

[official]
child_mash = "01902 555392"
adult_mash = "01902 551199"
out_of_hours = "01902 552999"
website = "www.wolverhamptonsafeguarding.org.uk"

[channels.mailchimp]
kind = "mailchimp"
{channels}
[roles]
approvers = "Approvers"

[people.approver]
name = "Approver"
roles = ["approvers"]

[responsibilities.campaign-posts]
title = "Posts"
accountable = ["approvers"]

[responsibilities.e-bulletins]
title = "Bulletins"
accountable = ["approvers"]
"""


def write_generated(root: Path) -> None:
    """50 week-long events and campaigns, 200 posts each, all going to six channels."""
    channels = "".join(f'\n[channels.{c}]\nkind = "{c}"\ntoken_env = "BENCH_{c.upper()}"\n'
                       for c in CHANNELS)
    (root / "config.toml").write_text(CONFIG.format(channels=channels), encoding="utf-8")
    (root / "schedules").mkdir()
    (root / "content" / "posts").mkdir(parents=True)
    cal = ['[priorities]\nbench = "Benchmark"\n\n[cadence]\nfrom_month = "2099-01"\n']
    for c in range(CAMPAIGNS):
        month, day = 3 + c % 8, 1 + (c * 3) % 27  # March to October, clear of the year's ends
        cal.append(f'[[event]]\nid = "event-{c}"\ntitle = "Event {c}"\ndate = "{month:02d}-{day:02d}"\n'
                   f'days = 7\n\n[[campaign]]\nid = "campaign-{c}"\ntitle = "Campaign {c}"\n'
                   f'priority = "bench"\nevents = ["event-{c}"]\nlive_before_days = 40\n'
                   f'live_after_days = 40\nchannels = {list(CHANNELS)!r}\n'.replace("'", '"'))
        posts = []
        for p in range(POSTS):
            at = f"{8 + p % 12:02d}:{(p * 7) % 60:02d}"
            kind = p % 4
            if kind == 0:
                when = f"{1 + p % 38} days before at {at}"
            elif kind == 1:
                when = f"{1 + p % 38} days after at {at}"
            elif kind == 2:
                when = f"on day {1 + p % 7} of the event at {at}"
            else:
                when = f"on the day at {at}"
            posts.append(f'[[post]]\nid = "post-{p}"\nwhen = "{when}"\n'
                         f'text = "Post {p} of campaign {c}: talk to someone you trust, or call '
                         f'01902 555392."\n\n[post.variants]\nx = "Short post {p}."\n')
        (root / "content" / "posts" / f"campaign-{c}.toml").write_text("\n".join(posts),
                                                                        encoding="utf-8")
    (root / "schedules" / "calendar.toml").write_text("\n".join(cal), encoding="utf-8")


def generated() -> None:
    with tempfile.TemporaryDirectory(prefix="wst-bench-") as tmp:
        root = Path(tmp)
        write_generated(root)
        config_path = root / "config.toml"
        project, load_s, load_mib = measure(lambda: load_project(load_config(config_path)))
        plan, plan_s, plan_mib = measure(lambda: make_plan(project, *GENERATED_YEAR))
        expected = CAMPAIGNS * POSTS * len(CHANNELS)
        print(f"\nGenerated: {CAMPAIGNS} campaigns x {POSTS} posts x {len(CHANNELS)} channels, "
              f"{len(project.posts)} posts, {len(plan.items)} items (expected {expected}), "
              f"{len(project.errors)} load error(s)")
        for problem in project.errors[:3]:
            print(f"    {problem}")
        row("load (real TOML files)", load_s, load_mib)
        row("plan", plan_s, plan_mib,
            f"goal < 3000 ms: {'met' if plan_s < 3 else 'NOT MET'}")
        row("load + plan", load_s + plan_s, max(load_mib, plan_mib),
            f"goal < 3000 ms: {'met' if load_s + plan_s < 3 else 'NOT MET'}")


if __name__ == "__main__":
    print(f"Python {sys.version.split()[0]}; times are the best untraced run, memory from one "
          f"run under tracemalloc\n")
    bundled()
    generated()
