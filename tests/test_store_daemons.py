"""The store under real daemons: `wst run` processes started together on a brand-new PostgreSQL
database, a standby that takes over from a SIGKILLed daemon on a shared PostgreSQL, and a SQLite
store file deleted or replaced under a running daemon. Real processes, real signals, real HTTP to
loopback stand-ins; every case ends by counting the posts on the stand-in."""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_helpers import LiveProject, due_in, other_hosts_possible, wait_until
from standins.x import XStandIn

TEXT = "Worried about a child? You can talk to us."
ALREADY = "already publishing from this store"


@pytest.fixture
def x() -> Iterator[XStandIn]:
    with XStandIn() as standin:
        yield standin


@pytest.fixture
def live(tmp_path: Path, x: XStandIn) -> Iterator[callable]:
    """Make LiveProjects on the X stand-in; their daemons are SIGKILLed and reaped at the end."""
    made: list[LiveProject] = []

    def make(name: str = "project", **settings) -> LiveProject:
        project = LiveProject.create(tmp_path / name, {"x": x}, **settings)
        made.append(project)
        return project

    yield make
    for project in made:
        project.kill_all()


def test_two_daemons_on_a_brand_new_postgres_database_one_runs_every_time(
        postgres, live, x: XStandIn) -> None:
    """Ten rounds of two `wst run` started together on a database nobody has opened: the store
    is created once, one daemon runs, and the other exits with the clear message naming it
    (never a UniqueViolation from two processes creating the tables)."""
    for round_ in range(10):
        project = live(f"round-{round_}", store_url=postgres.database())
        a, b = project.start(), project.start()
        wait_until(lambda a=a, b=b: not a.running or not b.running,
                   "one of the two daemons to exit", timeout=60)
        loser, winner = (a, b) if not a.running else (b, a)
        winner.wait_ready()
        assert loser.wait_exit() != 0, loser.log
        assert ALREADY in loser.log, f"round {round_}:\n{loser.log}"
        assert f"pid {winner.proc.pid}" in loser.log
        assert "Traceback" not in loser.log and "UniqueViolation" not in loser.log
        winner.kill(signal.SIGTERM)
        project.kill_all()


def test_a_standby_takes_over_when_the_active_daemon_is_killed(postgres, live,
                                                               x: XStandIn) -> None:
    """Two daemons share one PostgreSQL store, as on two machines: exactly one publishes; the
    standby waits, and when the active one is SIGKILLed it takes over once the lock is stale and
    publishes what was due; a third daemon without --standby exits with the clear message."""
    project = live(store_url=postgres.database(), lock_stale_seconds=3)
    active = project.run()
    # another machine if this one allows it (the lock then waits for staleness, not for the pid)
    host = "standby-machine" if other_hosts_possible() else None
    standby = project.start("--standby", host=host)
    wait_until(lambda: "standby:" in standby.log and "holds the daemon lock" in standby.log,
               "the standby to say who holds the lock", timeout=60)
    assert standby.running and "ready: jobs scheduled" not in standby.log
    due = due_in(12)
    project.post(TEXT, "x", due)
    active.kill(signal.SIGKILL)  # no cleanup: the lock row is left as a crash leaves it
    killed = time.monotonic()
    standby.wait_ready()
    took = time.monotonic() - killed
    assert "took the daemon lock over" in standby.log
    if host is not None:  # another machine can't see the pid: only staleness frees the lock
        assert took >= 2.0, f"taken over {took:.1f} s after the kill, before the lock was stale"
    wait_until(lambda: x.posts, "the standby to publish the item", timeout=60)
    wait_until(lambda: project.rows("x")[0]["state"] == "published", "the row to be published",
               every=0.5)
    time.sleep(1.0)
    assert len(x.posts) == 1 and len(x.create_calls) == 1
    third = project.start()
    assert third.wait_exit() != 0
    assert ALREADY in third.log and f"pid {standby.proc.pid}" in third.log
    assert standby.running


def test_a_daemon_whose_store_file_is_deleted_alerts_and_stops(live, x: XStandIn) -> None:
    """Delete the SQLite file under a running daemon: at its next heartbeat it alerts, stops
    without publishing more and exits non-zero; then a command may create a new store."""
    project = live(watch_seconds=0.5)
    daemon = project.run()
    db = project.path / "var" / "wst.sqlite"
    project.post(TEXT, "x", due_in(30))  # would go out later, from the deleted file
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    assert daemon.wait_exit() != 0
    assert "ALERT store: the store file was deleted; wst run stopped" in daemon.log
    assert "was deleted while `wst run` was using it" in daemon.log
    assert project.ok("status")  # nothing runs on it now: a new, empty store is fine
    assert db.exists() and x.create_calls == []


def test_a_daemon_whose_store_file_is_replaced_alerts_and_stops(live, x: XStandIn,
                                                                tmp_path: Path) -> None:
    """Replace the SQLite file (another file moved over it): the daemon notices, alerts, stops."""
    project = live(watch_seconds=0.5)
    other = live("other")
    other.ok("status")  # makes other/var/wst.sqlite: a real store, a different file
    daemon = project.run()
    db = project.path / "var" / "wst.sqlite"
    os.replace(other.path / "var" / "wst.sqlite", db)
    assert daemon.wait_exit() != 0
    assert "ALERT store: the store file was replaced; wst run stopped" in daemon.log


def test_no_command_creates_a_new_store_under_a_running_daemon(live, x: XStandIn) -> None:
    """While a daemon still runs on a deleted store file (its heartbeat has not come yet), no
    command creates a new, empty store in its place: `wst status` and a second `wst run`
    refuse, naming the daemon's pid. Once it has stopped, they may."""
    project = live(watch_seconds=60)  # the daemon will not notice during this test
    daemon = project.run()
    db = project.path / "var" / "wst.sqlite"
    shutil.rmtree(db.parent)  # the whole folder, as `make clean` would
    status = project.wst("status")
    assert status.returncode != 0
    assert f"`wst run` (pid {daemon.proc.pid}) is still running" in status.stderr, status.stderr
    assert "Traceback" not in status.stderr and not db.exists()
    second = project.start()
    assert second.wait_exit() != 0
    assert f"pid {daemon.proc.pid}" in second.log and not db.exists()
    daemon.kill(signal.SIGTERM)
    assert project.ok("status") and db.exists()
