"""The Lisez-moi sheet gives the national team's contact details from the home's contact.toml
(issue 17, item 6), as text, and the template stays byte-identical for the same inputs."""

from __future__ import annotations

import io
import subprocess
import sys

import openpyxl
from helpers.procs import env_for
from helpers.workbooks import make_home

from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.catalogue import load_contact

CONTACT = """\
organisation = "Équipe nationale d'animation des PTCE"
service = "cellule de suivi"
courriel = "suivi-ptce@example.org"
telephone = "01 23 45 67 89"
adresse = \"\"\"1 rue de l'Exemple
75000 Paris\"\"\"
horaires = "=HYPERLINK(\\"https://exemple.invalid\\") <b>9 h</b>"
"""


def _template(settings, out) -> bytes:
    res = subprocess.run(
        [sys.executable, "-m", "ptce_pipeline.cli.parser", "template", "-o", str(out),
         "--home", str(settings.home), "--pole", "PTCE-001", "--period", "2025"],
        capture_output=True, text=True, timeout=120, env=env_for(settings, api_url=None),
    )  # fmt: skip
    assert res.returncode == 0, res
    return out.read_bytes()


def _readme(data: bytes) -> dict[str, tuple[str, float | None]]:
    ws = openpyxl.load_workbook(io.BytesIO(data))[L.SHEET_README]
    return {
        str(c.value): (c.data_type, ws.row_dimensions[c.row].height) for c in ws["A"] if c.value
    }


def test_the_readme_gives_the_configured_contact(tmp_path):
    settings = make_home(tmp_path / "home")
    settings.contact_path.write_text(CONTACT, encoding="utf-8")
    data = _template(settings, tmp_path / "a.xlsx")
    lines = _readme(data)
    contact = [text for text in lines if text.split(" : ")[0] in (
        "Pour toute question", "Courriel", "Téléphone", "Adresse postale", "Horaires"
    )]  # fmt: skip
    assert contact == [
        "Pour toute question : Équipe nationale d'animation des PTCE, cellule de suivi.",
        "Courriel : suivi-ptce@example.org",
        "Téléphone : 01 23 45 67 89",
        "Adresse postale : 1 rue de l'Exemple\n75000 Paris",
        'Horaires : =HYPERLINK("https://exemple.invalid") <b>9 h</b>',
    ]
    assert all(lines[text][0] == "s" for text in contact)  # text, never a formula
    assert lines["Adresse postale : 1 rue de l'Exemple\n75000 Paris"][1] >= 30  # two lines tall
    assert _template(settings, tmp_path / "b.xlsx") == data  # same inputs, same bytes


def test_without_the_file_the_readme_reads_as_before(tmp_path, ref):
    settings = make_home(tmp_path / "home")
    lines = _readme(_template(settings, tmp_path / "a.xlsx"))
    assert f"Pour toute question : {ref.contact}." in lines
    assert not [t for t in lines if t.startswith(("Courriel", "Téléphone", "Adresse postale"))]
    assert load_contact(settings.contact_path, ref.contact).details() == []


def test_the_demo_writes_an_example_and_keeps_the_teams_own(tmp_path, ref):
    from ptce_pipeline.catalogue import load_config
    from ptce_pipeline.template import demo

    settings = make_home(tmp_path / "demo")
    assert demo.prepare(settings, ref, 1)  # the workbooks, dropped
    assert settings.contact_path.read_text(encoding="utf-8") == demo.DEMO_CONTACT
    assert [key for key, _, _ in load_config(settings).contact.details()] == [
        "courriel", "telephone", "adresse", "site_web", "horaires"
    ]  # fmt: skip
    settings.contact_path.write_text('courriel = "equipe@example.org"\n', encoding="utf-8")
    demo.prepare(settings, ref, 1)
    assert settings.contact_path.read_text(encoding="utf-8") == 'courriel = "equipe@example.org"\n'
