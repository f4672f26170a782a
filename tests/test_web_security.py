"""The web workspace's security, over real HTTP to a real `wst serve`: every route requested
as nobody (sent to sign-in), as a person without the role (403, nothing changed) and without
the CSRF token (refused, nothing changed); the headers; sign-in that says the same for an
unknown name and a wrong password, is rate limited, rotates the session and ends it on the
server; text from people and content escaped; no secret, password or hash in any page."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from conftest import Clock, ProjectDir
from web_support import KEY, PASSWORD, Client, Server, serving, web_project
from workflow_helpers import add_bulletin

from pipeline.accounts import Accounts
from pipeline.ledger import Actor
from pipeline.services import signin
from pipeline.web.app import create_app

ITEM = "safer-internet-day/on-the-day/2027-02-09/x"
POST = "safer-internet-day/on-the-day/2027-02-09"
SAMPLES = {"item_id": ITEM, "token": "not-a-real-token", "relative": "images/sid.jpg",
           "filename": "workspace.css", "month": "2027-02", "fmt": "csv",
           "campaign": "safer-internet-day", "post_id": "on-the-day",
           "event_id": "safer-internet-day", "campaign_id": "safer-internet-day"}
# Sign-in bookkeeping is expected to change the store; nothing else may.
BOOKKEEPING = ("sign-in", "sign-in-failed", "sign-out", "invite", "password-set")


@dataclass(frozen=True)
class Access:
    """Who may use a route: "public", "signed-in", or only people whose role allows it (with
    the POST data a person with the role would send, and a person without it)."""

    who: str
    form: tuple[tuple[str, str], ...] = ()
    without: str = "writer"   # responsible for bulletins; approves nothing; no audit role


# The declared rule for every route; a route without one fails the test, so a new page can't
# be added without saying who may use it.
ROUTES: dict[str, Access] = {
    "static": Access("public"),
    "assets.preview_css": Access("public"),
    "assets.favicon": Access("public"),
    "assets.media": Access("signed-in"),
    "auth.sign_in": Access("public"),
    "auth.invite": Access("public"),
    "auth.sign_out": Access("signed-in"),
    "calendar.home": Access("signed-in"),
    "calendar.month": Access("signed-in"),
    "calendar.week": Access("signed-in"),
    "calendar.agenda": Access("signed-in"),
    "calendar.subscribe": Access("signed-in"),
    "calendar.feed": Access("public"),          # a private token instead of a session
    "items.page": Access("signed-in"),
    "items.email": Access("signed-in"),
    "items.archive": Access("signed-in"),
    "items.comment": Access("signed-in", (("comment", "Looks right to me."),)),
    "items.approve": Access("role", (("item", f"{ITEM}=VERSION"),)),
    "items.reject": Access("role", (("item", f"{ITEM}=VERSION"), ("reason", "Too long"))),
    "approvals.queue": Access("signed-in"),
    "approvals.approve": Access("role", (("item", f"{ITEM}=VERSION"),)),
    "bulletins.page": Access("signed-in"),
    "bulletins.test_send": Access("role", (("to", "unit@example.org"),), without="chair"),
    "bulletins.approve": Access("role", (("item", f"{ITEM}=VERSION"),)),
    "bulletins.reject": Access("role", (("item", f"{ITEM}=VERSION"), ("reason", "Too long"))),
    "oversight.status": Access("signed-in"),
    "oversight.history": Access("signed-in"),
    "oversight.audit_trail": Access("role"),    # [web] audit_roles: the chair's executive role
    "oversight.audit_csv": Access("role"),
    "oversight.report": Access("signed-in"),
    "oversight.report_view": Access("signed-in"),
    "oversight.report_file": Access("signed-in"),
    "freeze.page": Access("signed-in"),         # anyone may see the freeze; only some change it
    "freeze.pause": Access("role", (("reason", "A serious incident"),)),
    "freeze.resume": Access("role"),
    "freeze.decide": Access("role", (("decision", "release"),)),
    "compose.page": Access("role"),
    "compose.check": Access("role", (("text", "Hello"), ("channels", "x"))),
    "compose.send": Access("role", (("text", "Worried about a child? Call 01902 555392."),
                                    ("channels", "x"), ("at", "2030-01-07T10:00"),
                                    ("action", "submit"))),
    "writing.index": Access("signed-in"),      # the list of campaigns; each form checks the role
    "writing.post": Access("role"),
    "writing.check": Access("role", (("text", "Hello"), ("channels", "x"))),
    "writing.save": Access("role", (("post", "on-the-day"), ("id", "on-the-day"),
                                    ("when_mode", "on"), ("when_time", "09:00"),
                                    ("text", "It is Safer Internet Day."), ("channels", "x"),
                                    ("action", "save"))),
    # the bulletin is for those responsible, accountable or in support for e-bulletins
    "writing.bulletin": Access("role", without="chair"),
    "writing.start_bulletin": Access("role", without="chair"),
    "writing.preview_bulletin": Access("role", (("subject", "February"),), without="chair"),
    "writing.save_bulletin": Access("role", (("subject", "February"), ("stories", "0"),
                                             ("action", "save")), without="chair"),
    # an awareness day is for the people who write the campaigns anchored to it
    "writing.event": Access("role"),
    "writing.preview_event": Access("role", (("event", "safer-internet-day"), ("mode", "fixed"))),
    "writing.save_event": Access("role", (("event", "safer-internet-day"),
                                          ("id", "safer-internet-day"),
                                          ("title", "Safer Internet Day"), ("mode", "fixed"),
                                          ("month", "2"), ("day", "9"), ("action", "save"))),
    "writing.campaign": Access("role"),
    "writing.preview_campaign": Access("role", (("campaign", "safer-internet-day"),
                                                ("anchor", "safer-internet-day"))),
    "writing.save_campaign": Access("role", (("campaign", "safer-internet-day"),
                                             ("id", "safer-internet-day"),
                                             ("title", "Safer Internet Day"),
                                             ("priority", "online-safety"),
                                             ("anchor", "safer-internet-day"),
                                             ("channels", "x"), ("action", "save"))),
}


def routes(project: ProjectDir) -> list[tuple[str, str, str]]:
    """(endpoint, method, path) of every route of the application, with sample arguments."""
    app = create_app(project.config, {"WST_WEB_SECRET_KEY": KEY})
    try:
        out = []
        for rule in app.url_map.iter_rules():
            path = rule.rule
            for name in rule.arguments:
                path = path.replace(f"<path:{name}>", SAMPLES[name]).replace(
                    f"<{name}>", SAMPLES[name])
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                out.append((rule.endpoint, method, path))
        return out
    finally:
        app.extensions["wst"].holder.close()


def state(project: ProjectDir) -> tuple:
    """Everything a request could change, read straight from the store file."""
    db = project.path / "var" / "wst.sqlite"
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        marks = ",".join("?" * len(BOOKKEEPING))
        return (conn.execute(f"SELECT count(*) FROM events WHERE kind NOT IN ({marks})",
                             BOOKKEEPING).fetchone(),
                conn.execute("SELECT key, state FROM ledger ORDER BY key").fetchall(),
                conn.execute("SELECT count(*) FROM approvals").fetchone(),
                conn.execute("SELECT count(*) FROM pauses").fetchone(),
                conn.execute("SELECT count(*) FROM reactive_posts").fetchone(),
                conn.execute("SELECT person, feed_token_hash FROM web_accounts ORDER BY person")
                .fetchall(),
                sorted(p.name for p in (project.path / "content" / "images").iterdir()),
                sorted((str(p), p.read_bytes()) for p in project.path.glob("*/**/*.toml")))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    project = web_project(tmp_path_factory.mktemp("web") / "project")
    add_bulletin(project)
    with serving(project) as running:
        for person in ("approver", "writer", "chair"):
            running.account(person)
        yield running


def form_for(server: Server, access: Access) -> list[tuple[str, str]]:
    """The form a person with the role would send, with the item's current version."""
    version = ""
    if any(v.endswith("=VERSION") for _, v in access.form):
        page = server.signed_in("approver").get(f"/items/{ITEM}")
        version = re.search(rf'value="{ITEM}=([0-9a-f]+)"', page.text).group(1)
    return [(k, v.replace("VERSION", version)) for k, v in access.form]


