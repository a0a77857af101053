"""The national team's review on the web (issue 19), over real HTTP (a `ptce portal` process):
only a national session opens it, each decision takes the warehouse lock (a run holding it: 503,
nothing decided), sign-off and send-back as `ptce review` does them, several at once from the
list, and what the pole then sees on its page."""

from __future__ import annotations

import html
import re

import pytest
from helpers.portal import A, B, Portal, client, csrf, link, portal_home
from helpers.workbooks import q

from ptce_pipeline.store.lock import warehouse_lock


@pytest.fixture(scope="module")
def home(tmp_path_factory, ref):
    return portal_home(tmp_path_factory.mktemp("relecture") / "home", ref)


@pytest.fixture(scope="module")
def portal(home):
    with Portal(home) as p:
        yield p


def text(response) -> str:
    return html.unescape(response.text)


def in_force(home, pole_id: str) -> int:
    return q(
        home.live_db,
        "SELECT submission_id FROM submissions WHERE pole_id = ? AND period = 2024 "
        "AND status IN ('acceptee', 'acceptee_avec_avertissements')",
        pole_id,
    )[0][0]


def review(home, sid: int) -> tuple:
    return q(
        home.live_db,
        "SELECT review_state, reviewed_by, review_comment FROM submissions WHERE submission_id = ?",
        sid,
    )[0]


def test_a_pole_or_no_session_never_reaches_the_review_pages(portal, home):
    sid = in_force(home, A)
    pole = client(portal, link(home, A))
    token = csrf(pole.get("/").text)
    anonymous = client(portal, None)
    for path in ("/national/relecture", f"/national/relecture/{sid}"):
        r = pole.get(path)
        assert r.status_code == 403 and "réservée à l'équipe nationale" in text(r), path
        assert anonymous.get(path).status_code == 401, path
    for path in ("/national/relecture/valider", "/national/relecture/renvoyer"):
        data = {"csrf": token, "sid": str(sid), "commentaire": "ok"}
        assert pole.post(path, data=data).status_code == 403, path
        assert anonymous.post(path, data=data).status_code == 401, path
    assert review(home, sid)[0] == "a_revoir"
    # and its own page has no way there
    assert "/national/relecture" not in pole.get("/").text


def test_the_list_filters_by_period_and_state_and_links_each_declaration(portal, home):
    c = client(portal, link(home, None))
    assert 'href="/national/relecture?periode=2024"' in c.get("/national?periode=2024").text
    page = c.get("/national/relecture", params={"periode": "2024", "etat": "a_revoir"})
    assert page.status_code == 200
    for pole_id in (A, B):
        assert f'href="/national/relecture/{in_force(home, pole_id)}"' in page.text
    assert page.text.count('name="sid"') == 2
    # unknown filters are no filter; a state filter that matches nothing says so
    for odd in ("x'", "²", "9" * 40):
        r = c.get("/national/relecture", params={"periode": odd, "etat": "<b>", "n": odd})
        assert r.status_code == 200, odd
    empty = c.get("/national/relecture", params={"periode": "2025"})
    assert "Aucune déclaration en vigueur pour ce choix" in empty.text
    assert c.get("/national/relecture/999999").status_code == 404


def test_a_decision_waits_while_a_run_holds_the_warehouse(portal, home):
    sid = in_force(home, A)
    c = client(portal, link(home, None))
    token = csrf(c.get(f"/national/relecture/{sid}").text)
    with warehouse_lock(home.lock_path, what="test"):
        r = c.post("/national/relecture/valider", data={"csrf": token, "sid": str(sid)})
    assert r.status_code == 503 and "un passage est en cours : réessayez dans un instant" in (
        r.text.lower()
    )
    assert review(home, sid)[0] == "a_revoir"


def test_send_back_needs_a_token_and_a_comment_then_the_pole_reads_it(portal, home):
    sid = in_force(home, B)
    c = client(portal, link(home, None, label="Claire Martin"))
    detail = c.get(f"/national/relecture/{sid}")
    assert detail.status_code == 200 and "Renvoyer au pôle" in detail.text
    assert "Aucun changement relevé" in detail.text or "Pas de dépôt antérieur" in detail.text
    token = csrf(detail.text)
    sent = {"sid": str(sid), "depuis": "fiche"}
    assert c.post("/national/relecture/renvoyer", data=sent).status_code == 403
    r = c.post("/national/relecture/renvoyer", data={**sent, "csrf": token, "commentaire": " "})
    assert r.status_code == 400 and "Commentaire obligatoire" in r.text
    assert review(home, sid)[0] == "a_revoir"
    comment = "IND05 : 120 ETP ? <b>vérifiez</b> la ligne 12"
    r = c.post("/national/relecture/renvoyer", data={**sent, "csrf": token, "commentaire": comment})
    assert r.status_code == 303
    assert r.headers["location"].startswith(f"/national/relecture/{sid}?fait=a_corriger")
    done = c.get(r.headers["location"])
    assert "Déclaration renvoyée au pôle" in done.text and "à corriger" in done.text
    assert review(home, sid) == ("a_corriger", "Claire Martin", comment)

    pole = client(portal, link(home, B))
    page = pole.get("/").text
    assert (
        "À corriger" in page and "&lt;b&gt;vérifiez&lt;/b&gt;" in page and "<b>vérifiez" not in page
    )
    assert "déposez-le de" in page and "à titre provisoire" in page
    notice = re.search(r'href="/retours/([^"]+_relecture\.html)"', page)
    assert notice is not None
    r = pole.get(f"/retours/{notice.group(1)}")
    assert r.status_code == 200 and "vérifiez" in r.text
    # the national team sees it on the pole's page too
    assert "À corriger" in c.get(f"/national/poles/{B}").text


def test_several_declarations_signed_off_at_once_from_the_list(portal, home):
    a, b = in_force(home, A), in_force(home, B)
    c = client(portal, link(home, None))  # no label: the link's number names the reviewer
    token = csrf(c.get("/national/relecture").text)
    r = c.post(
        "/national/relecture/valider",
        data={"csrf": token, "sid": [str(a), str(b), "999999"], "periode": "2024"},
    )
    assert r.status_code == 409 and "999999" in r.text  # all or none
    r = c.post("/national/relecture/valider", data={"csrf": token, "sid": ["²", "x"]})
    assert r.status_code == 400 and "Cochez au moins une déclaration" in r.text
    assert review(home, a)[0] == "a_revoir"
    r = c.post(
        "/national/relecture/valider",
        data={
            "csrf": token,
            "sid": [str(a), str(b)],
            "periode": "2024",
            "commentaire": "Merci, rien à redire.",
        },
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/national/relecture?")
    assert "2 déclarations validées" in c.get(r.headers["location"]).text
    by = review(home, a)[1]
    assert review(home, a)[0] == review(home, b)[0] == "validee"
    assert re.fullmatch(r"équipe nationale \(lien n° \d+\)", by)

    page = client(portal, link(home, A)).get("/").text
    assert "Validée par l'équipe nationale le" in html.unescape(page)
    assert "« Merci, rien à redire. »" in page  # the optional message, quoted
    assert "À corriger" not in page
