"""The publication in a real browser: Debian's chromium, headless, driven by Selenium through
chromedriver. Opens index.html, follows every link to a page of the site, checks that the
tables are rendered and that the console stays clean, and saves screenshots."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urldefrag

import pytest
from helpers.browser import start_chromium
from test_publication import SCRIPT, build_campaign

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"), console=True)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def campaign(tmp_path_factory, ref):
    return build_campaign(tmp_path_factory.mktemp("browser") / "home", ref)


@pytest.fixture(scope="module")
def site(campaign):
    return campaign.publications_for("interne") / "2025"


def _console_problems(driver) -> list[dict]:
    return [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


def _no_alert(driver) -> bool:
    from selenium.common.exceptions import NoAlertPresentException

    try:
        driver.switch_to.alert  # noqa: B018
    except NoAlertPresentException:
        return True
    return False


def test_site_renders_every_page_without_console_errors(browser, site, tmp_path):
    from selenium.webdriver.common.by import By

    start = (site / "index.html").as_uri()
    browser.get(start)
    assert browser.execute_script("return document.documentElement.lang") == "fr"
    links = {
        urldefrag(a.get_attribute("href"))[0]
        for a in browser.find_elements(By.CSS_SELECTOR, "a[href]")
    }
    pages = sorted(u for u in links if u.startswith("file://") and u.endswith(".html"))
    files = sorted(u for u in links if u.startswith("file://") and not u.endswith(".html"))
    assert len(pages) >= 6 + 7  # the sections, the fiches, the list of periods
    for url in files:  # downloads: checked on disk, not opened
        assert Path(url.removeprefix("file://")).is_file(), url
    seen = {start: _console_problems(browser)}
    for url in pages:
        browser.get(url)
        assert browser.title, url
        assert _no_alert(browser), url
        seen[url] = _console_problems(browser)
        if url.endswith("/index.html") and "/2025/" not in url:
            continue  # the list of periods
        tables = browser.find_elements(By.TAG_NAME, "table")
        assert tables, url
        for table in tables:
            assert table.find_elements(By.TAG_NAME, "caption"), url
            assert table.find_elements(By.CSS_SELECTOR, "tbody tr"), url
            assert table.size["width"] > 100 and table.size["height"] > 20, url
        if "/poles/" in url:
            chart = browser.find_element(By.CSS_SELECTOR, "svg.profil")
            assert chart.size["height"] > 100
    assert {u: p for u, p in seen.items() if p} == {}
    cap = browser.find_elements(By.CSS_SELECTOR, "#capitalisation svg")
    assert cap == [] or all(s.size["width"] > 0 for s in cap)


def test_screenshots_of_the_home_page_and_a_fiche(browser, site, tmp_path):
    from selenium.webdriver.common.by import By

    for name, page in (("index", site / "index.html"), ("fiche", site / "poles" / "PTCE-003.html")):
        browser.get(page.as_uri())
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(1280, min(height, 6000))
        shot = tmp_path / f"{name}.png"
        assert browser.save_screenshot(str(shot))
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    # the pole named <script>…</script> is shown as text, not run
    title = browser.find_element(By.TAG_NAME, "h1").text
    assert title == SCRIPT and _no_alert(browser)
    browser.get((site / "capitalisation.html").as_uri())
    assert browser.find_elements(By.CSS_SELECTOR, "#capitalisation td svg")  # nanoplots drawn
    shutil.copy(shot, tmp_path / "last.png")


PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True}  # a common phone

FIRST_FIGURE = """
for (const el of document.querySelectorAll('main .chiffres .valeur, main td')) {
  const r = el.getBoundingClientRect();
  if (r.width > 0 && r.top >= 0 && r.bottom <= window.innerHeight && /\\d/.test(el.textContent))
    return el.textContent.trim();
}
return null;"""


def test_no_page_scrolls_sideways_on_a_phone(browser, campaign):
    """At 390 px no page moves sideways (a wide table scrolls inside its own box), and the
    capitalisation page shows a figure in its first screen."""
    pages = sorted(campaign.publications_dir.rglob("*.html"))
    pages += sorted(campaign.inbox.glob("*/retours/fiche_*.html"))  # what the poles get
    assert len(pages) > 30
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    try:
        wide, first = {}, {}
        for path in pages:
            browser.get(path.as_uri())
            width = browser.execute_script("return document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                wide[path.relative_to(campaign.home).as_posix()] = width
            if path.name == "capitalisation.html":
                where = (path.parent.parent.name, path.parent.name)  # (audience, period)
                first[where] = browser.execute_script(FIRST_FIGURE)
        assert browser.execute_script("return screen.width") == PHONE["width"]
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert wide == {}
    assert len(first) == 4 and all(first.values()), first
