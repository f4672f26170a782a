"""APScheduler's own SQLAlchemy job store over the store's engine, on a real SQLite file and a
real PostgreSQL database: every due job of a burst runs once, fired jobs leave the table, and a
job added again under a fired id is kept."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.jobstores.base import JobLookupError
from sqlalchemy import text

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


def test_a_burst_runs_each_job_once_and_removes_the_fired_ones(store_url: str) -> None:
    RAN.clear()
    store = open_store(store_url)
    scheduler = make_scheduler(store.engine, UTC, workers=8, grace_seconds=60)
    scheduler.start(paused=True)
    try:
        due = datetime.now(UTC) + timedelta(seconds=1)
        names = [f"job-{n}" for n in range(60)]
        for name in names:
            scheduler.add_job(record, "date", run_date=due, args=[name], id=f"publish:{name}")
        scheduler.add_job(record, "date", run_date=due + timedelta(days=1), args=["later"],
                          id="publish:later")
        scheduler.resume()
        assert wait_for(lambda: len(RAN) >= len(names))

        def left() -> list[str]:
            with store.reading() as conn:
                return list(conn.execute(text("SELECT id FROM apscheduler_jobs")).scalars())
        assert wait_for(lambda: left() == ["publish:later"])
        time.sleep(0.3)
        assert sorted(RAN) == sorted(names)  # each once, the later one not yet
        assert scheduler.get_job("publish:job-0") is None
        with pytest.raises(JobLookupError):
            scheduler.remove_job("publish:job-0")  # a fired job is gone, as APScheduler says
        scheduler.remove_job("publish:later")
        assert left() == []
    finally:
        scheduler.shutdown(wait=True)
        store.close()


def test_a_job_added_again_under_a_fired_id_is_kept(store_url: str) -> None:
    """A retry scheduled under the id of a job that just fired replaces it, and is kept."""
    RAN.clear()
    store = open_store(store_url)
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
