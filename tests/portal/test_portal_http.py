"""The portal over real HTTP (a `ptce portal` process): links, sessions, a pole's pages and
files, uploads streamed into the inbox, the national team's pages."""

from __future__ import annotations

import contextlib
import re
import socket
import threading

import httpx
import pytest
from helpers.portal import A, B, Portal, client, csrf, link, portal_home

from ptce_pipeline.ingestion.inbox import scan_inbox
from ptce_pipeline.ingestion.run import run_ingest
from ptce_pipeline.portal import revoke_links
from ptce_pipeline.store import access as store


class Lazy:
    """A file-like body sent piece by piece (a callable piece is called when reached)."""

    def __init__(self, pieces):
        self.pieces = list(pieces)

    def read(self, size=-1) -> bytes:
        if not self.pieces:
            return b""
        piece = self.pieces.pop(0)
        return piece() if callable(piece) else piece


LIMIT = {"PTCE_MAX_FILE_BYTES": "2000000"}


@pytest.fixture(scope="module")
def home(tmp_path_factory, ref):
    return portal_home(
        tmp_path_factory.mktemp("portail") / "home", ref, PTCE_MAX_FILE_BYTES="2000000"
    )


@pytest.fixture(scope="module")
def portal(home):
    with Portal(home, **LIMIT) as p:
        yield p


def test_a_link_opens_a_session_and_lands_on_a_url_without_the_token(portal, home):
    token = link(home, A, label="Mme X")
    c = httpx.Client(base_url=portal.url, follow_redirects=False)
    r = c.get(f"/acces/{token}")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and token not in cookie
    page = c.get("/")
    assert page.status_code == 200 and A in page.text and "A_suivi_2024.xlsx" in page.text
    # the campaign, its deadline, and whom to ask (the home's contact.toml)
    assert "Campagne 2025" in page.text and "31/03/2099" in page.text
    assert (
        'href="mailto:suivi-ptce@example.org"' in page.text and 'href="tel:0123456789"' in page.text
    )
    assert token not in page.text
    for header in ("content-security-policy", "x-content-type-options", "referrer-policy"):
        assert header in page.headers
    assert page.headers["cache-control"] == "no-store"
    # the access log names the route, never the token
    assert token not in portal.log.read_text() and "/acces/[jeton]" in portal.log.read_text()


