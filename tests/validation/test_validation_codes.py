"""One case per issue code of the catalogue: a real workbook written by the template writer,
broken in exactly one place, read by the real reader and validated, and the complete list of
issues asserted as (sheet, cell, code, severity).

Reader-level refusals (format, bombs) get a minimal case here; the reader's own tests cover
them in depth.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from helpers.checking import read_and_validate
from helpers.workbooks import filled, packaged_ref, workbook

from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.catalogue.issues import CATALOGUE, ERREUR
from ptce_pipeline.catalogue.referentiel import referentiel_bytes
from ptce_pipeline.catalogue.registry import Registry
from ptce_pipeline.config import Limits
from ptce_pipeline.reading.sandbox import ReaderPool, read_one
from ptce_pipeline.reading.sniff import CFB_MAGIC
from ptce_pipeline.template import demo
from ptce_pipeline.validation import Context, Item, validate_batch

TODAY = dt.date(2025, 6, 1)
REGISTRY = Registry({p.pole_id: p for p in demo.registry()}, sha256="tests")
ID, MEM, IND, CRIT = L.SHEET_IDENTITY, L.SHEET_MEMBERS, L.SHEET_INDICATORS, L.SHEET_CRITERIA
W = "avertissement"


@dataclass
class Case:
    expected: list[tuple[str | None, str | None, str, str]]
    change: Callable | None = None  # on the typed data (FilledData)
    edit: Callable | None = None  # on the openpyxl workbook, after filling
    raw: Callable[[bytes], bytes] | None = None  # on the saved bytes
    folder: str | None = "PTCE-001"
    registry: Registry | None = REGISTRY
    previous: Callable | None = None
    limits: Limits = field(default_factory=Limits)
    hang: bool = False  # the reader never finishes (fault injection in the worker)


# --- helpers that break a workbook in one place ------------------------------------------------
def setter(part: str, key, value):
    def change(data):
        getattr(data, part)[key] = value

    return change


def member(index: int, key: str, value):
    def change(data):
        data.members[index][key] = value

    return change


def rezip(data: bytes, add: dict[str, bytes] | None = None, patch=None) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if patch is not None:
                content = patch(info.filename, content)
            dst.writestr(info.filename, content)
        for name, content in (add or {}).items():
            dst.writestr(name, content)
    return out.getvalue()


def row_of(ws, code: str) -> int:
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == code)


def set_cell(sheet: str, ref: str, value):
    def edit(wb):
        wb[sheet][ref] = value

    return edit


def append_coded_row(sheet: str, code: str, value_col: int, value):
    def edit(wb):
        ws = wb[sheet]
        r = ws.max_row + 1
        ws.cell(r, 1, code)
        ws.cell(r, value_col, value)

    return edit


def clear_row(sheet: str, code: str, columns: int):
    def edit(wb):
        ws = wb[sheet]
        r = row_of(ws, code)
        for c in range(1, columns + 1):
            ws.cell(r, c).value = None

    return edit


def set_meta(key: str, value: str):
    def edit(wb):
        ws = wb[L.SHEET_META]
        r = row_of(ws, key)
        ws.cell(r, 2).value = value

    return edit


def rename_header(sheet: str, ref: str, text: str):
    return set_cell(sheet, ref, text)


def merge(sheet: str, rng: str):
    def edit(wb):
        wb[sheet].merge_cells(rng)

    return edit


def hide(sheet: str):
    def edit(wb):
        wb[sheet].sheet_state = "hidden"

    return edit


def drop_sheet(sheet: str):
    def edit(wb):
        wb.remove(wb[sheet])

    return edit


def many_members(n: int):
    def change(data):
        base = {k: v for k, v in data.members[2].items() if k != "siret"}
        data.members = [dict(base, nom=f"{base['nom']} {i}") for i in range(n)]
        data.members[0]["categorie"] = "Entreprise ou réseau de l'ESS"

    return change


def keep_members(*indexes: int):
    def change(data):
        data.members = [data.members[i] for i in indexes]

    return change


def all_members(key: str, value):
    def change(data):
        for m in data.members:
            m[key] = value

    return change


def nothing_typed(data):
    prefilled = {"pole_id", "nom", "periode", "departement", "region"}
    data.identity = {k: v for k, v in data.identity.items() if k in prefilled}
    data.members = []
    data.indicators = {}
    data.criteria = {}


def previous_of(values: dict[str, float], period: int = 2023):
    def lookup(pole: str, p: int):
        return (period, values) if pole == "PTCE-001" and p == 2024 else None

    return lookup


BASE = filled  # the valid data every case starts from: PTCE-001, 2024, seed 7
OLE_XLS = CFB_MAGIC + b"\x00" * 504 + "Workbook".encode("utf-16-le") + b"\x00" * 512
OLE_ENCRYPTED = CFB_MAGIC + b"\x00" * 504 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 512
DOCTYPE = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>'


def _xlsb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.bin", b"\x00\x01")
    return out.getvalue()


def _with_doctype(name: str, content: bytes) -> bytes:
    if name == "xl/worksheets/sheet2.xml":
        return DOCTYPE + content
    return content


CASES: dict[str, Case] = {
    # --- the file itself -------------------------------------------------------------------
    "empty-file": Case([(None, None, "empty-file", ERREUR)], raw=lambda b: b""),
    "not-a-workbook": Case(
        [(None, None, "not-a-workbook", ERREUR)], raw=lambda b: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    ),
    "legacy-xls": Case([(None, None, "legacy-xls", ERREUR)], raw=lambda b: OLE_XLS),
    "xlsb-format": Case([(None, None, "xlsb-format", ERREUR)], raw=lambda b: _xlsb()),
    "csv-file": Case([(None, None, "csv-file", ERREUR)], raw=lambda b: b"Code;Valeur\nIND01;12\n"),
    "encrypted-file": Case([(None, None, "encrypted-file", ERREUR)], raw=lambda b: OLE_ENCRYPTED),
    "corrupt-file": Case([(None, None, "corrupt-file", ERREUR)], raw=lambda b: b[: len(b) // 2]),
    "unsafe-archive": Case(
        [(None, None, "unsafe-archive", ERREUR)],
        raw=lambda b: rezip(b, add={"../../evil.txt": b"x"}),
    ),
    "forbidden-xml": Case(
        [(ID, None, "forbidden-xml", ERREUR)], raw=lambda b: rezip(b, patch=_with_doctype)
    ),
    "too-large": Case([(None, None, "too-large", ERREUR)], limits=Limits(max_file_bytes=10_000)),
    "too-slow": Case([(None, None, "too-slow", ERREUR)], hang=True),
    "macros-ignored": Case(
        [(None, None, "macros-ignored", W)], raw=lambda b: rezip(b, add={"xl/vbaProject.bin": b"0"})
    ),
    "external-links-ignored": Case(
        [(None, None, "external-links-ignored", W)],
        raw=lambda b: rezip(b, add={"xl/externalLinks/externalLink1.xml": b"<externalLink/>"}),
    ),
    "unknown-template": Case(
        [(None, None, "unknown-template", ERREUR)],
        edit=lambda wb: [wb.remove(wb[n]) for n in (ID, MEM, IND, CRIT)],
    ),
    "unknown-template-version": Case(
        [(None, None, "unknown-template-version", ERREUR)],
        edit=set_meta("template_version", "9.9"),
    ),
    "old-template-version": Case(
        [(None, None, "old-template-version", W)], edit=set_meta("template_version", "0.9")
    ),
    "empty-workbook": Case([(None, None, "empty-workbook", ERREUR)], change=nothing_typed),
    # --- structure ---------------------------------------------------------------------------
    "missing-sheet": Case([(CRIT, None, "missing-sheet", ERREUR)], edit=drop_sheet(CRIT)),
    "hidden-sheet": Case([(MEM, None, "hidden-sheet", W)], edit=hide(MEM)),
    "missing-column": Case(
        [(IND, "A4", "missing-column", ERREUR)], edit=rename_header(IND, "F4", "Montant")
    ),
    "missing-field": Case(
        [(ID, "B5", "missing-field", ERREUR)], edit=clear_row(ID, "contact_nom", 4)
    ),
    "missing-indicator": Case(
        [(IND, "A5", "missing-indicator", ERREUR)], edit=clear_row(IND, "IND15", 7)
    ),
    "unknown-indicator": Case(
        [(IND, "A44", "unknown-indicator", ERREUR)], edit=append_coded_row(IND, "IND99", 6, 3)
    ),
    "duplicate-indicator": Case(
        [(IND, "A44", "duplicate-indicator", ERREUR)], edit=append_coded_row(IND, "IND05", 6, 3)
    ),
    "missing-criterion": Case(
        [(CRIT, "A5", "missing-criterion", ERREUR)], edit=clear_row(CRIT, "CT6", 5)
    ),
    "unknown-criterion": Case(
        [(CRIT, "A21", "unknown-criterion", ERREUR)], edit=append_coded_row(CRIT, "CT9", 4, "Oui")
    ),
    "duplicate-criterion": Case(
        [(CRIT, "A21", "duplicate-criterion", ERREUR)], edit=append_coded_row(CRIT, "CI1", 4, "Non")
    ),
    "merged-cells": Case([(ID, "C21", "merged-cells", ERREUR)], edit=merge(ID, "C21:C22")),
    "data-outside-table": Case(
        [(ID, "F10", "data-outside-table", W)], edit=set_cell(ID, "F10", "voir note")
    ),
    "too-many-members": Case(
        [(MEM, f"A{L.FIRST_DATA_ROW + L.MAX_MEMBER_ROWS}", "too-many-members", ERREUR)],
        change=many_members(L.MAX_MEMBER_ROWS + 1),
    ),
    # --- cell values -------------------------------------------------------------------------
    "required-value": Case(
        [(IND, "F7", "required-value", ERREUR)], change=setter("indicators", "IND01", None)
    ),
    "not-a-number": Case(
        [(IND, "F12", "not-a-number", ERREUR)],
        change=setter("indicators", "IND05", "environ 1200"),
    ),
    "not-an-integer": Case(
        [(IND, "F7", "not-an-integer", ERREUR)], change=setter("indicators", "IND01", 12.5)
    ),
    "out-of-range": Case(
        [(IND, "F8", "out-of-range", ERREUR)], change=setter("indicators", "IND02", 140)
    ),
    "ambiguous-number": Case(
        [(IND, "F29", "ambiguous-number", W)], change=setter("indicators", "IND17", "1.250")
    ),
    "not-in-list": Case(
        [(ID, "C14", "not-in-list", ERREUR)],
        change=setter("identity", "type_territoire", "Banlieue"),
    ),
    "invalid-siret": Case(
        [(MEM, "C8", "invalid-siret", ERREUR)], change=member(3, "siret", "73282932000075")
    ),
    "duplicate-siret": Case(
        [(MEM, "C8", "duplicate-siret", ERREUR)], change=member(3, "siret", "83058727503987")
    ),
    "invalid-commune": Case(
        [(ID, "C11", "invalid-commune", ERREUR)], change=setter("identity", "commune", "Romans")
    ),
    "invalid-departement": Case(
        [(ID, "C12", "invalid-departement", ERREUR)],
        change=setter("identity", "departement", "99"),
    ),
    "invalid-region": Case(
        [(ID, "C13", "invalid-region", ERREUR)], change=setter("identity", "region", "Atlantide")
    ),
    "old-region-name": Case(
        [(ID, "C13", "old-region-name", W)], change=setter("identity", "region", "Rhône-Alpes")
    ),
    "invalid-year": Case(
        [(ID, "C18", "invalid-year", ERREUR)],
        change=setter("identity", "annee_creation", "vers 2008"),
    ),
    "invalid-date": Case(
        [(ID, "C21", "invalid-date", ERREUR)],
        change=setter("identity", "date_remplissage", "32/13/2024"),
    ),
    "invalid-email": Case(
        [(ID, "C20", "invalid-email", ERREUR)],
        change=setter("identity", "contact_email", "contact chez exemple.fr"),
    ),
    "invalid-pole-id": Case(
        [(ID, "C5", "invalid-pole-id", ERREUR)], change=setter("identity", "pole_id", "PTCE-1")
    ),
    "formula-without-value": Case(
        [(IND, "F7", "formula-without-value", ERREUR)], edit=set_cell(IND, "F7", "=F8*2")
    ),
    "formula-error": Case(
        [(IND, "F7", "formula-error", ERREUR)], edit=set_cell(IND, "F7", "#DIV/0!")
    ),
    "text-too-long": Case(
        [(ID, "C19", "text-too-long", ERREUR)], change=setter("identity", "contact_nom", "x" * 2001)
    ),
    "invisible-characters": Case(
        [(ID, "C6", "invisible-characters", W)],
        change=setter("identity", "nom", "Pôle\u200b Sud\u2060"),
    ),
    # --- identity and registry ---------------------------------------------------------------
    "pole-not-registered": Case(
        [(ID, "C5", "pole-not-registered", ERREUR)],
        change=setter("identity", "pole_id", "PTCE-999"),
        folder=None,
    ),
    "pole-folder-mismatch": Case([(ID, "C5", "pole-folder-mismatch", ERREUR)], folder="PTCE-002"),
    "period-in-future": Case(
        [(ID, "C7", "period-in-future", ERREUR)], change=setter("identity", "periode", 2026)
    ),
    "period-out-of-participation": Case(
        [(ID, "C7", "period-out-of-participation", ERREUR)],
        registry=Registry(
            {"PTCE-001": replace(REGISTRY.poles["PTCE-001"], derniere_periode=2023)}, "tests"
        ),
    ),
    "departement-registry-mismatch": Case(
        [(ID, "C12", "departement-registry-mismatch", W)],
        change=lambda d: d.identity.update(departement="07", commune="07186"),
    ),
    "creation-after-period": Case(
        [(ID, "C18", "creation-after-period", ERREUR)],
        change=setter("identity", "annee_creation", 2025),
    ),
    "implausible-fill-date": Case(
        [(ID, "C21", "implausible-fill-date", W)],
        change=setter("identity", "date_remplissage", dt.date(2025, 12, 1)),
    ),
    "region-departement-mismatch": Case(
        [(ID, "C13", "region-departement-mismatch", ERREUR)],
        change=setter("identity", "region", "Bretagne"),
    ),
    "commune-departement-mismatch": Case(
        [(ID, "C11", "commune-departement-mismatch", ERREUR)],
        change=setter("identity", "commune", "07186"),
    ),
    # --- members -----------------------------------------------------------------------------
    "too-few-legal-persons": Case(
        [(MEM, "B12", "too-few-legal-persons", ERREUR)],
        change=all_members("categorie", "Entreprise ou réseau de l'ESS"),
    ),
    "few-members": Case([(MEM, "B9", "few-members", W)], change=keep_members(0, 1, 2, 3)),
    "member-joined-after-period": Case(
        [(MEM, "G7", "member-joined-after-period", W)], change=member(2, "annee_adhesion", 2025)
    ),
    # --- indicators --------------------------------------------------------------------------
    "jobs-created-above-direct": Case(
        [(IND, "F38", "jobs-created-above-direct", ERREUR)],
        change=lambda d: d.indicators.update(IND23=d.indicators["IND22"] + 1),
    ),
    "insertion-above-direct": Case(
        [(IND, "F39", "insertion-above-direct", ERREUR)],
        change=lambda d: d.indicators.update(IND24=d.indicators["IND22"] + 0.5),
    ),
    "funding-shares-above-100": Case(
        [(IND, "F16", "funding-shares-above-100", W)],
        change=lambda d: d.indicators.update(IND08=60, IND26=45),
    ),
    "collectivites-below-members": Case(
        [(IND, "F15", "collectivites-below-members", W)], change=setter("indicators", "IND07", 0)
    ),
    "large-change": Case(
        [(IND, "F12", "large-change", W)],
        previous=lambda: previous_of({"IND05": base_value("IND05") / 20}),
    ),
    # --- criteria ----------------------------------------------------------------------------
    "missing-answer": Case(
        [(CRIT, "D17", "missing-answer", ERREUR)], change=setter("criteria", "CT3", (None, None))
    ),
    "justification-missing": Case(
        [(CRIT, "E8", "justification-missing", W)], change=setter("criteria", "CI3", ("Oui", ""))
    ),
}


def base_value(code: str) -> float:
    """An indicator's value in the valid base workbook."""
    return float(filled(packaged_ref()).indicators[code])


