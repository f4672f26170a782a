"""Every view gives every item the same status.

Hypothesis builds stores by random sequences of what people and the daemon do (approve,
reject, pause with and without an end, resume, decide what a pause held, cancel, release, a
channel's credentials failing and coming back, an edit, a reactive post, time passing with the
daemon's catch-up), then reads every view the way a person would: `wst plan --json`'s lines,
the preview site's agenda (its HTML), the calendar file (parsed as iCalendar), the approvals
queue, `wst status`, `wst history` and the report. Each item must have one status in all.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from datetime import UTC, date, datetime, timedelta
from html import unescape
from pathlib import Path

from conftest import MINIMAL, Clock, ProjectDir
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from workflow_helpers import APPROVER, CHAIR, Rig, set_people

from pipeline.errors import WstError
from pipeline.services import approvals, evaluation, exports, freeze, posting, statuses
from pipeline.services import status as reporting
from pipeline.services.approvals import Selection
from renderers.preview import page_name

START = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
FIRST, LAST = date(2027, 2, 1), date(2027, 2, 28)
POSTS = ("safer-internet-day/two-days-to-go/2027-02-07", "safer-internet-day/on-the-day/2027-02-09")
ITEMS = tuple(f"{p}/{c}" for p in POSTS for c in ("facebook", "x"))

item = st.sampled_from(ITEMS)
actions = st.one_of(
    st.tuples(st.just("approve"), item),
    st.tuples(st.just("approve-post"), st.sampled_from(POSTS)),
    st.tuples(st.just("approve-campaign")),
    st.tuples(st.just("reject"), item),
    st.tuples(st.just("pause"), st.sampled_from([None, 6, 48, 24 * 20]), st.booleans()),
    st.tuples(st.just("resume")),
    st.tuples(st.just("decide"), st.booleans(), st.sampled_from([None, "x", "facebook"])),
    st.tuples(st.just("cancel"), item),
    st.tuples(st.just("release"), item),
    st.tuples(st.just("flag"), st.sampled_from(["x", "facebook"])),
    st.tuples(st.just("unflag"), st.sampled_from(["x", "facebook"])),
    st.tuples(st.just("edit")),
    st.tuples(st.just("react"), st.booleans()),
    st.tuples(st.just("wait"), st.sampled_from([1, 5, 26, 24 * 3, 24 * 10])),
)


def act(rig: Rig, step: tuple) -> None:
    """Do one step as a person (or the daemon) would; refusals are part of the game."""
    ws, now = rig.ws, rig.clock.now
    name, *args = step
    try:
        if name == "approve" or name == "approve-post":
            approvals.approve(ws, APPROVER, now, Selection((args[0],)))
        elif name == "approve-campaign":
            approvals.approve(ws, APPROVER, now, Selection(campaign="safer-internet-day"))
        elif name == "reject":
            approvals.reject(ws, APPROVER, now, [args[0]], "Needs a clearer link")
        elif name == "pause":
            hours, keep_help = args
            until = now + timedelta(hours=hours) if hours else None
            freeze.pause(ws, CHAIR, now, "An incident", until=until, keep_help=keep_help)
        elif name == "resume":
            freeze.resume(ws, CHAIR, now)
        elif name == "decide":
            release, channel = args
            freeze.decide(ws, CHAIR, now, release_them=release, reason="Not now",
                          channel=channel)
        elif name == "cancel":
            freeze.cancel(ws, APPROVER, now, args[0], "Not needed")
        elif name == "release":
            freeze.release(ws, CHAIR, now, args[0])
        elif name == "flag":
            ws.ledger.health.flag(args[0], "token expired", now)
        elif name == "unflag":
            ws.ledger.health.clear(args[0], now)
        elif name == "edit":
            path = Path(ws.config.content_dir) / "posts" / "safer-internet-day.toml"
            path.write_text(path.read_text(encoding="utf-8").replace(
                "Ask your child", "Ask your children", 1), encoding="utf-8")
            ws.reload(now)
        elif name == "react":
            posting.post(ws, APPROVER, now, posting.Draft(
                f"We are aware of reports about an incident ({now:%H%M%S}).", ("x",),
                at=now + timedelta(days=1), answers_pause=args[0]))
        elif name == "wait":
            rig.tick(now + timedelta(hours=args[0]))
    except WstError:
        pass


def views(rig: Rig, out: Path) -> dict[str, dict[str, str]]:
    """Each view's status label for every item it shows."""
    ws, now = rig.ws, rig.clock.now
    found: dict[str, dict[str, str]] = {}
    listing = statuses.in_range(ws, now, FIRST, LAST)
    found["plan"] = {line.item_id: line.as_json()["label"] for line in listing.lines}

    exports.preview(ws, now, FIRST, LAST, out)
    index = (out / "index.html").read_text(encoding="utf-8")
    pages = {page_name(i): i for i in found["plan"]}
    found["preview"] = {}
    for row in re.findall(r'<tr class="entry".*?</tr>', index, re.S):
        page = re.search(r'href="items/([^"]+)\.html"', row)
        badge = re.search(r'<span class="status status-[^"]+">([^<]+)</span>', row)
        assert page and badge, row
        found["preview"][pages[page.group(1)]] = unescape(badge.group(1)).lower()

    data, _count = exports.calendar(ws, now, FIRST, LAST)
    found["calendar"] = {}
    for event in Calendar.from_ical(data).walk("VEVENT"):
        uid = str(event["uid"])
        if uid.startswith("window/"):
            continue
        label = str(event["x-wst-status"])
        assert str(event["summary"]).endswith(f" ({label})")
        found["calendar"][uid.removesuffix("@wst-pipeline")] = label

    queue = approvals.queue(ws, now, start=FIRST, end=LAST)
    found["approvals"] = {w.line.item_id: w.line.status.label for w in queue}

    report = reporting.status(ws, now)
    found["status"] = {line.item_id: line.status.label
                       for line in [*report.upcoming, *report.attention]
                       if line.item_id in found["plan"]}
    found["history"] = {line.item_id: reporting.line_json(line)["label"]
                        for line in reporting.history(ws, now, FIRST, LAST)}
    data = evaluation.report_of(ws, now, FIRST, LAST)
    found["report"] = {r["item"]: r["status"] for r in data["standing"]["attention"]}
    counted = sum(data["standing"]["counts"].values())
    assert counted == len(found["plan"]), (counted, found["plan"])
    return found


# WST_VIEW_EXAMPLES=500 for a longer search than CI's
@settings(max_examples=int(os.environ.get("WST_VIEW_EXAMPLES", "25")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(actions, min_size=1, max_size=12))
def test_every_view_gives_every_item_the_same_status(steps: list[tuple]) -> None:
    folder = Path(tempfile.mkdtemp(prefix="wst-views-"))
    try:
        shutil.copytree(MINIMAL, folder / "p")
        project = ProjectDir(folder / "p")
        set_people(project)
        rig = Rig(project, Clock(START))
        try:
            rig.tick(START)
            for step in steps:
                act(rig, step)
            seen = views(rig, folder / "site")
        finally:
            rig.ws.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    plan = seen["plan"]
    assert set(seen["preview"]) == set(plan) == set(seen["calendar"])
    for view, labels in seen.items():
        for item_id, label in labels.items():
            assert label == plan[item_id], (view, item_id, label, plan[item_id], steps)
    # the queue holds exactly the items whose status says they wait for an approval
    waiting = {i for i, line in plan.items()
               if line.startswith("needs approval") or line.startswith("held")}
    assert set(seen["approvals"]) <= waiting
