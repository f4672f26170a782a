"""The ledger on a real SQLite file and a real PostgreSQL database: every transition and refusal,
approvals, pauses, health and history."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import create_engine, text

from pipeline.config import Config, load_config
from pipeline.ledger import (
    ApprovalRefused,
    IllegalTransition,
    Ledger,
    LedgerError,
    PauseError,
    PublishView,
    UnknownEntry,
    ledger_key,
)
from pipeline.plan import Item
from pipeline.states import TRANSITIONS, ErrorKind, HoldReason, State
from pipeline.store import open_store

ROOT = Path(__file__).resolve().parents[1]
PLANNED, APPROVED, PUBLISHING, PUBLISHED = State.PLANNED, State.APPROVED, State.PUBLISHING, State.PUBLISHED
FAILED, UNCONFIRMED, HELD = State.FAILED, State.UNCONFIRMED, State.HELD
SUPERSEDED, CANCELLED = State.SUPERSEDED, State.CANCELLED
NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
CONFIG = """
[partnership]
name = "Test Safeguarding Partnership"
website = "https://www.wolverhamptonsafeguarding.org.uk"

[official]
child_mash = "01902 555392"
adult_mash = "01902 551199"
out_of_hours = "01902 552999"
website = "www.wolverhamptonsafeguarding.org.uk"

[roles]
cel = "Communication and engagement lead"
officer = "Comms officer"
manager = "Business unit manager"

[people.lead]
name = "C&E lead"
roles = ["cel"]

[people.officer]
name = "Comms officer"
roles = ["officer"]

[people.manager]
name = "Business manager"
roles = ["manager"]

[responsibilities.campaign-posts]
title = "Campaign posts"
responsible = ["officer"]
accountable = ["cel"]

[responsibilities.e-bulletins]
title = "Bulletins"
accountable = ["manager"]
"""


def write_config(folder: Path) -> Config:
    """A real config.toml with people, roles and who is accountable for what."""
    path = folder / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return load_config(path)


def item(n: int = 1, version: str = "v1", *, channel: str = "x", due: datetime | None = None,
         help_post: bool = False, status: str = "planned", note: str = "") -> Item:
    """A campaign post item as the planner makes them."""
    return Item(id=f"campaign/post-{n}/2025-03-{n:02d}/{channel}", kind="post", campaign="campaign",
                channel=channel, due=due or NOW + timedelta(days=n), title=f"Post {n}", version=version,
                status=status, source="content/posts.toml", note=note, help=help_post,
                responsibility="campaign-posts")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return write_config(tmp_path)


@pytest.fixture
def db(store_url: str) -> str:
    """The store's URL (SQLite file or PostgreSQL database), for tests that open it again."""
    return store_url


@pytest.fixture
def ledger(db: str):
    store = open_store(db)
    yield Ledger(store)
    store.close()


def approved(ledger: Ledger, config: Config, it: Item) -> str:
    """Sync and approve one item; its live key."""
    ledger.publications.sync_planned([it], NOW)
    ledger.approvals.approve(it.id, it.version, "lead", NOW, config.settings)
    return ledger_key(it.id, it.channel, it.version)


def raw_state(db: str, key: str) -> str:
    """The state as another process would read it, through its own connection."""
    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            return conn.execute(text("select state from ledger where key = :k"), {"k": key}).scalar_one()
    finally:
        engine.dispose()


# -- sync ----------------------------------------------------------------------------------------

def test_sync_inserts_planned_rows_once(ledger: Ledger) -> None:
    """New (item, version)s become planned rows; syncing again inserts nothing."""
    items = [item(1), item(2), item(2, channel="facebook")]
    result = ledger.publications.sync_planned(items, NOW)
    assert len(result.inserted) == 3 and not result.superseded
    assert ledger.publications.sync_planned(items, NOW + timedelta(minutes=5)).inserted == []
    rows = ledger.publications.entries()
    assert [(r.item_id, r.channel, r.state, r.attempts, r.dry_run) for r in rows] == [
        (items[0].id, "x", PLANNED, 0, False),
        (items[2].id, "facebook", PLANNED, 0, False),  # same time: ordered by id
        (items[1].id, "x", PLANNED, 0, False),
    ]
    assert rows[0].key == ledger_key(items[0].id, "x", "v1")
    assert rows[0].due == items[0].due and rows[0].responsibility == "campaign-posts"


def test_keys_are_short_stable_and_distinct() -> None:
    """The key depends on item, channel and version, and a rehearsal never shares the live key."""
    key = ledger_key("a", "x", "v1")
    assert key == ledger_key("a", "x", "v1") and len(key) <= 24
    others = {ledger_key("b", "x", "v1"), ledger_key("a", "y", "v1"), ledger_key("a", "x", "v2"),
              ledger_key("a", "x", "v1", dry_run=True)}
    assert key not in others and len(others) == 4


