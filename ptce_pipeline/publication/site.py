"""The publication of a period, for three audiences:
- `publications/interne/<period>/` (the national team, « Diffusion restreinte »): pages (index,
  one page per section, one fiche per pole), tableaux.xlsx, CSV, Parquet and manifest.json;
- `publications/public/<period>/` (open data, see `ouverte`): aggregates under the statistical
  secret and public per-pole fields only, never a link to the internal release;
- each pole's own fiche, into its `retours/` folder (`deliver_fiche`).
Each release is written under a temporary name and swapped into place in one step, so that a
reader sees the old or the new site, never half of one."""

from __future__ import annotations

import ctypes
import datetime as dt
import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from ptce_pipeline import fsafe
from ptce_pipeline.catalogue.referentiel import Referentiel, load_referentiel
from ptce_pipeline.config import FEEDBACK_DIR, Settings
from ptce_pipeline.faults import fault_point
from ptce_pipeline.store.versions import periods_with_data

from . import capitalisation, completude, fiches, labellisation, profiles, recensement, scope
from . import data as D
from . import fmt as F
from . import html as H
from .audience import AUDIENCES, INTERNAL, POLE, PUBLIC, public_tables
from .exports import write_data_files, write_xlsx
from .ouverte import write_public
from .pages import index_page, notes_for, root_index, section_page
from .state import published_state, state


@dataclass
class PublishResult:
    published: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    paths: dict[int, str] = field(default_factory=dict)  # the internal release's index
    public_paths: dict[int, str] = field(default_factory=dict)  # the open-data release's
    nothing: bool = False
    durations: dict[str, float] = field(default_factory=dict)  # seconds, summed over periods

    def time(self, name: str, since: float) -> float:
        now = time.perf_counter()
        self.durations[name] = self.durations.get(name, 0.0) + now - since
        return now


def _rename_exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    return fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def _exchange(tmp: Path, final: Path, settings: Settings | None = None) -> None:
    """Swap a freshly written folder into place. Where the system can exchange two names in
    one step, `final` is never missing; elsewhere it is missing for the instant between two
    renames (a reader then gets "not found", never a half-written site)."""
    if not final.exists():
        os.rename(tmp, final)
        return
    if _rename_exchange(tmp, final):
        fault_point(settings, "publication_swap")
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the previous site
        return
    old = final.with_name(f".old-{final.name}-{os.getpid()}")
    os.rename(final, old)
    fault_point(settings, "publication_swap")
    os.rename(tmp, final)
    shutil.rmtree(old, ignore_errors=True)


def _clean_leftovers(root: Path) -> None:
    """Folders left by an interrupted publication (publications run under the warehouse lock)."""
    for path in root.glob(".tmp-*"):
        shutil.rmtree(path, ignore_errors=True)
    for path in root.glob(".old-*"):
        shutil.rmtree(path, ignore_errors=True)


def build_tables(ref: Referentiel, data: D.PeriodData):
    ids = frozenset(fiches.fiche_ids(data))
    score, k = profiles.scores(ref, data)
    tables = [
        *recensement.all_tables(ref, data),
        capitalisation.capitalisation(ref, data),
        labellisation.poles(ref, data, ids),
        labellisation.criteres(ref, data),
        profiles.typology_table(ref, data, score),
        profiles.poles_table(ref, data, score, ids),
        completude.synthese(data),
        completude.poles(data, ids),
        completude.qualite(data),
        fiches.indicators_table(ref, data),
        fiches.members_table(ref, data),
        fiches.criteria_table(ref, data),
    ]
    per_pole = ("labellisation_poles", "profils_poles")  # the review state of each pole
    tables = [scope.flagged(t, data) if t.key in per_pole else t for t in tables]
    return tables, score, k


def public_data(con, ref: Referentiel, internal: D.PeriodData, tables, generated):
    """The figures and tables the open-data release is cut from: the internal ones when both
    releases rest on the same declarations, otherwise its own (`scope`), read again."""
    campaign, previous = internal.campaign(), internal.campaign(internal.period - 1)
    kept = scope.kept_states(campaign, public=True), scope.kept_states(previous, public=True)
    if kept == (internal.kept, internal.kept_prev):
        return internal, tables
    data = D.load_period(con, ref, internal.period, generated, F.SECRET_MIN, public=True)
    return data, [*recensement.all_tables(ref, data), capitalisation.capitalisation(ref, data)]


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="\n")


