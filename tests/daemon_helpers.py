"""Shared helpers for tests/test_daemon_faults.py and tests/test_jobs.py.

A live project written into a temporary folder whose channels point at loopback stand-ins, the
real `wst` (and `wst run`) in subprocesses killed with real signals, bounded waits, and a small
runner that lets slow daemon scenarios wait side by side.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from conftest import clean_env, run_wst, wst_command

LONDON = ZoneInfo("Europe/London")
PERSON = "approver"
CAMPAIGN = "fault-drill"
WAIT = 20.0  # the longest any single wait may take


def wait_until(predicate: Callable[[], Any], what: str, timeout: float = WAIT,
               every: float = 0.05) -> Any:
    """Poll `predicate` until it is truthy (returned) or `timeout` passes (AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def sleep_until(moment: datetime) -> None:
    """Sleep (bounded) until the wall clock has passed `moment`."""
    left = (moment - datetime.now(UTC)).total_seconds()
    assert left < 90, f"refusing to sleep {left:.0f} s"
    if left > 0:
        time.sleep(left)


def due_in(seconds: float) -> datetime:
    """A whole-second UTC time at least `seconds` from now (for `wst post --at`)."""
    return datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=math.ceil(seconds) + 1)


# -- a live project on stand-ins --------------------------------------------------------------

CALENDAR = """\
[priorities]
testing = "Testing"

[cadence]
send_day = "first Tuesday"
send_time = "10:00"
channels = []
from_month = "2099-01"

[[event]]
id = "every-sunday"
title = "Every Sunday"
rule = "FREQ=WEEKLY;BYDAY=SU"

[[campaign]]
id = "fault-drill"
title = "Fault drill"
priority = "testing"
events = ["every-sunday"]
live_before_days = 90
live_after_days = 90
channels = [{channels}]
"""

CONFIG = """\
mode = "{mode}"

[partnership]
name = "Wolverhampton Safeguarding Together"
short_name = "WST"
website = "https://www.wolverhamptonsafeguarding.org.uk"
timezone = "Europe/London"

[official]
child_mash = "01902 555392"
adult_mash = "01902 551199"
out_of_hours = "01902 552999"
website = "www.wolverhamptonsafeguarding.org.uk"

[store]
url = "{store_url}"
lock_stale_seconds = {lock_stale_seconds}

[scheduler]
grace_minutes = {grace_minutes}
watch_seconds = {watch_seconds}
request_timeout_seconds = {request_timeout_seconds}
retry_backoff_seconds = {retry_backoff_seconds}
retry_limit = {retry_limit}
horizon_days = 3

[roles]
approvers = "Approvers"

[people.approver]
name = "An accountable approver"
roles = ["approvers"]

[responsibilities.campaign-posts]
title = "Campaign posts"
accountable = ["approvers"]

[responsibilities.reactive-posts]
title = "Reactive posts"
accountable = ["approvers"]

[responsibilities.e-bulletins]
title = "Bulletins"
accountable = ["approvers"]

[responsibilities.comms-freeze]
title = "Comms freeze"
accountable = ["approvers"]
"""

CHANNEL = {
    "x": """
[channels.x]
kind = "x"
api_base = "{url}"
handle = "@wvsafeguarding"
consumer_key_env = "WST_X_CONSUMER_KEY"
consumer_secret_env = "WST_X_CONSUMER_SECRET"
access_token_env = "WST_X_ACCESS_TOKEN"
access_secret_env = "WST_X_ACCESS_SECRET"
""",
    "mastodon": """
[channels.mastodon]
kind = "mastodon"
api_base = "{url}"
token_env = "WST_MASTODON_TOKEN"
""",
}

DEFAULTS = {"mode": "live", "grace_minutes": 60, "watch_seconds": 0.5,
            "request_timeout_seconds": 1.0, "retry_backoff_seconds": 0.5, "retry_limit": 3,
            "lock_stale_seconds": 120}


