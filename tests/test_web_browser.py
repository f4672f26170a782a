"""The web workspace's journeys in a real headless chromium (Selenium) against a real `wst
serve` on loopback and a real store: setting a password from an invitation and signing in, the
calendar's three views with statuses and filters, reviewing and approving a post (refused when
its words changed since the page was opened), and a campaign's bundle approved from the queue.
axe-core runs on every page (no serious or critical violation), and each is used at 390 px.
Screenshots go to $WST_SCREENSHOTS when set (docs/workspace.md uses them)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web_browser_support import by, check_page, click, find, sign_in
from web_support import PASSWORD, Server, serving, web_project

POST = "safer-internet-day/on-the-day/2027-02-09"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    project = web_project(tmp_path_factory.mktemp("web-browser") / "project")
    with serving(project) as running:
        yield running


def test_an_invitation_sets_a_password_and_the_person_signs_in(driver, server, shots) -> None:
    link = server.invite("approver")
    check_page(driver, link, shots, "set-password")
    driver.find_element(*by("#password")).send_keys("too short")
    driver.find_element(*by("#again")).send_keys("too short")
    click(driver, "main button[type=submit]")
    assert "Use at least 12 characters" in find(driver, ".alert-error").text
    driver.find_element(*by("#password")).send_keys(PASSWORD)
    driver.find_element(*by("#again")).send_keys(PASSWORD)
    click(driver, "main button[type=submit]")
    assert driver.current_url.endswith("/sign-in")
    assert "Your password is set" in find(driver, ".flashes").text
    server.passwords["approver"] = PASSWORD
    check_page(driver, server.url + "/sign-in", shots, "sign-in")
    driver.find_element(*by("#name")).send_keys("approver")
    driver.find_element(*by("#password")).send_keys("a wrong password")
    click(driver, "main button[type=submit]")
    assert "The user name or password is not right" in find(driver, ".alert-error").text
    sign_in(driver, server, "approver")
    assert "/calendar" in driver.current_url
    assert "Signed in as An approver" in find(driver, ".account").text
    # the link worked once
    driver.get(link)
    assert "This link does not work" in driver.find_element(*by("h1")).text


def test_the_calendar_shows_every_item_with_its_status_in_three_views(driver, server, shots) -> None:
    month = server.url + "/calendar?month=2027-02"
    check_page(driver, month, shots, "calendar-month")
    entries = driver.find_elements(*by(".ws-calendar .entry"))
    assert len(entries) == 4
    assert all("Needs approval" in e.text for e in entries)   # in words, not colour alone
    check_page(driver, server.url + "/calendar/week?start=2027-02-08", shots, "calendar-week")
    assert [e.text.split("\n")[0] for e in driver.find_elements(*by(".week-day h2"))][1] == \
        "Tuesday 9 February 2027"
    check_page(driver, server.url + "/calendar/agenda?start=2027-02-01", shots, "calendar-agenda")
    from selenium.webdriver.support.ui import Select
    Select(driver.find_element(*by("#f-channel"))).select_by_value("x")
    click(driver, ".filters button")
    shown = driver.find_elements(*by(".agenda-list .entry"))
    assert len(shown) == 2 and all(" x " in f" {e.text} " for e in shown)
    driver.get(server.url + "/calendar/agenda?start=2027-02-01&mine=1")
    assert len(driver.find_elements(*by(".agenda-list .entry"))) == 4


def test_reviewing_and_approving_a_post_on_every_channel(driver, server, shots) -> None:
    check_page(driver, f"{server.url}/items/{POST}", shots, "item")
    renderings = driver.find_elements(*by(".rendering"))
    assert [r.find_element(*by("h2")).text.split(" ")[1] for r in renderings] == ["facebook", "x"]
    assert driver.find_elements(*by(".rendering .card"))  # the preview's own cards
    # the words change after the page was opened: the approval is refused, the new words shown
    path = server.project.path / "content" / "posts" / "safer-internet-day.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("Ask your child", "Ask your children"),
                    encoding="utf-8")
    import time
    time.sleep(2.5)  # the server looks for edits every two seconds
    click(driver, ".decide button.button")
    flashes = find(driver, ".flashes").text
    assert "it changed since you opened it" in flashes
    assert "Ask your children" in driver.find_element(*by(".rendering .card-text")).text
    click(driver, ".decide button.button")
    assert "Approved 2 item(s)" in find(driver, ".flashes").text
    statuses = [c.text for c in driver.find_elements(*by(".status-table td:nth-child(2) .status"))]
    assert statuses == ["Approved", "Approved"]
    history = driver.find_element(*by(".timeline")).text
    assert "approver (on the web): approved version" in history


def test_the_approvals_queue_approves_a_campaign_bundle(driver, server, shots) -> None:
    check_page(driver, server.url + "/approvals", shots, "approvals")
    groups = driver.find_elements(*by(".queue-group"))
    assert len(groups) == 1 and "safer-internet-day" in groups[0].text
    items = driver.find_elements(*by(".queue-item"))
    assert len(items) == 2  # the Sunday posts (the day's own were approved above)
    click(driver, ".queue-group form button")
    assert "Approved 2 item(s)" in find(driver, ".flashes").text
    assert "Nothing is waiting for you" in driver.find_element(*by("main")).text
    driver.get(server.url + "/calendar?month=2027-02")
    assert all("Approved" in e.text for e in driver.find_elements(*by(".ws-calendar .entry")))
