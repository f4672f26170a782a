"""A real headless browser for the tests of anything a person looks at: Debian's chromium
through Selenium, with axe-core for accessibility. Shared by the preview's and the web
workspace's browser tests.

Needs /usr/bin/chromium, /usr/bin/chromedriver and tests/browser/node_modules/axe-core: run
`bash tests/browser/install.sh`. Missing pieces skip these tests, or fail them when CI is set.
Screenshots go to a temporary folder (or $WST_SCREENSHOTS); their paths are printed (pytest -s).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
AXE = Path(__file__).parent / "browser" / "node_modules" / "axe-core" / "axe.min.js"
INSTALL = ("run `bash tests/browser/install.sh` (as root it installs Debian's chromium and "
           "chromium-driver with apt-get, then axe-core with npm ci in tests/browser)")
DESKTOP, MOBILE = 1280, 375
BLOCKING = ("serious", "critical")


def missing() -> list[str]:
    """What the browser tests need and this machine lacks."""
    out = []
    if not CHROMIUM.is_file():
        out.append(f"{CHROMIUM} (apt-get install chromium)")
    if not CHROMEDRIVER.is_file():
        out.append(f"{CHROMEDRIVER} (apt-get install chromium-driver)")
    if not AXE.is_file():
        out.append(f"{AXE} (npm ci in tests/browser)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        out.append("the selenium package (pip install -e '.[dev]')")
    return out


def chromium() -> Iterator[Any]:
    """A headless chromium (skipped without one, failed in CI); quit at the end."""
    lacking = missing()
    if lacking:
        message = f"browser tests need {', '.join(lacking)}: {INSTALL}"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="wst-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-extensions",
                 "--hide-scrollbars", "--force-device-scale-factor=1",
                 f"--user-data-dir={profile}", f"--window-size={DESKTOP},900"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)),
                               options=options)
    browser.set_script_timeout(60)
    browser.set_page_load_timeout(30)
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)


def screenshot_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: $WST_SCREENSHOTS if set (kept), else a pytest temporary folder."""
    keep = os.environ.get("WST_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        return Path(keep)
    return tmp_path_factory.mktemp("screenshots")


def set_width(driver: Any, width: int, height: int = 900) -> None:
    """Lay the page out at `width` CSS pixels (a phone below 600)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def open_page(driver: Any, url: str, width: int = DESKTOP) -> list[dict]:
    """Load a page at a width; return the console errors it logged."""
    set_width(driver, width)
    driver.get_log("browser")  # drop anything from before
    driver.get(url)
    driver.execute_script("return document.readyState")
    time.sleep(0.2)  # let deferred scripts and frames settle
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def screenshot(driver: Any, out: Path) -> Path:
    """A full-page screenshot of the page loaded, at its current width."""
    width = driver.execute_script("return window.innerWidth")
    height = driver.execute_script(
        "return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)")
    set_width(driver, int(width), min(int(height), 6000))
    time.sleep(0.1)
    driver.save_screenshot(str(out))
    print(f"screenshot: {out}")
    return out


def axe_violations(driver: Any) -> list[dict]:
    """Run axe-core on the loaded page; return its serious and critical violations."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        axe.run(document, {iframes: false, resultTypes: ['violations']})
           .then(r => done(JSON.stringify(r.violations)))
           .catch(e => done(JSON.stringify(
               [{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}])));
    """)
    violations = json.loads(result)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n.get("target") for n in v.get("nodes", [])][:5]}
            for v in violations if v.get("impact") in BLOCKING]
