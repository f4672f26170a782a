"""Writing a campaign's posts in a real headless chromium (Selenium) against a real `wst serve`
on loopback: an approver edits a post with the checks appearing as they type and the date
builder giving the `when`, saves it to the file; adds a new post; is shown both versions when
the file changed meanwhile, and where the problem is when `wst check` would fail. A writer
starts the month's bulletin draft from the page, and writes a story in Markdown with its
preview as they type. An approver adds an awareness day with the date builder ("the last
Thursday of January"), seeing the dates it gives before saving, and widens a campaign's live
window, seeing the windows it gives. axe-core
runs on every page (no serious or critical violation), each is used at 390 px, and screenshots
go to $WST_SCREENSHOTS when set."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from test_web_browser_freeze_compose import as_person, check_layout, checks_say, replace_text
from test_web_writing import last_thursday_of_january
from web_browser_support import by, check_page, click, find
from web_support import Server, serving, web_project
from workflow_helpers import add_bulletin

POSTS = "content/posts/safer-internet-day.toml"
EDIT = "/write/posts/safer-internet-day/on-the-day"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    project = web_project(tmp_path_factory.mktemp("web-write") / "project")
    project.write(POSTS, "# Safer Internet Day: reviewed by the C&E group.\n"
                  + project.read(POSTS))
    add_bulletin(project)
    with serving(project) as running:
        running.account("approver")
        running.account("writer")
        yield running


def test_an_approver_edits_a_post_with_the_checks_as_they_type(driver, server, shots) -> None:
    as_person(driver, server, "approver")
    check_page(driver, server.url + "/write", shots, "write")
    driver.get(server.url + "/write")
    click(driver, f"a[href='{EDIT}']")
    check_page(driver, server.url + EDIT, shots, "write-post")
    assert driver.find_element(*by("#when-on")).is_selected()  # "on the day at 09:00"
    assert driver.find_element(*by("#when_time")).get_attribute("value") == "09:00"
    replace_text(driver, "#text", "It is Safer Internet Day. Worried? Call 01902 555000.")
    said = checks_say(driver, "not an official number")
    assert "Must fix" in said and "of 280 weighted characters" in said
    replace_text(driver, "#text", "It is Safer Internet Day. Ask your child which games they "
                                  "like to play.")
    checks_say(driver, "No problems found")
    driver.find_element(*by("#when-after")).click()
    replace_text(driver, "#when_n", "1")
    check_layout(driver, shots, "write-post-filled")
    from browser_support import DESKTOP, set_width
    set_width(driver, DESKTOP)
    click(driver, "button[value=save]")
    assert "Saved content/posts/safer-internet-day.toml" in find(driver, ".flashes").text
    text = server.project.read(POSTS)
    assert text.startswith("# Safer Internet Day: reviewed by the C&E group.\n")
    assert ('id = "on-the-day"\nwhen = "1 day after at 09:00"\ntext = "It is Safer Internet '
            'Day. Ask your child which games they like to play."\nimage = "images/sid.jpg"\n'
            'alt = "A parent and child look at a tablet together."') in text


def test_a_new_post_is_added(driver, server, shots) -> None:
    as_person(driver, server, "approver")
    driver.get(server.url + "/write")
    click(driver, "a[href='/write/posts/safer-internet-day/new']")
    driver.find_element(*by("#id")).send_keys("one-week-to-go")
    replace_text(driver, "#when_n", "1")
    from selenium.webdriver.support.ui import Select
    Select(driver.find_element(*by("#when_unit"))).select_by_value("weeks")
    driver.find_element(*by("#text")).send_keys("Safer Internet Day is a week away. Talk to "
                                                "your child about the apps they use.")
    checks_say(driver, "No problems found")
    click(driver, "button[value=save]")
    assert "Saved" in find(driver, ".flashes").text
    assert server.project.read(POSTS).endswith(
        '[[post]]\nid = "one-week-to-go"\nwhen = "1 week before at 10:00"\ntext = "Safer '
        'Internet Day is a week away. Talk to your child about the apps they use."\n')


def test_a_changed_file_shows_both_and_a_failing_check_shows_where(
        driver, server, shots) -> None:
    as_person(driver, server, "approver")
    driver.get(server.url + "/write/posts/safer-internet-day/two-days-to-go")
    replace_text(driver, "#text", "Safer Internet Day is on Tuesday. Ask your child about it.")
    by_hand = server.project.read(POSTS).replace("reviewed by the C&E group", "edited by hand")
    server.project.write(POSTS, by_hand)
    click(driver, "button[value=save]")
    find(driver, "#conflict")
    theirs, yours = (e.text for e in driver.find_elements(*by(".file-text")))
    assert "edited by hand" in theirs and "Ask your child about it." in yours
    assert server.project.read(POSTS) == by_hand
    check_layout(driver, shots, "write-conflict")

    replace_text(driver, "#when_n", "9")
    from selenium.webdriver.support.ui import Select
    Select(driver.find_element(*by("#when_unit"))).select_by_value("weeks")
    click(driver, "button[value=save]")   # on the current version now: the check refuses it
    refused = find(driver, "#refused").text
    assert "content/posts/safer-internet-day.toml:" in refused and "live window" in refused
    assert server.project.read(POSTS) == by_hand
    check_layout(driver, shots, "write-refused")


def test_a_writer_starts_the_months_draft_and_writes_a_story(driver, server, shots) -> None:
    as_person(driver, server, "writer")
    check_page(driver, server.url + "/write/bulletins/2027-03", shots, "write-bulletin-start")
    click(driver, "main form button[type=submit]")
    assert "Started content/bulletins/2027-03.toml" in find(driver, ".flashes").text
    assert server.project.read("content/bulletins/2027-03.toml").startswith(
        "# Draft e-bulletin for March 2027")
    check_page(driver, server.url + "/write/bulletins/2027-03", shots, "write-bulletin-draft")

    driver.get(server.url + "/write/bulletins/2027-02")
    replace_text(driver, "#story-0-body", "Ask them:\n\n- which apps they use\n- who they "
                                           "talk to")
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, 20).until(lambda d: [e.text for e in d.find_elements(
        *by("#checks .preview-body li"))] == ["which apps they use", "who they talk to"])
    click(driver, "button[value=add-story]")
    driver.find_element(*by("#story-1-title")).send_keys("Training")
    driver.find_element(*by("#story-1-body")).send_keys("Book a place on our online safety "
                                                        "course.")
    check_layout(driver, shots, "write-bulletin")
    from browser_support import DESKTOP, set_width
    set_width(driver, DESKTOP)
    click(driver, "button[value=save]")
    assert "Saved content/bulletins/2027-02.toml" in find(driver, ".flashes").text
    text = server.project.read("content/bulletins/2027-02.toml")
    assert 'body = """Ask them:\n\n- which apps they use\n- who they talk to"""' in text
    assert text.endswith('[[story]]\ntitle = "Training"\nbody = "Book a place on our online '
                         'safety course."\n')


def test_an_awareness_day_is_built_with_its_dates_shown(driver, server, shots) -> None:
    as_person(driver, server, "approver")
    driver.get(server.url + "/write")
    click(driver, "a[href='/write/new-event']")
    check_page(driver, server.url + "/write/new-event", shots, "write-event")
    from selenium.webdriver.support.ui import Select, WebDriverWait
    driver.find_element(*by("#id")).send_keys("holocaust-memorial-day")
    driver.find_element(*by("#title")).send_keys("Holocaust Memorial Day")
    driver.find_element(*by("#mode-nth")).click()
    Select(driver.find_element(*by("#ordinal"))).select_by_value("-1")
    Select(driver.find_element(*by("#weekday"))).select_by_value("TH")
    Select(driver.find_element(*by("#month"))).select_by_value("1")
    WebDriverWait(driver, 20).until(
        lambda d: "BYDAY=-1TH" in d.find_element(*by("#checks")).text)
    dates = [e.text for e in driver.find_elements(*by("#checks .event-dates li"))]
    assert last_thursday_of_january(date.today().year + 1) in dates, dates
    check_layout(driver, shots, "write-event-built")
    from browser_support import DESKTOP, set_width
    set_width(driver, DESKTOP)
    click(driver, "button[value=save]")
    assert "Saved schedules/calendar.toml" in find(driver, ".flashes").text
    assert ('id = "holocaust-memorial-day"\ntitle = "Holocaust Memorial Day"\n'
            'rule = "FREQ=YEARLY;BYMONTH=1;BYDAY=-1TH"\n') in server.project.read(
        "schedules/calendar.toml")


def test_a_campaigns_window_is_changed_seeing_its_windows(driver, server, shots) -> None:
    as_person(driver, server, "approver")
    check_page(driver, server.url + "/write/campaigns/safer-internet-day", shots,
               "write-campaign")
    first = driver.find_element(*by("#checks .event-dates li")).text
    was = datetime.strptime(re.search(r"go out from (\w+ \d+ \w+ \d{4})", first)[1],
                            "%A %d %B %Y")
    earlier = was - timedelta(days=3)   # 10 days before the day instead of 7
    replace_text(driver, "#live_before_days", "10")
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, 20).until(
        lambda d: f"go out from {earlier:%A} {earlier.day} {earlier:%B %Y}"
        in d.find_element(*by("#checks")).text)
    check_layout(driver, shots, "write-campaign-changed")
    from browser_support import DESKTOP, set_width
    set_width(driver, DESKTOP)
    click(driver, "button[value=save]")
    assert "Saved schedules/calendar.toml" in find(driver, ".flashes").text
    assert "live_before_days = 10" in server.project.read("schedules/calendar.toml")
