"""What the web workspace's browser tests share: finding and clicking with waits, signing in,
and checking a page (no console error, no serious axe violation, usable at 390 px, screenshots
at both widths to $WST_SCREENSHOTS when set)."""

from __future__ import annotations

import json
from pathlib import Path

from browser_support import axe_violations, open_page, screenshot
from web_support import PASSWORD, Server

PHONE = 390


def by(css: str):
    from selenium.webdriver.common.by import By
    return (By.CSS_SELECTOR, css)


def find(driver, css: str):
    """The element, once the page that has it has loaded (after a click that navigates)."""
    from selenium.webdriver.support import expected_conditions as seen
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, 20).until(seen.presence_of_element_located(by(css)))


def click(driver, css: str) -> None:
    """Click, then wait until the old page is gone."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait
    old = driver.find_element(*by("html"))
    driver.find_element(*by(css)).click()

    def gone(_driver) -> bool:
        try:
            old.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            # chromium says so in its own words when asked about a node of the page it left
            if "does not belong to the document" in str(exc):
                return True
            raise
        return False

    WebDriverWait(driver, 20).until(gone)


def check_page(driver, url: str, shots: Path, name: str) -> None:
    """Load at desktop width: no console error, no serious axe violation, a screenshot; then
    at 390 px: nothing wider than the screen but what scrolls inside its own box."""
    errors = open_page(driver, url)
    assert errors == [], f"console errors on {url}: {errors}"
    violations = axe_violations(driver)
    assert violations == [], json.dumps(violations, indent=2)
    screenshot(driver, shots / f"web-{name}.png")
    assert open_page(driver, url, PHONE) == []
    overflow = driver.execute_script("""
        const wide = [];
        for (const el of document.querySelectorAll('body *')) {
          if (el.closest('.table-scroll, pre, iframe, .frames')) continue;
          const r = el.getBoundingClientRect();
          if (r.width > 0 && r.right > window.innerWidth + 1) wide.push(el.tagName + '.' + el.className);
        }
        return wide.slice(0, 5);""")
    assert overflow == [], f"wider than {PHONE} px on {url}: {overflow}"
    screenshot(driver, shots / f"web-{name}-{PHONE}.png")


def sign_in(driver, server: Server, person: str) -> None:
    """Sign `person` in through the sign-in page (signing out whoever was signed in)."""
    driver.get(server.url + "/sign-in")
    if driver.find_elements(*by(".account button")):
        click(driver, ".account button")
    driver.find_element(*by("#name")).send_keys(person)
    driver.find_element(*by("#password")).send_keys(PASSWORD)
    click(driver, "main button[type=submit]")
