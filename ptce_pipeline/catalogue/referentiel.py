"""The référentiel catalogue: the one source of truth for template, schemas, messages and tables.

`load_referentiel(settings)` returns the packaged catalogue (``schemas/referentiel.toml``) or
the home's own ``referentiel.toml`` / ``.yaml`` when it has one.
"""

from __future__ import annotations

import csv
import hashlib
import io
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from ptce_pipeline.catalogue.referentiel_checks import check_referentiel

# Who may read a field a pole supplies, pole by pole: the open-data release (publique), the pole
# itself and the national team (restreinte), nobody outside the live warehouse (personnelle).
from ptce_pipeline.catalogue.referentiel_model import (
    DIFFUSION,
    DIFFUSION_DEFAULTS,
    IDENTITY_KINDS,
    KINDS_NUMERIC,
    PERSONAL,
    PUBLIC,
    RESTRICTED,
    CodeList,
    CodeValue,
    Criterion,
    Field,
    Geography,
    Indicator,
    Kind,
    Objective,
    Referentiel,
    fold,
)
from ptce_pipeline.errors import ReferentielError


def _read_source(path: Path | None) -> tuple[bytes, str]:
    if path is None:
        data = resources.files("ptce_pipeline.schemas").joinpath("referentiel.toml").read_bytes()
        return data, "referentiel.toml (catalogue livré avec ptce-pipeline)"
    try:
        return path.read_bytes(), str(path)
    except OSError as exc:
        raise ReferentielError(
            f"Impossible de lire le référentiel {path} : {exc.strerror}."
        ) from None


def _parse(data: bytes, source: str) -> dict[str, Any]:
    """The parsed référentiel, checked (`referentiel_checks`) before anything builds on it."""
    text = None
    try:
        if source.endswith((".yaml", ".yml")):
            import yaml  # PyYAML comes with Prefect

            parsed = yaml.safe_load(io.BytesIO(data))
        else:
            text = data.decode("utf-8")
            parsed = tomllib.loads(text)
    except UnicodeDecodeError:
        raise ReferentielError(f"Le référentiel {source} doit être enregistré en UTF-8.") from None
    except Exception as exc:  # tomllib and yaml give the line in their message
        raise ReferentielError(f"Le référentiel {source} est illisible : {exc}") from None
    if not isinstance(parsed, dict):
        raise ReferentielError(f"Le référentiel {source} doit être une table (clé = valeur).")
    check_referentiel(parsed, source, text)
    return parsed


def _need(table: dict, key: str, where: str) -> Any:
    if key not in table or table[key] in (None, ""):
        raise ReferentielError(f"Référentiel : « {key} » manque dans {where}.")
    return table[key]


