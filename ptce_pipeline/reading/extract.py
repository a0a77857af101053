"""From raw sheet grids to the pole's data, every value carrying its cell address:
`extract` is the entry point.

It finds the template version first (the hidden metadata sheet, or the document properties),
then reads each sheet (`sheets`): columns are matched by header text (`headers`), rows by
identity key, indicator and criterion code, never by position alone, so blank, inserted and
re-ordered rows and re-ordered columns keep the right addresses. Values are cleaned and coerced
cell by cell (`cells`); a cell that cannot be coerced becomes an issue and the rest of the file
is still read. Checks against the catalogue (bounds, lists, required…) are pandera's job, in
`validation`.

An older template version is read through the mapping its layout declares
(`layout.TEMPLATE_LAYOUTS`); a version the reader does not know stops the reading.
"""

from __future__ import annotations

from ptce_pipeline import TEMPLATE_VERSION
from ptce_pipeline.catalogue import Referentiel, fold
from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.content import Content
from ptce_pipeline.reading.sheets import CRITERIA, INDICATORS, SheetReader
from ptce_pipeline.reading.workbook import RawWorkbook


def _found_sheets(raw: RawWorkbook) -> str:
    hidden = {fold(L.SHEET_META), fold(L.SHEET_LISTS)}
    return ", ".join(n for n in raw.sheet_names if fold(n) not in hidden)[:200] or "aucune"


def extract(raw: RawWorkbook, ref: Referentiel) -> Content:
    probe = SheetReader(raw, ref, L.LayoutMap())
    probe.meta()
    version = probe.content.template_version
    layout = L.layout_for(version)
    reader = SheetReader(raw, ref, layout or L.LayoutMap())
    content = reader.content
    content.meta, content.template_version = probe.content.meta, version
    content.issues.extend(raw.issues)
    present = [name for name in L.DATA_SHEETS if name in reader.by_template]
    if not present:
        content.add(I.make("unknown-template", found=_found_sheets(raw)))
        return content
    if layout is None:
        content.add(
            I.make(
                "unknown-template-version", version=(version or "")[:20], current=TEMPLATE_VERSION
            )
        )
        return content
    if version and version != TEMPLATE_VERSION:
        content.add(I.make("old-template-version", version=version, current=TEMPLATE_VERSION))
    for name in L.DATA_SHEETS:
        if name not in present:
            content.add(
                I.make("missing-sheet", sheet=name, expected=name, found=_found_sheets(raw))
            )
    reader.identity()
    reader.members()
    reader.coded_table(INDICATORS)
    reader.coded_table(CRITERIA)
    prefilled = {"pole_id", "nom", "periode", "departement", "region"}
    typed_identity = any(
        c.value is not None for k, c in content.identity.items() if k not in prefilled
    )
    if (
        not typed_identity
        and not content.members
        and all(c.value is None for c in content.indicators.values())
        and all(c.value is None for c in content.criteria.values())
    ):
        content.empty = True
        content.add(I.make("empty-workbook"))
    return content
