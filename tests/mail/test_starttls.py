"""STARTTLS and login against a real SMTP server (aiosmtpd with a certificate made for the test,
trusted through SSL_CERT_FILE): the password read from its owner-only file reaches the server,
and a wrong one is a French line, the messages waiting for the next run."""

from __future__ import annotations

import ssl
import subprocess

import pytest
from helpers.smtp import Sink, free_port
from helpers.workbooks import drop, make_home

from ptce_pipeline.ingestion.run import run_ingest
from ptce_pipeline.mail import after_run


@pytest.fixture
def certificate(tmp_path, monkeypatch):
    key, cert = tmp_path / "cle.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=DNS:localhost"),
        ],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # what ssl.create_default_context trusts
    return key, cert


def _server(sink: Sink, key, cert, logins: list):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password == b"s3cr3t", handled=False)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return Controller(
        sink,
        hostname="localhost",
        port=sink.port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
        auth_exclude_mechanism=["LOGIN"],  # PLAIN only: one attempt per login
    )


@pytest.mark.parametrize("password", ["s3cr3t", "faux"])
def test_starttls_and_login(tmp_path, make_workbook, certificate, password):
    secret = tmp_path / "mot-de-passe"
    secret.write_text(password + "\n", encoding="utf-8")
    secret.chmod(0o600)
    sink, logins = Sink(free_port()), []
    controller = _server(sink, *certificate, logins)
    settings = make_home(
        tmp_path / "home",
        PTCE_SMTP_HOST="localhost",
        PTCE_SMTP_PORT=str(sink.port),
        PTCE_SMTP_USER="ptce",
        PTCE_SMTP_PASSWORD_FILE=str(secret),
        PTCE_SMTP_FROM="ptce@exemple.fr",
        PTCE_SMTP_TIMEOUT="5",
    )
    assert settings.smtp.security == "starttls"
    drop(settings, "PTCE-001", "bon.xlsx", make_workbook("PTCE-001", 2024))
    run_ingest(settings)
    controller.start()
    try:
        report = after_run(settings, start_seq=0)
    finally:
        controller.stop()
    assert logins == [("ptce", password)]
    if password == "s3cr3t":
        assert report.lines == ["Courriels : 1 envoyé(s)."]
        assert len(sink.received) == 1
    else:
        assert report.lines == [
            "Courriels : 1 en attente (le serveur SMTP a refusé l'identifiant ou le mot de "
            "passe) ; nouvel essai au prochain passage."
        ]
        assert sink.received == []
        assert "faux" not in " ".join(report.lines)
