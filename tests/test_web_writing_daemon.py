"""A save from the workspace with the daemon running, live, against the X stand-in: a campaign
post approved, then changed in its form. The new version is planned as the save returns and
the old approval no longer stands; the daemon picks the edit up as it does a hand edit and
tells the approvers; at the post's time it is held as not approved and X receives nothing:
the words an approver saw are the only ones that could have gone out."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import ProjectDir
from daemon_helpers import LONDON, PERSON, LiveProject, post_block, wait_until
from standins.x import XStandIn
from web_support import serving

OLD = "Worried about a child? Call 01902 555392."
NEW = "Worried about a child? Call us on 01902 555392, day or night."


def next_minute(ahead: float) -> datetime:
    """The first whole minute at least `ahead` seconds from now (a post's time is to the
    minute)."""
    soon = datetime.now(UTC) + timedelta(seconds=ahead)
    return soon.replace(second=0, microsecond=0) + timedelta(minutes=1)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[LiveProject, XStandIn, datetime]]:
    due = next_minute(35)
    with XStandIn() as x:
        project = LiveProject.create(tmp_path / "live", {"x": x},
                                     posts=post_block("drill", due, OLD))
        try:
            yield project, x, due
        finally:
            project.kill_all()


def test_a_post_changed_in_its_form_is_never_sent_on_the_old_approval(live) -> None:
    project, x, due = live
    with serving(ProjectDir(project.path), env=x.environ) as server:
        daemon = project.run()
        project.ok("approve", "--campaign", "fault-drill", "--by", PERSON)
        wait_until(lambda: project.states("x") == ["approved"], "the approval")
        told = daemon.log.count("NOTICE approvals-")

        client = server.signed_in(PERSON)
        page = client.get("/write/posts/fault-drill/drill").text
        digest = re.search(r'name="digest" value="([0-9a-f]+)"', page)[1]
        assert html.unescape(re.search(r'<textarea id="text"[^>]*>([^<]*)<', page)[1]) == OLD
        done = client.post("/write/posts/fault-drill/save", [
            ("post", "drill"), ("digest", digest), ("id", "drill"), ("when_mode", "at"),
            ("when_at", f"{due.astimezone(LONDON):%Y-%m-%dT%H:%M}"), ("text", NEW),
            ("channels", "x"), ("action", "save")])
        assert done.status_code == 302, done.text
        # planned as the save returned: the old version superseded, its approval with it
        assert project.states("x") == ["planned"]
        assert NEW in project.path.joinpath("content/posts/fault-drill.toml").read_text()

        wait_until(lambda: daemon.log.count("NOTICE approvals-") > told,
                   "the daemon to tell the approvers of the new version")
        wait_until(lambda: project.states("x") == ["held"], "the post's time",
                   timeout=(due - datetime.now(UTC)).total_seconds() + 30, every=0.5)
        row = project.rows("x")[0]
        assert (row["reason"], row["title"], row["approved"]) == (
            "not-approved", "Worried about a child? Call us on 01902 555392, day or…", None)
        assert x.posts == []
