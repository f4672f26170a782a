"""The batching job store under APScheduler, on a real SQLite store: every due job runs once,
fired jobs leave the table, and a burst costs a handful of transactions, not one per job."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.jobstores.base import JobLookupError
from sqlalchemy import event, text

from pipeline.scheduler import make_scheduler
from pipeline.store import open_store

RAN: list[str] = []
RAN_LOCK = threading.Lock()


def record(name: str) -> None:
    """The job: note that it ran."""
    with RAN_LOCK:
        RAN.append(name)


def wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_a_burst_runs_each_job_once_and_removes_them_in_one_go(tmp_path: Path) -> None:
    RAN.clear()
    store = open_store(f"sqlite:///{tmp_path / 'wst.sqlite'}")
    scheduler = make_scheduler(store.engine, UTC, workers=8, grace_seconds=60)
    commits: list[int] = []
    scheduler.start(paused=True)
    try:
        due = datetime.now(UTC) + timedelta(seconds=1)
        names = [f"job-{n}" for n in range(60)]
        for name in names:
            scheduler.add_job(record, "date", run_date=due, args=[name], id=f"publish:{name}")
        scheduler.add_job(record, "date", run_date=due + timedelta(days=1), args=["later"],
                          id="publish:later")
        event.listen(store.engine, "commit", lambda _conn: commits.append(1))
        scheduler.resume()
        assert wait_for(lambda: len(RAN) >= len(names))

        def left() -> list[str]:
            with store.engine.connect() as conn:
                return list(conn.execute(text("SELECT id FROM apscheduler_jobs")).scalars())
        assert wait_for(lambda: left() == ["publish:later"])
        time.sleep(0.3)
        assert sorted(RAN) == sorted(names)  # each once, the later one not yet
        # a round reads the due jobs, deletes the fired ones together, reads the next time
        assert len(commits) < 10, len(commits)
        assert scheduler.get_job("publish:job-0") is None
        with pytest.raises(JobLookupError):
            scheduler.remove_job("publish:job-0")  # a fired job is gone, as APScheduler says
        scheduler.remove_job("publish:later")
        assert left() == []
    finally:
        scheduler.shutdown(wait=True)
        store.close()


def test_a_job_added_again_under_a_fired_id_is_kept(tmp_path: Path) -> None:
    """A retry scheduled under the id of a job that just fired replaces it, never vanishes
    with the deferred delete."""
    RAN.clear()
    store = open_store(f"sqlite:///{tmp_path / 'wst.sqlite'}")
    scheduler = make_scheduler(store.engine, UTC, workers=2, grace_seconds=60)
    scheduler.start()
    try:
        scheduler.add_job(record, "date", run_date=datetime.now(UTC) + timedelta(seconds=0.3),
                          args=["first"], id="retry:a")
        assert wait_for(lambda: RAN == ["first"])
        scheduler.add_job(record, "date", run_date=datetime.now(UTC) + timedelta(days=1),
                          args=["again"], id="retry:a", replace_existing=True)
        time.sleep(0.3)
        job = scheduler.get_job("retry:a")
        assert job is not None and job.args == ("again",)
    finally:
        scheduler.shutdown(wait=True)
        store.close()