def build_referentiel(raw: dict[str, Any], *, sha256: str, source: str) -> Referentiel:
    meta = raw.get("meta", {})
    defaults = _diffusion_defaults(raw.get("diffusion", {}))
    kinds: dict[str, Kind] = {}
    for name, spec in raw.get("kinds", {}).items():
        if name not in KINDS_NUMERIC:
            raise ReferentielError(f"Référentiel {source} : type d'indicateur inconnu « {name} ».")
        kinds[name] = Kind(
            name=name,
            unit=spec.get("unit", ""),
            integer=bool(spec.get("integer", False)),
            min=spec.get("min"),
            max=spec.get("max"),
            total=bool(spec.get("total", False)),
            excel_format=spec.get("excel_format", "General"),
        )
    generals = tuple(
        Objective(
            code=_need(o, "code", "objectifs_generaux"),
            label=_need(o, "label", "objectifs_generaux"),
        )
        for o in raw.get("objectifs_generaux", [])
    )
    general_codes = {o.code for o in generals}
    mains = []
    for o in raw.get("objectifs_principaux", []):
        code = _need(o, "code", "objectifs_principaux")
        parent = _need(o, "parent", f"l'objectif {code}")
        if parent not in general_codes:
            raise ReferentielError(
                f"Référentiel {source} : l'objectif {code} a un parent inconnu « {parent} »."
            )
        mains.append(
            Objective(code=code, label=_need(o, "label", f"l'objectif {code}"), parent=parent)
        )
    main_by_code = {o.code: o for o in mains}
    indicators = []
    seen: set[str] = set()
    for spec in raw.get("indicateurs", []):
        code = _need(spec, "code", "indicateurs")
        if code in seen:
            raise ReferentielError(
                f"Référentiel {source} : l'indicateur {code} est défini deux fois."
            )
        seen.add(code)
        objective = _need(spec, "objectif", f"l'indicateur {code}")
        if objective not in main_by_code:
            raise ReferentielError(
                f"Référentiel {source} : l'indicateur {code} vise un objectif inconnu « {objective} »."
            )
        kind_name = _need(spec, "kind", f"l'indicateur {code}")
        if kind_name not in kinds:
            raise ReferentielError(
                f"Référentiel {source} : l'indicateur {code} a un type inconnu « {kind_name} »."
            )
        kind = kinds[kind_name]
        indicators.append(
            Indicator(
                code=code,
                objective=objective,
                general=main_by_code[objective].parent or "",
                label=_need(spec, "label", f"l'indicateur {code}"),
                help=spec.get("help", ""),
                kind=kind_name,
                unit=spec.get("unit", kind.unit),
                integer=bool(spec.get("integer", kind.integer)),
                min=spec.get("min", kind.min),
                max=spec.get("max", kind.max),
                required=bool(spec.get("required", True)),
                total=bool(spec.get("total", kind.total)),
                excel_format=spec.get("excel_format", kind.excel_format),
                diffusion=_diffusion(spec, defaults["indicateurs"], f"l'indicateur {code}"),
            )
        )
    ctypes = {
        name: (spec.get("label", name), spec.get("label_pluriel", spec.get("label", name)))
        for name, spec in raw.get("criteres_types", {}).items()
    }
    criteria = []
    for spec in raw.get("criteres", []):
        code = _need(spec, "code", "criteres")
        ctype = _need(spec, "type", f"le critère {code}")
        if ctype not in ctypes:
            raise ReferentielError(
                f"Référentiel {source} : le critère {code} a un type inconnu « {ctype} »."
            )
        criteria.append(
            Criterion(
                code=code,
                type=ctype,
                label=_need(spec, "label", code),
                help=spec.get("help", ""),
                diffusion=_diffusion(spec, defaults["criteres"], f"le critère {code}"),
                diffusion_justification=_diffusion(
                    spec,
                    defaults["justifications"],
                    f"la justification du critère {code}",
                    key="diffusion_justification",
                ),
            )
        )
    lists = {}
    for name, spec in raw.get("listes", {}).items():
        values = []
        for v in spec.get("values", []):
            flags = frozenset(k for k, val in v.items() if val is True)
            values.append(
                CodeValue(
                    code=str(_need(v, "code", f"la liste {name}")),
                    label=_need(v, "label", name),
                    flags=flags,
                )
            )
        lists[name] = CodeList(name=name, label=spec.get("label", name), values=tuple(values))

    def fields(section: str) -> tuple[Field, ...]:
        out = []
        for spec in raw.get(section, []):
            key = _need(spec, "key", section)
            kind = _need(spec, "kind", f"{section}.{key}")
            if kind not in IDENTITY_KINDS and kind not in KINDS_NUMERIC:
                raise ReferentielError(
                    f"Référentiel {source} : le champ {key} a un type inconnu « {kind} »."
                )
            liste = spec.get("liste")
            if kind == "code" and liste not in lists:
                raise ReferentielError(
                    f"Référentiel {source} : le champ {key} renvoie à une liste inconnue « {liste} »."
                )
            out.append(
                Field(
                    key=key,
                    label=_need(spec, "label", f"{section}.{key}"),
                    kind=kind,
                    required=bool(spec.get("required", False)),
                    help=spec.get("help", ""),
                    liste=liste,
                    diffusion=_diffusion(spec, defaults[section], f"le champ {key}"),
                    min=spec.get("min"),
                    max=spec.get("max"),
                    width=spec.get("width"),
                )
            )
        return tuple(out)

    for needed in ("reponses_criteres", "categories_membres", "formes_juridiques"):
        if needed not in lists:
            raise ReferentielError(f"Référentiel {source} : la liste « {needed} » est obligatoire.")
    identity = fields("identite")
    for needed in ("pole_id", "periode"):
        if needed not in {f.key for f in identity}:
            raise ReferentielError(
                f"Référentiel {source} : le champ d'identité « {needed} » est obligatoire."
            )
    members = fields("membres")
    if not indicators:
        raise ReferentielError(f"Référentiel {source} : aucun indicateur n'est défini.")
    return Referentiel(
        version=str(meta.get("version", "sans-version")),
        sha256=sha256,
        source=source,
        provisional=bool(meta.get("provisional", False)),
        title=meta.get("title", "Référentiel d'action des PTCE"),
        note=meta.get("note", ""),
        contact=meta.get("contact", "l'équipe nationale"),
        kinds=kinds,
        general_objectives=generals,
        main_objectives=tuple(mains),
        indicators=tuple(indicators),
        criterion_types=ctypes,
        criteria=tuple(criteria),
        lists=lists,
        identity=identity,
        members=members,
        geography=load_geography(),
    )