def test_every_route_has_a_declared_rule(server: Server) -> None:
    endpoints = {endpoint for endpoint, _, _ in routes(server.project)}
    assert endpoints == set(ROUTES), ("routes without a rule", endpoints - set(ROUTES),
                                      "rules without a route", set(ROUTES) - endpoints)


def test_nobody_is_sent_to_sign_in_and_changes_nothing(server: Server) -> None:
    nobody = Client(server.url)
    nobody.get("/sign-in")  # a CSRF token, so the refusal is about signing in
    for endpoint, method, path in routes(server.project):
        if ROUTES[endpoint].who == "public":
            continue
        before = state(server.project)
        form = form_for(server, ROUTES[endpoint])
        done = nobody.get(path) if method == "GET" else nobody.post(path, form)
        assert done.status_code == 302, (endpoint, method, done.status_code)
        assert done.headers["Location"].startswith("/sign-in"), (endpoint, done.headers)
        assert state(server.project) == before, (endpoint, method)


def test_a_person_without_the_role_gets_403_and_changes_nothing(server: Server) -> None:
    checked = 0
    for endpoint, method, path in routes(server.project):
        access = ROUTES[endpoint]
        if access.who != "role":
            continue
        client = server.signed_in(access.without)
        form = form_for(server, access)
        client.get(f"/items/{ITEM}")  # a fresh CSRF token
        before = state(server.project)
        done = client.get(path) if method == "GET" else client.post(path, form)
        assert done.status_code == 403, (endpoint, done.status_code, done.text[:500])
        assert "Not yours to do" in done.text
        assert state(server.project) == before, endpoint
        checked += 1
    assert checked >= 12


