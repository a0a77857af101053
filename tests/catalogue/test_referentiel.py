"""The référentiel catalogue is the one source of truth: editing it alone changes the
template, the validation messages and the published tables."""

from __future__ import annotations

import io

import openpyxl
import pytest
from helpers.workbooks import drop, make_home

from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.catalogue.referentiel import (
    load_referentiel,
    load_referentiel_bytes,
    referentiel_bytes,
)
from ptce_pipeline.config import Limits
from ptce_pipeline.errors import ReferentielError
from ptce_pipeline.reading.sandbox import read_one
from ptce_pipeline.template import build_template, fill_workbook, workbook_bytes
from ptce_pipeline.validation import Context, Item, validate_batch

NEW_LABEL = "Emplois salariés équivalents temps plein (libellé modifié)"


def test_catalogue_shape(ref):
    assert [o.code for o in ref.general_objectives] == ["OG1", "OG2", "OG3"]
    assert len(ref.main_objectives) == 9
    assert len(ref.indicators) == 27
    assert len(ref.criteria_of("incontournable")) == 8
    assert len(ref.criteria_of("a_tester")) == 6
    assert ref.provisional
    assert all(len(ref.indicators_of(o.code)) == 3 for o in ref.main_objectives)
    assert ref.indicator_by_code["IND08"].total is False  # a percentage has no national total
    assert ref.indicator_by_code["IND22"].total is True
    assert ref.geography.departements["2A"][1] == "94"
    assert ref.geography.departements["974"][1] == "04"
    assert len(ref.geography.departements) == 101


def _edited_home(tmp_path):
    text = referentiel_bytes().decode("utf-8")
    old = 'label = "Emplois directs"'
    assert old in text
    settings = make_home(tmp_path / "home")
    (settings.home / "referentiel.toml").write_text(
        text.replace(old, f'label = "{NEW_LABEL}"'), encoding="utf-8"
    )
    return settings


def test_label_change_flows_to_template_messages_and_tables(tmp_path, make_workbook):
    settings = _edited_home(tmp_path)
    ref = load_referentiel(settings.referentiel_path)
    assert ref.indicator_by_code["IND22"].label == NEW_LABEL
    # template
    wb = build_template(ref)
    ws = wb[L.SHEET_INDICATORS]
    labels = [ws.cell(row=r, column=4).value for r in range(1, ws.max_row + 1)]
    assert NEW_LABEL in labels
    # validation message
    data = make_workbook("PTCE-001", 2024)
    book = openpyxl.load_workbook(io.BytesIO(data))
    ws = book[L.SHEET_INDICATORS]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=1).value == "IND22")
    ws.cell(row=row, column=6).value = -3
    content = read_one(workbook_bytes(book), ref, Limits()).content
    issues = validate_batch([Item(content, "PTCE-001")], Context(ref=ref))[0]
    assert any(i.code == "out-of-range" and NEW_LABEL in i.message for i in issues)
    # published tables
    from ptce_pipeline.ingestion.run import run_ingest
    from ptce_pipeline.publication import publish

    for pole in ("PTCE-001", "PTCE-002", "PTCE-003"):
        drop(settings, pole, f"{pole}.xlsx", make_workbook(pole, 2024))
    run_ingest(settings)
    publish(settings, [2024])
    html = "".join(
        p.read_text(encoding="utf-8")
        for p in (settings.publications_for("interne") / "2024").glob("*.html")
    )
    assert NEW_LABEL in html
    assert "Emplois directs<" not in html


def test_yaml_referentiel_in_home(tmp_path):
    import tomllib

    import yaml

    raw = tomllib.loads(referentiel_bytes().decode("utf-8"))
    raw["indicateurs"][0]["label"] = "Communes (yaml)"
    path = tmp_path / "referentiel.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    ref = load_referentiel(path)
    assert ref.indicator_by_code["IND01"].label == "Communes (yaml)"


def test_broken_catalogue_is_a_clear_french_error(tmp_path):
    text = referentiel_bytes().decode("utf-8").replace('objectif = "OP9"', 'objectif = "OP99"', 1)
    path = tmp_path / "referentiel.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ReferentielError, match="objectif inconnu « OP99 »"):
        load_referentiel(path)


def test_template_fill_helper_rejects_unknown_codes(ref):
    from ptce_pipeline.template import FilledData

    with pytest.raises(KeyError):
        fill_workbook(build_template(ref), ref, FilledData(indicators={"IND99": 1}))


def test_every_supplied_field_has_a_diffusion_level(ref):
    levels = {f.key: f.diffusion for f in ref.identity}
    for key in ("nom", "commune", "departement", "region", "type_territoire", "annee_creation"):
        assert levels[key] == "publique"
    assert levels["contact_nom"] == levels["contact_email"] == "personnelle"
    assert {f.key for f in ref.identity if f.personal} == {"contact_nom", "contact_email"}
    assert all(i.diffusion == "restreinte" for i in ref.indicators)
    assert all(c.diffusion_justification == "restreinte" for c in ref.criteria)
    members = {f.key: f.diffusion for f in ref.members}
    assert members["nom"] == "publique" and members["etp"] == "restreinte"
    assert ref.lists["formes_juridiques"].codes_with("personne_physique") == {"ei"}


def test_older_personal_key_reads_as_personnelle_and_levels_are_checked(tmp_path):
    text = referentiel_bytes().decode("utf-8")
    old = text.replace('diffusion = "personnelle"', "personal = true")
    ref = load_referentiel_bytes(old.encode("utf-8"))
    assert {f.key for f in ref.identity if f.personal} == {"contact_nom", "contact_email"}
    edited = text.replace(
        '[diffusion]\nidentite = "restreinte"', '[diffusion]\nidentite = "ouverte"'
    )
    with pytest.raises(ReferentielError, match="niveau de diffusion inconnu"):
        load_referentiel_bytes(edited.encode("utf-8"))
    public = text.replace('code = "IND22"\n', 'code = "IND22"\ndiffusion = "publique"\n')
    assert load_referentiel_bytes(public.encode("utf-8")).indicator_by_code["IND22"].public