def test_a_secure_cookie_behind_tls(home, portal):
    token = link(home, A)
    r = httpx.get(f"{portal.url}/acces/{token}", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in r.headers["set-cookie"]


def test_wrong_links_are_refused_in_french_then_blocked(home):
    with Portal(home) as portal:
        c = httpx.Client(base_url=portal.url)
        for i in range(10):
            r = c.get(f"/acces/faux-{i}")
            assert r.status_code == 404 and "Lien inconnu" in r.text
            assert "Traceback" not in r.text
        good = link(home, A)
        r = c.get(f"/acces/{good}")
        assert r.status_code == 429 and "Trop de tentatives" in r.text
    store_dir = home.portal_dir
    with store.connect(store_dir) as con:
        con.execute("DELETE FROM failed_attempt")


def test_anonymous_clients_get_nothing(portal):
    c = client(portal, None)
    for path in ("/", "/national", f"/national/poles/{A}", "/modele", "/originaux/1"):
        r = c.get(path)
        assert r.status_code == 401 and "Accès réservé" in r.text, path
        assert A not in r.text
    assert c.get("/nulle-part").status_code == 404


def test_a_pole_downloads_its_receipts_copies_fiche_and_originals(portal, home):
    c = client(portal, link(home, A))
    page = c.get("/").text
    receipts = re.findall(r'href="/retours/([^"]+_recu\.html)"', page)
    copies = re.findall(r'href="/retours/([^"]+_annote\.xlsx)"', page)
    fiches = re.findall(r'href="/retours/(fiche_\d{4}\.html)"', page)
    originals = re.findall(r'href="/originaux/(\d+)"', page)
    assert len(receipts) == 2 and len(copies) == 1 and fiches == ["fiche_2024.html"]
    r = c.get(f"/retours/{receipts[0]}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "sandbox" in r.headers["content-security-policy"]
    r = c.get(f"/retours/{copies[0]}")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert "attachment" in r.headers["content-disposition"]
    for sid in originals:
        r = c.get(f"/originaux/{sid}")
        assert r.status_code == 200 and r.content[:2] == b"PK"
        assert "A_suivi_20" in r.headers["content-disposition"]
    template = c.get("/modele")
    assert template.status_code == 200 and template.content[:2] == b"PK"
    assert f"suivi_{A}_" in template.headers["content-disposition"]


def test_an_upload_is_streamed_into_the_pole_inbox_under_a_new_name(portal, home, ref):
    c = client(portal, link(home, A))
    token = csrf(c.get("/").text)
    data = (home.home / "inbox" / A).parent  # noqa: F841 - the inbox exists
    from helpers.workbooks import filled, workbook

    body = workbook(ref, filled(ref, A, 2025))
    files = [
        ("fichiers", ("../../PTCE-002/suivi 2025.xlsx", body)),
        ("fichiers", ("suivi 2025.xlsx", body)),
    ]
    r = c.post("/depot", data={"csrf": token}, files=files)
    assert r.status_code == 200, r.text
    assert "2 fichiers reçus" in r.text
    names = sorted(p.name for p in (home.inbox / A).iterdir() if p.is_file())
    assert names == ["suivi 2025 (2).xlsx", "suivi 2025.xlsx"]
    assert not any((home.inbox / B).glob("suivi*"))
    assert list((home.portal_dir / "uploads").iterdir()) == []
    assert "suivi 2025.xlsx" in c.get("/").text  # shown as waiting for the next run
    # written whole by the portal: taken at once, whatever the settle delay
    scan = scan_inbox(home, settle_seconds=3600)
    assert sorted(c.name for c in scan.ready) == ["suivi 2025 (2).xlsx", "suivi 2025.xlsx"]
    # a file copied by hand still settles; a portal file changed since is no longer "whole"
    (home.inbox / A / "a la main.xlsx").write_bytes(body)
    with open(home.inbox / A / "suivi 2025 (2).xlsx", "ab") as fh:
        fh.write(b"\0")
    scan = scan_inbox(home, settle_seconds=3600)
    assert [c.name for c in scan.ready] == ["suivi 2025.xlsx"]
    assert sorted(p.name for p in scan.waiting) == ["a la main.xlsx", "suivi 2025 (2).xlsx"]
    (home.inbox / A / "a la main.xlsx").unlink()
    (home.inbox / A / "suivi 2025 (2).xlsx").write_bytes(body)
    report = run_ingest(home)
    assert report.files, report
    page = c.get("/").text
    assert page.count("_recu.html") >= 3


def test_an_upload_without_its_form_token_is_refused_and_leaves_nothing(portal, home):
    c = client(portal, link(home, A))
    c.get("/")
    before = set((home.inbox / A).iterdir())
    r = c.post("/depot", files=[("fichiers", ("x.xlsx", b"PK" + b"0" * 100))])
    assert r.status_code == 403
    r = c.post("/depot", data={"csrf": "faux"}, files=[("fichiers", ("x.xlsx", b"PK0"))])
    assert r.status_code == 403
    assert set((home.inbox / A).iterdir()) == before
    assert list((home.portal_dir / "uploads").iterdir()) == []
    # logout needs the form token too
    assert c.post("/deconnexion", data={"csrf": "faux"}).status_code == 403


def test_an_upload_over_the_bound_stops_before_it_reaches_the_disk(portal, home):
    """PTCE_MAX_FILE_BYTES is 2 MB here: a 40 MB body is cut at the bound (nothing more is
    written), answered in French, and leaves nothing behind."""
    c = client(portal, link(home, A))
    token = csrf(c.get("/").text)
    before = set((home.inbox / A).iterdir())
    seen = {"max": 0}
    stop = threading.Event()

    def watch():
        area = home.portal_dir / "uploads"
        while not stop.is_set():
            for p in list(area.iterdir()):
                with contextlib.suppress(FileNotFoundError):
                    seen["max"] = max(seen["max"], p.stat().st_size)

    t = threading.Thread(target=watch)
    t.start()

    try:
        r = c.post(
            "/depot",
            data={"csrf": token},
            files=[("fichiers", ("gros.xlsx", Lazy([b"x" * (1 << 20)] * 40)))],
        )
        assert r.status_code == 413 and "taille maximale" in r.text
    except httpx.TransportError:
        pass  # the server may close the connection while the client still sends
    finally:
        stop.set()
        t.join()
    assert seen["max"] <= 2_000_000
    assert set((home.inbox / A).iterdir()) == before
    assert list((home.portal_dir / "uploads").iterdir()) == []
    # a declared length far over the bound is refused before anything is read
    cookie = c.cookies.get("ptce_session")
    with socket.create_connection(("127.0.0.1", portal.port), timeout=30) as raw:
        raw.sendall(
            b"POST /depot HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\n"
            b"Content-Length: 900000000\r\n"
            b"Cookie: ptce_session=" + cookie.encode() + b"\r\n\r\n--b\r\n"
        )
        got = b""
        while b"</html>" not in got and (chunk := raw.recv(65536)):
            got += chunk
        answer = got.decode("utf-8", "replace")
    assert answer.startswith("HTTP/1.1 413") and "taille maximale" in answer


def test_killing_the_portal_mid_upload_leaves_nothing_in_the_inbox(home):
    with Portal(home) as portal:
        c = client(portal, link(home, A))
        token = csrf(c.get("/").text)
        before = set((home.inbox / A).iterdir())
        started = threading.Event()

        def slow():
            started.set()
            import time

            time.sleep(30)
            return b"fin"

        def send():
            with contextlib.suppress(Exception):
                c.post(
                    "/depot",
                    data={"csrf": token},
                    files=[("fichiers", ("lent.xlsx", Lazy([b"PK" + b"0" * 100_000, slow])))],
                    timeout=60,
                )

        t = threading.Thread(target=send, daemon=True)
        t.start()
        assert started.wait(30)
        import time

        deadline = time.monotonic() + 10
        area = home.portal_dir / "uploads"
        while time.monotonic() < deadline and not any(area.iterdir()):
            time.sleep(0.05)
        assert any(area.iterdir()), "the upload was being written in the upload area"
        portal.kill()
    assert set((home.inbox / A).iterdir()) == before
    with Portal(home) as portal:  # the next start sweeps what was left; uploads work again
        assert list((home.portal_dir / "uploads").iterdir()) == []
        c = client(portal, link(home, A))
        token = csrf(c.get("/").text)
        r = c.post("/depot", data={"csrf": token}, files=[("fichiers", ("apres.xlsx", b"PK0"))])
        assert r.status_code == 200
        assert (home.inbox / A / "apres.xlsx").exists()
        (home.inbox / A / "apres.xlsx").unlink()


def test_revocation_ends_open_sessions_at_once(portal, home):
    token = link(home, B)
    c = client(portal, token)
    assert c.get("/").status_code == 200
    access_id = next(a.access_id for a in store.list_access(home.portal_dir, B))
    revoke_links(home, [access_id], by="test")
    assert c.get("/").status_code == 401
    assert httpx.get(f"{portal.url}/acces/{token}").status_code == 404


def test_logout_ends_the_session(portal, home):
    c = client(portal, link(home, B))
    token = csrf(c.get("/").text)
    r = c.post("/deconnexion", data={"csrf": token})
    assert r.status_code == 200 and "déconnecté" in r.text
    assert c.get("/").status_code == 401


def test_the_national_team_sees_every_pole_and_the_internal_publication(portal, home):
    c = client(portal, link(home, None))
    r = c.get("/national")
    assert r.status_code == 200 and A in r.text and B in r.text
    page = c.get(f"/national/poles/{A}")
    assert page.status_code == 200 and "A_suivi_2024.xlsx" in page.text
    receipt = re.search(rf'href="/national/poles/{A}/retours/([^"]+_recu\.html)"', page.text)
    assert c.get(f"/national/poles/{A}/retours/{receipt.group(1)}").status_code == 200
    pub = c.get("/national/publication/2024/")
    assert pub.status_code == 200 and "<html" in pub.text.lower()
    assert c.get("/national/publication/2024/../../../poles.csv").status_code == 404
    assert c.get("/national/poles/PTCE-999").status_code == 404
    import io
    import zipfile

    z = c.get("/national/campagne/2024.zip")
    assert z.status_code == 200
    names = sorted(zipfile.ZipFile(io.BytesIO(z.content)).namelist())
    assert names == [f"{A}_A_suivi_2024.xlsx", f"{B}_B_suivi_2024.xlsx"]
    # a pole's session does not open the national pages
    p = client(portal, link(home, A))
    assert p.get("/national").status_code == 401
    assert p.get("/national/publication/2024/").status_code == 401
    assert p.get("/national/campagne/2024.zip").status_code == 401