def test_without_the_csrf_token_every_change_is_refused(server: Server) -> None:
    approver = server.signed_in("approver")
    for endpoint, method, path in routes(server.project):
        if method != "POST":
            continue
        form = form_for(server, ROUTES[endpoint]) if ROUTES[endpoint].form else []
        before = state(server.project)
        done = approver.post(path, form or [("name", "approver"), ("password", PASSWORD)],
                             token="")
        assert done.status_code == 400, (endpoint, done.status_code)
        assert "The form has expired" in done.text
        assert state(server.project) == before, endpoint


def test_the_same_form_with_the_token_and_the_role_does_change_things(server: Server) -> None:
    """(So the refusals above are about the token and the role, not a broken form.)"""
    approver = server.signed_in("approver")
    form = form_for(server, ROUTES["items.approve"])
    approver.get(f"/items/{ITEM}")
    before = state(server.project)
    done = approver.post(f"/items/{ITEM}/approve", form)
    assert done.status_code == 302
    assert state(server.project) != before


def test_with_the_role_the_bulletin_and_audit_routes_do_their_work(server: Server) -> None:
    """(So their 403s above are about the role.) The writer may test-send the bulletin; the
    chair (executive) may read and export the audit trail."""
    writer = server.signed_in("writer")
    writer.get("/bulletin/2027-02")
    before = state(server.project)
    done = writer.post("/bulletin/2027-02/test-send", {"to": "unit@example.org"})
    assert done.status_code == 302 and state(server.project) != before
    chair = server.signed_in("chair")
    assert chair.get("/history/audit").status_code == 200
    export = chair.get("/history/audit.csv")
    assert export.status_code == 200 and "test-send" in export.text


def test_the_freeze_and_the_composer_change_things_for_people_whose_role_allows(
        server: Server) -> None:
    """(So their refusals above are about the role and the token, not a broken form.)"""
    chair, approver = server.signed_in("chair"), server.signed_in("approver")
    for client, endpoint, path in ((chair, "freeze.pause", "/freeze/pause"),
                                   (chair, "freeze.resume", "/freeze/resume"),
                                   (approver, "compose.send", "/compose")):
        client.get("/freeze")
        before = state(server.project)
        done = client.post(path, list(ROUTES[endpoint].form))
        assert done.status_code == 302, (endpoint, done.status_code, done.text[-2000:])
        assert state(server.project) != before, endpoint
    assert approver.get("/compose").status_code == 200
    assert approver.post("/compose/check", list(ROUTES["compose.check"].form)).status_code == 200


def test_every_page_has_the_security_headers(server: Server) -> None:
    approver = server.signed_in("approver")
    for path in ("/sign-in", "/calendar", f"/items/{POST}", "/approvals", "/bulletin/2027-02",
                 "/status", "/history", "/report", "/freeze", "/compose"):
        done = approver.get(path)
        csp = done.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1]\
            .split(";")[0]
        assert "frame-ancestors 'none'" in csp
        assert done.headers["X-Content-Type-Options"] == "nosniff"
        assert done.headers["Referrer-Policy"] == "same-origin"
        assert "<script>" not in done.text  # every script is a file of the site


