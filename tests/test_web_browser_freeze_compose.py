"""The freeze page and the composer in a real headless chromium (Selenium) against a real `wst
serve` on loopback and a real store: a writer composes a post with the checks appearing as
they type (each platform counted its own way, a wrong number flagged, text that looks like
markup shown as text) and sends it for approval, and an approver approves it from the queue;
an approver uploads an image (a file that is not one is refused beside its field) and posts at
once; a person who may pause does, with a reason, an end time and help posts kept going, sees
the banner on every page and resumes. axe-core runs on every page (no serious or critical
violation), each is used at 390 px, and screenshots go to $WST_SCREENSHOTS when set.

The decision on what a pause held, with a daemon publishing to a stand-in, is in
tests/test_web_browser_daemon.py."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from browser_support import axe_violations, screenshot
from PIL import Image
from web_browser_support import PHONE, by, check_page, click, find, sign_in
from web_support import Server, serving, web_project

LONDON = ZoneInfo("Europe/London")
WAIT = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The minimal project; writers are responsible for reactive posts here (they write them,
    approvers approve them)."""
    project = web_project(tmp_path_factory.mktemp("web-compose") / "project")
    project.edit("config.toml", '[responsibilities.reactive-posts]\ntitle = "Reactive posts"\n',
                 '[responsibilities.reactive-posts]\ntitle = "Reactive posts"\n'
                 'responsible = ["writers"]\n')
    with serving(project) as running:
        for person in ("approver", "writer", "chair"):
            running.account(person)
        yield running


def wait_for(driver, condition, what: str):
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, WAIT, poll_frequency=0.1).until(
        lambda d: condition(d), message=f"waiting for {what}")


def checks_say(driver, words: str) -> str:
    """The checks panel's text, once htmx has swapped in checks that say `words` (and no
    request for them failed)."""
    said = wait_for(driver, lambda d: (t := d.find_element(*by("#checks")).text) and words in t
                    and t, f"the checks to say {words!r}")
    failed = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"
              and ("/compose/check" in e["message"] or e.get("source") != "network")]
    assert failed == []   # (a refused form's own 400 is the page's answer, not a failure)
    return said


def as_person(driver, server: Server, person: str) -> None:
    driver.delete_all_cookies()
    sign_in(driver, server, person)


def set_time(driver, css: str, moment: datetime) -> None:
    """Fill a date-and-time field, as its picker does (typing into one depends on the locale)."""
    driver.execute_script(
        "arguments[0].value = arguments[1];"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
        driver.find_element(*by(css)), f"{moment.astimezone(LONDON):%Y-%m-%dT%H:%M}")


def replace_text(driver, css: str, text: str) -> None:
    field = driver.find_element(*by(css))
    field.clear()
    field.send_keys(text)


def test_a_writer_composes_with_the_checks_as_they_type_and_sends_it_for_approval(
        driver, server, shots) -> None:
    as_person(driver, server, "writer")
    check_page(driver, server.url + "/compose", shots, "compose")
    assert driver.find_elements(*by("button[value=post]")) == []   # may not approve
    driver.find_element(*by("#channel-x")).click()
    driver.find_element(*by("#channel-facebook")).click()
    assert [e.get_attribute("value") for e in driver.find_elements(*by("input[name=channels]"))
            ] == ["facebook", "x"]   # the bulletin's email channel is not offered
    driver.find_element(*by("#text")).send_keys(
        "<script>alert('x')</script> Worried about a child? Call 01902 555000.")
    said = checks_say(driver, "not an official number")
    assert "Must fix" in said and "of 280 weighted characters" in said
    assert driver.find_elements(*by("#checks script")) == []
    assert "thing" in driver.find_element(*by("#check-summary")).text   # "n things to fix"
    assert axe_violations(driver) == []
    screenshot(driver, shots / "web-compose-checks.png")

    link = "https://www.wolverhamptonsafeguarding.org.uk/concerns/report-a-concern-about-a-child"
    replace_text(driver, "#text", f"Worried about a child? Call 01902 555392. {link}")
    said = checks_say(driver, "No problems found")
    counts = {s.find_element(*by("h3")).text: int(s.find_element(*by(".counter strong")).text)
              for s in driver.find_elements(*by(".channel-check"))}
    assert counts["x"] == len("Worried about a child? Call 01902 555392. ") + 23   # X: a link is 23
    assert counts["facebook"] == len(f"Worried about a child? Call 01902 555392. {link}")
    from selenium.webdriver.support.ui import Select
    Select(driver.find_element(*by("#image"))).select_by_value("images/sid.jpg")
    checks_say(driver, "has no alt text")
    assert driver.find_element(*by(".check-image img")).get_attribute("src").endswith(
        "/media/images/sid.jpg")
    driver.find_element(*by("#alt")).send_keys("A parent and child look at a tablet together.")
    checks_say(driver, "No problems found")
    check_layout(driver, shots, "compose-filled")

    click(driver, "button[value=submit]")       # no time yet: refused beside the field
    assert "Say when it should go out" in find(driver, ".error-summary").text
    assert driver.find_element(*by("#at")).get_attribute("aria-invalid") == "true"
    assert driver.find_element(*by("#text")).get_attribute("value").startswith("Worried about")
    driver.find_element(*by(".error-summary a[href='#at']"))
    set_time(driver, "#at", datetime.now(LONDON) + timedelta(days=2))
    click(driver, "button[value=submit]")
    assert "Sent for approval" in find(driver, ".flashes").text
    statuses = [c.text for c in driver.find_elements(*by(".status-table td:nth-child(2) .status"))]
    assert statuses == ["Needs approval", "Needs approval"]
    assert "sent version" in driver.find_element(*by(".timeline")).text

    as_person(driver, server, "approver")
    driver.get(server.url + "/approvals")
    group = next(g for g in driver.find_elements(*by(".queue-group")) if "reactive" in g.text)
    assert "Worried about a child?" in group.text
    group.find_element(*by(".entry-link")).click()
    click(driver, ".decide button.button")
    assert "Approved 2 item(s)" in find(driver, ".flashes").text


