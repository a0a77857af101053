"""What a pole gets back: the annotated copy of its own workbook (exactly the cells in error
marked, links that resolve, no stale marks, nothing typed turned into a formula) and the HTML
receipt (everything escaped, nothing fetched from outside)."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import openpyxl
import pytest
from helpers.checking import read_and_validate
from helpers.costly import ods_repeated_sheets
from openpyxl.utils.cell import coordinate_from_string

from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.feedback import annotated_workbook, receipt_html, word
from ptce_pipeline.feedback.annotate import AUTHOR, MARKS_SHEET, ORANGE, RED
from ptce_pipeline.feedback.notes import WORDINGS
from ptce_pipeline.store.records import NOTE_CODES, Note

TODAY = dt.date(2025, 6, 1)
PAYLOAD = '=HYPERLINK("http://exemple.invalid/vol","clic")'
SCRIPT = "<script>alert('x')</script>"


def validate(ref, data: bytes, folder: str | None = "PTCE-001") -> list[I.Issue]:
    return read_and_validate(ref, data, folder=folder, today=TODAY).issues


def broken(data):
    """Three errors and two warnings, in three sheets."""
    data.identity["region"] = "Bretagne"  # region-departement-mismatch (error)
    data.indicators["IND02"] = 140  # out-of-range (error)
    data.indicators["IND17"] = "1.250"  # ambiguous-number (warning)
    data.criteria["CI3"] = ("Oui", "")  # justification-missing (warning)


def typed_text(wb):
    """The pole typed text that looks like a formula (stored as text, as Excel does for '=…)."""
    cell = wb["Identité"]["C20"]
    cell.value = PAYLOAD  # invalid-email (error)
    cell.data_type = "s"


def load(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


def fill_rgb(cell) -> str | None:
    fill = cell.fill
    if fill is None or fill.fill_type != "solid" or not isinstance(fill.fgColor.rgb, str):
        return None
    return fill.fgColor.rgb[-6:].upper()


def marked(wb, color: str) -> set[tuple[str, str]]:
    return {
        (ws.title, c.coordinate)
        for ws in wb.worksheets
        if ws.title != L.SHEET_ANOMALIES
        for row in ws.iter_rows()
        for c in row
        if fill_rgb(c) == color
    }


def our_comments(wb) -> dict[tuple[str, str], str]:
    return {
        (ws.title, c.coordinate): c.comment.text
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.comment is not None and c.comment.author == AUTHOR
    }


@pytest.fixture
def refused(ref, make_workbook):
    data = make_workbook(change=broken, edit=typed_text)
    issues = validate(ref, data)
    return data, issues


def test_the_case_is_refused_with_errors_and_warnings(refused):
    _data, issues = refused
    assert [(i.sheet, i.cell, i.code, i.severity) for i in issues] == [
        ("Identité", "C13", "region-departement-mismatch", "erreur"),
        ("Identité", "C20", "invalid-email", "erreur"),
        ("Indicateurs", "F8", "out-of-range", "erreur"),
        ("Indicateurs", "F29", "ambiguous-number", "avertissement"),
        ("Critères", "E8", "justification-missing", "avertissement"),
    ]


def test_highlighted_cells_are_exactly_the_cells_with_issues(refused):
    data, issues = refused
    wb = load(annotated_workbook(data, "xlsx", issues))
    errors = {(i.sheet, i.cell) for i in issues if i.severity == I.ERREUR}
    warnings_ = {(i.sheet, i.cell) for i in issues if i.severity == I.AVERTISSEMENT} - errors
    assert marked(wb, RED) == errors
    assert marked(wb, ORANGE) == warnings_
    comments = our_comments(wb)
    assert set(comments) == errors | warnings_
    for issue in issues:
        assert issue.message in comments[(issue.sheet, issue.cell)]
    assert comments[("Identité", "C20")].startswith("Erreur : ")
    assert comments[("Critères", "E8")].startswith("Avertissement : ")


def test_anomalies_is_first_and_every_link_resolves(refused):
    data, issues = refused
    wb = load(annotated_workbook(data, "xlsx", issues))
    assert wb.sheetnames[0] == L.SHEET_ANOMALIES and wb.active.title == L.SHEET_ANOMALIES
    ws = wb[L.SHEET_ANOMALIES]
    rows = list(ws.iter_rows(min_row=5, values_only=True))
    assert [(r[2], r[3], r[5], r[1]) for r in rows] == [
        (i.sheet, i.cell, i.code, i.severity) for i in issues
    ]
    assert [r[6] for r in rows] == [i.message for i in issues]
    for r, issue in enumerate(issues, start=5):
        link = ws.cell(row=r, column=4).hyperlink
        assert link is not None and link.target is None  # internal: no file, no URL
        m = re.fullmatch(r"'((?:[^']|'')+)'!([A-Z]+[0-9]+)", link.location)
        assert m, link.location
        sheet, ref = m.group(1).replace("''", "'"), m.group(2)
        assert sheet in wb.sheetnames and (sheet, ref) == (issue.sheet, issue.cell)
        coordinate_from_string(ref)  # a valid address
    assert ws["A2"].value.startswith("3 erreur(s), 2 avertissement(s)")


def test_the_annotated_copy_reads_back_with_the_same_issues(ref, refused):
    """The pole fixes that copy and drops it again: it must read exactly like the original."""
    data, issues = refused
    again = validate(ref, annotated_workbook(data, "xlsx", issues))
    assert again == issues


def test_nothing_typed_becomes_a_formula(refused):
    data, issues = refused
    out = annotated_workbook(data, "xlsx", issues)
    with zipfile.ZipFile(io.BytesIO(out)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert not re.search(rb"<(\w+:)?f[ >]", z.read(name)), name
    wb = load(out)
    cell = wb["Identité"]["C20"]
    assert cell.value == PAYLOAD and cell.data_type == "s"
    shown = [r for r in wb[L.SHEET_ANOMALIES].iter_rows(min_row=5) if r[5].value == "invalid-email"]
    assert shown[0][7].value == PAYLOAD and shown[0][7].data_type == "s"


def test_rebuilt_copy_keeps_text_as_text():
    """An .ods (or an .xlsx openpyxl cannot open) is rebuilt from its values."""
    grids = {"Identité": [["Code", "Champ", "Valeur"], ["contact_email", "Courriel", PAYLOAD]]}
    issue = I.make("invalid-email", sheet="Identité", cell="C2", value=PAYLOAD)
    wb = load(annotated_workbook(b"", "ods", [issue], raw_sheets=grids))
    assert wb["Identité"]["C2"].value == PAYLOAD and wb["Identité"]["C2"].data_type == "s"
    assert fill_rgb(wb["Identité"]["C2"]) == RED


def test_annotating_again_leaves_no_stale_mark(ref, refused):
    """The pole fixes two cells of the annotated copy (leaving the red fill, as people do) and
    adds a comment of its own; the next annotation shows only what is still wrong."""
    data, issues = refused
    first = load(annotated_workbook(data, "xlsx", issues))
    original = load(data)
    first["Indicateurs"]["F8"] = 80
    first["Identité"]["C13"] = "Auvergne-Rhône-Alpes"
    first["Identité"]["C20"].comment = openpyxl.comments.Comment("adresse à confirmer", "pôle")
    buf = io.BytesIO()
    first.save(buf)
    fixed = buf.getvalue()
    issues2 = validate(ref, fixed)
    assert [(i.sheet, i.cell, i.code) for i in issues2] == [
        ("Identité", "C20", "invalid-email"),
        ("Indicateurs", "F29", "ambiguous-number"),
        ("Critères", "E8", "justification-missing"),
    ]
    second = load(annotated_workbook(fixed, "xlsx", issues2))
    assert second.sheetnames.count(L.SHEET_ANOMALIES) == 1
    assert second.sheetnames.count(MARKS_SHEET) == 1
    assert marked(second, RED) == {("Identité", "C20")}
    assert marked(second, ORANGE) == {("Indicateurs", "F29"), ("Critères", "E8")}
    assert set(our_comments(second)) == {
        ("Identité", "C20"),
        ("Indicateurs", "F29"),
        ("Critères", "E8"),
    }
    for sheet, ref_ in (("Indicateurs", "F8"), ("Identité", "C13")):
        # back to the template's own fill, no comment
        assert fill_rgb(second[sheet][ref_]) == fill_rgb(original[sheet][ref_]) == "FFF9E5"
        assert second[sheet][ref_].comment is None
    assert "(Commentaire d'origine : adresse à confirmer)" in second["Identité"]["C20"].comment.text
    assert len(list(second[L.SHEET_ANOMALIES].iter_rows(min_row=5))) == 3
    # and once everything is fixed, the pole's own comment comes back as it was
    second["Identité"]["C20"] = "contact@exemple.fr"
    second["Indicateurs"]["F29"] = 1250
    second["Critères"]["E8"] = "Stratégie votée en assemblée générale."
    buf = io.BytesIO()
    second.save(buf)
    assert validate(ref, buf.getvalue()) == []
    third = load(annotated_workbook(buf.getvalue(), "xlsx", []))
    assert marked(third, RED) == marked(third, ORANGE) == set()
    assert our_comments(third) == {}
    assert third["Identité"]["C20"].comment.text == "adresse à confirmer"


def test_a_header_cell_gets_its_own_fill_back(ref, make_workbook):
    def rename(wb):
        wb["Indicateurs"]["F4"] = "Montant"

    data = make_workbook(edit=rename)
    issues = validate(ref, data)
    assert [(i.sheet, i.cell, i.code) for i in issues] == [("Indicateurs", "A4", "missing-column")]
    header = fill_rgb(load(data)["Indicateurs"]["A4"])
    first = load(annotated_workbook(data, "xlsx", issues))
    assert fill_rgb(first["Indicateurs"]["A4"]) == RED
    first["Indicateurs"]["F4"] = "Valeur"
    buf = io.BytesIO()
    first.save(buf)
    again = load(annotated_workbook(buf.getvalue(), "xlsx", validate(ref, buf.getvalue())))
    assert fill_rgb(again["Indicateurs"]["A4"]) == header == "1F3864"


def test_an_unreadable_file_has_no_annotated_copy():
    issue = I.make("not-a-workbook", detail="c'est un document PDF")
    assert annotated_workbook(b"%PDF-1.7", None, [issue]) is None


# --- receipt ------------------------------------------------------------------------------------
def receipt(**overrides) -> str:
    issue = I.make(
        "not-a-number",
        sheet=f"Feuille {SCRIPT}",
        cell="F12",
        value=f"{SCRIPT} {PAYLOAD}",
        label=f"IND05 {SCRIPT}",
    )
    params = dict(
        pole_id="PTCE-001",
        pole_name=f"Pôle {SCRIPT}",
        period=2025,
        original_name=f"{SCRIPT}{PAYLOAD}.xlsx",
        sha256="ab" * 32,
        received_at=dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC),
        decided_at=dt.datetime(2025, 3, 1, 9, 5, tzinfo=dt.UTC),
        status="refusee",
        outcome="nouvelle",
        note=Note("already-received-held", {"received": None, "period": f"2025 {SCRIPT}"}),
        issues=[issue],
        submission_id=12,
        annotated_name=f"20250301-100500_{SCRIPT}_annote.xlsx",
    )
    params.update(overrides)
    return receipt_html(**params)


def test_receipt_escapes_everything_the_pole_supplied():
    page = receipt()
    assert "<script" not in page.lower()
    assert (
        page.count("&lt;script&gt;") >= 5
    )  # name (title and body), annotated name, note, sheet, value, label
    assert "=HYPERLINK(&quot;http://exemple.invalid/vol&quot;" in page
    assert 'href="http' not in page and "<a " not in page


def test_receipt_fetches_nothing_from_outside():
    page = receipt()
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    for pattern in (r"<link\b", r"<img\b", r"<script\b", r"<iframe\b", r"@import", r"url\("):
        assert not re.search(pattern, page, flags=re.I), pattern
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', page, flags=re.I)


def test_receipt_says_what_happened_and_what_next():
    page = receipt()
    assert "Refusé" in page and "1 erreur(s), 0 avertissement(s)" in page
    assert "ab" * 32 in page and "01/03/2025 à 10:00" in page  # Paris time
    assert "Ouvrez la copie annotée" in page
    ok = receipt(status="acceptee", issues=[], annotated_name=None, note=None)
    assert "Accepté" in ok and "Aucune anomalie." in ok and "intégrées au suivi national" in ok
    dup = receipt(status="acceptee", outcome="doublon", issues=[], annotated_name=None, note=None)
    assert "Déjà reçu" in dup


def test_receipt_words_the_ledgers_note():
    received = dt.datetime(2026, 4, 15, 8, 0, tzinfo=dt.UTC)
    again = dict(status="acceptee", outcome="doublon", issues=[], annotated_name=None)
    dup = receipt(**again, note=Note("already-received", {"received": received}))
    assert "<p>Déjà reçu le 15/04/2026 à 10:00&nbsp;; rien ne change.</p>" in dup
    assert '<p class="status">Déjà reçu</p>' in dup
    back = receipt(**again, note=Note("already-received-reinstated", {"received": received}))
    assert '<p class="status">Accepté</p>' in back
    assert "cette version redevient la version en vigueur." in back


# --- notes ----------------------------------------------------------------------------------------
def test_every_note_code_has_a_wording():
    assert set(WORDINGS) == set(NOTE_CODES)


def test_notes_read_as_they_always_have():
    """The wording the ledger wrote itself before its notes became codes, word for word."""
    at = dt.datetime(2026, 4, 15, 8, 0, tzinfo=dt.UTC)  # 10:00 in Paris
    params = {"received": at, "period": 2025, "by_received": at, "by": 7}
    said = {code: word(Note(code, params)) for code in sorted(WORDINGS)}
    assert said == {
        "already-received": "déjà reçu le 15/04/2026 à 10:00 ; rien ne change",
        "already-received-campaign-closed": (
            "déjà reçu le 15/04/2026 à 10:00. La campagne 2025 est close : la version actuelle "
            "reste en place jusqu'à sa réouverture"
        ),
        "already-received-held": (
            "déjà reçu le 15/04/2026 à 10:00 ; la campagne 2025 est close, il sera pris en "
            "compte à sa réouverture"
        ),
        "already-received-refused": (
            "déjà reçu le 15/04/2026 à 10:00 et refusé : le rapport ci-dessous est inchangé"
        ),
        "already-received-reinstated": (
            "déjà reçu le 15/04/2026 à 10:00 ; cette version redevient la version en vigueur"
        ),
        "already-received-replaced": (
            "déjà reçu le 15/04/2026 à 10:00 ; cette version a depuis été remplacée par le "
            "fichier reçu le 15/04/2026 à 10:00 (dépôt n° 7), qui reste la version en vigueur"
        ),
        "already-received-withdrawn": (
            "déjà reçu le 15/04/2026 à 10:00 ; ce classeur a été retiré par l'équipe nationale"
        ),
        "held-campaign-closed": (
            "la campagne 2025 est close : ce classeur est enregistré et validé, mais il ne "
            "remplacera les données en vigueur qu'à la réouverture de la campagne"
        ),
        "reprocessed": "validé de nouveau par l'équipe nationale avec les règles en vigueur",
        "reprocessed-held": (
            "validé de nouveau ; la campagne 2025 est close : il ne remplacera les données en "
            "vigueur qu'à sa réouverture"
        ),
        "replaced-since": (
            "accepté, puis remplacé par le fichier reçu le 15/04/2026 à 10:00 (dépôt n° 7), "
            "qui est désormais la version en vigueur"
        ),
        "reprocessed-superseded": (
            "validé de nouveau ; une version déposée plus récemment reste en vigueur"
        ),
        "superseded": (
            "accepté, mais une version déposée plus récemment par le pôle reste la version en "
            "vigueur"
        ),
        "unknown-sender": "dossier d'aucun pôle inscrit",
        "validated-again": "déjà reçu auparavant ; validé de nouveau avec les règles en vigueur",
    }
    assert word(Note("already-received", {"received": None})) == "déjà reçu le ? ; rien ne change"
    assert word(None) == ""


def test_a_copy_stopped_by_a_limit_is_skipped_and_the_receipt_says_why(tmp_path, refused):
    """The copy is built in a child process under the readers' limits: one too small for it
    gives no copy, and the receipt tells the pole why, in French, with every issue listed."""
    import html

    from ptce_pipeline.config import Limits
    from ptce_pipeline.feedback import annotated_copy
    from ptce_pipeline.reading import LimitedRunner

    data, issues = refused
    path = tmp_path / "suivi.xlsx"
    path.write_bytes(data)
    with LimitedRunner(Limits()) as runner:
        assert annotated_copy(runner, path, "xlsx", issues).data is not None
    costly = tmp_path / "suivi.ods"  # three sheets of 4 million repeated values: 50 KB
    costly.write_bytes(ods_repeated_sheets())
    # which limit stops it depends on the native reader: an allocation refused under the
    # memory limit may abort the child (memory) or leave it stuck on a lock (time); either
    # way the copy is skipped and the receipt says which limit, in French
    with LimitedRunner(Limits(parse_timeout_s=20)) as runner:
        copy = annotated_copy(runner, costly, "ods", issues)
    assert copy.data is None
    assert copy.skipped.startswith("La copie annotée de votre classeur n'a pas été produite : ")
    assert "limite de mémoire (1024 Mo)" in copy.skipped or "limite de temps (20 s)" in copy.skipped
    text = html.unescape(
        receipt_html(
            pole_id="PTCE-001",
            pole_name="Pôle fictif",
            period=2025,
            original_name="suivi.xlsx",
            sha256="0" * 64,
            received_at=dt.datetime(2025, 1, 6, 9, tzinfo=dt.UTC),
            decided_at=dt.datetime(2025, 1, 6, 9, 5, tzinfo=dt.UTC),
            status="refusee",
            outcome="nouveau",
            note=None,
            issues=issues,
            submission_id=4,
            annotated_name=None,
            annotated_skipped=copy.skipped,
        )
    ).replace("\xa0", " ")
    assert copy.skipped in text
    assert all(html.unescape(i.message) in text for i in issues[:3])
