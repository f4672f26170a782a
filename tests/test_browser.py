"""The preview in a real headless browser (Debian's chromium through Selenium) with axe-core.

Needs /usr/bin/chromium, /usr/bin/chromedriver and tests/browser/node_modules/axe-core: run
`bash tests/browser/install.sh`. Missing pieces skip these tests, or fail them when CI is set.
Screenshots go to a temporary folder (or $WST_SCREENSHOTS); their paths are printed (pytest -s).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from browser_support import (
    DESKTOP,
    MOBILE,
    axe_violations,
    open_page,
    set_width,
)
from test_preview import BULLETIN_ID, X_ID, build_sample, page_name, sample_items


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("browser-preview")
    build_sample(root)
    return root / "site"


def _width(driver, width: int, height: int = 900) -> None:
    set_width(driver, width, height)


def _open(driver, path: Path, width: int = DESKTOP) -> list[dict]:
    """Load a page of the site at a width; return the console errors it logged."""
    return open_page(driver, path.as_uri(), width)


def _screenshot(driver, path: Path, shots: Path, name: str, width: int) -> Path:
    """A full-page screenshot of `path` at `width` CSS pixels."""
    errors = _open(driver, path, width)
    assert errors == [], f"console errors on {path.name} at {width}px: {errors}"
    height = driver.execute_script(
        "return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)")
    _width(driver, width, min(int(height), 6000))
    time.sleep(0.1)
    out = shots / f"{name}-{width}.png"
    driver.save_screenshot(str(out))
    print(f"screenshot: {out}")
    return out


def _axe(driver, path: Path) -> list[dict]:
    """Run axe-core on a page of the site; return the serious and critical violations."""
    assert _open(driver, path) == []
    return axe_violations(driver)


def _item(site: Path, item_id: str) -> Path:
    return site / "items" / f"{page_name(item_id)}.html"


def _email(site: Path) -> Path:
    return site / "items" / f"{page_name(BULLETIN_ID)}.email.html"


def test_index_loads_without_console_errors_and_filters_work(driver, site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    assert _open(driver, site / "index.html") == []
    assert driver.find_element(By.TAG_NAME, "h1").text.startswith("What will be published")
    form = driver.find_element(By.ID, "filters")
    assert form.is_displayed()  # JavaScript revealed the filters
    rows = driver.find_elements(By.CSS_SELECTOR, "tr.entry")
    assert len(rows) == len(sample_items())

    def visible(selector: str) -> int:
        return sum(1 for e in driver.find_elements(By.CSS_SELECTOR, selector) if e.is_displayed())

    Select(driver.find_element(By.ID, "filter-channel")).select_by_value("x")
    assert visible("tr.entry") == 1 and visible("li.entry") == 1
    assert "Showing 1 of 8 items" in driver.find_element(By.ID, "filter-status").text
    Select(driver.find_element(By.ID, "filter-channel")).select_by_value("")
    Select(driver.find_element(By.ID, "filter-campaign")).select_by_value("adults-week")
    assert visible("tr.entry") == 2
    driver.find_element(By.ID, "filter-problems").click()
    assert visible("tr.entry") == 1  # the LinkedIn post with the missing image
    driver.find_element(By.CSS_SELECTOR, "button[type=reset]").click()
    time.sleep(0.1)
    assert visible("tr.entry") == len(sample_items())


def test_pages_without_javascript_still_show_everything(site):
    source = (site / "index.html").read_text(encoding="utf-8")
    # nothing is hidden in the markup except the JS-only filter form and the no-match note
    assert source.count(" hidden") == 2 and "<noscript>" in source


def test_bulletin_page_loads_both_frames_without_console_errors(driver, site):
    from selenium.webdriver.common.by import By

    page = _item(site, BULLETIN_ID)
    assert _open(driver, page) == []
    frames = driver.find_elements(By.TAG_NAME, "iframe")
    widths = []
    for frame in frames:
        driver.switch_to.frame(frame)
        try:
            widths.append(driver.execute_script("return window.innerWidth"))
            assert "Orange Wolverhampton" in driver.find_element(By.TAG_NAME, "body").text
            images = driver.execute_script(
                "return [...document.images].map(i => [i.complete, i.naturalWidth])")
            assert images and all(ok and w > 0 for ok, w in images), images
        finally:
            driver.switch_to.default_content()
    assert widths == [640, 375]  # the email's own viewport: desktop and phone
    assert driver.get_log("browser") == [] or all(
        e["level"] != "SEVERE" for e in driver.get_log("browser"))


@pytest.mark.parametrize("width", [DESKTOP, MOBILE])
def test_screenshots_and_no_sideways_scrolling(driver, site, shots, width):
    pages = {"index": site / "index.html", "post-x": _item(site, X_ID),
             "post-instagram": _item(site, "orange-wolverhampton/day-1/2026-11-25/instagram"),
             "bulletin": _item(site, BULLETIN_ID), "email": _email(site)}
    for name, path in pages.items():
        shot = _screenshot(driver, path, shots, name, width)
        assert shot.stat().st_size > 5000
        _width(driver, width)
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{name} scrolls sideways by {overflow}px at {width}px"


@pytest.mark.parametrize("which", ["index", "post", "manual-post", "bulletin-page", "email"])
def test_axe_finds_no_serious_or_critical_violations(driver, site, which):
    path = {"index": site / "index.html", "post": _item(site, X_ID),
            "manual-post": _item(site, "orange-wolverhampton/help/2026-12-01/whatsapp"),
            "bulletin-page": _item(site, BULLETIN_ID), "email": _email(site)}[which]
    violations = _axe(driver, path)
    assert violations == [], json.dumps(violations, indent=2)


def test_real_bulletin_renderer_output_in_the_browser(driver, tmp_path):
    """The December 2026 bulletin through renderers.bulletin: images load, axe is clean."""
    import tomllib

    from selenium.webdriver.common.by import By
    from test_preview import BRAND, END, GENERATED, START, _at

    from renderers.model import BulletinInput, Contacts, StoryInput
    from renderers.preview import PreviewItem, build_preview

    bulletin = pytest.importorskip("renderers.bulletin")
    content = Path(__file__).parent.parent / "content"
    data = tomllib.loads((content / "bulletins" / "2026-12.toml").read_text(encoding="utf-8"))
    stories = tuple(StoryInput(**{k: s[k] for k in ("title", "body", "link", "link_text", "image",
                                                     "alt") if k in s}) for s in data["story"])
    source = BulletinInput(month=data["month"], subject=data["subject"],
                           preheader=data["preheader"], theme=data.get("theme", ""),
                           intro=data.get("intro", ""), stories=stories)
    contacts = Contacts("01902 555392", "01902 551199", "01902 552999", "999",
                        "www.wolverhamptonsafeguarding.org.uk")
    rendered = bulletin.render_bulletin(
        source, brand=BRAND, contacts=contacts, footer="mailchimp",
        image_base_url="https://www.wolverhamptonsafeguarding.org.uk/bulletin-images/")
    item = PreviewItem(id="bulletin/2026-12/mailchimp", kind="bulletin", campaign="e-bulletin",
                       channel="mailchimp", platform="mailchimp", due=_at(2026, 12, 3, 9),
                       title=rendered.subject, status="planned", note="", post=None,
                       bulletin=rendered, findings=())
    build_preview([item], tmp_path / "site", brand=BRAND, start=START, end=END,
                  generated_at=GENERATED, images_dir=content)
    email = tmp_path / "site" / "items" / f"{page_name(item.id)}.email.html"
    assert _open(driver, email) == []
    images = driver.execute_script(
        "return [...document.images].map(i => [i.getAttribute('src'), i.naturalWidth])")
    story_images = [src for src, _ in images if "images/" in src and not src.startswith("data:")]
    assert len(story_images) >= len([s for s in stories if s.image]), images
    assert all(w > 0 for src, w in images if src in story_images), images
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en-GB"
    violations = _axe(driver, email)
    assert violations == [], json.dumps(violations, indent=2)
