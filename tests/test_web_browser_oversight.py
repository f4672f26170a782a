"""The bulletin, status, history, audit-trail and report journeys in a real headless chromium
against a real `wst serve` on loopback and a real store: a writer test-sends the month's
bulletin and an approver approves it from its page; the status page shows what a real daemon,
publishing to the stand-ins, found (a flagged channel, a rate limit, its heartbeat) and the
alert emails about it link to the pages they are about; the audit trail is filtered and
exported; the report is read. axe-core on every page, each used at 390 px; screenshots go to
$WST_SCREENSHOTS when set (docs/workspace.md uses them)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from urllib.parse import urlsplit

import pytest
from conftest import ProjectDir
from daemon_helpers import LiveProject, due_in, wait_until
from standins.mastodon import MastodonStandIn
from standins.smtp import SmtpStandIn
from standins.x import XStandIn
from web_browser_support import by, check_page, click, find, sign_in
from web_support import Server, free_port, serving, web_project
from workflow_helpers import add_bulletin

TEXT = "Worried about a child? You can talk to us."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    project = web_project(tmp_path_factory.mktemp("web-browser-oversight") / "project")
    add_bulletin(project)
    with serving(project) as running:
        for person in ("writer", "approver", "chair"):
            running.account(person)
        yield running


def flash(driver) -> str:
    return find(driver, ".flashes").text


def test_a_writer_test_sends_the_bulletin_and_an_approver_approves_it(driver, server,
                                                                     shots) -> None:
    sign_in(driver, server, "writer")
    click(driver, ".mainnav a[href='/bulletin']")    # the next bulletin to go out
    assert find(driver, "h1").text == "The February 2027 bulletin"
    check_page(driver, server.url + "/bulletin/2027-02", shots, "bulletin")
    # the email at both widths, drawn inside its frames
    frames = driver.find_elements(*by(".frames iframe"))
    assert [f.get_attribute("width") for f in frames] == ["640", "375"]
    driver.switch_to.frame(frames[1])
    assert "Safer Internet Day" in driver.find_element(*by("body")).text
    driver.switch_to.default_content()
    assert "Talk to your child about the apps they use." in find(driver, "pre.plain").text
    # a wrong address is said, and nothing is sent
    driver.find_element(*by("#test-to")).send_keys("not an address")
    click(driver, "#tests button")
    assert flash(driver).startswith("Not sent: 'not' is not an email address")
    driver.find_element(*by("#test-to")).send_keys("unit@example.org")
    click(driver, "#tests button")
    assert "sent to unit@example.org" in flash(driver)
    assert "writer sent a test of the mailchimp email" in find(driver, ".tests-list").text

    sign_in(driver, server, "approver")
    driver.get(server.url + "/bulletin/2027-02")
    assert "writer sent a test" in find(driver, ".tests-list").text   # seen before approving
    click(driver, ".decide button.button")
    assert flash(driver) == "Approved 1 item(s): bulletin/2027-02/mailchimp"
    assert "Approved" in driver.find_element(*by(".status-table .status")).text


def test_history_the_audit_trail_and_its_export(driver, server, shots) -> None:
    sign_in(driver, server, "chair")          # the executive: [web] audit_roles by default
    server.signed_in("chair").get("/status")  # records the plan, as the daemon does
    check_page(driver, server.url + "/history?from=2027-02-01&to=2027-02-28", shots, "history")
    assert "bulletin/2027-02/mailchimp" in find(driver, ".history-table").text
    click(driver, "main a[href='/history/audit']")
    check_page(driver, server.url + "/history/audit", shots, "audit")
    from selenium.webdriver.support.ui import Select
    Select(driver.find_element(*by("#a-person"))).select_by_value("writer")
    Select(driver.find_element(*by("#a-kind"))).select_by_value("test-send")
    click(driver, ".filters button")
    rows = driver.find_elements(*by(".audit-table tbody tr"))
    assert len(rows) == 1 and "sent a test to unit@example.org" in rows[0].text
    href = driver.find_element(*by("a[download]")).get_attribute("href")
    text = driver.execute_async_script(
        "const done = arguments[1]; fetch(arguments[0]).then(r => r.text()).then(done);", href)
    table = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [(r["what"], r["person"]) for r in table] == [("test-send", "writer")]


def test_the_report_is_read_in_the_workspace(driver, server, shots) -> None:
    sign_in(driver, server, "approver")
    check_page(driver, server.url + "/report?from=2027-01-01&to=2027-03-31", shots, "report")
    frame = find(driver, "iframe.report-frame")
    driver.switch_to.frame(frame)
    assert "Safer Internet Day" in find(driver, "main").text
    driver.switch_to.default_content()


# -- the status page over a live daemon publishing to the stand-ins -------------------------------

@dataclass
class Live:
    """A live project whose daemon published (or tried to) to the stand-ins, and its workspace."""

    project: LiveProject
    server: Server
    x: XStandIn
    relay: SmtpStandIn


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("web-live")
    with XStandIn() as x, MastodonStandIn() as m, SmtpStandIn() as relay:
        project = LiveProject.create(folder, {"x": x, "mastodon": m})
        port = free_port()
        with project.config.open("a", encoding="utf-8") as config:
            config.write(f'\n[web]\nport = {port}\naudit_roles = ["approvers"]\n\n[alerts]\n'
                         f'smtp_url = "{relay.url}"\nfrom_address = "pipeline@example.org"\n'
                         f'to = ["unit@example.org"]\n')
        try:
            project.run()
            m.expire_token()                       # Mastodon refuses the token from now on
            first = due_in(15)   # room for two `wst post` runs on a loaded machine
            project.post(TEXT, "x,mastodon", first)
            project.post(TEXT, "x", first + timedelta(seconds=1))   # X's duplicate-content 403
            project.wait_state("x", "published", 0)
            project.wait_state("x", "failed", 1)
            project.wait_state("mastodon", "held", 0)
            x.rate_limit(1)                        # then X answers 429 until its window resets
            project.post("Help is there: call the children's MASH.", "x", due_in(10))
            project.wait_state("x", "failed", 2)
            with serving(ProjectDir(folder), port, env=project.env) as server:
                server.account("approver")
                yield Live(project, server, x, relay)
        finally:
            project.kill_all()


def test_status_shows_a_flagged_channel_a_rate_limit_and_the_heartbeat(driver, live,
                                                                       shots) -> None:
    sign_in(driver, live.server, "approver")
    check_page(driver, live.server.url + "/status", shots, "status")
    assert re.search(r"Running on \S+ \(process \d+\); its last heartbeat was \d\d:\d\d:\d\d, "
                     r"\d+ seconds ago", find(driver, "#daemon-state").text)
    mastodon = driver.find_element(*by("#channel-mastodon")).text
    assert "Flagged" in mastodon and "held until the credentials work again" in mastodon
    x = driver.find_element(*by("#channel-x")).text
    assert re.search(r"Rate limited\s+until \w{3} \d\d \w{3} \d{4} \d\d:\d\d", x)
    assert "Set" in x and "Live" in x                  # its credentials, as the daemon has them
    attention = driver.find_element(*by("section[aria-labelledby='attention-heading']")).text
    assert "mastodon" in attention and "Held" in attention and "Failed" in attention


def test_the_alerts_link_to_the_pages_they_are_about(driver, live) -> None:
    def alerts() -> dict[str, str]:
        found = {}
        for m in live.relay.to("unit@example.org"):
            message = message_from_bytes(m.raw, policy=default_policy)
            found[str(message["Subject"])] = message.get_content()
        return found

    got = wait_until(lambda: len(alerts()) >= 2 and alerts(), "the two alerts")
    (credentials,) = [b for s, b in got.items() if "mastodon: credentials" in s]
    assert f"Open it in the workspace: {live.server.url}/status" in credentials
    (duplicate,) = [b for s, b in got.items() if "the platform already has this text" in s]
    link = re.search(r"Open it in the workspace: (\S+)", duplicate).group(1)
    path = urlsplit(link).path
    assert path.startswith("/items/reactive/") and path.endswith("/x")
    driver.get(link)
    assert find(driver, "h1").text == TEXT
    assert "Failed" in driver.find_element(*by(".status-table .selected")).text