def test_sign_in_says_the_same_for_an_unknown_name_and_a_wrong_password(server: Server) -> None:
    unknown = Client(server.url).sign_in("nobody-here", PASSWORD)
    wrong = Client(server.url).sign_in("approver", "not the password at all")
    assert unknown.status_code == wrong.status_code == 401
    assert "The user name or password is not right" in unknown.text
    def body(response, name: str) -> str:  # the page without its per-session CSRF token
        text = re.sub(r'value="[^"]{40,}"', 'value="TOKEN"', response.text.split('<main id="main"')[1])
        return text.replace(name, "NAME")

    assert body(unknown, "nobody-here") == body(wrong, "approver")


def test_sign_in_rotates_the_session_and_sign_out_ends_it_on_the_server(server: Server) -> None:
    client = Client(server.url)
    client.get("/sign-in")
    before = client.http.cookies.get("wst_session")
    assert client.post("/sign-in", {"name": "chair", "password": PASSWORD}).status_code == 302
    after = client.http.cookies.get("wst_session")
    assert after and after != before
    saved = dict(client.http.cookies)
    assert client.get("/calendar").status_code == 200
    client.get("/calendar")
    assert client.post("/sign-out").status_code == 302
    replay = Client(server.url)
    replay.http.cookies.update(saved)  # the old cookie, kept by an attacker
    done = replay.get("/calendar")
    assert done.status_code == 302 and done.headers["Location"].startswith("/sign-in")


def test_session_cookie_flags(server: Server) -> None:
    client = Client(server.url)
    client.get("/sign-in")
    done = client.post("/sign-in", {"name": "chair", "password": PASSWORD})
    cookie = done.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on loopback; https base_url sets it


def test_text_from_people_is_escaped(server: Server) -> None:
    approver = server.signed_in("approver")
    approver.get(f"/items/{POST}")
    approver.post(f"/items/{POST}/comment", {"comment": "<script>alert(1)</script> & <b>bold</b>"})
    page = approver.get(f"/items/{POST}").text
    assert "<script>alert(1)</script>" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    trail = server.signed_in("chair").get("/history/audit?kind=comment").text
    assert "<script>alert(1)</script>" not in trail
    assert "commented: “&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;”" in trail


def test_a_pause_reason_and_a_draft_are_escaped_on_every_page_that_shows_them(
        server: Server) -> None:
    chair, approver = server.signed_in("chair"), server.signed_in("approver")
    chair.get("/freeze")
    assert chair.post("/freeze/pause", {"reason": "<script>alert(1)</script> & <b>x</b>"}
                      ).status_code == 302
    try:
        for client, path in ((chair, "/freeze"), (approver, "/calendar"), (approver, "/compose")):
            page = client.get(path).text
            assert "<script>alert(1)</script>" not in page and "<b>x</b>" not in page, path
            assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;x&lt;/b&gt;" in page, path
        checks = approver.post("/compose/check", {
            "text": "<script>alert(2)</script> Call 01902 <b>555000</b>", "channels": "x",
            "image": "<img src=x onerror=alert(3)>"}).text
        assert "<script>" not in checks and "<b>" not in checks and "<img src=x" not in checks
        assert "&lt;img src=x onerror=alert(3)&gt;" in checks   # named in its message, as text
    finally:
        chair.get("/freeze")
        assert chair.post("/freeze/resume").status_code == 302


def test_an_upload_is_refused_whole_when_too_large_or_not_an_image(server: Server) -> None:
    approver = server.signed_in("approver")
    approver.get("/compose")
    before = state(server.project)
    form = {"text": "Hello.", "channels": "x", "action": "upload"}
    huge = approver.post("/compose", form, files={"upload": ("big.png", b"\0" * 13_000_000)})
    assert huge.status_code == 413 and "That file is too large" in huge.text
    fake = approver.post("/compose", form, files={"upload": ("../../config.png", b"<svg/>")})
    assert fake.status_code == 400 and "not a picture we can use" in fake.text
    assert state(server.project) == before


