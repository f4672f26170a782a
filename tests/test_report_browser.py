"""The HTML report in a real headless browser (chromium through Selenium) with axe-core.

Same driver, install, skip and CI rules as tests/test_browser.py (whose helpers it reuses).
Screenshots go to a temporary folder (or $WST_SCREENSHOTS); their paths are printed (pytest -s).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_browser import DESKTOP, _axe, _open, _screenshot, _width
from test_report import fill, inputs

from pipeline.metrics.records import Records
from pipeline.metrics.report import build_report
from pipeline.store import open_store
from renderers.report import render_html

# A4 is 210 mm wide: at 96 CSS px per inch, less 12 mm margins each side, about 700 px.
PRINT_WIDTH = 700


@pytest.fixture(scope="module")
def report_page(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("browser-report")
    store = open_store(f"sqlite:///{root}/store.sqlite")
    try:
        fill(store)
        csv_path = root / "concerns.csv"
        csv_path.write_text("month,children,adults\n2022-04,60,40\n2022-05,70,40\n2022-06,80,40\n"
                            "2027-01,80,41\n2027-02,90,42\n2027-03,75,38\n", encoding="utf-8")
        Records(store).import_concerns(csv_path, "analyst", inputs().now)
        data = build_report(store, inputs())
    finally:
        store.close()
    page = root / "report.html"
    page.write_text(render_html(data), encoding="utf-8")
    return page


def test_report_loads_without_console_errors_or_requests(driver, report_page):
    from selenium.webdriver.common.by import By

    assert _open(driver, report_page) == []
    assert driver.find_element(By.TAG_NAME, "h1").text == "Communication and engagement evaluation"
    charts = driver.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(charts) == 4 and all(c.size["height"] > 50 for c in charts)
    # Nothing is fetched: the page is one file (no stylesheets, scripts, fonts or images).
    fetched = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert fetched == []


def test_report_screenshots_at_desktop_and_print_width(driver, report_page, shots):
    desktop = _screenshot(driver, report_page, shots, "report", DESKTOP)
    printed = _screenshot(driver, report_page, shots, "report-a4", PRINT_WIDTH)
    assert desktop.stat().st_size > 10_000 and printed.stat().st_size > 10_000
    # At print width the page still fits: nothing wider than the viewport but scrolling tables.
    _width(driver, PRINT_WIDTH)
    overflow = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0


def test_report_print_media_hides_navigation_and_keeps_charts(driver, report_page):
    from selenium.webdriver.common.by import By

    _open(driver, report_page)
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not driver.find_element(By.CSS_SELECTOR, "nav.contents").is_displayed()
        assert all(c.is_displayed() for c in driver.find_elements(By.CSS_SELECTOR, "svg.chart"))
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def test_report_has_no_serious_accessibility_violations(driver, report_page):
    assert _axe(driver, report_page) == []