def build_period(
    settings: Settings,
    con,
    ref: Referentiel,
    period: int,
    generated: dt.datetime,
    result: PublishResult | None = None,
) -> Path:
    result = result if result is not None else PublishResult()
    t = time.perf_counter()
    data = D.load_period(con, ref, period, generated, F.SECRET_MIN)
    t = result.time("données", t)
    tables, score, k = build_tables(ref, data)
    notes = [*notes_for(ref, data), *scope.notes(data, public=False)]
    public_final = _public(settings, con, ref, data, tables, generated)
    t = result.time("publication ouverte", t)
    root = settings.publications_for(INTERNAL)
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{period}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    footer = H.notes_list(notes)
    for stem, _label in H.SECTIONS[1:]:
        own = [t for t in tables if t.page == stem and t.in_html]
        _write(tmp / f"{stem}.html", section_page(stem, own, data, footer))
    by_key = {t.key: t for t in tables}
    t = result.time("tableaux nationaux", t)
    (tmp / "poles").mkdir()
    fiche_notes = H.notes_list(
        [
            "Valeurs du pôle telles que déclarées dans sa déclaration acceptée.",
            f"Repères nationaux (quartiles, médiane, rang) masqués (« {F.SECRET} ») pour un "
            f"indicateur renseigné par moins de {F.SECRET_MIN} pôles ; un profil ne retient "
            "que les indicateurs classés.",
            "Les membres constitués en entreprise individuelle sont listés sans leur nom.",
            *notes,
        ]
    )
    count = 0
    delivered = []
    names = dict(zip(data.poles["pole_id"], data.poles["nom"], strict=True))
    for pole_id, body in fiches.pages(
        ref,
        data,
        by_key["fiches_indicateurs"],
        by_key["fiches_membres"],
        by_key["fiches_criteres"],
        score,
        k,
    ):
        name = names[pole_id]
        _write(
            tmp / "poles" / f"{pole_id}.html",
            H.page(str(name), body, period=period, current="fiches", depth=1, footer=fiche_notes),
        )
        alone = body.split("\n", 1)[1] if body.startswith('<p class="fil">') else body  # no links
        own = H.page(str(name), alone, period=period, current="", footer=fiche_notes, nav=False, audience=POLE)  # fmt: skip
        if deliver_fiche(settings, str(pole_id), period, own):
            delivered.append(str(pole_id))
        count += 1
    per_pole = [x for x in tables if x.fast or not x.in_html]
    write_data_files(tmp, per_pole)
    t = result.time("fiches pôles", t)
    _write(tmp / "index.html", index_page(ref, data, tables, footer))
    write_data_files(tmp, [x for x in tables if x not in per_pole])
    write_xlsx(
        tmp / "tableaux.xlsx",
        [x for x in tables if x.in_xlsx],
        notes,
        period,
        generated,
        mark=AUDIENCES[INTERNAL],  # « Diffusion restreinte : … »
    )
    t = result.time("exports", t)
    manifest = {
        "publication": "Suivi national des PTCE",
        "audience": INTERNAL,
        "audience_label": AUDIENCES[INTERNAL],
        "period": period,
        "generated_at": generated.astimezone(dt.UTC).isoformat(),
        **state(con, ref, period),
        "referentiel": {
            "version": ref.version,
            "sha256": ref.sha256,
            "provisional": ref.provisional,
        },
        "campaign": _campaign(data.campaign()),
        "closed_campaigns": [
            _campaign(c) for c in data.campaigns.to_dict("records") if bool(c["closed"])
        ],
        "secret_threshold": F.SECRET_MIN,
        "poles": {
            "expected": len(data.expected),
            "accepted": len(data.poles),
            "fiches": count,
        },
        "review": _review(data),
        "fiches_delivered": delivered,
        "submissions": [
            {
                "submission_id": int(s["submission_id"]),
                "pole_id": s["pole_id"],
                "status": s["status"],
                "sha256": s["sha256"],
                "received_at": s["received_at"].isoformat(),
                "late": bool(s["late"]),
                "referentiel_version": s["referentiel_version"],
                "review_state": None if F.is_missing(s["review_state"]) else s["review_state"],
            }
            for s in data.submissions.to_dict("records")
        ],
        "tables": [
            {
                "key": t.key,
                "title": t.title,
                "page": f"{t.page}.html#h-{t.key}" if t.in_html else None,
                "sheet": t.sheet[:31] if t.in_xlsx else None,
                "csv": f"donnees/{t.key}.csv",
                "parquet": f"donnees/{t.key}.parquet",
            }
            for t in tables
        ],
        "files": _hashes(tmp),
    }
    _write(tmp / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    final = root / str(period)
    fault_point(settings, "publication_write")
    _exchange(tmp, final, settings)
    _exchange(*public_final, settings)
    result.time("manifeste et bascule", t)
    return final


FICHE_NAME = "fiche_{period}.html"  # inbox/<pole>/retours/: the pole's own fiche of a period


def deliver_fiche(settings: Settings, pole_id: str, period: int, page: str) -> Path | None:
    """Write a pole's own fiche into its retours/ folder, only when its inbox folder exists (a
    fiche never creates a pole's folder), never through a link: the folders are opened
    without following links and the file replaced relative to their descriptor (`fsafe`)."""
    name = FICHE_NAME.format(period=period)
    try:
        with (
            fsafe.open_dir(settings.inbox, pole_id) as _pole,
            fsafe.open_dir(settings.inbox, pole_id, FEEDBACK_DIR, create=True) as fd,
        ):
            fsafe.replace_file(fd, name, page.encode("utf-8"))
    except (FileNotFoundError, NotADirectoryError, fsafe.UnsafePath):
        return None  # no folder for this pole, or a link planted in its place: nothing
    return settings.inbox / pole_id / FEEDBACK_DIR / name


def _public(settings, con, ref, internal, tables, generated) -> tuple[Path, Path]:
    """Write the open-data release into a temporary folder: (temporary, final) paths. It rests
    on its own declarations (`scope`), its secret computed on them alone."""
    root = settings.publications_for(PUBLIC)
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{internal.period}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    data, source = public_data(con, ref, internal, tables, generated)
    own = public_tables(ref, data, source)
    notes = [*notes_for(ref, data), *scope.notes(data, public=True)]
    write_public(tmp, ref, data, own, notes, generated)
    manifest = {
        "publication": "Suivi national des PTCE — données ouvertes",
        "audience": PUBLIC,
        "audience_label": AUDIENCES[PUBLIC],
        "period": data.period,
        "generated_at": generated.astimezone(dt.UTC).isoformat(),
        **state(con, ref, data.period),
        "provisional": not bool(data.campaign() and data.campaign().get("closed")),
        "review": {k: v for k, v in _review(data).items() if k != "counts"},
        "secret_threshold": F.SECRET_MIN,
        "tables": [
            {
                "key": t.key,
                "title": t.title,
                "csv": f"donnees/{t.key}.csv",
                "schema": f"donnees/{t.key}.schema.json",
                "parquet": f"donnees/{t.key}.parquet",
            }
            for t in own
        ],
        "files": _hashes(tmp),
    }
    _write(tmp / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    return tmp, root / str(data.period)


def _review(data: D.PeriodData) -> dict:
    """What the figures rest on, for the manifest: the review states kept, how many
    declarations that makes out of those in force, and (internal) how many in each state."""
    return {
        "states": list(data.kept),
        "declarations": len(data.submissions),
        "in_force": len(data.review),
        "counts": scope.counts(data.review),
    }


def _campaign(c: dict | None) -> dict | None:
    if not c:
        return None
    closed_at = c.get("closed_at")
    return {
        "period": int(c["period"]),
        "deadline": c["deadline"].isoformat() if c.get("deadline") is not None else None,
        "closed": bool(c["closed"]),
        "closed_at": None if F.is_missing(closed_at) else closed_at.isoformat(),
        "keep_unreviewed": bool(c.get("keep_unreviewed")),
    }


def _hashes(folder: Path) -> dict[str, str]:
    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        out[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def publish(
    settings: Settings, periods: list[int] | None = None, *, now: dt.datetime | None = None
) -> PublishResult:
    """Publish the given periods, or those whose data (or référentiel, or the previous period's
    data, or the publication format) changed since their last publication."""
    from ptce_pipeline.store.warehouse import connect

    result = PublishResult()
    if not settings.snapshot_db.exists():
        result.nothing = True
        return result
    generated = now or settings.clock()
    if generated.tzinfo is None:
        generated = generated.replace(tzinfo=dt.UTC)
    ref = load_referentiel(settings.referentiel_path)
    con = connect(settings.snapshot_db, read_only=True)
    try:
        for audience in (INTERNAL, PUBLIC):
            settings.publications_for(audience).mkdir(parents=True, exist_ok=True)
            _clean_leftovers(settings.publications_for(audience))
        available = periods_with_data(con)
        targets = periods if periods else available
        for period in targets:
            if periods is None and published_state(settings, period) == state(con, ref, period):
                result.skipped.append(period)
                continue
            path = build_period(settings, con, ref, period, generated, result)
            result.published.append(period)
            result.paths[period] = str(path.relative_to(settings.home) / "index.html")
            public = settings.publications_for(PUBLIC) / str(period) / "index.html"
            result.public_paths[period] = str(public.relative_to(settings.home))
    finally:
        con.close()
    if result.published:
        root_index(settings.publications_for(INTERNAL))
        root_index(settings.publications_for(PUBLIC), PUBLIC)
    result.nothing = not result.published
    return result
