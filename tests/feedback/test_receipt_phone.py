"""Receipts on a phone (issue 17, item 5): real receipts from a real run — a long file name, long
messages and values, many issues — opened in a real chromium 390 CSS pixels wide. No page
scrolls sideways, and no cell of the anomalies is cut; on a desktop the anomalies stay a
table."""

from __future__ import annotations

import copy

import pytest
from helpers.browser import chromium, missing
from helpers.workbooks import drop, filled, make_home, packaged_ref, workbook

from ptce_pipeline.ingestion.run import run_ingest

pytestmark = pytest.mark.browser

PHONE = 390
LONG_NAME = (
    "Suivi_annuel_du_pole_territorial_de_cooperation_economique_version_definitive_corrigee_"
    "apres_relecture_par_le_conseil_d_administration_du_mois_de_mars.xlsx"
)
CONTACT = (
    'organisation = "Équipe nationale d\'animation des pôles territoriaux de coopération"\n'
    'courriel = "suivi-des-poles-territoriaux-de-cooperation-economique@example.org"\n'
    'site_web = "https://www.example.org/politiques-publiques/economie-sociale-et-solidaire/'
    'poles-territoriaux-de-cooperation-economique/suivi-annuel"\n'
)


def _data(pole_id: str, period: int, change=None) -> bytes:
    ref = packaged_ref()
    data = copy.deepcopy(filled(ref, pole_id, period))
    if change is not None:
        change(data)
    return workbook(ref, data)


def _warned(data) -> None:  # accepted with warnings: many « Oui » without a justification
    data.indicators["IND17"] = "1.250"
    for code in list(data.criteria):
        data.criteria[code] = ("oui", "")


def _refused(data) -> None:  # refused: long text in every number it can reach
    for n, code in enumerate(sorted(data.indicators)):
        data.indicators[code] = f"environ_{n}_" + "x" * 140


@pytest.fixture(scope="module")
def receipts(tmp_path_factory) -> dict[str, str]:
    """status → the file:// URL of its receipt."""
    settings = make_home(tmp_path_factory.mktemp("phone") / "home")
    settings.contact_path.write_text(CONTACT, encoding="utf-8")
    drop(settings, "PTCE-001", LONG_NAME, _data("PTCE-001", 2024))
    drop(settings, "PTCE-002", LONG_NAME, _data("PTCE-002", 2024, _warned))
    drop(settings, "PTCE-003", LONG_NAME, _data("PTCE-003", 2024, _refused))
    report = run_ingest(settings)
    by_status = {line.status: settings.home / line.receipt for line in report.files}
    assert set(by_status) == {"acceptee", "acceptee_avec_avertissements", "refusee"}, report.files
    return {status: path.as_uri() for status, path in by_status.items()}


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    reason = missing()
    if reason:
        pytest.skip(reason)
    with chromium(tmp_path_factory.mktemp("profile"), width=1280, height=1000) as driver:
        yield driver


def _open(driver, url: str, width: int, *, mobile: bool) -> None:
    # a desktop window cannot be made narrower than 500 px: emulate the phone's viewport
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 844, "deviceScaleFactor": 1, "mobile": mobile},
    )
    driver.get(url)


CUT = """
const w = window.innerWidth;
return [...document.querySelectorAll('main *')]
  .filter(el => el.getBoundingClientRect().right > w + 0.5 && !el.closest('thead'))
  .map(el => el.tagName + ' ' + (el.textContent || '').slice(0, 40));
"""


@pytest.mark.parametrize("status", ["acceptee", "acceptee_avec_avertissements", "refusee"])
@pytest.mark.parametrize("mobile", [True, False], ids=["phone", "narrow-window"])
def test_no_receipt_scrolls_sideways_on_a_phone(browser, receipts, status, mobile):
    _open(browser, receipts[status], PHONE, mobile=mobile)
    widths = browser.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth,"
        " document.querySelector('meta[name=viewport]').content]"
    )
    assert widths == [PHONE, PHONE, "width=device-width, initial-scale=1"], widths
    assert browser.execute_script(CUT) == []  # no cell, name or value cut at the edge
    text = browser.find_element("tag name", "main").text
    assert LONG_NAME[:40] in text.replace("\n", "")
    if status != "acceptee":
        assert browser.execute_script("return document.querySelectorAll('tbody tr').length") > 5


def test_on_a_desktop_the_anomalies_stay_a_table(browser, receipts):
    _open(browser, receipts["refusee"], 1280, mobile=False)
    assert browser.execute_script(
        "return [getComputedStyle(document.querySelector('table')).display,"
        " document.documentElement.scrollWidth <= window.innerWidth]"
    ) == ["table", True]
    _open(browser, receipts["refusee"], PHONE, mobile=True)
    assert (
        browser.execute_script("return getComputedStyle(document.querySelector('table')).display")
        == "block"
    )  # one card per anomaly
