"""`ptce access create|list|revoke`: a link printed once, never stored or listed in clear."""

from __future__ import annotations

import json

import pytest
from helpers.workbooks import make_home

from ptce_pipeline.cli import main


def test_create_list_revoke(tmp_path, capsys, monkeypatch):
    settings = make_home(tmp_path / "h")
    monkeypatch.setenv("PTCE_PORTAL_URL", "https://ptce.example.fr/portail/")
    home = ["--home", str(settings.home)]
    assert main(["access", "create", "PTCE-001", "--label", "Mme X, coordinatrice", *home]) == 0
    printed = capsys.readouterr().out
    url = next(line for line in printed.splitlines() if line.startswith("https://"))
    assert url.startswith("https://ptce.example.fr/portail/acces/")
    token = url.rsplit("/", 1)[1]
    assert len(token) >= 43
    assert "Mme X, coordinatrice" in printed and "n° 1" in printed

    assert main(["access", "create", "--national-team", "--json", *home]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["pole_id"] is None and made["access_id"] == 2

    assert main(["access", "list", "--json", *home]) == 0
    listed = capsys.readouterr().out
    assert token not in listed and made["url"].rsplit("/", 1)[1] not in listed
    rows = json.loads(listed)
    assert [(r["access_id"], r["pole_id"], r["state"]) for r in rows] == [
        (1, "PTCE-001", "active"),
        (2, None, "active"),
    ]
    assert main(["access", "list", *home]) == 0
    text = capsys.readouterr().out
    assert "équipe nationale" in text and "active" in text and token not in text

    assert main(["access", "revoke", "--pole", "PTCE-001", *home]) == 0
    assert "révoqué" in capsys.readouterr().out
    assert main(["access", "revoke", "1", *home]) == 1  # already revoked: said, exit 1
    assert "déjà révoqué" in capsys.readouterr().out
    assert main(["access", "list", "--pole", "PTCE-001", "--json", *home]) == 0
    assert json.loads(capsys.readouterr().out)[0]["state"] == "revoquee"


def test_an_unregistered_pole_or_a_past_date_is_refused_in_french(tmp_path, capsys):
    settings = make_home(tmp_path / "h")
    home = ["--home", str(settings.home)]
    assert main(["access", "create", "PTCE-999", *home]) == 2
    assert "PTCE-999 n'est pas inscrit" in capsys.readouterr().err
    assert main(["access", "create", "PTCE-001", "--expires", "2001-01-01", *home]) == 2
    assert "déjà passée" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["access", "create", "PTCE-1", *home])
    assert exc.value.code == 2
    assert "identifiant de pôle" in capsys.readouterr().err


def test_a_token_never_reaches_a_log_or_the_warehouse(tmp_path, capsys):
    settings = make_home(tmp_path / "h")
    assert main(["access", "create", "PTCE-002", "--home", str(settings.home)]) == 0
    token = capsys.readouterr().out.split("/acces/")[1].split()[0]
    for path in settings.home.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path