# --- running a case -------------------------------------------------------------------------------
def case_bytes(ref, case: Case) -> bytes:
    data = copy.deepcopy(BASE(ref))
    if case.change is not None:
        case.change(data)
    out = workbook(ref, data, edit=case.edit)
    return case.raw(out) if case.raw is not None else out


def context(ref, case: Case) -> Context:
    previous = case.previous() if case.previous is not None else None
    return Context(ref=ref, registry=case.registry, today=TODAY, previous=previous)


def run_case(ref, case: Case, tmp_path: Path) -> list:
    data = case_bytes(ref, case)
    outcome = None
    if case.hang:
        path = tmp_path / "lent.xlsx"
        path.write_bytes(data)
        limits = Limits(parse_timeout_s=1)
        with ReaderPool(referentiel_bytes(None), ref.source, limits, 1, "hang:lent") as pool:
            outcome = pool.read([str(path)])[0]
    previous = case.previous() if case.previous is not None else None
    report = read_and_validate(
        ref,
        data,
        folder=case.folder,
        registry=case.registry,
        previous=previous,
        limits=case.limits,
        outcome=outcome,
    )
    return report.issues


@pytest.fixture
def old_layout(monkeypatch):
    """A template version 0.9 the reader knows how to read (as a later release would declare)."""
    monkeypatch.setitem(L.TEMPLATE_LAYOUTS, "0.9", {})