def check_layout(driver, shots: Path, name: str) -> None:
    """The page as it is now (after typing): no serious axe violation, a screenshot, and
    nothing wider than a 390 px screen."""
    from browser_support import DESKTOP, set_width
    set_width(driver, DESKTOP)
    time.sleep(0.2)
    assert axe_violations(driver) == []
    screenshot(driver, shots / f"web-{name}.png")
    set_width(driver, PHONE)
    time.sleep(0.2)
    wide = driver.execute_script("""
        return [...document.querySelectorAll('body *')].filter(el => {
          const r = el.getBoundingClientRect();
          return r.width > 0 && r.right > window.innerWidth + 1 && !el.closest('.table-scroll');
        }).map(el => el.tagName + '.' + el.className).slice(0, 5);""")
    assert wide == [], wide
    screenshot(driver, shots / f"web-{name}-{PHONE}.png")


def test_an_approver_uploads_an_image_and_posts_at_once(driver, server, shots,
                                                         tmp_path: Path) -> None:
    as_person(driver, server, "approver")
    driver.get(server.url + "/compose")
    not_an_image = tmp_path / "statement.png"
    not_an_image.write_text("this is not a picture", encoding="utf-8")
    driver.find_element(*by("#channel-x")).click()
    driver.find_element(*by("#upload")).send_keys(str(not_an_image))
    click(driver, "button[value=upload]")
    assert "not a picture we can use" in find(driver, ".error-summary").text
    assert "not a picture we can use" in driver.find_element(*by("#upload-error")).text
    assert driver.find_element(*by("#channel-x")).is_selected()   # the form is as it was
    picture = tmp_path / "Our statement.png"
    out = io.BytesIO()
    Image.new("RGB", (120, 68), (11, 110, 105)).save(out, "PNG")
    picture.write_bytes(out.getvalue())
    driver.find_element(*by("#upload")).send_keys(str(picture))
    click(driver, "button[value=upload]")
    notice = find(driver, ".alert-ok").text
    assert "The image is uploaded as images/our-statement-" in notice
    chosen = driver.find_element(*by("#image option:checked")).get_attribute("value")
    assert chosen.startswith("images/our-statement-") and chosen.endswith(".png")
    assert (server.project.path / "content" / chosen).read_bytes() == picture.read_bytes()
    assert "PNG, 120 × 68 pixels" in driver.find_element(*by(".check-image")).text
    driver.find_element(*by("#text")).send_keys("We are here to help. Call 01902 551199.")
    driver.find_element(*by("#alt")).send_keys("The words: we are here to help.")
    checks_say(driver, "No problems found")
    click(driver, "button[value=post]")
    flashes = find(driver, ".flashes").text
    assert "Approved and sent now" in flashes and "published (dry run" in flashes
    assert [c.text for c in driver.find_elements(*by(".status-table td:nth-child(2) .status"))
            ] == ["Published (dry run)"]
    assert driver.find_element(*by(".rendering img")).get_attribute("src").endswith(chosen)


def test_a_pause_with_a_reason_an_end_and_help_posts_then_resume(driver, server, shots) -> None:
    as_person(driver, server, "writer")     # may look, not change
    check_page(driver, server.url + "/freeze", shots, "freeze-not-yours")
    assert driver.find_elements(*by("form[action$='/freeze/pause']")) == []
    assert "is for: chair" in driver.find_element(*by("main .alert-info")).text

    as_person(driver, server, "chair")
    check_page(driver, server.url + "/freeze", shots, "freeze")
    click(driver, "form[action$='/freeze/pause'] button")     # no reason: refused
    assert "Say why publishing is paused" in find(driver, ".error-summary").text
    driver.find_element(*by(".error-summary a[href='#reason']")).click()
    assert driver.switch_to.active_element.get_attribute("id") == "reason"
    driver.find_element(*by("#reason")).send_keys("A serious incident in the city centre")
    set_time(driver, "#until", datetime.now(LONDON) + timedelta(days=1))
    driver.find_element(*by("#keep_help")).click()
    click(driver, "form[action$='/freeze/pause'] button")
    assert "Publishing is paused" in find(driver, ".flashes").text
    facts = driver.find_element(*by(".panel-paused")).text
    assert "A serious incident in the city centre" in facts and "By itself" in facts
    assert "Keep going" in facts
    check_page(driver, server.url + "/freeze", shots, "freeze-paused")

    for path in ("/calendar", "/approvals", "/freeze"):      # the banner on every page
        driver.get(server.url + path)
        banner = driver.find_element(*by(".banner-pause")).text
        assert "Publishing is paused" in banner and "keep going" in banner
    as_person(driver, server, "approver")
    check_page(driver, server.url + "/compose", shots, "compose-paused")
    assert driver.find_element(*by("#answers_pause"))
    driver.find_element(*by(".banner-pause a")).click()
    assert driver.current_url.endswith("/freeze")

    as_person(driver, server, "chair")
    driver.get(server.url + "/freeze")
    click(driver, "form[action$='/freeze/resume'] button")
    assert "Publishing has resumed" in find(driver, ".flashes").text
    assert "Nothing it held waits for a decision" in driver.find_element(*by("#decide")).text
    assert driver.find_elements(*by(".banner-pause")) == []
