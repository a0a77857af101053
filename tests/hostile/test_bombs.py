"""Bombs and lying structures: the pre-flight refuses each one precisely, in bounded memory,
before any parser runs; with the pre-flight switched off, the reader processes' memory and
time limits alone still stop them, and the other files are read."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from ptce_pipeline.catalogue.referentiel import referentiel_bytes
from ptce_pipeline.config import Limits, load_settings
from ptce_pipeline.errors import ConfigError
from ptce_pipeline.reading.sandbox import ReaderPool, check_xml_safety, read_one
from ptce_pipeline.reading.workbook import read_raw

from .builders import (
    LAUGHS,
    SHEET_FILES,
    XXE,
    add_rows,
    many_members,
    patch,
    raw_zip,
    replace_once,
    shared_strings_bomb,
    unsafe_names,
    with_prolog,
)

DATA = Path(__file__).parents[1] / "data"
IND = SHEET_FILES["Indicateurs"]
MIB = 1 << 20


def refusal(ref, data: bytes, limits: Limits | None = None):
    outcome = read_one(data, ref, limits or Limits())
    assert outcome.content is None, outcome.content and outcome.content.issues
    (issue,) = outcome.issues
    return issue


def located(issue):
    return (issue.code, issue.sheet, issue.cell)


# --- decompression --------------------------------------------------------------------------
def test_zip_bomb_is_refused_while_streaming_in_bounded_memory(ref, gib_bomb):
    data = gib_bomb.read_bytes()
    assert len(data) < 4 * MIB  # a few MB on disk …
    with zipfile.ZipFile(gib_bomb) as z:  # … 1 GiB once inflated
        assert z.getinfo(IND).file_size >= 1 << 30
    tracemalloc.start()
    try:
        issue = refusal(ref, data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert located(issue) == ("too-large", "Indicateurs", None)
    assert "la feuille « Indicateurs » dépasse 64 Mo une fois décompressé" in issue.message
    assert peak < 3 * Limits().max_member_bytes


def test_total_decompressed_size_is_capped(ref, template):
    issue = refusal(ref, template, Limits(max_total_bytes=100_000))
    assert issue.code == "too-large" and "une fois décompressé" in issue.message


def test_compression_ratio_is_capped(ref, template):
    padded = patch(template, {IND: add_rows(b"<!-- " + b" " * (12 * MIB) + b" -->")})
    issue = refusal(ref, padded, Limits(max_ratio=50))
    assert issue.code == "too-large" and "taux de compression anormal" in issue.message


def test_file_size_is_capped(ref, template):
    issue = refusal(ref, template, Limits(max_file_bytes=10_000))
    assert issue.code == "too-large" and "fichier de" in issue.message


def test_huge_shared_strings_part(ref, template):
    issue = refusal(ref, shared_strings_bomb(template, 3 * MIB), Limits(max_member_bytes=2 * MIB))
    assert issue.code == "too-large" and "xl/sharedStrings.xml dépasse 2 Mo" in issue.message


@pytest.mark.slow
def test_300_mb_shared_strings_part(ref, template):
    issue = refusal(ref, shared_strings_bomb(template, 300 * MIB))
    assert issue.code == "too-large" and "xl/sharedStrings.xml dépasse 64 Mo" in issue.message


# --- the archive itself -----------------------------------------------------------------------
def test_hundred_thousand_members(ref, template):
    issue = refusal(ref, many_members(template, 100_000))
    assert issue.code == "too-large"
    assert "100016 éléments dans l'archive (au plus 2000)" in issue.message


@pytest.mark.parametrize(
    "name", ["../../etc/cron.d/x.xml", "/etc/passwd.xml", "C:/Windows/x.xml", "xl/../../x.xml"]
)
def test_unsafe_member_names(ref, template, name):
    issue = refusal(ref, unsafe_names(template, name))
    assert issue.code == "unsafe-archive" and "chemin interdit" in issue.message


def test_duplicate_member_names(ref, template):
    data = unsafe_names(template, "XL/WORKBOOK.XML")  # the same part twice, case aside
    issue = refusal(ref, data)
    assert issue.code == "unsafe-archive" and "en double" in issue.message


# --- XML --------------------------------------------------------------------------------------
def test_billion_laughs_in_shared_strings(ref, template):
    sst = (
        b'<?xml version="1.0"?>' + LAUGHS + b'<sst xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><si><t>&lol9;</t></si></sst>'
    )
    issue = refusal(ref, patch(template, add={"xl/sharedStrings.xml": sst}))
    assert issue.code == "forbidden-xml" and "xl/sharedStrings.xml" in issue.message


def test_billion_laughs_in_a_sheet(ref, template):
    issue = refusal(ref, patch(template, {IND: with_prolog(LAUGHS)}))
    assert located(issue) == ("forbidden-xml", "Indicateurs", None)
    assert "DTD ou entités, la feuille « Indicateurs »" in issue.message


def test_external_entity_in_the_workbook_part(ref, template):
    edit = with_prolog(XXE, replace_once(b'name="Lisez-moi"', b'name="&xxe;"'))
    issue = refusal(ref, patch(template, {"xl/workbook.xml": edit}))
    assert issue.code == "forbidden-xml" and "workbook.xml" in issue.message
    assert "root:" not in issue.message


def test_doctype_across_a_chunk_boundary(ref, template):
    pad = b" " * (MIB - 600)  # the declaration straddles the first 1 MiB read
    issue = refusal(ref, patch(template, {IND: add_rows(b"<!--" + pad + b"-->" + LAUGHS)}))
    assert issue.code == "forbidden-xml"


def test_utf16_part_is_refused(ref, template):
    edit = lambda b: "\ufeff".encode("utf-16-le") + b.decode().encode("utf-16-le")  # noqa: E731
    issue = refusal(ref, patch(template, {IND: edit}))
    assert issue.code == "forbidden-xml" and "UTF-16" in issue.message


def test_openpyxl_uses_defusedxml():
    import openpyxl
    from openpyxl.xml import functions

    assert openpyxl.DEFUSEDXML is True
    assert functions.iterparse.__module__.startswith("defusedxml")
    check_xml_safety()


def test_start_up_check_refuses_a_disabled_defusedxml():
    with pytest.raises(ConfigError, match="OPENPYXL_DEFUSEDXML='False' désactive defusedxml"):
        check_xml_safety({"OPENPYXL_DEFUSEDXML": "False"})


def test_reader_pool_will_not_start_without_defusedxml(ref):
    """openpyxl reads the variable at import: the check must see it in a fresh interpreter."""
    code = (
        "from ptce_pipeline.config import Limits\n"
        "from ptce_pipeline.catalogue.referentiel import referentiel_bytes\n"
        "from ptce_pipeline.reading.sandbox import ReaderPool\n"
        "ReaderPool(referentiel_bytes(), 'x', Limits())\n"
    )
    env = {**os.environ, "OPENPYXL_DEFUSEDXML": "False"}
    run = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode != 0
    assert "ConfigError: Lecture des classeurs refusée" in run.stderr
    assert "openpyxl n'utilise pas defusedxml" in run.stderr


# --- lying structure --------------------------------------------------------------------------
FAR = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'


def test_stray_value_at_the_last_cell_with_a_lying_dimension(ref, template):
    edit = lambda b: add_rows(FAR)(  # noqa: E731
        replace_once(b'<dimension ref="A1:G43" />', b'<dimension ref="A1:XFD1048576" />')(b)
    )
    issue = refusal(ref, patch(template, {IND: edit}))
    assert located(issue) == ("too-large", "Indicateurs", "XFD1048576")
    assert "une valeur en XFD1048576" in issue.message


def test_far_cell_in_a_sheet_the_reader_never_uses(ref, template):
    """Every sheet is measured, not only those read: other readers (the annotated copy) open
    the whole workbook."""
    issue = refusal(ref, patch(template, {SHEET_FILES["Lisez-moi"]: add_rows(FAR)}))
    assert located(issue) == ("too-large", "Lisez-moi", "XFD1048576")


def test_far_formatting_without_a_value_is_not_data(ref, template):
    """Excel and LibreOffice write styled empty cells far away: they hold nothing."""
    styled = b'<row r="1048576"><c r="XFD1048576" s="1"/><c r="XFC1048576" s="1"></c></row>'
    outcome = read_one(patch(template, {IND: add_rows(styled)}), ref, Limits())
    assert outcome.content is not None and outcome.content.issues == []


@pytest.mark.parametrize(
    ("ref_text", "cell", "words"),
    [
        (b"XFE1", "XFE1", "hors de la grille"),
        (b"A1048577", "A1048577", "hors de la grille"),
        (b"A0", "A0", "référence de cellule invalide"),
        (b"a5", "a5", "référence de cellule invalide"),
        (b"AAAA5", "AAAA5", "référence de cellule invalide"),
        (b"A20001", "A20001", "au-delà de la ligne 20000"),
        (b"GS5", "GS5", "au-delà de la colonne GR"),
    ],
)
def test_out_of_grid_and_beyond_the_caps(ref, template, ref_text, cell, words):
    row = b'<row r="9"><c r="' + ref_text + b'"><v>1</v></c></row>'
    issue = refusal(ref, patch(template, {IND: add_rows(row)}))
    assert located(issue) == ("too-large", "Indicateurs", cell)
    assert words in issue.message


def test_caps_are_configurable(ref, template):
    """The template's member numbers go down to row 304: a cap of 100 rows refuses it."""
    issue = refusal(ref, template, Limits(max_rows=100))
    assert located(issue) == ("too-large", "Membres", "A101")