def test_no_secret_password_or_hash_in_any_page(server: Server) -> None:
    approver = server.signed_in("approver")
    db = server.project.path / "var" / "wst.sqlite"
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        hashes = [r[0] for r in conn.execute("SELECT password_hash FROM web_accounts")]
    pages = [approver.get(p).text for p in ("/calendar", "/calendar/agenda", "/approvals",
                                           f"/items/{POST}", "/calendar/subscribe",
                                           "/bulletin/2027-02", "/status", "/history",
                                           "/report", "/report/view", "/report.csv",
                                           "/report.json", "/freeze", "/compose")]
    chair = server.signed_in("chair")
    pages += [chair.get(p).text for p in ("/history/audit", "/history/audit.csv")]
    for page in pages:
        assert PASSWORD not in page and KEY not in page
        assert not any(h in page or h.split("$")[-1] in page for h in hashes)
    assert PASSWORD not in server.log and KEY not in server.log


def test_a_session_idle_too_long_ends(project: ProjectDir) -> None:
    """In-process (the clock is the test's): idle past [web] idle_minutes, signed out."""
    from workflow_helpers import set_people

    set_people(project, "[web]\nidle_minutes = 5\n\n")
    clock = Clock(datetime(2027, 1, 10, 9, 0, tzinfo=UTC))
    app = create_app(project.config, {"WST_WEB_SECRET_KEY": KEY}, clock=clock)
    try:
        state_ = app.extensions["wst"]
        ws = state_.holder.ws
        invite = signin.invite(ws, state_.accounts, Actor("root", os_user="root"), clock(), "approver")
        Accounts.redeem(state_.accounts, invite.link.rsplit("/", 1)[1], PASSWORD, clock())
        client = app.test_client()
        page = client.get("/sign-in").text
        from web_support import token_of
        done = client.post("/sign-in", data={"name": "approver", "password": PASSWORD,
                                             "csrf_token": token_of(page)})
        assert done.status_code == 302
        clock.now += timedelta(minutes=4)
        assert client.get("/calendar").status_code == 200   # active: still in
        clock.now += timedelta(minutes=4)
        assert client.get("/calendar").status_code == 200   # 4 minutes since the last use
        clock.now += timedelta(minutes=6)
        done = client.get("/calendar")
        assert done.status_code == 302 and done.headers["Location"].startswith("/sign-in")
    finally:
        app.extensions["wst"].holder.close()


def test_the_audit_trail_tells_the_web_from_the_command_line(server: Server) -> None:
    approver = server.signed_in("approver")
    approver.get(f"/items/{POST}")
    approver.post(f"/items/{POST}/comment", {"comment": "From the web."})
    done = server.wst("reject", ITEM, "--reason", "From the terminal", "--by", "approver")
    assert done.returncode == 0, done.stderr
    db = server.project.path / "var" / "wst.sqlite"
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        rows = conn.execute("SELECT kind, by, via, origin FROM events WHERE kind IN "
                            "('comment', 'reject', 'sign-in') ORDER BY id").fetchall()
    import getpass
    assert ("comment", "approver", "web", "127.0.0.1") in rows
    assert ("reject", "approver", "cli", getpass.getuser()) in rows
    assert any(r[0] == "sign-in" and r[2] == "web" and r[3] == "127.0.0.1" for r in rows)


def test_the_calendar_feed_needs_its_private_token(server: Server) -> None:
    assert Client(server.url).get("/feed/not-a-token.ics").status_code == 404
    chair = server.signed_in("chair")
    chair.get("/calendar/subscribe")
    page = chair.post("/calendar/subscribe").text
    link = re.search(r'<code class="long" id="feed-link">([^<]+)</code>', page).group(1)
    assert link.startswith(server.url + "/feed/")
    path = link[len(server.url):]
    feed = Client(server.url).get(path)
    assert feed.status_code == 200 and feed.text.startswith("BEGIN:VCALENDAR")
    assert "X-WST-STATUS:needs approval" in feed.text
    chair.post("/calendar/subscribe")  # a new link: the old one stops working
    assert Client(server.url).get(path).status_code == 404


def test_sign_in_is_rate_limited_per_account(server: Server) -> None:
    target = "writer"  # (the last test: the account stays limited for 15 minutes)
    answers = [Client(server.url).sign_in(target, f"wrong {n} password here").status_code
               for n in range(6)]
    assert answers[:5] == [401] * 5 and answers[5] == 429
    # the right password is refused too while the account is limited
    assert Client(server.url).sign_in(target, PASSWORD).status_code == 429
    # another account is not
    assert Client(server.url).sign_in("chair", PASSWORD).status_code == 302
