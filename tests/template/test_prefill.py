"""Pre-filled workbooks (`ptce campaign prepare`, `ptce template --prefill`), on a real home:
the demo's first campaign ingested for real, the next campaign prepared, each prepared
workbook read back by the real reader, filled the way a pole would, checked and ingested."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.office import resave
from helpers.workbooks import drop, filled, make_home, q, workbook
from openpyxl import load_workbook

from ptce_pipeline import TEMPLATE_VERSION
from ptce_pipeline.catalogue import Pole, load_config
from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.errors import ConfigError
from ptce_pipeline.feedback import PREPARED_NOTE, PREPARED_WORKBOOK
from ptce_pipeline.ingestion.check import check_files
from ptce_pipeline.ingestion.prepare import Preparation, prefilled_workbook, prepare_campaign
from ptce_pipeline.ingestion.run import run_ingest
from ptce_pipeline.reading.sandbox import read_one
from ptce_pipeline.store.lock import warehouse_lock
from ptce_pipeline.store.pole_rows import data_rows
from ptce_pipeline.store.prefill import MEMBER_FIELDS, Declaration, declarations_before
from ptce_pipeline.store.warehouse import connect
from ptce_pipeline.template import build_template, demo, fill_workbook, workbook_bytes
from ptce_pipeline.template.demo_second import typed_in_prepared
from ptce_pipeline.template.fill import FilledData

# The clock is fixed after the new period, so that it is not « in the future ».
NOW = "2026-01-15T10:00:00"
SEED = 2012
FIRST, NEXT = 2024, 2025
OLD = "PTCE-003"  # its first declaration was made with template version 1
SKIPPER = "PTCE-010"  # declared 2023, nothing in 2024: its earlier declaration for 2025 is 2023
NEWCOMER = Pole("PTCE-019", "Pôle fictif Nouveau Venu", "69", NEXT, None)
DEADLINE = dt.date(2099, 3, 31)


@dataclass
class World:
    settings: object
    preparation: Preparation
    earlier: dict[str, Declaration]

    def prepared(self, pole_id: str) -> bytes:
        return (self.settings.pole_inbox(pole_id) / "retours" / f"modele_{NEXT}.xlsx").read_bytes()


def as_version_1(data: bytes) -> bytes:
    """A first-campaign workbook as template version 1 wrote it (same sheets and columns)."""
    wb = load_workbook(io.BytesIO(data))
    for row in wb[L.SHEET_META].iter_rows():
        if row[0].value == "template_version":
            row[1].value = "1"
    for prop in wb.custom_doc_props.props:
        if prop.name == "ptce_template_version":
            prop.value = "1"
    return workbook_bytes(wb)


@pytest.fixture(scope="module")
def world(tmp_path_factory, ref) -> World:
    root = tmp_path_factory.mktemp("prefill") / "home"
    settings = make_home(root, poles=[*demo.registry(), NEWCOMER], PTCE_NOW=NOW)
    settings.campaigns_path.write_text(f"periode,date_limite\n{FIRST},2099-03-31\n", "utf-8")
    for pole_id, name, data in demo.workbooks(ref, SEED, periods=(FIRST,)):
        if pole_id == SKIPPER:
            data, name = workbook(ref, filled(ref, SKIPPER, FIRST - 1)), "suivi_2023.xlsx"
        drop(settings, pole_id, name, as_version_1(data) if pole_id == OLD else data)
    with warehouse_lock(settings.lock_path):
        report = run_ingest(settings, settle=0)
    assert not report.needs_attention
    preparation = prepare_campaign(settings, NEXT, DEADLINE)
    con = connect(settings.live_db, read_only=True)
    try:
        found = declarations_before(con, {(p.pole_id, NEXT) for p in demo.POLES})
    finally:
        con.close()
    return World(settings, preparation, {pole: d for (pole, _), d in found.items()})


def read_back(world: World, data: bytes):
    outcome = read_one(data, load_config(world.settings).ref, world.settings.limits)
    assert outcome.content is not None
    return outcome.content


def typed(ref, world: World, pole_id: str, data: FilledData) -> bytes:
    wb = load_workbook(io.BytesIO(world.prepared(pole_id)))
    fill_workbook(wb, ref, data)
    return workbook_bytes(wb)


def test_every_demo_pole_reads_back_its_declaration_in_force_field_by_field(world):
    assert len(world.earlier) == len(demo.POLES)
    for pole in demo.POLES:
        earlier = world.earlier[pole.pole_id]
        assert earlier.period == (FIRST - 1 if pole.pole_id == SKIPPER else FIRST)
        content = read_back(world, world.prepared(pole.pole_id))
        assert content.template_version == TEMPLATE_VERSION
        assert not [i.code for i in content.issues], pole.pole_id  # data-outside-table…
        rows = data_rows(0, content, frozenset())  # as the warehouse would store them
        identity = {r[1]: r[2] for r in rows["identity_values"]}
        assert identity.pop("periode") == str(NEXT)
        assert identity.pop("date_remplissage", None) is None
        expected = {
            k: v for k, v in earlier.identity.items() if k not in ("periode", "date_remplissage")
        }
        assert identity == expected, pole.pole_id
        assert identity.get("contact_email")  # the personal data
        members = [r[2:9] for r in rows["members"]]
        assert members == [tuple(m[f] for f in MEMBER_FIELDS) for m in earlier.members]
        criteria = {r[1]: (r[2], r[3]) for r in rows["criteria_answers"]}
        assert criteria == earlier.criteria, pole.pole_id
        assert all(v is None for _, _, v, *_ in rows["indicator_values"])  # left to the pole


def test_the_reference_column_is_labelled_with_its_year_locked_and_holds_last_values(world):
    earlier = world.earlier["PTCE-001"]
    ws = load_workbook(io.BytesIO(world.prepared("PTCE-001")))[L.SHEET_INDICATORS]
    headers = [c.value for c in ws[L.HEADER_ROW]]
    assert headers[4:8] == [L.IND_UNIT, f"Valeur {FIRST}", L.IND_VALUE, L.IND_COMMENT]
    shown = {
        row[0].value: row[5]
        for row in ws.iter_rows(min_row=L.FIRST_DATA_ROW)
        if isinstance(row[0].value, str) and row[0].value.startswith("IND")
    }
    assert len(shown) == 27
    assert {code: cell.value for code, cell in shown.items()} == earlier.indicators
    assert ws.protection.sheet and all(cell.protection.locked for cell in shown.values())
    assert not ws.cell(row=shown["IND01"].row, column=7).protection.locked  # « Valeur »
    readme = "\n".join(str(c.value) for c in ws.parent[L.SHEET_README]["A"] if c.value is not None)
    assert f"Ce classeur reprend votre déclaration {FIRST}" in readme
    assert f"« Valeur {FIRST} »" in readme


def test_what_is_typed_in_the_reference_column_never_counts(world, ref):
    data = typed_in_prepared(ref, "PTCE-001", SEED)
    wb = load_workbook(io.BytesIO(typed(ref, world, "PTCE-001", data)))
    ws = wb[L.SHEET_INDICATORS]
    for row in ws.iter_rows(min_row=L.FIRST_DATA_ROW):
        if isinstance(row[0].value, str) and row[0].value.startswith("IND"):
            row[5].value = 999999  # the pole unprotects the sheet and types over last year's
    content = read_back(world, workbook_bytes(wb))
    assert "data-outside-table" not in [i.code for i in content.issues]
    assert {c: cell.value for c, cell in content.indicators.items()} == {
        c: float(v) for c, v in data.indicators.items()
    }
    assert {cell.cell[0] for cell in content.indicators.values()} == {"G"}


def test_a_pole_that_types_only_its_27_values_is_accepted(world, ref):
    s = world.settings
    data = typed_in_prepared(ref, "PTCE-004", SEED)
    assert not data.identity and not data.members and not data.criteria  # no mistake here
    assert len(data.indicators) == 27
    drop(s, "PTCE-004", f"suivi_{NEXT}.xlsx", typed(ref, world, "PTCE-004", data))
    with warehouse_lock(s.lock_path):
        run_ingest(s, settle=0)
    assert q(
        s.live_db,
        "SELECT status, n_errors, n_warnings, previous_submission_id FROM submissions "
        "WHERE pole_id = 'PTCE-004' AND period = ?",
        NEXT,
    ) == [("acceptee", 0, 0, world.earlier["PTCE-004"].submission_id)]


def test_a_value_ten_times_last_years_gets_the_large_change_warning(world, ref, tmp_path):
    data = typed_in_prepared(ref, "PTCE-006", SEED)
    last = world.earlier["PTCE-006"].indicators["IND05"]
    data.indicators["IND05"] = int(last * 11)
    path = tmp_path / "dix_fois.xlsx"
    path.write_bytes(typed(ref, world, "PTCE-006", data))
    (report,) = check_files(world.settings, [path])
    assert report.status == "acceptee_avec_avertissements"
    ((cell, message),) = [(i.cell, i.message) for i in report.issues if i.code == "large-change"]
    assert cell.startswith("G") and f"en {FIRST}" in message


def test_the_reference_column_and_large_change_name_the_same_earlier_period(world, ref, tmp_path):
    """A pole that declared nothing last year is compared with its latest earlier declaration,
    in the reference column and by the `large-change` check alike."""
    earlier = world.earlier[SKIPPER]
    assert earlier.period == FIRST - 1
    ws = load_workbook(io.BytesIO(world.prepared(SKIPPER)))[L.SHEET_INDICATORS]
    assert ws.cell(row=L.HEADER_ROW, column=6).value == f"Valeur {FIRST - 1}"
    data = typed_in_prepared(ref, SKIPPER, SEED)
    data.indicators["IND17"] = int(earlier.indicators["IND17"] * 12)
    path = tmp_path / "saut.xlsx"
    path.write_bytes(typed(ref, world, SKIPPER, data))
    (report,) = check_files(world.settings, [path])
    (message,) = [i.message for i in report.issues if i.code == "large-change"]
    assert f"en {FIRST - 1} à" in message


@pytest.mark.parametrize("target", ["xlsx", "ods"])
def test_libreoffice_opens_and_resaves_a_prefilled_workbook_still_accepted(
    world, ref, tmp_path, target
):
    data = typed_in_prepared(ref, "PTCE-007", SEED)
    saved = resave(typed(ref, world, "PTCE-007", data), tmp_path, "suivi.xlsx", target)
    path = tmp_path / f"libreoffice.{target}"
    path.write_bytes(saved)
    (report,) = check_files(world.settings, [path])
    assert not report.refused and report.issues == [], report.issues
    content = read_back(world, saved)
    assert (
        content.identity["contact_email"].value
        == world.earlier["PTCE-007"].identity["contact_email"]
    )
    assert len(content.members) == len(world.earlier["PTCE-007"].members)
    assert {c: cell.value for c, cell in content.indicators.items()} == {
        c: float(v) for c, v in data.indicators.items()
    }


def test_the_same_warehouse_state_gives_byte_identical_workbooks(world):
    before = {p.pole_id: world.prepared(p.pole_id) for p in demo.POLES}
    again = prepare_campaign(world.settings, NEXT)
    assert not again.campaign_added and not again.needs_attention
    assert {p.pole_id: world.prepared(p.pole_id) for p in demo.POLES} == before
    data, earlier = prefilled_workbook(world.settings, "PTCE-002", NEXT)
    assert data == before["PTCE-002"] and earlier == world.earlier["PTCE-002"]


def test_an_earlier_declaration_of_an_older_template_version_prefills_the_current_one(world):
    assert world.earlier[OLD].template_version == "1"
    content = read_back(world, world.prepared(OLD))
    assert content.template_version == TEMPLATE_VERSION == "2"
    assert "old-template-version" not in [i.code for i in content.issues]
    assert len(content.members) == len(world.earlier[OLD].members)


def test_a_pole_without_an_earlier_declaration_gets_the_plain_template(world, ref):
    (newcomer,) = [p for p in world.preparation.poles if p.pole_id == NEWCOMER.pole_id]
    assert newcomer.earlier_period is None and newcomer.problem is None
    cfg = load_config(world.settings)
    plain = build_template(ref, pole=NEWCOMER, period=NEXT, deadline=DEADLINE, contact=cfg.contact)
    assert world.prepared(NEWCOMER.pole_id) == workbook_bytes(plain)
    note = world.settings.pole_inbox(NEWCOMER.pole_id) / "retours" / f"modele_{NEXT}_a_lire.txt"
    assert "modèle vierge" in note.read_text(encoding="utf-8")
    assert f"Valeur {FIRST}" in (
        world.settings.pole_inbox("PTCE-001") / "retours" / f"modele_{NEXT}_a_lire.txt"
    ).read_text(encoding="utf-8")


def test_preparing_adds_the_campaign_row_once_in_the_files_format(world):
    text = world.settings.campaigns_path.read_text(encoding="utf-8")
    assert text == f"periode,date_limite\n{FIRST},2099-03-31\n{NEXT},{DEADLINE.isoformat()}\n"
    assert world.preparation.campaign_added
    digest = hashlib.sha256(text.encode()).hexdigest()
    assert list(world.settings.archive_dir.glob(f"config/campagnes*{digest}*"))  # archived
    assert (
        world.preparation.lines[0]
        == f"Campagne {NEXT} ajoutée à campagnes.csv (date limite 31/03/2099)."
    )
    with pytest.raises(ConfigError, match="a déjà la date limite"):
        prepare_campaign(world.settings, NEXT, dt.date(2099, 1, 1))
    assert world.settings.campaigns_path.read_text(encoding="utf-8") == text


def test_a_campaign_row_is_added_to_a_file_without_a_final_newline(tmp_path):
    settings = make_home(tmp_path / "home", PTCE_NOW=NOW)
    settings.campaigns_path.write_bytes(b"periode,date_limite\r\n2024,2099-03-31")
    result = prepare_campaign(settings, NEXT)
    assert settings.campaigns_path.read_bytes() == (
        b"periode,date_limite\r\n2024,2099-03-31\r\n2025,2026-03-31\r\n"
    )
    assert result.deadline == dt.date(2026, 3, 31)
    assert [p.earlier_period for p in result.poles] == [None] * len(demo.POLES)  # no warehouse


def test_the_prepared_files_are_named_in_the_conventions_retours_table():
    text = (Path(__file__).parents[2] / "docs" / "conventions.md").read_text(encoding="utf-8")
    table = text.split("## Files written into `retours/`")[1].split("\n## ")[0]
    for name in (PREPARED_WORKBOOK, PREPARED_NOTE):
        assert f"`{name.format(period='<période>')}`" in table


def test_a_reference_column_renamed_valeur_still_never_counts(world, ref):
    """Tampering with the header too: « Valeur 2024 » renamed « Valeur » is still the reference
    column of a pre-filled workbook (its metadata names the reference period)."""
    data = typed_in_prepared(ref, "PTCE-001", SEED)
    wb = load_workbook(io.BytesIO(typed(ref, world, "PTCE-001", data)))
    ws = wb[L.SHEET_INDICATORS]
    ws.cell(row=L.HEADER_ROW, column=6).value = L.IND_VALUE
    content = read_back(world, workbook_bytes(wb))
    assert content.meta["reference_periode"] == str(FIRST)
    assert {c: cell.value for c, cell in content.indicators.items()} == {
        c: float(v) for c, v in data.indicators.items()
    }


def test_a_retours_that_is_a_link_gets_nothing_and_is_reported(tmp_path):
    settings = make_home(tmp_path / "home", PTCE_NOW=NOW)
    elsewhere = tmp_path / "ailleurs"
    elsewhere.mkdir()
    (settings.inbox / "PTCE-002").mkdir(parents=True)
    (settings.inbox / "PTCE-002" / "retours").symlink_to(elsewhere)
    result = prepare_campaign(settings, NEXT)
    assert result.needs_attention and list(elsewhere.iterdir()) == []
    (line,) = [x for x in result.lines if x.startswith("  Non écrit : ")]
    assert line.startswith("  Non écrit : PTCE-002 : ") and "lien symbolique" in line
    assert (settings.inbox / "PTCE-003" / "retours" / f"modele_{NEXT}.xlsx").is_file()
