"""No response to pole B or to an anonymous client carries a byte of pole A's data. The routes
are enumerated from the application itself, so a new route is walked too (a route with a
parameter this test does not know how to fill fails the test until it is taught)."""

from __future__ import annotations

import itertools
import re
import urllib.parse

import pytest
from helpers.portal import A, B, Portal, client, csrf, link, portal_home
from starlette.routing import Mount, Route

from ptce_pipeline.portal.app import create_app
from ptce_pipeline.store.pole_space import pole_deliveries, snapshot


@pytest.fixture(scope="module")
def home(tmp_path_factory, ref):
    return portal_home(tmp_path_factory.mktemp("isolation") / "home", ref)


def a_values(home) -> dict[str, list[str]]:
    """Every value a guessing client could put in a parameter to reach A's data."""
    names = sorted(p.name for p in (home.inbox / A / "retours").iterdir())
    with snapshot(home) as con:
        sids = sorted(
            {str(d["submission_id"]) for d in pole_deliveries(con, A) if d["submission_id"]}
        )
    traversal = []
    for name in names:
        for form in (
            f"../../{A}/retours/{name}",
            f"..%2F..%2F{A}%2Fretours%2F{name}",
            f"%2e%2e/%2e%2e/{A}/retours/{name}",
            f"..\\..\\{A}\\retours\\{name}",
        ):
            traversal.append(form)
    return {
        "name": names + traversal,
        "sid": [*sids, "0", "-1", "999999"],
        "pole_id": [A, A.lower(), f"{A}/../{A}", urllib.parse.quote(A)],
        "period": ["2024", "2025"],
        "path": ["", "index.html", "../../../poles.csv", f"../../../inbox/{A}/retours/{names[0]}"],
        "token": ["x" * 43],
    }


def _owned(home, pole: str) -> list[bytes]:
    """The contents of every file of `pole`: its `retours/` and its archived originals."""
    found = [p.read_bytes() for p in (home.inbox / pole / "retours").iterdir()]
    with snapshot(home) as con:
        paths = con.execute(
            "SELECT DISTINCT archived_path FROM submissions WHERE inbox_folder = ?", [pole]
        ).fetchall()
    found += [(home.home / p).read_bytes() for (p,) in paths]
    return found


def _unique(data: bytes, others: list[bytes], size: int = 48) -> bytes | None:
    """A piece of `data` found in none of `others` (so finding it means `data` leaked)."""
    for start in range(0, max(1, len(data) - size), max(1, len(data) // 200)):
        piece = data[start : start + size]
        if len(piece) == size and not any(piece in o for o in others):
            return piece
    return None


def a_markers(home, b_downloads: list[bytes]) -> list[bytes]:
    """Bytes only A's data holds: its id, its file names, a piece of each of its files that
    no file of B holds — nor what B downloads as its own (its `/modele` workbook: the bytes
    every template shares, such as a compressed metadata part, are nobody's data)."""
    b_files = [*_owned(home, B), *b_downloads]
    markers = [A.encode(), b"A_suivi_"]
    for data in _owned(home, A):
        piece = _unique(data, b_files)
        assert piece is not None, "an A file with no piece of its own"
        markers.append(piece)
    return markers


def urls(app, values) -> list[tuple[str, str]]:
    out = []
    for route in app.routes:
        if isinstance(route, Mount):
            out.append(("GET", route.path + "/portail.css"))
            continue
        assert isinstance(route, Route), route
        params = re.findall(r"{(\w+)(?::\w+)?}", route.path)
        unknown = [p for p in params if p not in values]
        assert not unknown, f"teach this test the parameter(s) {unknown} of {route.path}"
        for combo in itertools.product(*(values[p] for p in params)):
            path = route.path
            for p, v in zip(params, combo, strict=True):
                path = re.sub(r"{" + p + r"(?::\w+)?}", lambda _m, v=v: v, path)
            for method in sorted(route.methods or {"GET"}):
                if method != "HEAD":
                    out.append((method, path))
    return out


def test_pole_b_and_anonymous_clients_never_get_a_byte_of_pole_a(home):
    app = create_app(home)
    values = a_values(home)
    with Portal(home) as portal:
        clients = {"B": client(portal, link(home, B)), "anonyme": client(portal, None)}
        markers = a_markers(home, [clients["B"].get("/modele").content])
        token_b = csrf(clients["B"].get("/").text)
        before_a = sorted(p.name for p in (home.inbox / A).iterdir())
        walked = 0
        for who, c in clients.items():
            for method, path in urls(app, values):
                if path == "/deconnexion":
                    continue  # walked last: it ends B's session
                data = {"csrf": token_b} if method == "POST" else None
                files = [("fichiers", ("copie.xlsx", b"PK0"))] if path == "/depot" else None
                r = c.request(method, path, data=data, files=files)
                walked += 1
                body = r.content
                leaked = [m for m in markers if m and m in body]
                assert not leaked, (who, method, path, r.status_code, leaked[:2])
                assert b"Traceback" not in body, (who, path)
        assert walked > 100
        assert sorted(p.name for p in (home.inbox / A).iterdir()) == before_a

        assert (home.inbox / B / "copie.xlsx").exists()  # B's uploads went to B
        assert clients["B"].post("/deconnexion", data={"csrf": token_b}).status_code == 200


def test_the_national_team_does_see_pole_a(home):
    """The markers are real: the same walk with a national session finds A's data."""
    with Portal(home) as portal:
        markers = a_markers(home, [client(portal, link(home, B)).get("/modele").content])
        c = client(portal, link(home, None))
        page = c.get(f"/national/poles/{A}").content
        assert A.encode() in page and b"A_suivi_" in page
        name = sorted(p.name for p in (home.inbox / A / "retours").iterdir())[0]
        body = c.get(f"/national/poles/{A}/retours/{name}").content
        assert any(m in body for m in markers[2:])