def test_every_code_has_exactly_one_case():
    assert sorted(CASES) == sorted(CATALOGUE)


def test_the_base_workbook_is_clean(ref, tmp_path):
    assert run_case(ref, Case([]), tmp_path) == []


@pytest.fixture
def strict_messages(monkeypatch):
    """A placeholder the rule forgot to fill fails the test (in production it shows « ? »)."""

    def missing(self, key):
        raise KeyError(f"message parameter {key!r} not given")

    monkeypatch.setattr(I._Params, "__missing__", missing)


@pytest.mark.parametrize("code", list(CATALOGUE))
def test_issue_code(code, ref, tmp_path, request, strict_messages):
    case = CASES.get(code)
    assert case is not None, f"no test case for {code}"
    if code == "old-template-version":
        request.getfixturevalue("old_layout")
    if case.hang:
        pytest.importorskip("resource")
    issues = run_case(ref, case, tmp_path)
    assert [(i.sheet, i.cell, i.code, i.severity) for i in issues] == case.expected
    (issue,) = [i for i in issues if i.code == code]
    assert issue.severity == CATALOGUE[code].severity
    assert issue.message and "{" not in issue.message


def test_one_batch_gives_the_same_issues_as_one_by_one(ref):
    """Many workbooks in one frame per sheet: every failure goes back to its own workbook."""
    chosen = [
        c
        for code, c in CASES.items()
        if not c.hang
        and c.registry is REGISTRY
        and c.previous is None
        and code != "old-template-version"
    ]
    contents = [read_one(case_bytes(ref, c), ref, c.limits) for c in chosen]
    items = [Item(o.content, c.folder) for o, c in zip(contents, chosen, strict=True) if o.content]
    cases = [c for o, c in zip(contents, chosen, strict=True) if o.content]
    together = validate_batch(items, Context(ref=ref, registry=REGISTRY, today=TODAY))
    assert len(items) > 40
    for case, issues in zip(cases, together, strict=True):
        assert [(i.sheet, i.cell, i.code, i.severity) for i in issues] == case.expected
