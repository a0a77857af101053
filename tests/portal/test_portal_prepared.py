"""A pole's web space serves the workbook `ptce campaign prepare` pre-filled for the open
campaign (a real `ptce portal` process), and the plain template until there is one."""

from __future__ import annotations

import io

import pytest
from helpers.portal import A, B, Portal, client, link, portal_home
from openpyxl import load_workbook

from ptce_pipeline.catalogue import layout as L
from ptce_pipeline.ingestion.prepare import prepare_campaign

NEXT = 2025  # the latest period of the home's campagnes.csv: the open campaign


@pytest.fixture(scope="module")
def home(tmp_path_factory, ref):
    return portal_home(tmp_path_factory.mktemp("prepare") / "home", ref)


def indicator_headers(data: bytes) -> list:
    ws = load_workbook(io.BytesIO(data))[L.SHEET_INDICATORS]
    return [c.value for c in ws[L.HEADER_ROW] if c.value]


def test_the_pole_downloads_its_prepared_workbook_once_the_campaign_is_prepared(home):
    with Portal(home) as portal:
        a = client(portal, link(home, A))
        plain = a.get("/modele")
        assert plain.status_code == 200
        assert "Valeur 2024" not in indicator_headers(plain.content)
        assert "pré-rempli avec votre déclaration" not in a.get("/").text

        result = prepare_campaign(home, NEXT)
        assert [(p.pole_id, p.earlier_period) for p in result.poles][:2] == [(A, 2024), (B, 2024)]

        r = a.get("/modele")
        retours = home.inbox / A / "retours"
        assert r.status_code == 200 and r.content == (retours / "modele_2025.xlsx").read_bytes()
        assert f'filename="suivi_{A}_{NEXT}.xlsx"' in r.headers["content-disposition"]
        assert "Valeur 2024" in indicator_headers(r.content)
        page = a.get("/").text
        assert "pré-rempli avec votre déclaration précédente" in page
        assert 'href="/retours/modele_2025_a_lire.txt"' in page
        note = a.get("/retours/modele_2025_a_lire.txt")
        assert note.status_code == 200
        assert note.headers["content-type"] == "text/plain; charset=utf-8"
        assert "Valeur 2024" in note.text and (retours / "modele_2025_a_lire.txt").read_bytes() == (
            note.content
        )
        # each pole its own
        b = client(portal, link(home, B)).get("/modele")
        assert b.content == (home.inbox / B / "retours" / "modele_2025.xlsx").read_bytes()
        assert b.content != r.content
