"""The store's migrations on real databases: revision 0001 is exactly what v0.1 created, a COPY
of a store made by v0.1 is upgraded with every row kept and the failure kinds and hold reasons
filled in from its text, upgrading twice changes nothing, and processes starting together on an
old store never race."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, func, inspect, select, text

from pipeline.states import ErrorKind
from pipeline.store import UnknownRevision, ledger_table, metadata, migrate, open_store
from pipeline.store.engine import make_engine
from pipeline.store.migrations import v0_1
from pipeline.store.schema import APSCHEDULER_TABLE

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "stores" / "v0.1.sqlite"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
OURS = sorted(t for t in v0_1.metadata.tables)

# What v0.1 wrote in `last_error`, and the kind revision 0002 must give it.
HELD = {
    "paused: National mourning": "pause",
    "channel facebook is flagged: the Page token no longer works": "channel-flagged",
    "content checks failed: the child MASH number is wrong": "check-failed",
    "not approved by an accountable person before its time; approve it, then `wst release`":
        "not-approved",
    "missed its time by 3 hours, beyond the 60-minute grace time; publish it by hand": "missed",
    "post by hand: copy-ready text in outbox/x.txt; then run `wst resolve`": "by-hand",
    "held: Pre-election period (names a councillor, candidate or party)": "blackout",
    "held by the calendar": "blackout",
}
FAILED = {
    "duplicate content, never retried: x: You are not allowed to create a Tweet with "
    "duplicate content.": "duplicate",
    "refused, never retried: facebook: (#100) Invalid parameter": "rejected",
    "gave up after 4 attempts: mastodon: 503 Service Unavailable": "gave-up",
    "x: rate limited; retry at 2026-11-20T09:15:00+00:00": "rate-limited",
    "facebook: rate limited: (#4) Application request limit reached; retry at "
    "2026-11-20T10:00:00+00:00": "rate-limited",
    "bluesky: 502 Bad Gateway": "transient",
}


def counts(url: str) -> dict[str, int]:
    """Rows per table, read through a plain engine of its own."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            names = set(inspect(conn).get_table_names())
            return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()
                    for t in sorted(names - {"alembic_version"})}
    finally:
        engine.dispose()


def kept(after: dict[str, int], before: dict[str, int]) -> bool:
    """Every table that was there has every row it had; tables a migration added are empty."""
    return ({t: after.get(t) for t in before} == before
            and all(after[t] == 0 for t in after.keys() - before.keys()))


@pytest.fixture
def v0_1_url(store_url: str, tmp_path: Path) -> Iterator[str]:
    """A store made by v0.1: on SQLite a COPY of the fixture file; on PostgreSQL (where no
    v0.1 fixture exists) v0.1's tables, with the fixture's rows copied in."""
    if store_url.startswith("sqlite"):
        path = Path(store_url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True)
        shutil.copyfile(FIXTURE, path)
        yield store_url
        return
    source = create_engine(f"sqlite:///{FIXTURE}")
    target = create_engine(store_url)
    try:
        with source.connect() as src, target.begin() as dst:
            v0_1.metadata.create_all(dst)
            for table in v0_1.metadata.sorted_tables:
                rows = [dict(r) for r in src.execute(select(table)).mappings()]
                if rows:
                    dst.execute(table.insert(), rows)
            for table in ("pauses", "approvals", "events", "snapshots", "engagement_activity",
                          "partner_shares"):
                # rows came with their ids: move each sequence past them
                dst.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"coalesce(max(id), 0) + 1, false) FROM {table}"))
            raw = src.execute(text(f"SELECT id, next_run_time, job_state FROM {APSCHEDULER_TABLE}"))
            jobs = raw.all()
            dst.execute(text(f"CREATE TABLE {APSCHEDULER_TABLE} (id VARCHAR(191) PRIMARY KEY, "
                             "next_run_time FLOAT, job_state BYTEA NOT NULL)"))
            for job in jobs:
                dst.execute(text(f"INSERT INTO {APSCHEDULER_TABLE} VALUES (:i, :n, :s)"),
                            {"i": job[0], "n": job[1], "s": job[2]})
    finally:
        source.dispose()
        target.dispose()
    yield store_url


def add_v0_1_rows(url: str) -> dict[str, str]:
    """Held and failed rows with every message v0.1 wrote, through v0.1's own table; key → kind."""
    ledger = v0_1.metadata.tables["ledger"]
    expected: dict[str, str] = {}
    rows = []
    for state, texts in (("held", HELD), ("failed", FAILED)):
        for n, (message, kind) in enumerate(texts.items()):
            key = f"{state}-{n}"
            expected[key] = kind
            rows.append(dict(key=key, item_id=f"drill/p{n}/2026-11-{n + 1:02d}/x", channel="x",
                             version="v1", kind="post", campaign="drill", title="t",
                             responsibility="campaign-posts", help=False,
                             due="2026-11-20T09:00:00.000000+00:00", state=state, attempts=1,
                             last_error=message, dry_run=False,
                             created_at="2026-11-01T09:00:00.000000+00:00",
                             updated_at="2026-11-20T09:00:00.000000+00:00"))
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(ledger.insert(), rows)
    finally:
        engine.dispose()
    return expected