def _diffusion_defaults(spec: dict) -> dict[str, str]:
    out = dict(DIFFUSION_DEFAULTS)
    for family, level in spec.items():
        if family not in out:
            raise ReferentielError(
                f"Référentiel : [diffusion] nomme une famille inconnue « {family} » "
                f"(attendu : {', '.join(out)})."
            )
        out[family] = _level(level, f"la famille {family}")
    return out


def _level(level: Any, what: str) -> str:
    if level not in DIFFUSION:
        raise ReferentielError(
            f"Référentiel : niveau de diffusion inconnu « {level} » pour {what} "
            f"(attendu : {', '.join(DIFFUSION)})."
        )
    return str(level)


def _diffusion(spec: dict, default: str, what: str, key: str = "diffusion") -> str:
    """The level of one field: its own key, else `personal = true` (older référentiels),
    else its family's default."""
    if key in spec:
        return _level(spec[key], what)
    if key == "diffusion" and spec.get("personal") is True:
        return PERSONAL
    return default


def _package_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("ptce_pipeline.schemas").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


_GEO: Geography | None = None


def load_geography() -> Geography:
    global _GEO
    if _GEO is None:
        regions = {r["code"]: r["nom"] for r in _package_csv("regions.csv")}
        deps = {d["code"]: (d["nom"], d["region"]) for d in _package_csv("departements.csv")}
        old = {fold(r["nom"]): r["region"] for r in _package_csv("anciennes_regions.csv")}
        _GEO = Geography(regions=regions, departements=deps, old_regions=old)
    return _GEO


def load_referentiel_bytes(data: bytes, source: str = "referentiel.toml") -> Referentiel:
    sha = hashlib.sha256(data).hexdigest()
    return build_referentiel(_parse(data, source), sha256=sha, source=source)


_CACHE: dict[tuple[str, str], Referentiel] = {}


def load_referentiel(path: Path | None = None) -> Referentiel:
    """Load the catalogue at `path` (a home's own file) or the packaged one."""
    data, source = _read_source(path)
    sha = hashlib.sha256(data).hexdigest()
    key = (source, sha)
    if key not in _CACHE:
        _CACHE[key] = build_referentiel(_parse(data, source), sha256=sha, source=source)
    return _CACHE[key]


def referentiel_bytes(path: Path | None = None) -> bytes:
    return _read_source(path)[0]


# the model is re-exported: importers name `referentiel` for both
__all__ = [
    "DIFFUSION",
    "DIFFUSION_DEFAULTS",
    "IDENTITY_KINDS",
    "KINDS_NUMERIC",
    "PERSONAL",
    "PUBLIC",
    "RESTRICTED",
    "CodeList",
    "CodeValue",
    "Criterion",
    "Field",
    "Geography",
    "Indicator",
    "Kind",
    "Objective",
    "Referentiel",
    "build_referentiel",
    "fold",
    "load_geography",
    "load_referentiel",
    "load_referentiel_bytes",
    "referentiel_bytes",
]
