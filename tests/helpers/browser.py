"""Chromium for the web tests: Debian's chromium, headless, through chromedriver (Selenium);
a phone's viewport (390 px) by device emulation (headless chromium makes no window narrower
than 500 px); axe-core checks of a page (the npm package, installed under .cache/npm by CI or
here on first use)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / ".cache" / "npm" / "node_modules" / "axe-core" / "axe.min.js"


def missing() -> str | None:
    """Why the browser cannot start here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} absent (apt-get install chromium)"
    if not CHROMEDRIVER.exists():
        return f"{CHROMEDRIVER} absent (apt-get install chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium absent (pip install -e '.[dev]')"
    return None


def start_chromium(profile: Path, *, width: int = 1280, height: int = 1000, console: bool = False):
    """A headless chromium whose window is `width` × `height` CSS pixels (skips the test when
    chromium is not installed; `console`: keep the page's console for `get_log`); the caller
    quits it."""
    reason = missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--window-size={width},{height}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    if console:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


@contextmanager
def chromium(profile: Path, *, width: int, height: int) -> Iterator:
    """`start_chromium` as a context manager."""
    driver = start_chromium(profile, width=width, height=height)
    try:
        yield driver
    finally:
        driver.quit()


def phone(driver, width: int = 390, height: int = 844) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True},
    )


def desktop(driver) -> None:
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def sideways(driver) -> int:
    """How many CSS pixels the page scrolls sideways (0: none). Measured against the
    viewport's width (`clientWidth`): on a phone, `innerWidth` grows with a too-wide page."""
    return driver.execute_script(
        "const d = document.documentElement;"
        "return Math.max(d.scrollWidth, document.body.scrollWidth) - d.clientWidth"
    )


def axe_source() -> str:
    if not AXE.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm absent: axe-core cannot be installed (apt-get install npm)")
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(AXE.parents[2]),
                "axe-core@4",
                "--no-audit",
                "--no-fund",
                "--silent",
            ],
            check=True,
            timeout=300,
        )
    return AXE.read_text(encoding="utf-8")


def axe_violations(driver, impacts=("serious", "critical")) -> list[dict]:
    """axe-core's violations of the page open in `driver`, of the given impacts."""
    driver.execute_script(axe_source())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(JSON.stringify(r)))"
        ".catch(e => done(JSON.stringify({error: String(e)})));"
    )
    data = json.loads(result)
    assert "error" not in data, data
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in data["violations"]
        if v["impact"] in impacts
    ]