def normalised(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip()


def sqlite_schema(path: Path) -> dict[str, str]:
    with sqlite3.connect(path) as conn:
        return {name: normalised(sql) for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")
            if not name.startswith(("apscheduler", "alembic", "ix_apscheduler"))}


# -- the revisions ------------------------------------------------------------------------------

def test_revision_0001_is_exactly_the_schema_v0_1_created(tmp_path: Path) -> None:
    """Every table and index 0001 creates is, statement for statement, the one in the v0.1 store."""
    url = f"sqlite:///{tmp_path / 'wst.sqlite'}"
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(migrate.alembic_config(conn), "0001")
    finally:
        engine.dispose()
    made, v0_1_made = sqlite_schema(tmp_path / "wst.sqlite"), sqlite_schema(FIXTURE)
    assert sorted(made) == sorted(v0_1_made)
    for name, sql in v0_1_made.items():
        assert made[name] == sql, name


def test_head_is_exactly_the_schema_of_the_code(store_url: str) -> None:
    """After the migrations, Alembic finds no difference between the database and schema.py
    (APScheduler's own table aside)."""
    store = open_store(store_url)
    try:
        with store.reading() as conn:
            context = MigrationContext.configure(conn, opts={
                "include_name": lambda name, kind, _parents: not (
                    kind == "table" and name == APSCHEDULER_TABLE)})
            assert compare_metadata(context, metadata) == []
            assert migrate.current_revision(conn) == migrate.head_revision() == "0004"
    finally:
        store.close()


# -- a v0.1 store ------------------------------------------------------------------------------

def test_a_v0_1_store_is_upgraded_with_every_row_kept(v0_1_url: str) -> None:
    """Stamped 0001 and upgraded to head; every table keeps every row, and the rows still read
    back through the pipeline's own code."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    from pipeline.deliveries import Deliveries
    from pipeline.ledger import Ledger
    from pipeline.metrics.budget import XReads
    from pipeline.metrics.records import Records
    from pipeline.metrics.snapshots import Snapshots
    from pipeline.reactive import ReactiveStore

    before = counts(v0_1_url)
    assert before["ledger"] > 20 and before[APSCHEDULER_TABLE] == 1
    store = open_store(v0_1_url)
    try:
        assert kept(counts(v0_1_url), before)
        with store.reading() as conn:
            assert migrate.current_revision(conn) == "0004"
        ledger = Ledger(store)
        entries = ledger.publications.entries()
        published = [e for e in entries if e.state == "published"]
        assert len(published) == 6
        assert all(e.remote_id.startswith("remote-") and e.url.startswith("https://example.invalid/")
                   and e.attempts == 1 and e.published_at is not None for e in published)
        assert {e.state for e in entries} >= {"planned", "approved", "published", "failed",
                                              "superseded"}
        approvals = [a for e in entries for a in ledger.approvals.of(e.item_id)]
        assert len({a.id for a in approvals}) == before["approvals"]
        assert sum(a.voided_at is not None for a in {a.id: a for a in approvals}.values()) == 1
        assert [p.id for p in ReactiveStore(store).all()] == ["water-main-burst-abc123"]
        snaps = Snapshots(store).all()
        assert len(snaps) == before["snapshots"] == 12
        assert sum(s.missing for s in snaps) == 6 and {s.value for s in snaps} == {120.0, None}
        assert XReads(store).spent_usd(2026, 11) == pytest.approx(0.01)
        records = Records(store)
        assert [c["month"] for c in records.concerns()] == ["2026-09", "2026-10"]
        assert records.engagement(NOW.date().replace(day=1), NOW.date())[0]["people"] == 120
        assert Deliveries(store, "workforce-email", lambda: NOW).sent() == {"<abc@wst.invalid>"}
        assert ledger.health.all()["facebook"].flagged is True
        holder = store.lock_holder()
        assert holder is not None and holder.owner == "host:123:abcd"
        jobs = SQLAlchemyJobStore(engine=store.engine, tablename=APSCHEDULER_TABLE).get_all_jobs()
        assert [j.id for j in jobs] == ["publish:" + jobs[0].args[1]]
        assert jobs[0].func_ref == "pipeline.jobs:publish_job"
        # the new columns are there and written through the schema
        failed = next(e for e in entries if e.state == "failed")
        with store.reading() as conn:
            kind = conn.execute(select(ledger_table.c.error_kind)
                                .where(ledger_table.c.key == failed.key)).scalar_one()
        assert kind == "rejected"  # "refused, never retried: x: X refused the tweet"
        assert failed.error_kind == ErrorKind.REJECTED  # and read back typed
    finally:
        store.close()


def test_the_backfill_gives_each_v0_1_message_its_kind(v0_1_url: str) -> None:
    """Held rows get their HoldReason and failed rows their ErrorKind from v0.1's text, once."""
    expected = add_v0_1_rows(v0_1_url)
    store = open_store(v0_1_url)
    try:
        t = ledger_table
        with store.reading() as conn:
            rows = conn.execute(select(t.c.key, t.c.state, t.c.error_kind, t.c.hold_reason)
                                .where(t.c.key.in_(list(expected)))).all()
            paused = conn.execute(select(t.c.hold_reason).where(
                t.c.state == "held", t.c.last_error.like("paused:%"))).scalars().all()
            others = conn.execute(select(func.count()).select_from(t).where(
                t.c.state.not_in(("held", "failed")),
                (t.c.error_kind.is_not(None)) | (t.c.hold_reason.is_not(None)))).scalar_one()
        got = {key: (error if state == "failed" else hold) for key, state, error, hold in rows}
        assert got == expected
        # neither column is set where the other belongs
        assert all((error is None) == (state == "held") and (hold is None) == (state == "failed")
                   for _key, state, error, hold in rows)
        assert set(paused) == {"pause"} and others == 0
    finally:
        store.close()


def test_upgrading_twice_changes_nothing(v0_1_url: str) -> None:
    """A second upgrade (and `wst db upgrade`'s function) finds the store at head and writes nothing."""
    open_store(v0_1_url).close()
    first = counts(v0_1_url)
    store = open_store(v0_1_url)
    try:
        assert migrate.upgrade(store) == ("0004", "0004")
        with store.reading() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        assert [v[0] for v in versions] == ["0004"]
    finally:
        store.close()
    assert counts(v0_1_url) == first


def test_a_v0_1_store_missing_tables_it_never_needed_is_completed(tmp_path: Path) -> None:
    """v0.1 made a module's tables only when it was first used: a store that never collected
    metrics or sent email gets them, then is stamped and upgraded."""
    path = tmp_path / "wst.sqlite"
    shutil.copyfile(FIXTURE, path)
    with sqlite3.connect(path) as conn:
        for table in ("snapshots", "x_reads", "deliveries", "concerns"):
            conn.execute(f"DROP TABLE {table}")
    store = open_store(f"sqlite:///{path}")
    try:
        assert set(inspect(store.engine).get_table_names()) >= set(OURS)
        with store.reading() as conn:
            assert migrate.current_revision(conn) == "0004"
    finally:
        store.close()


def test_a_store_from_a_newer_version_is_refused(store_url: str) -> None:
    """A revision this version does not know is refused with a message, and nothing is changed."""
    open_store(store_url).close()
    engine = create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    with pytest.raises(UnknownRevision, match=re.escape(
            "migration 0099, which this version of wst does not know (it knows up to 0004)")):
        open_store(store_url)


UPGRADER = r"""
import sys, time
from pipeline.store import open_store
url, start = sys.argv[1], float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))  # all open the old store at the same moment
open_store(url).close()
print("opened", flush=True)
"""


def test_processes_upgrading_an_old_store_together_all_succeed_once(v0_1_url: str) -> None:
    """Eight processes open a v0.1 store at the same moment: one upgrades under the write lock,
    the others wait and find it at head; no row is lost or doubled."""
    before = counts(v0_1_url)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.time() + 1.5
    procs = [subprocess.Popen([sys.executable, "-c", UPGRADER, v0_1_url, str(start)], cwd=ROOT,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(8)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * len(procs), [err for _, err in results]
    assert all(out.strip() == "opened" for out, _ in results)
    assert kept(counts(v0_1_url), before)
    engine = create_engine(v0_1_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == ["0004"]
        columns = {c["name"] for c in inspect(conn).get_columns("ledger")}
    engine.dispose()
    assert {"error_kind", "hold_reason"} <= columns


def test_wst_db_current_and_upgrade(tmp_path: Path) -> None:
    """The commands: `current` says where an old store stands, `upgrade` brings it to head,
    and a second `upgrade` says it is already there."""
    from conftest import copy_minimal, run_wst

    project = copy_minimal(tmp_path / "project")
    db = project.path / "var" / "wst.sqlite"
    db.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FIXTURE, db)
    args = ("--config", str(project.config), "db")
    current = run_wst(*args, "current", cwd=project.path)
    assert current.returncode == 0, current.stderr
    assert current.stdout.strip() == "none (behind head 0004: run `wst db upgrade`)"
    upgraded = run_wst(*args, "upgrade", cwd=project.path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.strip().endswith("wst.sqlite: upgraded from no revision to 0004 (head)")
    again = run_wst(*args, "upgrade", cwd=project.path)
    assert again.stdout.strip().endswith("wst.sqlite: already at 0004 (head)")
    assert run_wst(*args, "current", cwd=project.path).stdout.strip() == "0004 (head)"