def test_cells_without_references_are_placed_as_calamine_places_them(ref, template):
    """No `r`: each cell follows the previous one, so 250 of them reach column IP."""
    row = b'<row r="9">' + b"<c><v>1</v></c>" * 250 + b"</row>"
    issue = refusal(ref, patch(template, {IND: add_rows(row)}))
    assert located(issue) == ("too-large", "Indicateurs", "GS9")


def test_rows_without_references_are_counted(ref, template):
    rows = b"<row><c><v>1</v></c></row>" * 20001
    sheet = (
        b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml'
        b'/2006/main"><sheetData>' + rows + b"</sheetData></worksheet>"
    )
    issue = refusal(ref, patch(template, {SHEET_FILES["Listes"]: sheet}))
    assert located(issue) == ("too-large", "Listes", "A20001")


@pytest.mark.parametrize(
    "cell",
    [
        b'<c r="A5" r="XFD1048576"><v>1</v></c>',  # calamine keeps the last r
        b"<c r='A5' r = 'XFD1048576'><v>1</v></c>",
        b'<c s="0" r="XFD1048576"><v>1</v></c>',
    ],
    ids=["duplicate", "duplicate-odd-spelling", "attribute-order"],
)
def test_odd_spellings_of_a_far_reference(ref, template, cell):
    issue = refusal(ref, patch(template, {IND: add_rows(b'<row r="5">' + cell + b"</row>")}))
    assert issue.code in ("too-large", "corrupt-file")
    assert issue.sheet == "Indicateurs"