def post_block(post_id: str, when: datetime | str, text: str, channels: list[str] | None = None,
               extra: str = "") -> str:
    """One [[post]] of content/posts/fault-drill.toml; a datetime becomes `at` local time."""
    if isinstance(when, datetime):
        when = f"at {when.astimezone(LONDON):%Y-%m-%d %H:%M}"
    lines = [f'[[post]]\nid = "{post_id}"\nwhen = "{when}"\ntext = {json.dumps(text)}']
    if channels is not None:
        lines.append(f"channels = {json.dumps(channels)}")
    return "\n".join(lines) + extra + "\n\n"


@dataclass
class LiveProject:
    """A project folder whose channels are the given started stand-ins ({name: standin})."""

    path: Path
    standins: dict[str, Any]
    daemons: list[DaemonProcess] = field(default_factory=list)

    @classmethod
    def create(cls, path: Path, standins: dict[str, Any], posts: str = "", **settings: Any) -> LiveProject:
        """Write config.toml, schedules/ and content/ (posts: [[post]] blocks) into `path`."""
        path.mkdir(parents=True, exist_ok=True)
        values = {**DEFAULTS, **settings, "db": (path / "var" / "wst.sqlite").resolve()}
        values.setdefault("store_url", f"sqlite:///{values['db']}")
        config = CONFIG.format(**values)
        for name, standin in standins.items():
            config += CHANNEL[name].format(url=standin.base_url)
        (path / "config.toml").write_text(config, encoding="utf-8")
        (path / "schedules").mkdir(exist_ok=True)
        (path / "schedules" / "calendar.toml").write_text(
            CALENDAR.format(channels=", ".join(f'"{n}"' for n in standins)), encoding="utf-8")
        project = cls(path, standins)
        project.write_posts(posts)
        return project

    @property
    def config(self) -> Path:
        return self.path / "config.toml"

    @property
    def env(self) -> dict[str, str]:
        """The environment of every `wst` run: the stand-ins' credentials."""
        extra: dict[str, str] = {}
        for standin in self.standins.values():
            extra.update(standin.environ)
        return clean_env(**extra)

    def write_posts(self, posts: str) -> None:
        """Replace content/posts/fault-drill.toml."""
        target = self.path / "content" / "posts" / f"{CAMPAIGN}.toml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(posts, encoding="utf-8")

    # -- the CLI ------------------------------------------------------------------------------

    def wst(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`wst --config <project> ARGS` with the stand-ins' credentials; never raises."""
        return run_wst("--config", str(self.config), *args, cwd=self.path, env=self.env)

    def ok(self, *args: str) -> str:
        """Run a command that must succeed; its standard output."""
        result = self.wst(*args)
        assert result.returncode == 0, (f"wst {' '.join(args)} exited {result.returncode}:\n"
                                        f"{result.stdout}\n{result.stderr}")
        return result.stdout

    def post(self, text: str, channels: str, at: datetime, *extra: str) -> str:
        """A reactive post at `at` (second precision, with its offset), approved at creation."""
        out = self.ok("post", "--text", text, "--channels", channels, "--at",
                      at.isoformat(timespec="seconds"), "--approved-by", PERSON, *extra)
        # a slow machine must not turn the case into another: the time has to be still ahead
        assert "saved" in out, f"`wst post` ran past {at:%H:%M:%S}; choose a later time:\n{out}"
        return out

    def history(self) -> list[dict[str, Any]]:
        """`wst history --json` from yesterday to tomorrow (so midnight can't hide a row)."""
        today = datetime.now(LONDON).date()
        return json.loads(self.ok("history", "--json", "--from", str(today - timedelta(days=1)),
                                  "--to", str(today + timedelta(days=1))))

    def rows(self, channel: str) -> list[dict[str, Any]]:
        """History rows of one channel, in due order."""
        return [r for r in self.history() if r["channel"] == channel]

    def status(self) -> dict[str, Any]:
        """`wst status --json`."""
        return json.loads(self.ok("status", "--json"))

    def states(self, channel: str) -> list[str]:
        """The channel's ledger states in history order, read straight from the SQLite file
        (cheap enough to poll, where a `wst history` per poll would load the machine)."""
        db = self.path / "var" / "wst.sqlite"
        if not db.exists():
            return []
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
            return [r[0] for r in conn.execute(
                "SELECT state FROM ledger WHERE channel = ? AND state != 'superseded' "
                "ORDER BY due, item_id", (channel,))]

    def wait_state(self, channel: str, state: str, index: int = 0, timeout: float = WAIT) -> dict:
        """Wait until the channel's `index`th row is in `state`; that row from `wst history`."""
        def reached() -> bool:
            states = self.states(channel)
            return len(states) > index and states[index] == state
        wait_until(reached, f"{channel} row {index} to be {state}", timeout, every=0.1)
        row = self.rows(channel)[index]
        assert row["state"] == state, row
        return row

    # -- the daemon ---------------------------------------------------------------------------

    def start(self, *args: str, host: str | None = None) -> DaemonProcess:
        """Start `wst run ARGS` (not waiting for it to be ready), as if on machine `host`."""
        daemon = DaemonProcess(self, len(self.daemons) + 1, args, host)
        self.daemons.append(daemon)
        return daemon

    def run(self) -> DaemonProcess:
        """Start `wst run` and wait until its jobs are scheduled."""
        daemon = self.start()
        daemon.wait_ready()
        return daemon

    def kill_all(self) -> None:
        """Teardown: SIGKILL whatever is still running, and reap it."""
        for daemon in self.daemons:
            daemon.kill(signal.SIGKILL)


class DaemonProcess:
    """One real `wst run` in a subprocess, its output in files in the project folder."""

    def __init__(self, project: LiveProject, n: int, args: tuple[str, ...] = (),
                 host: str | None = None):
        self.stdout_path = project.path / f"daemon-{n}.out"
        self.stderr_path = project.path / f"daemon-{n}.err"
        self._out = self.stdout_path.open("w")
        self._err = self.stderr_path.open("w")
        command = [*wst_command(), "--config", str(project.config), "run", *args]
        if host is not None:
            command = as_host(host, command)
        self.proc = subprocess.Popen(command, cwd=project.path, env=project.env,
                                     stdout=self._out, stderr=self._err)

    @property
    def log(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def wait_ready(self) -> None:
        """Until it says its jobs are scheduled (AssertionError with its log if it exits)."""
        wait_until(lambda: "ready: jobs scheduled" in self.log or not self.running,
                   "the daemon to start")
        assert self.running, f"the daemon exited {self.proc.returncode}:\n{self.log}"

    def wait_exit(self, timeout: float = WAIT) -> int:
        """Wait (bounded) for it to exit; its status."""
        return self.proc.wait(timeout=timeout)

    def kill(self, sig: int = signal.SIGKILL) -> int | None:
        """Send a real signal and reap the process (a zombie would still hold the lock)."""
        if self.running:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=WAIT)
        self._out.close()
        self._err.close()
        return self.proc.returncode


# -- slow scenarios side by side -------------------------------------------------------------

class Scenarios:
    """Daemon scenarios mostly wait on the clock, so they run in threads side by side; each one
    asserts inside itself, and its test takes the outcome (re-raising its failure)."""

    def __init__(self, workers: int):
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scenario")
        self.futures: dict[str, Future[None]] = {}

    def submit(self, name: str, scenario: Callable[[Path], None], folder: Path) -> None:
        self.futures[name] = self.pool.submit(scenario, folder)

    def outcome(self, name: str, timeout: float = 240) -> None:
        self.futures[name].result(timeout=timeout)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def other_hosts_possible() -> bool:
    """Whether as_host() works here: a UTS namespace of its own needs root and unshare."""
    return os.geteuid() == 0 and shutil.which("unshare") is not None


def as_host(host: str, command: list[str]) -> list[str]:
    """`command` in a UTS namespace of its own whose host name is `host`: to the daemon lock it is
    another machine (same processes, same loopback; exec keeps the pid, so signals reach it)."""
    return ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', host, *command]


def local_today() -> date:
    """Today in the partnership's zone."""
    return datetime.now(LONDON).date()