def test_sync_moves_the_time_of_unchanged_content(ledger: Ledger) -> None:
    """Same words at a new time: the row keeps its key and state, with the new due time."""
    ledger.publications.sync_planned([item(1)], NOW)
    later = item(1, due=NOW + timedelta(days=9))
    assert ledger.publications.sync_planned([later], NOW).inserted == []
    assert ledger.publications.entries()[0].due == later.due


def test_blackout_items_are_inserted_held(ledger: Ledger) -> None:
    """An item the calendar holds (a blackout) is held, with the calendar's reason."""
    ledger.publications.sync_planned([item(1, status="held", note="held: pre-election period")], NOW)
    row = ledger.publications.entries()[0]
    assert row.state == HELD and row.last_error == "held: pre-election period"


def test_dry_run_rows_live_in_their_own_lane(ledger: Ledger) -> None:
    """A dry-run sync makes dry-run rows that publish without approval; live rows are separate."""
    it = item(1)
    ledger.publications.sync_planned([it], NOW, dry_run=True)
    ledger.publications.sync_planned([it], NOW, dry_run=lambda channel: channel != "x")
    keys = {r.key: r.dry_run for r in ledger.publications.entries()}
    assert keys == {ledger_key(it.id, "x", "v1", dry_run=True): True, ledger_key(it.id, "x", "v1"): False}
    dry_key = ledger_key(it.id, "x", "v1", dry_run=True)
    assert ledger.publications.begin_publishing(dry_key, NOW).state == PUBLISHING
    with pytest.raises(IllegalTransition, match="only an approved item"):
        ledger.publications.begin_publishing(ledger_key(it.id, "x", "v1"), NOW)


# -- approval ------------------------------------------------------------------------------------

def test_accountable_person_approves_the_exact_version(ledger: Ledger, config: Config) -> None:
    """Approval moves the row to approved and is recorded with who, when and the version."""
    it = item(1)
    ledger.publications.sync_planned([it], NOW)
    ledger.approvals.approve(it.id, "v1", "lead", NOW + timedelta(minutes=1), config.settings)
    assert ledger.publications.entries()[0].state == APPROVED
    [record] = ledger.approvals.of(it.id)
    assert (record.version, record.person, record.at, record.accepted_identifying,
            record.voided_at) == ("v1", "lead", NOW + timedelta(minutes=1), False, None)
    [event] = ledger.audit.events("approve")
    assert (event.by, event.item_id, event.details["version"]) == ("lead", it.id, "v1")


@pytest.mark.parametrize(("person", "message"), [
    ("officer", "does not hold an accountable role for 'campaign-posts'.*may be approved by: lead"),
    ("manager", "does not hold an accountable role"),
    ("nobody", "not in \\[people\\]"),
])
def test_approval_by_someone_not_accountable_is_refused(ledger: Ledger, config: Config, person: str,
                                                        message: str) -> None:
    """Responsible, other-work and unknown people can't approve; nothing is recorded."""
    it = item(1)
    ledger.publications.sync_planned([it], NOW)
    with pytest.raises(ApprovalRefused, match=message):
        ledger.approvals.approve(it.id, "v1", person, NOW, config.settings)
    assert ledger.publications.entries()[0].state == PLANNED
    assert ledger.approvals.of(it.id) == [] and ledger.audit.events() == []


def test_approval_needs_a_known_responsibility(ledger: Ledger, config: Config) -> None:
    """Work nobody is accountable for can't be approved by anyone."""
    it = replace(item(1), responsibility="unheard-of")
    ledger.publications.sync_planned([it], NOW)
    with pytest.raises(ApprovalRefused, match="'unheard-of' is not in \\[responsibilities\\]"):
        ledger.approvals.approve(it.id, "v1", "lead", NOW, config.settings)


def test_content_failing_a_check_cannot_be_approved(ledger: Ledger, config: Config) -> None:
    """Blocking check errors refuse the approval and name the errors."""
    it = item(1)
    ledger.publications.sync_planned([it], NOW)
    with pytest.raises(ApprovalRefused, match="fails its checks: wrong MASH number"):
        ledger.approvals.approve(it.id, "v1", "lead", NOW, config.settings,
                                 blocking_errors=["wrong MASH number"])
    assert ledger.publications.entries()[0].state == PLANNED


def test_identifying_detail_needs_its_own_named_acceptance(ledger: Ledger, config: Config) -> None:
    """A possible identifying detail refuses approval unless accepted explicitly, which is recorded."""
    it = item(1)
    ledger.publications.sync_planned([it], NOW)
    warning = ["names 'Jane' who may be identifiable"]
    with pytest.raises(ApprovalRefused, match="may identify someone"):
        ledger.approvals.approve(it.id, "v1", "lead", NOW, config.settings, identifying=warning)
    ledger.approvals.approve(it.id, "v1", "lead", NOW, config.settings, identifying=warning,
                             accept_identifying=True)
    assert ledger.approvals.of(it.id)[0].accepted_identifying is True
    assert ledger.audit.events("approve")[0].details["identifying"] == warning


