"""What a receipt is about, from a real run (issue 17, items 4 and 6): the pole (its id and its
name in the registry) and the period its workbook declares, near the top and in the page's
title; « inconnue » when the period could not be read; and whom to ask, from the home's
contact.toml, as text."""

from __future__ import annotations

import html
import re

from helpers.workbooks import drop

from ptce_pipeline.catalogue import load_registry
from ptce_pipeline.ingestion.run import run_ingest


def receipts(settings, pole_id: str) -> dict[str, str]:
    """The pole's receipts by the file name they are about (their text as a person reads it)."""
    out = {}
    for path in sorted(settings.pole_feedback(pole_id).glob("*_recu.html")):
        page = path.read_text(encoding="utf-8")
        name = re.search(r"<dt>Fichier</dt><dd>(.*?)</dd>", page).group(1)
        out[html.unescape(name)] = page
    return out


def facts(page: str) -> dict[str, str]:
    """The receipt's identity list (the first <dl>): label → value."""
    dl = re.search(r"<dl[^>]*>(.*?)</dl>", page, flags=re.S).group(1)
    pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", dl, flags=re.S)
    return {k: html.unescape(re.sub(r"<[^>]+>", "", v)) for k, v in pairs}


def pole(settings) -> str:
    """PTCE-001 as the home's registry names it."""
    return f"{load_registry(settings.registry_path).poles['PTCE-001'].nom} (PTCE-001)"


def title(page: str) -> str:
    return html.unescape(re.search(r"<title>(.*?)</title>", page).group(1))


def test_each_receipt_names_the_pole_and_its_own_period(home, make_workbook):
    drop(home, "PTCE-001", "suivi.xlsx", make_workbook("PTCE-001", 2024))
    drop(home, "PTCE-001", "suivi (1).xlsx", make_workbook("PTCE-001", 2025))
    report = run_ingest(home)
    assert report.new == 2, report.files
    got = receipts(home, "PTCE-001")
    assert sorted(got) == ["suivi (1).xlsx", "suivi.xlsx"]
    for name, period in (("suivi.xlsx", "2024"), ("suivi (1).xlsx", "2025")):
        page = got[name]
        assert list(facts(page))[:4] == ["Pôle", "Période déclarée", "Fichier", "Numéro de dépôt"]
        assert facts(page)["Pôle"] == pole(home)
        assert facts(page)["Période déclarée"] == period
        assert title(page) == f"Accusé de réception — PTCE-001 — période {period} — {name}"
        # near the top: before what was decided is explained
        assert page.index("Période déclarée") < page.index("Et maintenant")


def test_an_unreadable_file_names_its_folders_pole_and_an_unknown_period(home, make_workbook):
    drop(home, "PTCE-001", "scan.xlsx", b"%PDF-1.7\n" + b"0" * 200)

    def no_year(data):
        data.identity["periode"] = "l'an dernier"

    drop(home, "PTCE-001", "sans annee.xlsx", make_workbook("PTCE-001", 2024, change=no_year))
    report = run_ingest(home)
    assert report.statuses["refusee"] == 2, report.files
    got = receipts(home, "PTCE-001")
    for name in ("scan.xlsx", "sans annee.xlsx"):
        assert facts(got[name])["Pôle"] == pole(home)
        assert facts(got[name])["Période déclarée"] == "inconnue (non lue dans le classeur)"
        assert title(got[name]) == f"Accusé de réception — PTCE-001 — période inconnue — {name}"


def test_a_refused_file_still_names_the_period_it_declares(home, make_workbook):
    def bad(data):
        data.indicators["IND02"] = 140

    drop(home, "PTCE-001", "v2.xlsx", make_workbook("PTCE-001", 2025, change=bad))
    assert run_ingest(home).statuses["refusee"] == 1
    assert facts(receipts(home, "PTCE-001")["v2.xlsx"])["Période déclarée"] == "2025"


def test_the_receipt_gives_the_national_teams_contact_as_text(home, make_workbook, ref):
    drop(home, "PTCE-001", "suivi.xlsx", make_workbook("PTCE-001", 2024))
    run_ingest(home)
    before = receipts(home, "PTCE-001")["suivi.xlsx"]
    said = f"Pour toute question&nbsp;: {html.escape(ref.contact)}."
    assert said in before  # without contact.toml: the référentiel's contact, as in the template
    home.contact_path.write_text(
        'organisation = "<script>alert(1)</script> équipe"\n'
        'courriel = "suivi-ptce@example.org"\n'
        'telephone = "+33 1 23 45 67 89"\n'
        'adresse = """1 rue de l\'Exemple\n75000 Paris"""\n'
        'site_web = "https://www.example.org/ptce?a=1&b=2"\n',
        encoding="utf-8",
    )
    drop(home, "PTCE-001", "suivi 2025.xlsx", make_workbook("PTCE-001", 2025))
    run_ingest(home)
    page = receipts(home, "PTCE-001")["suivi 2025.xlsx"]
    assert "<script" not in page
    assert "Pour toute question&nbsp;: &lt;script&gt;alert(1)&lt;/script&gt; équipe." in page
    assert '<a href="mailto:suivi-ptce@example.org">suivi-ptce@example.org</a>' in page
    assert '<a href="tel:+33123456789">+33 1 23 45 67 89</a>' in page
    assert "1 rue de l&#x27;Exemple<br>75000 Paris" in page
    assert "https://www.example.org/ptce?a=1&amp;b=2" in page
    assert 'href="http' not in page  # the site is shown, never linked: a receipt links nowhere
