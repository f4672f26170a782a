"""The freeze page's decisions through the web application in-process, on a real SQLite store
with a clock the test moves (so posts fall due inside the pause without waiting): what the
pause held is listed by campaign; cancelling needs a reason (the message is beside its field);
releasing one channel's part sends what is due at once; cancelling the rest leaves nothing to
decide. Each decision is in the audit trail as done on the web, with the address."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html import unescape

import pytest
from conftest import Clock, ProjectDir
from flask.testing import FlaskClient
from web_support import KEY, PASSWORD, token_of
from workflow_helpers import APPROVER, set_people

from pipeline import housekeeping
from pipeline.accounts import Accounts
from pipeline.ledger import Actor
from pipeline.publisher import Publisher
from pipeline.services import approvals, signin
from pipeline.services.approvals import Selection
from pipeline.web.app import create_app
from pipeline.workspace import Workspace

START = datetime(2027, 2, 7, 9, 45, tzinfo=UTC)   # (sessions end after 30 idle minutes)
DUE = datetime(2027, 2, 7, 10, tzinfo=UTC)            # the two Sunday posts (facebook and x)
SUNDAY = "safer-internet-day/two-days-to-go/2027-02-07"


@pytest.fixture
def app(project: ProjectDir):
    set_people(project)
    clock = Clock(START)
    made = create_app(project.config, {"WST_WEB_SECRET_KEY": KEY}, clock=clock)
    made.config["clock"] = clock
    yield made
    made.extensions["wst"].holder.close()


def workspace(app) -> Workspace:
    return app.extensions["wst"].holder.ws


def signed_in(app, person: str) -> FlaskClient:
    state = app.extensions["wst"]
    clock = app.config["clock"]
    invite = signin.invite(workspace(app), state.accounts, Actor("root", os_user="root"), clock(),
                           person)
    Accounts.redeem(state.accounts, invite.link.rsplit("/", 1)[1], PASSWORD, clock())
    client = app.test_client()
    page = client.get("/sign-in").text
    done = client.post("/sign-in", data={"name": person, "password": PASSWORD,
                                         "csrf_token": token_of(page)})
    assert done.status_code == 302
    return client


def post(client: FlaskClient, path: str, **form: str):
    """A form sent with the CSRF token of the freeze page, as the browser sends it."""
    token = token_of(client.get("/freeze").text)
    return client.post(path, data={**form, "csrf_token": token})


def tick(app, at: datetime) -> None:
    """What the daemon does when the clock reaches `at`."""
    app.config["clock"].now = at
    ws = workspace(app)
    housekeeping.catch_up(Publisher(ws), at, housekeeping.sync(ws, at))


def flashes(page: str) -> list[str]:
    return [unescape(m) for m in re.findall(r'<p class="alert alert-info">(.*?)</p>', page, re.S)]


@pytest.fixture
def chair(app) -> Iterator[FlaskClient]:
    approvals.approve(workspace(app), APPROVER, START, Selection(campaign="safer-internet-day"))
    client = signed_in(app, "chair")
    assert post(client, "/freeze/pause", reason="National mourning").status_code == 302
    tick(app, DUE)
    yield client


def test_what_the_pause_held_is_released_by_channel_and_the_rest_cancelled_with_a_reason(
        app, chair: FlaskClient) -> None:
    holding = chair.get("/freeze").text
    assert "Held so far" in holding and holding.count('class="queue-item"') == 2
    refused = post(chair, "/freeze/decide", decision="release", pause="1")
    assert refused.status_code == 400 and "is still on" in refused.text   # resume first

    app.config["clock"].now = datetime(2027, 2, 7, 10, 10, tzinfo=UTC)
    resumed = post(chair, "/freeze/resume")
    assert resumed.headers["Location"] == "/freeze?pause=1#decide"
    page = chair.get("/freeze?pause=1").text
    assert "holds 2 items waiting for a decision" in page and "Your decision" in page

    no_reason = post(chair, "/freeze/decide", decision="cancel", pause="1")
    assert no_reason.status_code == 400
    assert '<a href="#decide-reason">Say why they will not go out</a>' in no_reason.text
    assert 'id="decide-reason-error"' in no_reason.text

    released = post(chair, "/freeze/decide", decision="release", pause="1", channel="x")
    assert released.status_code == 302
    said = flashes(chair.get(released.headers["Location"]).text)
    assert said[0].startswith("Released 1 item(s). Those already due were sent at once")
    assert said[1] == f"{SUNDAY}/x: published (dry run: written to the outbox, nothing sent)"

    cancelled = post(chair, "/freeze/decide", decision="cancel", pause="1",
                     campaign="safer-internet-day", reason="Not right after the news")
    page = chair.get(cancelled.headers["Location"]).text
    assert flashes(page) == ["Cancelled 1 item(s): they will not go out."]
    assert "Nothing it held waits for a decision" in page

    events = [(e.kind, e.item_id, e.via, e.origin) for e in workspace(app).ledger.audit.events()
              if e.kind in ("pause", "resume", "release", "cancel")]
    assert events == [("pause", None, "web", "127.0.0.1"), ("resume", None, "web", "127.0.0.1"),
                      ("release", f"{SUNDAY}/x", "web", "127.0.0.1"),
                      ("cancel", f"{SUNDAY}/facebook", "web", "127.0.0.1")]


def test_a_person_without_the_freeze_role_sees_it_and_changes_nothing(app, chair) -> None:
    approver = signed_in(app, "approver")     # accountable for posts, not for freezes
    page = approver.get("/freeze").text
    assert "Held so far" in page and "Resume publishing now" not in page
    assert post(approver, "/freeze/resume").status_code == 403
    assert workspace(app).ledger.pauses.active(DUE) is not None