def test_approval_refusals_for_unknown_repeated_and_finished(ledger: Ledger, config: Config) -> None:
    """Unknown items and versions, a second approval, and a published item are refused."""
    with pytest.raises(UnknownEntry):
        ledger.approvals.approve("nothing", "v1", "lead", NOW, config.settings)
    key = approved(ledger, config, it := item(1))
    with pytest.raises(ApprovalRefused, match="no such version"):
        ledger.approvals.approve(it.id, "v9", "lead", NOW, config.settings)
    with pytest.raises(ApprovalRefused, match="already approved by lead"):
        ledger.approvals.approve(it.id, "v1", "lead", NOW, config.settings)
    ledger.publications.begin_publishing(key, NOW)
    ledger.publications.mark_published(key, "1", "https://x.test/1", NOW)
    with pytest.raises(ApprovalRefused):
        ledger.approvals.approve(it.id, "v1", "lead", NOW, config.settings)


def test_an_edit_after_approval_voids_it(ledger: Ledger, config: Config) -> None:
    """A new version supersedes the approved old one; the approval does not carry to either."""
    old_key = approved(ledger, config, item(1, "v1"))
    result = ledger.publications.sync_planned([item(1, "v2")], NOW + timedelta(hours=1))
    new_key = ledger_key(item(1).id, "x", "v2")
    assert result.superseded == [old_key] and result.inserted == [new_key]
    assert ledger.publications.entry(old_key).state == SUPERSEDED
    assert ledger.publications.entry(new_key).state == PLANNED
    assert ledger.approvals.of(item(1).id)[0].voided_at == NOW + timedelta(hours=1)
    for key in (old_key, new_key):
        with pytest.raises(IllegalTransition):
            ledger.publications.begin_publishing(key, NOW)
    with pytest.raises(ApprovalRefused, match=r"edit replaced this version; approve the current one \(v2\)"):
        ledger.approvals.approve(item(1).id, "v1", "lead", NOW, config.settings)
    # Reverting to the old words revives the old row, but the voided approval still doesn't count.
    result = ledger.publications.sync_planned([item(1, "v1")], NOW + timedelta(hours=2))
    assert result.inserted == [old_key] and result.superseded == [new_key]
    assert ledger.publications.entry(old_key).state == PLANNED
    assert [r.key for r in ledger.approvals.pending(NOW)] == [old_key]


def test_an_edit_never_touches_a_published_row(ledger: Ledger, config: Config) -> None:
    """Once out, a later edit is reported as skipped, and nothing new is queued to post twice."""
    key = approved(ledger, config, item(1, "v1"))
    ledger.publications.begin_publishing(key, NOW)
    ledger.publications.mark_published(key, "99", "https://x.test/99", NOW)
    result = ledger.publications.sync_planned([item(1, "v2")], NOW)
    assert result.skipped == [ledger_key(item(1).id, "x", "v2")] and not result.inserted
    assert [(r.key, r.state) for r in ledger.publications.entries()] == [(key, PUBLISHED)]


def test_approvals_pending_soonest_first(ledger: Ledger, config: Config) -> None:
    """Waiting approvals come soonest first, one per item version even with a dry-run twin."""
    items = [item(3), item(1), item(2)]
    ledger.publications.sync_planned(items, NOW)
    ledger.publications.sync_planned(items, NOW, dry_run=True)
    ledger.approvals.approve(item(2).id, "v1", "lead", NOW, config.settings)
    pending = ledger.approvals.pending(NOW)
    assert [r.item_id for r in pending] == [item(1).id, item(3).id]
    assert all(not r.dry_run for r in pending)


# -- publishing ----------------------------------------------------------------------------------

def test_publishing_is_written_before_published(ledger: Ledger, config: Config, db: str) -> None:
    """Between begin and the platform's answer, another reader sees `publishing` and the attempt."""
    key = approved(ledger, config, item(1))
    row = ledger.publications.begin_publishing(key, NOW + timedelta(days=1))
    assert (row.state, row.attempts) == (PUBLISHING, 1)
    assert raw_state(db, key) == PUBLISHING  # committed, so a crash now leaves it recorded
    done = ledger.publications.mark_published(key, "123", "https://x.test/123",
                                              NOW + timedelta(days=1, seconds=40))
    assert (done.state, done.remote_id, done.url) == (PUBLISHED, "123", "https://x.test/123")
    assert done.published_at == NOW + timedelta(days=1, seconds=40)
    assert done.lateness_seconds == 40.0  # due at NOW + 1 day
    assert ledger.publications.entry(key).attempts == 1


