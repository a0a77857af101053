"""The portal in a real browser (Chromium, Selenium): a pole opens its link, uploads a
workbook with the page's form, and after a run sees its receipt; a refused file offers its
annotated copy. Every page: no sideways scroll at 390 px, no serious or critical axe-core
violation."""

from __future__ import annotations

import copy
import re

import pytest
from helpers.browser import axe_violations, desktop, phone, sideways, start_chromium
from helpers.portal import A, B, Portal, link, portal_home
from helpers.workbooks import filled, q, workbook

from ptce_pipeline.ingestion.run import run_ingest

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def home(tmp_path_factory, ref):
    return portal_home(tmp_path_factory.mktemp("navigateur") / "home", ref)


def check_page(driver, what: str) -> None:
    phone(driver)
    try:
        assert sideways(driver) <= 0, f"{what} défile de côté à 390 px"
        assert axe_violations(driver) == [], what
    finally:
        desktop(driver)


def test_a_pole_uploads_and_reads_its_receipt(browser, home, ref, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    good = tmp_path / "suivi 2025 corrigé.xlsx"
    good.write_bytes(workbook(ref, filled(ref, A, 2025)))
    bad_data = copy.deepcopy(filled(ref, A, 2025))
    bad_data.indicators["IND12"] = 9
    bad = tmp_path / "suivi faux.xlsx"
    bad.write_bytes(workbook(ref, bad_data))
    with Portal(home) as portal:
        browser.get(f"{portal.url}/acces/{link(home, A)}")
        assert browser.current_url == f"{portal.url}/"
        assert "/acces/" not in browser.current_url
        check_page(browser, "l'accueil du pôle")

        browser.find_element(By.ID, "fichiers").send_keys(f"{good}\n{bad}")
        browser.find_element(By.CSS_SELECTOR, "form[action='/depot'] button").click()
        WebDriverWait(browser, 30).until(lambda d: "Fichiers reçus" in d.title)
        assert "2 fichiers reçus" in browser.page_source
        check_page(browser, "la page d'envoi")
        assert sorted(p.name for p in (home.inbox / A).iterdir() if p.is_file()) == [
            "suivi 2025 corrigé.xlsx",
            "suivi faux.xlsx",
        ]
        run_ingest(home)
        browser.get(f"{portal.url}/")
        html = browser.page_source
        assert "suivi 2025 corrigé.xlsx" in html and "suivi faux.xlsx" in html
        rows = browser.find_elements(
            By.CSS_SELECTOR, "section[aria-labelledby='t-envois'] tbody tr"
        )
        by_file = {r.find_elements(By.TAG_NAME, "td")[1].text.split(" (")[0]: r for r in rows}
        refused = by_file["suivi faux.xlsx"]
        assert "refusée" in refused.text
        links = {a.text: a.get_attribute("href") for a in refused.find_elements(By.TAG_NAME, "a")}
        assert "copie annotée" in links and links["copie annotée"].endswith("_annote.xlsx")
        accepted = by_file["suivi 2025 corrigé.xlsx"]
        assert "acceptée" in accepted.text
        receipt = accepted.find_element(By.LINK_TEXT, "reçu")
        receipt.click()
        WebDriverWait(browser, 30).until(lambda d: d.current_url.endswith("_recu.html"))
        assert re.search(r"_recu\.html$", browser.current_url)
        assert "suivi 2025 corrigé" in browser.page_source


def test_every_portal_page_fits_a_phone_and_passes_axe(browser, home):
    with Portal(home) as portal:
        browser.get(f"{portal.url}/")  # no session
        check_page(browser, "la page d'accès réservé")
        browser.get(f"{portal.url}/acces/inconnu")
        check_page(browser, "la page de lien inconnu")
        browser.get(f"{portal.url}/acces/{link(home, None)}")
        assert browser.current_url.endswith("/national")
        check_page(browser, "la complétude nationale")
        browser.get(f"{portal.url}/national/poles/{A}")
        check_page(browser, "la page d'un pôle pour l'équipe nationale")
        browser.get(f"{portal.url}/nulle-part")
        check_page(browser, "la page introuvable")
        from selenium.webdriver.common.by import By

        browser.get(f"{portal.url}/national")
        from selenium.webdriver.support.ui import WebDriverWait

        browser.find_element(By.CSS_SELECTOR, "form[action='/deconnexion'] button").click()
        WebDriverWait(browser, 30).until(lambda d: "déconnecté" in d.title)
        check_page(browser, "la page de déconnexion")


def test_the_review_pages_fit_a_phone_and_pass_axe(browser, home):
    """The national team's review list and view, then the pole's page once its declaration is
    sent back (the comment quoted, what to do) — each at 390 px, each through axe-core."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    sid = q(
        home.live_db,
        "SELECT submission_id FROM submissions WHERE pole_id = ? AND period = 2024 "
        "AND status LIKE 'acceptee%'",
        B,
    )[0][0]
    with Portal(home) as portal:
        browser.get(f"{portal.url}/acces/{link(home, None, label='Claire Martin')}")
        browser.get(f"{portal.url}/national/relecture")
        check_page(browser, "la liste de relecture")
        browser.get(f"{portal.url}/national/relecture/{sid}")
        check_page(browser, "la vue de relecture d'un dépôt")
        browser.find_element(By.ID, "commentaire-renvoi").send_keys(
            "Indicateur IND05 : 120 ETP pour 12 l'an dernier ; vérifiez la cellule D14 et "
            "indiquez la source dans la colonne « Source ou commentaire »."
        )
        browser.find_element(By.CSS_SELECTOR, "form[action$='/renvoyer'] button").click()
        WebDriverWait(browser, 60).until(lambda d: "fait=a_corriger" in d.current_url)
        assert "Déclaration renvoyée au pôle" in browser.page_source
        check_page(browser, "la confirmation d'un renvoi")
        browser.get(f"{portal.url}/acces/{link(home, B)}")
        alert = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby='t-corriger']")
        assert "vérifiez la cellule D14" in alert.text and "à titre provisoire" in alert.text
        check_page(browser, "l'espace d'un pôle dont la déclaration est à corriger")
