"""The job runtime in-process with a fake clock, a real SQLite store and real stand-ins over HTTP
(no mocks of project code); and `wst run --once` as a real subprocess."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import Clock
from daemon_helpers import PERSON, LiveProject, due_in, post_block, sleep_until
from standins.x import XStandIn

from pipeline import housekeeping
from pipeline.publisher import Publisher
from pipeline.workspace import Workspace

TEXT = "Safer Internet Day is on Tuesday. Talk to your child about what they do online."



@pytest.fixture
def x() -> Iterator[XStandIn]:
    with XStandIn() as standin:
        yield standin


class Rig:
    """What `wst run` builds (the workspace and its publisher) on the project's store, with the
    stand-ins' credentials, and the daemon's housekeeping steps as methods."""

    def __init__(self, config: Path, env: dict[str, str], clock: Clock):
        self.ws = Workspace(config, env, clock=clock)
        self.publisher = Publisher(self.ws)
        self.store = self.ws.store
        self.ledger = self.ws.ledger

    @property
    def config(self):
        return self.ws.config

    @property
    def renderer(self):
        return self.ws.catalog.renderer

    def item(self, item_id: str):
        return self.ws.catalog.item(item_id)

    def sync(self, now: datetime):
        return housekeeping.sync(self.ws, now)

    def catch_up(self, now: datetime, items) -> list[str]:
        return [f"{r.item_id}: {r}" for r in housekeeping.catch_up(self.publisher, now, items)]

    def publish(self, item_id: str) -> str:
        return str(self.publisher.publish(item_id))

    def approve(self, item, now: datetime) -> None:
        self.ledger.approvals.approve(item.id, item.version, PERSON, now, self.config.settings)


def runtime(project: LiveProject, clock: Clock) -> Rig:
    """The workspace `wst run` builds, on the project's store, with the stand-ins' credentials."""
    return Rig(project.config, project.env, clock)


# -- 09:00 on the Sundays the clocks change ----------------------------------------------------

@pytest.mark.parametrize("day, instant", [
    ("2026-03-29", datetime(2026, 3, 29, 8, 0, tzinfo=UTC)),    # clocks go forward: BST
    ("2026-10-25", datetime(2026, 10, 25, 9, 0, tzinfo=UTC)),   # clocks go back: GMT
    ("2027-03-28", datetime(2027, 3, 28, 8, 0, tzinfo=UTC)),
    ("2027-10-31", datetime(2027, 10, 31, 9, 0, tzinfo=UTC)),
])
def test_nine_oclock_on_clock_change_sundays(tmp_path: Path, x: XStandIn, day: str,
                                             instant: datetime) -> None:
    """09:00 local on each clock-change Sunday goes out once, at 08:00Z in summer time and
    09:00Z in winter time, and not a second before (not at the other offset's 09:00 either)."""
    project = LiveProject.create(tmp_path, {"x": x}, post_block("sunday", f"at {day} 09:00", TEXT))
    item_id = f"fault-drill/sunday/{day}/x"
    clock = Clock(instant - timedelta(days=1))
    rt = runtime(project, clock)
    try:
        rt.sync(clock())
        item = rt.item(item_id)
        assert item is not None and item.due == instant
        rt.approve(item, clock())

        for before in (instant - timedelta(hours=1), instant - timedelta(seconds=1)):
            clock.now = before
            assert rt.catch_up(before, rt.sync(before)) == []
            assert rt.publish(item_id) == "not due"
        assert x.create_calls == []

        clock.now = instant
        assert rt.catch_up(instant, rt.sync(instant)) == [f"{item_id}: published"]
        clock.now = instant + timedelta(seconds=30)
        assert rt.catch_up(clock(), rt.sync(clock())) == []
        assert rt.publish(item_id) == "published"
        assert [p["text"] for p in x.posts] == [TEXT] and len(x.create_calls) == 1
        (entry,) = rt.ledger.publications.entries(item_id=item_id)
        assert (entry.state, entry.published_at, entry.lateness_seconds) == ("published", instant, 0)
        assert entry.remote_id == x.posts[0]["id"]
    finally:
        rt.store.close()


# -- the gates ---------------------------------------------------------------------------------

DUE = datetime(2027, 2, 1, 10, 0, tzinfo=UTC)  # a Monday in GMT
ITEM = "fault-drill/checkin/2027-02-01/x"


def test_dry_run_writes_the_outbox_and_sends_nothing(tmp_path: Path, x: XStandIn) -> None:
    """Dry-run: exactly what would be sent is written to outbox/, recorded as a dry-run
    publication with the gates it passed, and nothing reaches the platform."""
    project = LiveProject.create(tmp_path, {"x": x}, post_block("checkin", "at 2027-02-01 10:00", TEXT),
                                 mode="dry-run")
    clock = Clock(DUE - timedelta(hours=1))
    rt = runtime(project, clock)
    try:
        rt.sync(clock())
        rt.approve(rt.item(ITEM), clock())
        clock.now = DUE
        assert rt.catch_up(DUE, rt.sync(DUE)) == [
            f"{ITEM}: published (dry run: written to the outbox, nothing sent)"]
        item = rt.item(ITEM)
        (entry,) = rt.ledger.publications.entries(item_id=ITEM)
        assert entry.dry_run and entry.state == "published"
        assert entry.key.startswith("dry-") and entry.remote_id == f"dry-run:{entry.key}"
        (written,) = (tmp_path / "outbox" / "x").glob("*.json")
        assert entry.url == written.resolve().as_uri()
        record = json.loads(written.read_text(encoding="utf-8"))
        assert record["text"] == rt.renderer.render(item).post.text == TEXT
        assert (record["item"], record["channel"], record["idempotency_key"]) == (ITEM, "x", entry.key)
        assert record["gates"] == ["due 2027-02-01T10:00:00+00:00, started 0 minutes late",
                                   "no pause holds it", "channel x is healthy",
                                   "content checks passed", "approved by an accountable person"]
        assert x.calls == []
        assert rt.publish(ITEM) == "published (dry run)" and len(list(written.parent.iterdir())) == 1
    finally:
        rt.store.close()


def test_dry_run_rehearses_the_approval_gate(tmp_path: Path, x: XStandIn) -> None:
    """Unapproved at its time in a dry run: reported as 'would be held: not approved' and not
    written as sent, exactly as live mode would hold it; `[scheduler] rehearse_unapproved`
    writes it anyway, saying which gate it did not pass."""
    project = LiveProject.create(tmp_path, {"x": x}, post_block("checkin", "at 2027-02-01 10:00", TEXT),
                                 mode="dry-run")
    clock = Clock(DUE - timedelta(hours=1))
    rt = runtime(project, clock)
    try:
        rt.sync(clock())
        clock.now = DUE
        assert rt.catch_up(DUE, rt.sync(DUE)) == [
            f"{ITEM}: would be held (dry run): not approved by an accountable person before its "
            f"time; approve it, then `wst release`"]
        (entry,) = rt.ledger.publications.entries(item_id=ITEM)
        assert (entry.dry_run, entry.state, entry.hold_reason) == (True, "held", "not-approved")
        assert not (tmp_path / "outbox").exists() and x.calls == []
    finally:
        rt.store.close()
    project.config.write_text(project.config.read_text(encoding="utf-8").replace(
        "[scheduler]\n", "[scheduler]\nrehearse_unapproved = true\n"), encoding="utf-8")
    later = "fault-drill/later/2027-02-01/x"
    project.write_posts(post_block("checkin", "at 2027-02-01 10:00", TEXT)
                        + post_block("later", "at 2027-02-01 12:00", TEXT + " Later."))
    clock.now = DUE + timedelta(hours=2)
    rt = runtime(project, clock)
    try:
        assert rt.catch_up(clock(), rt.sync(clock())) == [
            f"{later}: published (dry run: written to the outbox, nothing sent)"]
        (written,) = (tmp_path / "outbox" / "x").glob("*.json")
        gates = json.loads(written.read_text(encoding="utf-8"))["gates"]
        assert gates[-1] == "not approved: rehearsed anyway ([scheduler] rehearse_unapproved)"
        assert x.calls == []
    finally:
        rt.store.close()


def test_live_without_approval_is_held_never_sent(tmp_path: Path, x: XStandIn) -> None:
    """Live and unapproved at its time: held for a person (with the reason), never sent."""
    project = LiveProject.create(tmp_path, {"x": x}, post_block("checkin", "at 2027-02-01 10:00", TEXT))
    clock = Clock(DUE - timedelta(hours=1))
    rt = runtime(project, clock)
    try:
        rt.sync(clock())
        clock.now = DUE
        assert rt.catch_up(DUE, rt.sync(DUE)) == [f"{ITEM}: held"]
        (entry,) = rt.ledger.publications.entries(item_id=ITEM)
        assert entry.state == "held" and "not approved" in entry.last_error
        clock.now = DUE + timedelta(minutes=1)
        assert rt.publish(ITEM) == "held"
        assert x.calls == [] and not (tmp_path / "outbox").exists()
    finally:
        rt.store.close()


def test_content_check_error_holds_an_approved_item(tmp_path: Path, x: XStandIn) -> None:
    """An approved post whose check now fails (the official number changed since) is held at
    its time with the check's message, and never reaches the platform."""
    text = "Worried about a child? Call the MASH on 01902 555392."
    project = LiveProject.create(tmp_path, {"x": x}, post_block("checkin", "at 2027-02-01 10:00", text))
    clock = Clock(DUE - timedelta(days=1))
    rt = runtime(project, clock)
    try:
        rt.sync(clock())
        item = rt.item(ITEM)
        assert not rt.renderer.render(item).errors
        rt.approve(item, clock())
    finally:
        rt.store.close()
    config = project.config.read_text(encoding="utf-8")
    project.config.write_text(config.replace('child_mash = "01902 555392"',
                                             'child_mash = "01902 555393"'), encoding="utf-8")
    clock.now = DUE
    rt = runtime(project, clock)
    try:
        assert rt.catch_up(DUE, rt.sync(DUE)) == [f"{ITEM}: held"]
        (entry,) = rt.ledger.publications.entries(item_id=ITEM)
        assert entry.state == "held" and entry.last_error.startswith("content checks failed")
        assert "01902 555392" in entry.last_error and "not an official number" in entry.last_error
        assert x.calls == []
    finally:
        rt.store.close()


# -- `wst run --once` ---------------------------------------------------------------------------

def test_run_once_publishes_what_is_due_then_exits(tmp_path: Path, x: XStandIn) -> None:
    """`wst run --once`: publishes what is due, leaves what is not, exits 0 and lets the lock go."""
    project = LiveProject.create(tmp_path, {"x": x})
    due = due_in(2)
    assert "saved" in project.post("Worried about a child? You can talk to us.", "x", due)
    project.post("Safeguarding is everyone's business.", "x", due + timedelta(hours=1))
    sleep_until(due + timedelta(seconds=0.2))
    result = project.wst("run", "--once")
    assert result.returncode == 0, result.stderr
    (now_row, later_row) = project.rows("x")
    assert f"{now_row['id']}: published" in result.stdout and later_row["id"] not in result.stdout
    assert (now_row["state"], later_row["state"]) == ("published", "approved")
    assert [p["text"] for p in x.posts] == ["Worried about a child? You can talk to us."]
    assert now_row["remote_id"] == x.posts[0]["id"]
    assert project.status()["daemon"] is None
    again = project.wst("run", "--once")
    assert again.returncode == 0 and len(x.create_calls) == 1


def test_the_bulletin_test_send_goes_to_the_business_unit_by_default(tmp_path: Path) -> None:
    """Mailchimp's test send reaches the business unit unless test_recipients says otherwise."""
    from conftest import copy_minimal

    project = copy_minimal(tmp_path / "p")
    project.edit("config.toml", "[roles]\n", '[roles]\nbusiness-unit = "Business unit"\n')
    project.edit("config.toml", "[people.approver]\n",
                 '[people.unit]\nname = "Business unit"\nroles = ["business-unit"]\n'
                 'email = "unit@example.org"\n\n[people.approver]\n')
    with Workspace(project.config, {}) as ws:
        assert list(ws.adapters.get("mailchimp").settings.test_recipients) == ["unit@example.org"]


def test_prepared_items_go_out_as_prepared_and_an_edit_replaces_them(tmp_path: Path,
                                                                     x: XStandIn) -> None:
    """prepare() resolves and renders what is due within the hour (not later items), and a
    reload drops it: an edit after preparing goes out in its new words, never the old ones."""
    later = "fault-drill/later/2027-02-01/x"
    project = LiveProject.create(tmp_path, {"x": x},
                                 post_block("checkin", "at 2027-02-01 10:00", TEXT)
                                 + post_block("later", "at 2027-02-01 12:00", TEXT + " Later."))
    clock = Clock(DUE - timedelta(minutes=30))
    rt = runtime(project, clock)
    try:
        rt.sync(clock())
        assert rt.publisher.prepare(clock()) == 1  # 10:00 is within the hour; 12:00 is not
        assert rt.renderer._cache and "x" in rt.ws.adapters  # rendered and connected ahead

        edited = TEXT.replace("Tuesday", "Wednesday")
        project.write_posts(post_block("checkin", "at 2027-02-01 10:00", edited)
                            + post_block("later", "at 2027-02-01 12:00", TEXT + " Later."))
        assert rt.ws.reload(clock())
        rt.sync(clock())
        item = rt.item(ITEM)
        rt.approve(item, clock())
        clock.now = DUE  # (not prepared again: the reload alone must drop the old words)
        assert rt.publish(ITEM) == "published"
        assert [p["text"] for p in x.posts] == [edited]
        assert rt.publish(later) == "not due"
    finally:
        rt.store.close()
