"""A freeze, end to end, in a real headless chromium against a real `wst serve` and a real
daemon (`wst run`) on one live store, publishing to the X stand-in on loopback: the page pauses
everything; a statement approved in the composer as answering the pause, with an uploaded image
and its alt text, goes out during it, while an ordinary post due at the same moment is held;
resuming lists what the pause held, and releasing it from the page publishes it, once. Every
pause, approval and release is in the audit trail with the person and their address."""

from __future__ import annotations

import io
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from pathlib import Path

import pytest
from conftest import ProjectDir
from daemon_helpers import LONDON, PERSON, LiveProject, due_in, wait_until
from PIL import Image
from standins.x import XStandIn
from test_web_browser_freeze_compose import as_person, checks_say
from web_browser_support import by, check_page, click, find
from web_support import serving

ORDINARY = "Worried about a child? You can talk to us."
STATEMENT = "Our thoughts are with everyone affected by today's events in Wolverhampton."
ALT = "The words: we are thinking of you, on a dark blue background."
REASON = "A serious incident in the city"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[LiveProject, XStandIn]]:
    """A live project on the X stand-in, with its daemon killed and reaped on the way out."""
    with XStandIn() as x:
        project = LiveProject.create(tmp_path / "live", {"x": x})
        try:
            yield project, x
        finally:
            project.kill_all()


def at_second(driver, css: str, moment: datetime) -> None:
    """Fill a date-and-time field to the second (the test's clock is tighter than a person's)."""
    driver.execute_script(
        "arguments[0].value = arguments[1];"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
        driver.find_element(*by(css)), f"{moment.astimezone(LONDON):%Y-%m-%dT%H:%M:%S}")


def events(project: LiveProject) -> list[tuple[str, str, str, str]]:
    db = project.path / "var" / "wst.sqlite"
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return conn.execute("SELECT kind, by, via, origin FROM events ORDER BY id").fetchall()


def test_a_statement_goes_out_in_a_freeze_and_what_it_held_is_released_from_the_page(
        driver, shots, live, tmp_path: Path) -> None:
    project, x = live
    with serving(ProjectDir(project.path), env=x.environ) as server:
        server.account(PERSON)
        project.run()
        as_person(driver, server, PERSON)
        driver.get(server.url + "/freeze")
        driver.find_element(*by("#reason")).send_keys(REASON)
        click(driver, "form[action$='/freeze/pause'] button")
        assert "Publishing is paused" in find(driver, ".flashes").text

        # both fall due at the same moment, inside the pause
        due = due_in(45)   # time for the composer on a loaded machine
        project.post(ORDINARY, "x", due)
        driver.get(server.url + "/compose")
        driver.find_element(*by("#text")).send_keys(STATEMENT)
        driver.find_element(*by("#channel-x")).click()
        picture = tmp_path / "thinking of you.png"
        out = io.BytesIO()
        Image.new("RGB", (1200, 675), (29, 58, 95)).save(out, "PNG")
        picture.write_bytes(out.getvalue())
        driver.find_element(*by("#upload")).send_keys(str(picture))
        driver.find_element(*by("#alt")).send_keys(ALT)
        driver.find_element(*by("#answers_pause")).click()
        at_second(driver, "#at", due)
        assert "Must fix" not in checks_say(driver, f"{len(STATEMENT)} of 280")
        click(driver, "button[value=post]")
        assert "Approved: it goes out" in find(driver, ".flashes").text
        assert "it answers the event the pause is for" in driver.find_element(*by(".facts")).text
        assert datetime.now(LONDON) < due, "the composer ran past the due time; allow more"

        # the daemon publishes the statement at its time; the ordinary post is held
        wait_until(lambda: x.posts, "the statement on the X stand-in", timeout=90)
        wait_until(lambda: "held" in project.states("x"), "the ordinary post to be held")
        assert [(p["text"], p["image_alt"]) for p in x.posts] == [(STATEMENT, ALT)]
        check_page(driver, server.url + "/freeze", shots, "freeze-holding")
        held = driver.find_element(*by("#decide")).text
        assert "Held so far" in held and ORDINARY[:40] in held

        click(driver, "form[action$='/freeze/resume'] button")
        assert "1 item(s) fell due during the pause" in find(driver, ".flashes").text
        check_page(driver, driver.current_url, shots, "freeze-decide")
        click(driver, "button[value=release]")
        flashes = find(driver, ".flashes").text
        assert "Released 1 item(s)" in flashes and ": published" in flashes
        assert [p["text"] for p in x.posts] == [STATEMENT, ORDINARY]
        time.sleep(1.0)   # a daemon that also sent it would have by now
        assert len(x.create_calls) == 2
        assert sorted(project.states("x")) == ["published", "published"]

    trail = events(project)
    for kind in ("pause", "reactive-post", "approve", "resume", "release"):
        assert (kind, PERSON, "web", "127.0.0.1") in trail, kind
    assert any(kind == "sign-in" and via == "web" for kind, _, via, _ in trail)
