"""The emails the workspace's people get link to the page each is about, and every link works:
approver digests and reminders (the queue, and each item's page or the month's bulletin page),
alerts about items. Sent through the alerts' SMTP settings to a real SMTP server on loopback;
each link opened on a real `wst serve` by a signed-in person."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from urllib.parse import urlsplit

import pytest
from conftest import ProjectDir
from standins.smtp import SmtpStandIn
from web_support import KEY, Server, serving, web_project
from workflow_helpers import add_bulletin

from pipeline import links
from pipeline.config import load_config
from pipeline.publisher import Publisher
from pipeline.services.notices import tell_approvers
from pipeline.web.app import create_app
from pipeline.web.context import RECHECK_SECONDS
from pipeline.workspace import Workspace

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
REMIND = datetime(2027, 2, 5, 10, 0, tzinfo=UTC)      # two days before the Sunday posts
LINK = re.compile(r"https?://\S+")


@pytest.fixture(scope="module")
def relay() -> Iterator[SmtpStandIn]:
    with SmtpStandIn() as running:
        yield running


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, relay: SmtpStandIn) -> Iterator[Server]:
    project = web_project(tmp_path_factory.mktemp("web-emails") / "project",
                          f'[alerts]\nsmtp_url = "{relay.url}"\nfrom_address = '
                          f'"pipeline@example.org"\nto = ["unit@example.org"]\n\n')
    add_bulletin(project)
    with serving(project) as running:
        yield running


def body_of(message) -> str:
    return message_from_bytes(message.raw, policy=default_policy).get_content()


def opened(server: Server, url: str) -> str:
    """The page a link opens for the approver (a 200, on this server)."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == server.url, url
    done = server.signed_in("approver").get(parts.path)
    assert done.status_code == 200, (url, done.status_code)
    return done.text


def test_each_link_names_the_page_it_is_about(project: ProjectDir) -> None:
    """The paths pipeline.links writes are the routes of the pages it means."""
    settings = load_config(project.config).settings
    app = create_app(project.config, {"WST_WEB_SECRET_KEY": KEY})
    try:
        adapter = app.url_map.bind("127.0.0.1")
        expected = {
            links.item_page(settings, "safer-internet-day/on-the-day/2027-02-09/x"):
                ("items.page", {"item_id": "safer-internet-day/on-the-day/2027-02-09/x"}),
            links.page_for(settings, "bulletin/2027-02/mailchimp"):
                ("bulletins.page", {"month": "2027-02"}),
            links.approvals_page(settings): ("approvals.queue", {}),
            links.status_page(settings): ("oversight.status", {}),
            links.invite_page(settings, "abc"): ("auth.invite", {"token": "abc"}),
        }
        for url, endpoint in expected.items():
            assert url.startswith("http://127.0.0.1:8080/")   # [web] host and port by default
            assert adapter.match(urlsplit(url).path) == endpoint, url
    finally:
        app.extensions["wst"].holder.close()


def test_a_digest_and_a_reminder_link_to_the_queue_and_each_item(server: Server,
                                                                 relay: SmtpStandIn) -> None:
    with Workspace(server.project.config, {}) as ws:
        told = tell_approvers(ws, NOW)
        reminded = tell_approvers(ws, REMIND)
    assert told.queued == {"approver": 9}      # eight posts and February's bulletin
    assert reminded.reminded == {"approver": 2}
    digest, reminder = relay.to("approver@example.org")[-2:]
    for message, count in ((digest, 9), (reminder, 2)):
        text = body_of(message)
        found = LINK.findall(text)
        assert found[0] == f"{server.url}/approvals"
        assert len(found) == 1 + count
        assert "Waiting for your approval" in opened(server, found[0])
        for url in found[1:]:
            page = opened(server, url)
            path = urlsplit(url).path
            if path.startswith("/bulletin/"):
                assert "The February 2027 bulletin" in page
            else:
                assert f"<code>{path.removeprefix('/items/').rsplit('/', 1)[0]}</code>" in page
    # the bulletin's link is its month's page, where it can be test-sent too
    assert f"{server.url}/bulletin/2027-02" in LINK.findall(body_of(digest))


def test_an_alert_about_an_item_links_to_its_page(server: Server, relay: SmtpStandIn) -> None:
    """(Edits the content: the module's last test.)"""
    too_long = "Safer Internet Day is coming. " * 12   # over X's 280 characters
    path = server.project.path / "content" / "posts" / "safer-internet-day.toml"
    path.write_text(path.read_text(encoding="utf-8") + f'''
[[post]]
id = "too-long"
when = "1 day before at 12:00"
text = "{too_long.strip()}"
''', encoding="utf-8")
    item = "safer-internet-day/too-long/2027-02-08/x"
    with Workspace(server.project.config, {}) as ws:
        Publisher(ws).prepare(datetime(2027, 2, 8, 11, 30, tzinfo=UTC))   # as the daemon does
    (alert,) = [m for m in relay.to("unit@example.org") if item in body_of(m)]
    subject = str(message_from_bytes(alert.raw, policy=default_policy)["Subject"])
    assert subject == f"[WST pipeline] {item} fails its checks and will be held at 12:00"
    found = LINK.findall(body_of(alert))
    assert found == [f"{server.url}/items/{item}"]
    time.sleep(RECHECK_SECONDS + 0.5)   # the server notices the edit
    page = opened(server, found[0])
    assert "<code>safer-internet-day/too-long/2027-02-08</code>" in page
    assert "This post cannot be published yet" in page
