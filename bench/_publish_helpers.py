"""Helpers for bench/publish.py: a throwaway live project on loopback stand-ins, the daemon as a
subprocess, and /proc readings. Nothing here asserts; everything is bounded in time."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterable
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT, ROOT / "tests"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from standins.bluesky import BlueskyStandIn  # noqa: E402  (the paths are set just above)
from standins.facebook import FacebookStandIn  # noqa: E402
from standins.mastodon import MastodonStandIn  # noqa: E402
from standins.x import XStandIn  # noqa: E402

CHANNELS = ("facebook", "x", "bluesky", "mastodon")
PERSON = "approver"
READY_LINE = "ready: jobs scheduled"
CLK_TCK = os.sysconf("SC_CLK_TCK")

CONFIG = """\
mode = "live"

[partnership]
name = "Benchmark Safeguarding Partnership"
short_name = "BSP"
website = "https://www.wolverhamptonsafeguarding.org.uk"
timezone = "Europe/London"

[official]
child_mash = "01902 555392"
adult_mash = "01902 551199"
out_of_hours = "01902 552999"
website = "www.wolverhamptonsafeguarding.org.uk"

[store]
url = "sqlite:///var/wst.sqlite"
{scheduler}
[channels.facebook]
kind = "facebook"
api_base = "{facebook.base_url}"
api_version = "{facebook.version}"
account_id = "{facebook.page_id}"
token_env = "WST_FACEBOOK_PAGE_TOKEN"

[channels.x]
kind = "x"
api_base = "{x.base_url}"
handle = "@wvsafeguarding"
consumer_key_env = "WST_X_CONSUMER_KEY"
consumer_secret_env = "WST_X_CONSUMER_SECRET"
access_token_env = "WST_X_ACCESS_TOKEN"
access_secret_env = "WST_X_ACCESS_SECRET"

[channels.bluesky]
kind = "bluesky"
api_base = "{bluesky.base_url}"
handle = "{bluesky.handle}"
username_env = "WST_BLUESKY_HANDLE"
password_env = "WST_BLUESKY_APP_PASSWORD"

[channels.mastodon]
kind = "mastodon"
api_base = "{mastodon.base_url}"
token_env = "WST_MASTODON_TOKEN"

[roles]
approvers = "Approvers"

[people.approver]
name = "An approver"
roles = ["approvers"]

[responsibilities.reactive-posts]
title = "Reactive posts"
accountable = ["approvers"]

[responsibilities.campaign-posts]
title = "Campaign posts"
accountable = ["approvers"]

[responsibilities.e-bulletins]
title = "Bulletins"
accountable = ["approvers"]

[responsibilities.comms-freeze]
title = "Comms freeze"
accountable = ["approvers"]
"""

CALENDAR = '[priorities]\nbench = "Benchmark"\n\n[cadence]\nfrom_month = "2099-01"\nchannels = []\n'


@contextmanager
def standins(create_delay: float = 0.0):
    """The four social stand-ins on 127.0.0.1, each answering post creation `create_delay` late."""
    with ExitStack() as stack:
        found = {"facebook": FacebookStandIn(), "x": XStandIn(), "bluesky": BlueskyStandIn(),
                 "mastodon": MastodonStandIn()}
        for s in found.values():
            stack.enter_context(s)
            if create_delay:
                # the base's fault queue: handled at once, answered `create_delay` later
                s.delay(create_delay, times=10**9, land=True)
        yield found


def write_project(root: Path, servers: dict[str, Any], scheduler: str = "") -> Path:
    """A live project with no campaigns (reactive posts only); returns config.toml."""
    (root / "schedules").mkdir(parents=True)
    (root / "content" / "posts").mkdir(parents=True)
    (root / "schedules" / "calendar.toml").write_text(CALENDAR, encoding="utf-8")
    config = root / "config.toml"
    block = f"\n[scheduler]\n{scheduler}\n" if scheduler else ""
    config.write_text(CONFIG.format(scheduler=block, **servers), encoding="utf-8")
    return config


def daemon_env(servers: dict[str, Any]) -> dict[str, str]:
    """This environment without WST_CONFIG, plus every stand-in's credentials."""
    env = {k: v for k, v in os.environ.items() if k != "WST_CONFIG"}
    for s in servers.values():
        env.update(s.environ)
    return env


def wst_command() -> list[str]:
    """The `wst` script beside this interpreter (else `python -m pipeline`)."""
    script = Path(sys.executable).with_name("wst")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pipeline"]


def reactive_posts(config: Path, environ: dict[str, str], dues: Iterable[datetime], *,
                   approve: bool, tag: str) -> int:
    """Save one reactive post per due time on all four channels through the library (as
    `wst post --at` does); with `approve`, sync and approve each item. Returns items made."""
    from pipeline.reactive import ReactivePost, items_for, new_id
    from pipeline.workspace import Workspace

    with Workspace(config, environ) as ws:
        now = datetime.now(UTC)
        enabled = set(ws.config.enabled_channels())
        made = 0
        for n, due in enumerate(dues):
            text = (f"{tag} update {n}: if you are worried about a child, "
                    f"call 01902 555392. We are here to help.")
            rp = ReactivePost(new_id(text, due), text, CHANNELS, "", "", False, due.astimezone(UTC))
            ws.reactive.add(rp, PERSON, now)
            items = items_for(rp, ws.config.tz, enabled)
            made += len(items)
            if approve:
                ws.ledger.publications.sync_planned(items, now, dry_run=ws.catalog.dry_run_for)
                for item in items:
                    ws.ledger.approvals.approve(item.id, item.version, PERSON, now,
                                                ws.config.settings)
        return made


class DaemonProcess:
    """`wst --config CONFIG run` as a subprocess, its stderr in a file; stopped by SIGTERM."""

    def __init__(self, config: Path, environ: dict[str, str]):
        self.log_path = config.parent / "daemon.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115  (closed in stop())
        self.proc = subprocess.Popen([*wst_command(), "--config", str(config), "run"],
                                     cwd=config.parent, env=environ, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        self.started = time.monotonic()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, timeout: float) -> float | None:
        """Seconds until the daemon said it was ready, or None (exited or timed out)."""
        deadline = self.started + timeout
        while time.monotonic() < deadline:
            if READY_LINE in self.log():
                return time.monotonic() - self.started
            if self.proc.poll() is not None:
                return None
            time.sleep(0.1)
        return None

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM, then SIGKILL after `timeout`; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()
        return self.proc.returncode

    def tail(self, lines: int = 15) -> str:
        return "\n".join("    " + line for line in self.log().splitlines()[-lines:])


def rss_mib(pid: int) -> float:
    """Resident set size from /proc/PID/status (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process from /proc/PID/stat, in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of stat(5)


def count_rows(db: Path, sql: str) -> int:
    """A read-only count straight from SQLite (no write lock, unlike the store's BEGIN IMMEDIATE)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        return int(conn.execute(sql).fetchone()[0])


def wst_json(config: Path, environ: dict[str, str], *args: str, timeout: float = 120) -> Any:
    """Run a `wst ... --json` command and decode its output."""
    done = subprocess.run([*wst_command(), "--config", str(config), *args, "--json"],
                          cwd=config.parent, env=environ, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wst {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.4999)))
    return ordered[rank - 1]
