"""The mail settings (PTCE_SMTP_*, the password file readable by its owner only) and the
registry's `courriels` column (checked, kept through every rewrite, out of the registry's
hash and of its archived copy)."""

from __future__ import annotations

import pytest
from helpers.smtp import smtp_env

from ptce_pipeline.catalogue.registry import load_registry, write_registry
from ptce_pipeline.config import load_settings
from ptce_pipeline.errors import ConfigError, RegistryError
from ptce_pipeline.mail import remind
from ptce_pipeline.template import demo

HEADER = "pole_id,nom,departement,premiere_periode,derniere_periode"


def test_password_from_a_file_its_owner_only_can_read(tmp_path):
    secret = tmp_path / "smtp.txt"
    secret.write_text("s3cr3t\n", encoding="utf-8")
    secret.chmod(0o600)
    env = smtp_env(25, PTCE_SMTP_USER="ptce", PTCE_SMTP_PASSWORD_FILE=str(secret))
    smtp = load_settings(env, home=tmp_path).smtp
    assert (smtp.password, smtp.problem) == ("s3cr3t", "")
    assert "s3cr3t" not in repr(load_settings(env, home=tmp_path))  # never printed
    secret.chmod(0o640)
    smtp = load_settings(env, home=tmp_path).smtp
    assert smtp.password == ""
    assert smtp.problem == (
        f"PTCE_SMTP_PASSWORD_FILE : le fichier {secret} est lisible par d'autres que son "
        "propriétaire (droits 640) : refusé ; rendez-le privé (chmod 600)."
    )


def test_a_group_readable_password_file_stops_mail_only(tmp_path):
    secret = tmp_path / "smtp.txt"
    secret.write_text("s3cr3t", encoding="utf-8")
    secret.chmod(0o644)
    home = tmp_path / "home"
    home.mkdir()
    write_registry(home / "poles.csv", demo.registry()[:1])
    settings = load_settings(smtp_env(25, PTCE_SMTP_PASSWORD_FILE=str(secret)), home=home)
    report = remind(settings)
    assert report.needs_attention  # `ptce remind` exits 1, says why


def test_smtp_settings_are_checked():
    with pytest.raises(ConfigError, match="PTCE_SMTP_SECURITY doit valoir starttls, tls ou aucune"):
        load_settings(smtp_env(25, PTCE_SMTP_SECURITY="ssl"))
    with pytest.raises(ConfigError, match="PTCE_SMTP_FROM doit être l'adresse d'expédition"):
        load_settings(smtp_env(25, PTCE_SMTP_FROM="ptce"))
    with pytest.raises(ConfigError, match="PTCE_DIGEST_DAY doit être un jour de la semaine"):
        load_settings({"PTCE_DIGEST_DAY": "funday"})
    assert load_settings({}).smtp is None
    assert load_settings({"PTCE_SMTP_HOST": "smtp", "PTCE_SMTP_FROM": "a@b.fr"}).smtp.port == 587
    tls = load_settings(
        {"PTCE_SMTP_HOST": "s", "PTCE_SMTP_FROM": "a@b.fr", "PTCE_SMTP_SECURITY": "tls"}
    )
    assert tls.smtp.port == 465


def test_courriels_column_read_checked_and_kept(tmp_path):
    path = tmp_path / "poles.csv"
    path.write_text(
        f"{HEADER},courriels\n"
        "PTCE-001,Pôle un,59,2020,,a@exemple.fr; b.c@exemple.fr ;A@exemple.fr\n"
        "PTCE-002,Pôle deux,62,2020,,\n",
        encoding="utf-8",
    )
    registry = load_registry(path)
    assert registry.poles["PTCE-001"].courriels == ("a@exemple.fr", "b.c@exemple.fr")
    assert registry.poles["PTCE-002"].courriels == ()
    # the addresses change no decision: the hash and the archived bytes leave them out
    bare = tmp_path / "bare.csv"
    bare.write_text(f"{HEADER}\nPTCE-001,Pôle un,59,2020,\nPTCE-002,Pôle deux,62,2020,\n")
    assert registry.sha256 == load_registry(bare).sha256
    assert b"exemple.fr" not in registry.decision_bytes
    # every rewrite keeps them
    copy = tmp_path / "copie.csv"
    write_registry(copy, list(registry.poles.values()))
    assert copy.read_text(encoding="utf-8").splitlines()[0] == f"{HEADER},courriels"
    assert load_registry(copy).poles == registry.poles


def test_a_bad_address_in_poles_csv_is_a_configuration_error(tmp_path):
    path = tmp_path / "poles.csv"
    path.write_text(
        f"{HEADER},courriels\nPTCE-001,Pôle un,59,2020,,a@exemple.fr;pas une adresse\n",
        encoding="utf-8",
    )
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    assert str(caught.value) == (
        f"{path}, ligne 2 : « courriels » : « pas une adresse » n'est pas une adresse "
        "électronique (attendu : prenom.nom@exemple.fr, plusieurs adresses séparées par « ; »)."
    )


def test_the_demo_never_sends(tmp_path):
    from ptce_pipeline.catalogue import load_referentiel
    from ptce_pipeline.template.demo import prepare

    settings = load_settings(smtp_env(25), home=tmp_path / "demo", demo=True)
    prepare(settings, load_referentiel(), 2012)
    assert settings.demo_marker.is_file()
    assert all(p.courriels for p in load_registry(settings.registry_path).poles.values())
    report = remind(settings)
    assert report.lines == ["Courriels : démonstration, aucun courriel n'est envoyé."]
    assert not settings.outbox_path.exists()
