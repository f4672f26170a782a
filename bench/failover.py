"""Failover benchmark: two daemons share one PostgreSQL store, as on two machines; the active one
is SIGKILLed just before four items fall due; how long until the standby publishes them?

For each stale time ([store] lock_stale_seconds) a throwaway PostgreSQL cluster on loopback
(tests/pgcluster.py) holds the store; `wst run` is the active daemon and `wst run --standby` the
standby, in a UTS namespace of its own named like another machine when this one allows it (root
and unshare), so only the stale heartbeat frees the lock, as between two machines; otherwise on
this host, where the killed pid's absence frees it at once. Heartbeats every watch_seconds (5 s,
the default). Prints, per stale time: kill → standby ready, kill → last item published, and the
items' lateness. Asserts nothing; everything runs on 127.0.0.1 and cleans up after itself.
Run with `.venv/bin/python bench/failover.py`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _publish_helpers import (  # bench/ (and tests/, by the helpers) are put on the path
    READY_LINE,
    daemon_env,
    reactive_posts,
    standins,
    write_project,
    wst_command,
    wst_json,
)
from daemon_helpers import as_host, other_hosts_possible
from pgcluster import Cluster, missing

STALE_TIMES = (10, 30)         # [store] lock_stale_seconds, one run each
DUE_AFTER_START = 20           # seconds from the standby standing by to the items' due time
KILL_BEFORE_DUE = 3            # the active daemon is killed this long before they are due
TIMEOUT = 180                  # seconds after the kill before giving up


class Daemon:
    """`wst run ARGS` as a subprocess (optionally as another host), its output in a file."""

    def __init__(self, config: Path, env: dict[str, str], name: str, *args: str,
                 host: str | None = None):
        self.log_path = config.parent / f"{name}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115  (closed in stop())
        command = [*wst_command(), "--config", str(config), "run", *args]
        self.proc = subprocess.Popen(as_host(host, command) if host else command,
                                     cwd=config.parent, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, text: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


def failover(cluster: Cluster, stale: int, host: str | None) -> None:
    print(f"stale time {stale} s:")
    with tempfile.TemporaryDirectory(prefix="wst-bench-failover-") as tmp, standins() as servers:
        config = write_project(Path(tmp), servers)
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace('url = "sqlite:///var/wst.sqlite"',
                                       f'url = "{cluster.database()}"\n'
                                       f"lock_stale_seconds = {stale}"), encoding="utf-8")
        env = daemon_env(servers)
        active = Daemon(config, env, "active")
        standby = None
        try:
            if not active.wait_for(READY_LINE, 120):
                print("  the active daemon did not start:\n" + active.log()[-2000:])
                return
            standby = Daemon(config, env, "standby", "--standby", host=host)
            if not standby.wait_for("holds the daemon lock", 120):
                print("  the standby did not stand by:\n" + standby.log()[-2000:])
                return
            due = (datetime.now(UTC) + timedelta(seconds=DUE_AFTER_START)).replace(microsecond=0)
            made = reactive_posts(config, env, [due], approve=True, tag="Failover")
            time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds() - KILL_BEFORE_DUE))
            active.stop(signal.SIGKILL)
            killed, killed_wall = time.monotonic(), datetime.now(UTC)
            ready = standby.wait_for(READY_LINE, TIMEOUT)
            took_over = time.monotonic() - killed
            if not ready:
                print("  the standby did not take over:\n" + standby.log()[-2000:])
                return
            while time.monotonic() - killed < TIMEOUT and \
                    sum(len(s.posts) for s in servers.values()) < made:
                time.sleep(0.1)
            today = datetime.now(UTC).date()
            rows = wst_json(config, env, "history", "--from", str(today - timedelta(days=1)),
                            "--to", str(today + timedelta(days=1)))
        finally:
            if standby is not None:
                standby.stop()
            active.stop()
    done = [datetime.fromisoformat(r["published_at"]) for r in rows
            if r["state"] == "published" and r["published_at"]]
    posted = sum(len(s.posts) for s in servers.values())
    print(f"  {len(done)} of {made} items published ({posted} posts on the stand-ins), "
          f"due {KILL_BEFORE_DUE} s after the kill")
    print(f"  kill → standby ready (lock taken, caught up)    {took_over:6.1f} s")
    if done:
        last = max(done)
        print(f"  kill → last item published                      "
              f"{(last - killed_wall).total_seconds():6.1f} s")
        print(f"  lateness of the items (published - due), max    "
              f"{(last - due).total_seconds():6.1f} s")


def main() -> None:
    print(f"Python {sys.version.split()[0]}; {os.cpu_count()} cores; heartbeat every 5 s "
          f"([scheduler] watch_seconds)")
    problem = missing()
    if problem:
        print(f"skipped: {problem}")
        return
    host = "standby-machine" if other_hosts_possible() else None
    print("the standby runs as another host (UTS namespace): only staleness frees the lock\n"
          if host else "the standby runs on this host (not root): the dead pid frees the lock\n")
    cluster = Cluster().start()
    try:
        for stale in STALE_TIMES:
            failover(cluster, stale, host)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