def test_far_cell_with_a_namespace_prefix(ref, template):
    row = (
        b'<x:row xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" r="5">'
        b'<x:c r="XFD5"><x:v>1</x:v></x:c></x:row>'
    )
    issue = refusal(ref, patch(template, {IND: add_rows(row)}))
    assert located(issue) == ("too-large", "Indicateurs", "XFD5")


def test_orphan_sheet_part_is_measured_too(ref, template):
    """A worksheet the relationships do not name is still measured (where a relationship
    points is not trusted)."""
    sheet = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<sheetData>" + FAR + b"</sheetData></worksheet>"
    )
    issue = refusal(ref, patch(template, add={"evil/sheet.xml": sheet}))
    assert issue.code == "too-large" and issue.cell == "XFD1048576"


def _sheet(rows: bytes, dimension: bytes = b"") -> bytes:
    return (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + dimension
        + b"<sheetData>"
        + rows
        + b"</sheetData></worksheet>"
    )


def test_dimension_a1_over_5000_rows_reads_every_row():
    rows = b"".join(
        b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (i, i, i) for i in range(1, 5001)
    )
    sheet = _sheet(rows, b'<dimension ref="A1"/>')
    raw, issues = read_raw(_one_sheet_workbook("Membres", sheet), Limits())
    assert issues == []
    assert len(raw.sheets["Membres"].rows) == 5000
    assert raw.sheets["Membres"].rows[-1][0] == 5000.0


def _one_sheet_workbook(name: str, sheet: bytes) -> bytes:
    return raw_zip(
        {
            "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
            "_rels/.rels": b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
            "xl/workbook.xml": b'<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="'
            + name.encode()
            + b'" sheetId="1" r:id="rId1"/></sheets></workbook>',
            "xl/_rels/workbook.xml.rels": b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
            "xl/worksheets/sheet1.xml": sheet,
        }
    )


# --- OpenDocument -----------------------------------------------------------------------------
def ods_with(extra_row: bytes, *, prolog: bytes = b"") -> bytes:
    """The LibreOffice-saved template with a row put first in its first sheet (Lisez-moi)."""

    def edit(content: bytes) -> bytes:
        content = content.replace(b"<table:table-row", extra_row + b"<table:table-row", 1)
        if prolog:
            end = content.index(b"?>") + 2
            content = content[:end] + prolog + content[end:]
        return content

    return patch((DATA / "libreoffice_filled.ods").read_bytes(), {"content.xml": edit})


def test_ods_far_cell_through_repeated_columns(ref):
    row = (
        b'<table:table-row><table:table-cell table:number-columns-repeated="16383"/>'
        b'<table:table-cell office:value-type="float" office:value="1"/></table:table-row>'
    )
    issue = refusal(ref, ods_with(row))
    assert located(issue) == ("too-large", "Lisez-moi", "XFD1")