# A separate interpreter that waits for a line, then tries to begin publishing one key.
BEGIN_CHILD = r"""
import sys
from datetime import datetime
from pipeline.ledger import LedgerError, Publications
from pipeline.store import open_store
ledger = Publications(open_store(sys.argv[1]))
print("ready", flush=True)
sys.stdin.readline()
try:
    ledger.begin_publishing(sys.argv[2], datetime.fromisoformat(sys.argv[3]))
    print("began", flush=True)
except LedgerError:
    print("refused", flush=True)
"""


def test_two_processes_can_not_both_begin_publishing(db: str, config: Config) -> None:
    """Four real processes race to publish one approved item: exactly one may call the platform."""
    ledger = Ledger(open_store(db))
    key = approved(ledger, config, item(1))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", BEGIN_CHILD, db, key, NOW.isoformat()],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
             for _ in range(4)]
    results = []
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in procs:
            out, _ = proc.communicate(timeout=60)
            results.append(out.strip())
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert sorted(results) == ["began", "refused", "refused", "refused"]
    assert ledger.publications.entry(key).attempts == 1
    ledger.store.close()


def test_threads_racing_to_begin_one_item_leave_one_winner(ledger: Ledger, config: Config) -> None:
    """Sixteen threads of one daemon (one engine) race the compare-and-set: exactly one may call
    the platform, the rest are told why not, and the attempt is counted once."""
    import threading

    key = approved(ledger, config, item(1))
    start = threading.Barrier(16)
    outcomes: list[str] = []

    def go() -> None:
        start.wait()
        try:
            ledger.publications.begin_publishing(key, NOW)
            outcomes.append("began")
        except IllegalTransition as exc:
            outcomes.append(f"refused: {exc}")

    threads = [threading.Thread(target=go) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert outcomes.count("began") == 1 and len(outcomes) == 16
    why = IllegalTransition(key, item(1).id, PUBLISHING, PUBLISHING,
                            "only an approved item is published live")
    assert {o for o in outcomes if o != "began"} == {f"refused: {why}"}
    assert ledger.publications.entry(key).attempts == 1


def test_publish_view_reads_the_row_the_pause_and_the_health_together(ledger: Ledger,
                                                                      config: Config) -> None:
    """One statement answers all three; nothing is there for an unknown key."""
    key = approved(ledger, config, it := item(1))
    view = ledger.publications.publish_view(key, "x", NOW)
    assert view.entry == ledger.publications.entry(key) and view.pause is None and view.health is None
    assert view.in_sync(it) and view.blocked(NOW) is None
    ledger.pauses.pause("a death in the city", "lead", NOW, keep_help=True)
    ledger.health.flag("x", "token expired", NOW)
    ledger.health.rate_limited_until("facebook", NOW + timedelta(minutes=5), NOW)
    view = ledger.publications.publish_view(ledger_key(it.id, it.channel, it.version), "x", NOW)
    # A pause holds an item when its time comes (the publisher's gate), never the row at once.
    assert view.entry is not None and view.entry.state == APPROVED
    assert view.pause is not None and (view.pause.reason, view.pause.keep_help) == (
        "a death in the city", True)
    assert view.pause == ledger.pauses.active(NOW)
    assert view.health == ledger.health.all()["x"] and view.blocked(NOW) == "flagged: token expired"
    assert ledger.publications.publish_view(key, "facebook", NOW).blocked(NOW).startswith(
        "rate limited until")
    ledger.pauses.resume("lead", NOW)
    assert ledger.publications.publish_view(key, "x", NOW).pause is None
    assert ledger.publications.publish_view("no-such-key", "x", NOW) == PublishView(None, None, None)


def test_explicit_lateness_is_kept(ledger: Ledger, config: Config) -> None:
    """A caller-measured lateness (timedelta or seconds) is stored as seconds."""
    key = approved(ledger, config, item(1))
    ledger.publications.begin_publishing(key, NOW)
    done = ledger.publications.mark_published(key, "1", "", NOW, lateness=timedelta(minutes=2))
    assert done.lateness_seconds == 120


def test_published_is_final(ledger: Ledger, config: Config) -> None:
    """Nothing moves a published row: not a retry, a failure, a hold, a cancel or a pause."""
    key = approved(ledger, config, item(1))
    ledger.publications.begin_publishing(key, NOW)
    ledger.publications.mark_published(key, "1", "https://x.test/1", NOW)
    for attempt in (lambda: ledger.publications.begin_publishing(key, NOW),
                    lambda: ledger.publications.mark_published(key, "2", "", NOW),
                    lambda: ledger.publications.mark_failed(key, "boom", NOW, kind=ErrorKind.TRANSIENT),
                    lambda: ledger.publications.mark_unconfirmed(key, "timeout", NOW),
                    lambda: ledger.publications.mark_held(key, "why", NOW, reason=HoldReason.MISSED),
                    lambda: ledger.publications.cancel(key, "no", "lead", NOW),
                    lambda: ledger.publications.release(key, "lead", NOW)):
        with pytest.raises(IllegalTransition, match="can't go from published"):
            attempt()
    ledger.pauses.pause("incident", "lead", NOW)
    with pytest.raises(IllegalTransition, match="can't go from published"):
        ledger.publications.mark_held(key, "paused: incident", NOW, reason=HoldReason.PAUSE)
    row = ledger.publications.entry(key)
    assert row.state == PUBLISHED and row.remote_id == "1"


def test_published_and_cancelled_are_final_in_the_rules() -> None:
    """The one transition table gives published and cancelled rows nowhere to go."""
    assert TRANSITIONS[PUBLISHED] == frozenset() and TRANSITIONS[CANCELLED] == frozenset()
    assert all(PUBLISHED not in targets or state in (PUBLISHING, UNCONFIRMED, FAILED, HELD, APPROVED)
               for state, targets in TRANSITIONS.items())


def test_outcomes_only_follow_publishing(ledger: Ledger, config: Config) -> None:
    """Published, failed and unconfirmed are answers to an attempt; without one they are refused."""
    key = approved(ledger, config, item(1))
    for mark in (lambda: ledger.publications.mark_published(key, "1", "", NOW),
                 lambda: ledger.publications.mark_failed(key, "x", NOW, kind=ErrorKind.TRANSIENT),
                 lambda: ledger.publications.mark_unconfirmed(key, "x", NOW)):
        with pytest.raises(IllegalTransition, match="can't go from approved"):
            mark()
    with pytest.raises(UnknownEntry):
        ledger.publications.begin_publishing("no-such-key", NOW)


def test_failed_then_retried_counts_attempts(ledger: Ledger, config: Config) -> None:
    """A failure records the error; a retry goes through publishing again and counts the attempt."""
    key = approved(ledger, config, item(1))
    ledger.publications.begin_publishing(key, NOW)
    failed = ledger.publications.mark_failed(key, "503 from platform", NOW + timedelta(seconds=1),
                                             kind=ErrorKind.TRANSIENT)
    assert (failed.state, failed.last_error) == (FAILED, "503 from platform")
    assert ledger.publications.begin_publishing(key, NOW + timedelta(seconds=30)).attempts == 2
    unsure = ledger.publications.mark_unconfirmed(key, "timed out", NOW + timedelta(seconds=60))
    assert (unsure.state, unsure.attempts) == (UNCONFIRMED, 2)
    with pytest.raises(IllegalTransition, match="can't go from unconfirmed to publishing"):
        ledger.publications.begin_publishing(key, NOW + timedelta(seconds=90))  # never a blind retry


def test_recover_after_crash_turns_publishing_into_unconfirmed(db: str, config: Config) -> None:
    """After a restart every row left `publishing` is unconfirmed; other rows are untouched."""
    store = open_store(db)
    before = Ledger(store)
    mid_flight = approved(before, config, item(1))
    waiting = approved(before, config, item(2))
    before.publications.begin_publishing(mid_flight, NOW)
    store.close()  # the daemon dies here, before the platform answered

    store = open_store(db)
    after = Ledger(store)
    assert after.publications.recover_after_crash(NOW + timedelta(minutes=5)) == [mid_flight]
    row = after.publications.entry(mid_flight)
    assert (row.state, row.attempts) == (UNCONFIRMED, 1) and "ask the platform" in (row.last_error or "")
    assert after.publications.entry(waiting).state == APPROVED
    assert after.publications.recover_after_crash(NOW + timedelta(minutes=6)) == []
    assert [e.key for e in after.audit.events("recover")] == [mid_flight]
    store.close()


def test_resolve_unconfirmed_as_published(ledger: Ledger, config: Config) -> None:
    """A person who found the post records its link; the resolution is audited."""
    key = approved(ledger, config, it := item(1))
    ledger.publications.begin_publishing(key, NOW)
    ledger.publications.mark_unconfirmed(key, "timeout", NOW)
    row = ledger.publications.resolve(it.id, "x", "https://x.test/55", False, "officer",
                                      NOW + timedelta(hours=1))
    assert (row.state, row.url, row.remote_id) == (PUBLISHED, "https://x.test/55", "https://x.test/55")
    [event] = ledger.audit.events("resolve")
    assert (event.by, event.at, event.details["was"]) == ("officer", NOW + timedelta(hours=1),
                                                                   UNCONFIRMED)


def test_resolve_unconfirmed_as_not_published(ledger: Ledger, config: Config) -> None:
    """Confirmed not out: it is approved again (its approval still stands) and may be published."""
    key = approved(ledger, config, it := item(1))
    ledger.publications.begin_publishing(key, NOW)
    ledger.publications.mark_unconfirmed(key, "timeout", NOW)
    row = ledger.publications.resolve(it.id, "x", None, True, "officer", NOW)
    assert row.state == APPROVED and row.last_error == "confirmed not published by officer"
    assert ledger.publications.begin_publishing(key, NOW).attempts == 2


def test_resolve_refusals(ledger: Ledger, config: Config) -> None:
    """Exactly one answer is needed, and only a row awaiting a decision can be resolved."""
    it = item(1)
    ledger.publications.sync_planned([it], NOW)
    with pytest.raises(LedgerError, match="exactly one"):
        ledger.publications.resolve(it.id, "x", "1", True, "officer", NOW)
    with pytest.raises(LedgerError, match="exactly one"):
        ledger.publications.resolve(it.id, "x", None, False, "officer", NOW)
    with pytest.raises(UnknownEntry, match="in a state a person can resolve"):
        ledger.publications.resolve(it.id, "x", "1", False, "officer", NOW)  # planned: never attempted
    ledger.approvals.approve(it.id, "v1", "lead", NOW, config.settings)
    with pytest.raises(IllegalTransition, match="has not been attempted"):
        ledger.publications.resolve(it.id, "x", None, True, "officer", NOW)


def test_a_manual_channel_post_is_resolved_by_hand(ledger: Ledger, config: Config) -> None:
    """An approved item someone posted themselves is recorded as published with their link."""
    approved(ledger, config, it := item(1, channel="facebook"))
    row = ledger.publications.resolve(it.id, "facebook", "https://fb.test/p/1", False, "officer", NOW)
    assert row.state == PUBLISHED


def test_held_and_cancelled(ledger: Ledger, config: Config) -> None:
    """A held item can't publish until released (approved again); a cancelled one never."""
    key = approved(ledger, config, item(1))
    held = ledger.publications.mark_held(key, "missed its time by 3 hours", NOW, reason=HoldReason.MISSED)
    assert (held.state, held.last_error, held.held_pause_id) == (HELD, "missed its time by 3 hours", None)
    with pytest.raises(IllegalTransition, match="can't go from held to publishing"):
        ledger.publications.begin_publishing(key, NOW)
    assert ledger.publications.release(key, "lead", NOW).state == APPROVED
    with pytest.raises(IllegalTransition):
        ledger.publications.release(key, "lead", NOW)
    assert ledger.publications.cancel(key, "no longer relevant", "lead", NOW).state == CANCELLED
    with pytest.raises(IllegalTransition):
        ledger.publications.begin_publishing(key, NOW)
    assert [e.kind for e in ledger.audit.events()] == ["approve", "release", "cancel"]


# -- pause ---------------------------------------------------------------------------------------

def test_pause_holds_what_falls_due_in_it_and_resume_lists_it(ledger: Ledger, config: Config) -> None:
    """A freeze holds nothing at once: each item is held when its time comes inside the pause
    (the publisher's gate), recorded against that pause; resume returns those, still held,
    audited, and touches nothing else."""
    key1 = approved(ledger, config, item(1))
    ledger.publications.sync_planned([item(2)], NOW)
    key2 = ledger_key(item(2).id, "x", "v1")
    key9 = approved(ledger, config, item(9))
    pause = ledger.pauses.pause("serious incident in the city", "lead", NOW)
    assert (pause.by, pause.reason, pause.until) == ("lead", "serious incident in the city", None)
    assert ledger.pauses.active(NOW + timedelta(days=30)) == pause
    assert [ledger.publications.entry(k).state for k in (key1, key2, key9)] == [APPROVED, PLANNED,
                                                                              APPROVED]
    with pytest.raises(PauseError, match="already paused by lead"):
        ledger.pauses.pause("again", "officer", NOW)
    # Items 1 and 2 fall due while it lasts: the publisher holds them against this pause.
    for n, key in ((1, key1), (2, key2)):
        held = ledger.publications.mark_held(key, "paused: serious incident in the city",
                                             item(n).due, reason=HoldReason.PAUSE)
        assert (held.state, held.hold_reason, held.held_pause_id) == (HELD, HoldReason.PAUSE, pause.id)
    # Items recorded during the freeze are not held by the recording either.
    result = ledger.publications.sync_planned([item(3)], NOW + timedelta(minutes=10))
    assert result.held == [] and result.inserted == [ledger_key(item(3).id, "x", "v1")]
    back = ledger.pauses.resume("manager", NOW + timedelta(days=2, hours=2))
    assert [r.item_id for r in back] == [item(1).id, item(2).id]
    assert all(r.state == HELD for r in back)
    assert ledger.publications.entry(key9).state == APPROVED  # later: goes out as planned
    assert ledger.pauses.active(NOW + timedelta(days=3)) is None
    events = [(e.kind, e.by, e.at) for e in ledger.audit.events() if e.kind in ("pause", "resume")]
    assert events == [("pause", "lead", NOW), ("resume", "manager", NOW + timedelta(days=2, hours=2))]
    assert ledger.audit.events("pause")[0].details["reason"] == "serious incident in the city"
    assert ledger.audit.events("resume")[0].details["held"] == 2
    # The decision: the approved one goes ahead approved, the unapproved one back to planned.
    assert ledger.publications.release(key1, "lead", NOW + timedelta(days=3)).state == APPROVED
    assert ledger.publications.release(key2, "lead", NOW + timedelta(days=3)).state == PLANNED
    with pytest.raises(PauseError, match="not paused"):
        ledger.pauses.resume("manager", NOW + timedelta(days=3))


def test_pause_keeping_help_posts_and_until(ledger: Ledger, config: Config) -> None:
    """keep_help lets 'how to get help' posts run; `until` holds only what falls due before it,
    and the pause is over on its own at `until`."""
    until = NOW + timedelta(days=5)
    pause = ledger.pauses.pause("national mourning", "lead", NOW, until=until, keep_help=True)
    assert pause.holds(NOW + timedelta(days=2), help_post=False)
    assert not pause.holds(NOW + timedelta(days=2), help_post=True)
    assert not pause.holds(until, help_post=False) and not pause.holds(until + timedelta(days=4),
                                                                         help_post=False)
    assert ledger.pauses.active(until - timedelta(seconds=1)) == pause
    assert ledger.pauses.active(until) is None  # over on its own
    assert [(p.id, end) for p, end in ledger.pauses.ended(until)] == [(pause.id, until)]
    assert ledger.pauses.ended(until - timedelta(seconds=1)) == []
    soon = approved(ledger, config, item(2))
    ledger.publications.mark_held(soon, "paused: national mourning", item(2).due,
                                  reason=HoldReason.PAUSE)
    assert [r.key for r in ledger.pauses.resume("lead", until)] == [soon]


def test_pause_refusals(ledger: Ledger) -> None:
    """A pause needs a reason and an end in the future."""
    with pytest.raises(PauseError, match="needs a reason"):
        ledger.pauses.pause("  ", "lead", NOW)
    with pytest.raises(PauseError, match="already be over"):
        ledger.pauses.pause("x", "lead", NOW, until=NOW)


def test_mark_held_during_a_pause_is_returned_on_resume(ledger: Ledger, config: Config) -> None:
    """An item the daemon holds while paused belongs to that pause's decision list."""
    key = approved(ledger, config, item(9))
    ledger.pauses.pause("incident", "lead", NOW, until=NOW + timedelta(days=1))
    assert ledger.publications.entry(key).state == APPROVED  # due after the pause ends
    ledger.publications.mark_held(key, "paused", NOW, reason=HoldReason.PAUSE)
    assert [r.key for r in ledger.pauses.resume("lead", NOW)] == [key]


# -- channel health ------------------------------------------------------------------------------

def test_channel_health(ledger: Ledger) -> None:
    """Flagging, clearing and rate limits are recorded and say whether a channel can publish."""
    assert ledger.health.all() == {} and ledger.health.blocked("x", NOW) is None
    ledger.health.flag("x", "token expired", NOW)
    assert ledger.health.blocked("x", NOW) == "flagged: token expired"
    health = ledger.health.all()["x"]
    assert (health.flagged, health.reason, health.since) == (True, "token expired", NOW)
    ledger.health.clear("x", NOW + timedelta(hours=1))
    assert ledger.health.blocked("x", NOW) is None
    ledger.health.rate_limited_until("mastodon", NOW + timedelta(minutes=15))
    reset = NOW + timedelta(minutes=15)
    assert ledger.health.blocked("mastodon", NOW) == f"rate limited until {reset.isoformat()}"
    assert ledger.health.blocked("mastodon", NOW + timedelta(minutes=15)) is None
    assert ledger.health.all()["mastodon"].flagged is False


# -- reading -------------------------------------------------------------------------------------

def test_due_lists_what_may_go_out_now(ledger: Ledger, config: Config) -> None:
    """Due means: time reached, and approved (live) or planned (dry-run); never unsigned live rows."""
    live = approved(ledger, config, item(1))
    ledger.publications.sync_planned([item(2)], NOW)
    ledger.publications.sync_planned([item(2)], NOW, dry_run=True)
    keys = [r.key for r in ledger.publications.due(NOW + timedelta(days=3))]
    assert keys == [live, ledger_key(item(2).id, "x", "v1", dry_run=True)]
    assert ledger.publications.due(NOW) == []


# -- the state machine ---------------------------------------------------------------------------

class LedgerMachine(RuleBasedStateMachine):
    """Random sequences of every ledger operation: published rows stay put, attempts never go down."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="ledger-machine-"))
        self.config = write_config(self.folder)
        self.store = self.open()
        self.ledger = Ledger(self.store)
        self.now = NOW
        self.versions = {n: 1 for n in range(3)}
        self.published: dict[str, str | None] = {}
        self.attempts: dict[str, int] = {}
        self.ledger.publications.sync_planned([item(n + 1, "v1") for n in range(3)], self.now)

    def open(self):
        return open_store(f"sqlite:///{self.folder / 'wst.sqlite'}")

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def tick(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    def keys(self) -> list[str]:
        return [r.key for r in self.ledger.publications.entries()]

    def attempt(self, action) -> None:
        # Refusals are expected in random sequences; anything else is a bug.
        with contextlib.suppress(LedgerError):
            action()

    @rule(n=st.integers(0, 2))
    def edit(self, n: int) -> None:
        self.versions[n] += 1
        self.ledger.publications.sync_planned([item(n + 1, f"v{self.versions[n]}")], self.tick())

    @rule(n=st.integers(0, 2), back=st.integers(1, 3))
    def revert(self, n: int, back: int) -> None:
        version = max(1, self.versions[n] - back)
        self.ledger.publications.sync_planned([item(n + 1, f"v{version}")], self.tick())

    @rule(n=st.integers(0, 2), person=st.sampled_from(["lead", "officer"]))
    def approve(self, n: int, person: str) -> None:
        self.attempt(lambda: self.ledger.approvals.approve(
            item(n + 1).id, f"v{self.versions[n]}", person, self.tick(), self.config.settings))

    @rule(i=st.integers(0, 20), what=st.sampled_from(
        ["begin", "published", "failed", "unconfirmed", "held", "release", "cancel"]))
    def act(self, i: int, what: str) -> None:
        keys = self.keys()
        key = keys[i % len(keys)]
        now = self.tick()
        actions = {
            "begin": lambda: self.ledger.publications.begin_publishing(key, now),
            "published": lambda: self.ledger.publications.mark_published(key, f"r-{key}", "", now),
            "failed": lambda: self.ledger.publications.mark_failed(key, "boom", now,
                                                                   kind=ErrorKind.TRANSIENT),
            "unconfirmed": lambda: self.ledger.publications.mark_unconfirmed(key, "timeout", now),
            "held": lambda: self.ledger.publications.mark_held(key, "hold", now, reason=HoldReason.MISSED),
            "release": lambda: self.ledger.publications.release(key, "lead", now),
            "cancel": lambda: self.ledger.publications.cancel(key, "no", "lead", now),
        }
        self.attempt(actions[what])

    @rule(n=st.integers(0, 2), found=st.booleans())
    def resolve(self, n: int, found: bool) -> None:
        found_as = "https://x.test/r" if found else None
        self.attempt(lambda: self.ledger.publications.resolve(item(n + 1).id, "x", found_as,
                                                              not found, "officer", self.tick()))

    @rule()
    def crash(self) -> None:
        self.ledger.publications.recover_after_crash(self.tick())

    @rule()
    def pause_or_resume(self) -> None:
        now = self.tick()
        if self.ledger.pauses.active(now) is None:
            self.ledger.pauses.pause("incident", "lead", now)
        else:
            self.ledger.pauses.resume("lead", now)

    @invariant()
    def published_rows_never_change_and_attempts_never_drop(self) -> None:
        for row in self.ledger.publications.entries():
            if row.key in self.published:
                assert row.state == PUBLISHED and row.remote_id == self.published[row.key]
            elif row.state == PUBLISHED:
                self.published[row.key] = row.remote_id
            assert row.attempts >= self.attempts.get(row.key, 0)
            self.attempts[row.key] = row.attempts
            # Never unsigned: a live row that was attempted had a standing approval of its version.
            if row.attempts and not row.dry_run:
                assert any(a.version == row.version for a in self.ledger.approvals.of(row.item_id))

    @invariant()
    def at_most_one_live_row_per_item_is_waiting(self) -> None:
        waiting = [r.item_id for r in self.ledger.publications.entries()
                   if r.state in (PLANNED, APPROVED, HELD, FAILED) and not r.dry_run]
        assert len(waiting) == len(set(waiting))


TestLedgerMachine = LedgerMachine.TestCase
TestLedgerMachine.settings = settings(max_examples=40, stateful_step_count=25, deadline=None,
                                      suppress_health_check=[HealthCheck.too_slow])


class PostgresLedgerMachine(LedgerMachine):
    """The same random sequences on PostgreSQL, a fresh database each."""

    database = None  # the session's cluster's database(), set by the fixture below

    def open(self):
        return open_store(type(self).database())


TestPostgresLedgerMachine = PostgresLedgerMachine.TestCase
TestPostgresLedgerMachine.settings = settings(max_examples=10, stateful_step_count=25, deadline=None,
                                              suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(autouse=True)
def _postgres_for_the_machine(request: pytest.FixtureRequest) -> None:
    if request.cls is TestPostgresLedgerMachine:
        PostgresLedgerMachine.database = request.getfixturevalue("postgres").database