def test_ods_value_rows_repeated_beyond_the_cap(ref):
    row = (
        b'<table:table-row table:number-rows-repeated="1000000"><table:table-cell '
        b'office:value-type="float" office:value="1"/></table:table-row>'
    )
    issue = refusal(ref, ods_with(row))
    assert located(issue) == ("too-large", "Lisez-moi", "A20001")


def test_ods_empty_rows_repeated_are_not_data(ref):
    """LibreOffice pads every sheet with a million repeated empty rows: counted, not data."""
    data = (DATA / "libreoffice_filled.ods").read_bytes()
    content = zipfile.ZipFile(io.BytesIO(data)).read("content.xml")
    assert b'table:number-rows-repeated="1048570"' in content
    outcome = read_one(data, ref, Limits())
    assert outcome.content is not None
    assert [i.code for i in outcome.content.issues] == ["old-template-version"]  # version 1


def test_ods_absurd_repeat_count(ref):
    row = b'<table:table-row table:number-rows-repeated="-5"><table:table-cell/></table:table-row>'
    assert refusal(ref, ods_with(row)).code == "corrupt-file"


def test_ods_billion_laughs(ref):
    issue = refusal(ref, ods_with(b"", prolog=LAUGHS))
    assert issue.code == "forbidden-xml" and "content.xml" in issue.message


# --- the reader processes alone ----------------------------------------------------------------
def test_memory_limit_alone_stops_bombs_and_the_others_are_read(ref, template, gib_bomb, tmp_path):
    """Pre-flight off: calamine meets the bomb, the far cell and the entities itself. The
    worker dies on the first two (retried alone once, then refused); the run goes on."""
    good = tmp_path / "bon.xlsx"
    good.write_bytes(template)
    far = tmp_path / "loin.xlsx"
    far.write_bytes(patch(template, {IND: add_rows(FAR)}))
    laughs = tmp_path / "rires.xlsx"
    sst = (
        b'<?xml version="1.0"?>' + LAUGHS + b'<sst xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><si><t>&lol9;</t></si></sst>'
    )
    laughs.write_bytes(
        patch(template, {IND: with_prolog(LAUGHS)}, add={"xl/sharedStrings.xml": sst})
    )
    settings = load_settings({"PTCE_PREFLIGHT": "0", "PTCE_WORKER_MEMORY_MB": "768"}, home=tmp_path)
    assert settings.limits.preflight is False
    paths = [good, gib_bomb, good, far, laughs, good]
    with ReaderPool(referentiel_bytes(), ref.source, settings.limits, workers=2) as pool:
        outcomes = pool.read([str(p) for p in paths], chunk=2)
    for k in (0, 2, 5):
        assert outcomes[k].content is not None and outcomes[k].content.issues == [], k
    for k in (1, 3):
        assert [i.code for i in outcomes[k].issues] == ["too-large"], k
        assert "la lecture dépasse 768 Mo de mémoire" in outcomes[k].issues[0].message
    assert outcomes[4].content is None or outcomes[4].content.indicators == {}
    assert all(o.crashed is None for o in outcomes)


def test_time_limit_stops_a_hanging_read(ref, template, tmp_path):
    paths = []
    for name in ("a.xlsx", "lent.xlsx", "b.xlsx"):
        (tmp_path / name).write_bytes(template)
        paths.append(str(tmp_path / name))
    limits = Limits(parse_timeout_s=2)
    with ReaderPool(referentiel_bytes(), ref.source, limits, workers=2, fault="hang:lent") as pool:
        outcomes = pool.read(paths, chunk=1)
    assert [i.code for i in outcomes[1].issues] == ["too-slow"]
    assert "2 secondes" in outcomes[1].issues[0].message
    assert outcomes[0].content is not None and outcomes[2].content is not None


def test_preflight_switch_in_settings():
    assert load_settings({}, home=".").limits.preflight is True
    assert load_settings({"PTCE_PREFLIGHT": "0"}, home=".").limits.preflight is False


def test_calamine_panic_is_a_refusal_not_a_crash(tmp_path):
    """Pre-flight off, a lone cell with two references (the second far away) makes calamine
    0.9 panic: pyo3's PanicException derives from BaseException and must still come back as a
    refused file, not escape (run in a child process under a memory limit, as the readers)."""
    path = tmp_path / "double.xlsx"
    row = b'<row r="1"><c r="A1" r="XFD1048576"><v>1</v></c></row>'
    path.write_bytes(_one_sheet_workbook("Membres", _sheet(row)))
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from ptce_pipeline.config import Limits\n"
        "from ptce_pipeline.reading.workbook import read_raw\n"
        "raw, issues = read_raw(open(sys.argv[1], 'rb').read(), Limits(preflight=False))\n"
        "print(raw is None, [i.code for i in issues])\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-500:]
    assert run.stdout.strip() in ("True ['corrupt-file']", "True ['too-large']", "False []")
