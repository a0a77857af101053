"""The référentiel checked as it is loaded, before anything uses it: a mistake of the national
team's own file (a minimum above the maximum, a code written as a number, a bound written as
text, a duplicated code, an indicator aimed at an unknown objective, an empty label) stops the
run with one French message naming the file, the table path and, for TOML, the line — instead
of refusing every pole's valid file or failing on a raw DuckDB error later.

`check_referentiel(raw, source, text)` raises `ReferentielError` on the first mistake.
"""

from __future__ import annotations

import re
from typing import Any

from ptce_pipeline.errors import ReferentielError

KINDS_NUMERIC = ("count", "euros", "fte", "percent", "m2", "scale")
FIELD_KINDS = (
    *KINDS_NUMERIC,
    *("pole_id", "text", "siret", "code", "commune", "departement", "region", "year"),
    *("period", "email", "date"),
)

# key → expected type: "text" (non-empty string), "str" (string, may be empty), "bool",
# "number" (int or float, never a bool), "int" (positive whole number)
KIND_KEYS = {
    "unit": "str",
    "integer": "bool",
    "min": "number",
    "max": "number",
    "total": "bool",
    "excel_format": "text",
}
OBJECTIVE_KEYS = {"code": "text", "label": "text", "parent": "text"}
INDICATOR_KEYS = {
    **{"code": "text", "objectif": "text", "kind": "text", "label": "text", "help": "str"},
    **KIND_KEYS,
    "required": "bool",
}
CRITERION_KEYS = {"code": "text", "type": "text", "label": "text", "help": "str"}
FIELD_KEYS = {
    **{"key": "text", "label": "text", "kind": "text", "required": "bool", "help": "str"},
    **{"liste": "text", "personal": "bool", "min": "number", "max": "number", "width": "int"},
}
TYPE_WORDS = {
    "text": "un texte non vide entre guillemets",
    "str": "un texte entre guillemets",
    "bool": "true ou false",
    "number": "un nombre (sans guillemets)",
    "int": "un nombre entier positif",
}


def _dotted(path: list) -> str:
    """["indicateurs", 2, "min"] → "indicateurs[3].min" (tables counted from 1)."""
    return path[0] + "".join(f"[{p + 1}]" if isinstance(p, int) else f".{p}" for p in path[1:])


class _Where:
    """Names a place of the file: its table path, and its line when the text gives it."""

    def __init__(self, source: str, text: str | None):
        self.source, self.lines = source, (text.splitlines() if text is not None else None)

    def line(self, path: list) -> int | None:
        if not self.lines or not path:
            return None
        section, start = path[0], 0
        keys = [p for p in path[1:] if isinstance(p, str)]
        if len(path) > 1 and isinstance(path[1], int):  # [[section]] number path[1]
            header = re.compile(rf"^\s*\[\[\s*{re.escape(section)}\s*\]\]")
            found = [i for i, ln in enumerate(self.lines) if header.match(ln)]
            if path[1] >= len(found):
                return None
            start = found[path[1]]
            keys = [p for p in path[2:] if isinstance(p, str)][:1]
        else:
            for depth in range(len(keys), -1, -1):  # [section.a.b], then shorter
                name = ".".join([section, *keys[:depth]])
                header = re.compile(rf"^\s*\[\s*{re.escape(name)}\s*\]")
                hits = [i for i, ln in enumerate(self.lines) if header.match(ln)]
                if hits:
                    start, keys = hits[0], keys[depth:][:1]
                    break
            else:
                return None
        for i in range(start + 1, len(self.lines)) if keys else ():
            if re.match(r"^\s*\[", self.lines[i]):
                break
            if re.match(rf"^\s*{re.escape(keys[0])}\s*=", self.lines[i]):
                return i + 1
        return start + 1

    def fail(self, path: list, problem: str, label: str | None = None) -> ReferentielError:
        dotted = _dotted(path)
        line = self.line(path)
        at = f", ligne {line}" if line else ""
        what = f" ({label})" if label else ""
        return ReferentielError(f"Référentiel {self.source}{at}, {dotted}{what} : {problem}")


def _shown(value: Any) -> str:
    """A value as it is written in TOML (a text between double quotes)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else str(value)


def _label(table: Any, key: str) -> str | None:
    return str(table[key]) if isinstance(table, dict) and key in table else None


def _typed(where: _Where, table: Any, path: list, spec: dict[str, str], label=None) -> dict:
    if not isinstance(table, dict):
        raise where.fail(path, "une table (clé = valeur) est attendue ici.", label)
    for key, kind in spec.items():
        if key not in table:
            continue
        value = table[key]
        ok = {
            "text": isinstance(value, str) and value.strip() != "",
            "str": isinstance(value, str),
            "bool": isinstance(value, bool),
            "number": isinstance(value, int | float) and not isinstance(value, bool),
            "int": isinstance(value, int) and not isinstance(value, bool) and value > 0,
        }[kind]
        if not ok:
            raise where.fail(
                [*path, key], f"{TYPE_WORDS[kind]} est attendu, trouvé « {_shown(value)} ».", label
            )
    return table


def _bounds(where: _Where, path: list, table: dict, lo: Any, hi: Any, label=None) -> None:
    """min ≤ max (each perhaps inherited from the kind), named at the key the table sets."""
    if lo is not None and hi is not None and lo > hi:
        key = next((k for k in ("min", "max") if k in table), None)
        at = [*path, key] if key else path
        raise where.fail(at, f"le minimum ({lo}) dépasse le maximum ({hi}).", label)


def _rows(where: _Where, raw: dict, section: str) -> list:
    rows = raw.get(section, [])
    if not isinstance(rows, list):
        raise where.fail([section], "une liste de tables [[" + section + "]] est attendue.")
    return rows


def _required(where: _Where, table: dict, path: list, keys: tuple[str, ...], label=None):
    for key in keys:
        if key not in table:
            raise where.fail([*path, key], "cette clé obligatoire manque.", label)


def _unique(where: _Where, seen: dict, code: str, path: list, what: str) -> None:
    if code in seen:
        raise where.fail(path, f"{what} « {code} » est déjà défini(e) ({seen[code]}).")
    seen[code] = _dotted(path)


def check_referentiel(raw: dict[str, Any], source: str, text: str | None = None) -> None:
    """Raise ReferentielError, naming file, table path and line, on the first mistake."""
    where = _Where(source, text)
    _typed(where, raw.get("meta", {}), ["meta"], {"title": "text", "contact": "text"})
    kinds = raw.get("kinds", {})
    _typed(where, kinds, ["kinds"], {})
    for name, spec in kinds.items():
        if name not in KINDS_NUMERIC:
            raise where.fail(
                ["kinds", name], f"type inconnu (connus : {', '.join(KINDS_NUMERIC)})."
            )
        _typed(where, spec, ["kinds", name], KIND_KEYS)
        _bounds(where, ["kinds", name], spec, spec.get("min"), spec.get("max"))
    codes: dict[str, str] = {}
    generals = set()
    for n, o in enumerate(_rows(where, raw, "objectifs_generaux")):
        path = ["objectifs_generaux", n]
        _required(where, _typed(where, o, path, OBJECTIVE_KEYS), path, ("code", "label"))
        _unique(where, codes, o["code"], path, "l'objectif")
        generals.add(o["code"])
    mains = set()
    for n, o in enumerate(_rows(where, raw, "objectifs_principaux")):
        path = ["objectifs_principaux", n]
        _typed(where, o, path, OBJECTIVE_KEYS)
        _required(where, o, path, ("code", "label", "parent"))
        _unique(where, codes, o["code"], path, "l'objectif")
        if o["parent"] not in generals:
            raise where.fail(
                [*path, "parent"], f"objectif général inconnu « {o['parent']} ».", o["code"]
            )
        mains.add(o["code"])
    _indicators(where, raw, kinds, mains)
    ctypes = raw.get("criteres_types", {})
    _typed(where, ctypes, ["criteres_types"], {})
    for name, spec in ctypes.items():
        _typed(where, spec, ["criteres_types", name], {"label": "text", "label_pluriel": "text"})
    seen: dict[str, str] = {}
    for n, c in enumerate(_rows(where, raw, "criteres")):
        path = ["criteres", n]
        _required(
            where,
            _typed(where, c, path, CRITERION_KEYS, _label(c, "code")),
            path,
            ("code", "type", "label"),
        )
        _unique(where, seen, c["code"], path, "le critère")
        if c["type"] not in ctypes:
            raise where.fail(
                [*path, "type"], f"type de critère inconnu « {c['type']} ».", c["code"]
            )
    lists = raw.get("listes", {})
    _typed(where, lists, ["listes"], {})
    for name, spec in lists.items():
        _typed(where, spec, ["listes", name], {"label": "text"})
        values = spec.get("values", [])
        if not isinstance(values, list) or not values:
            raise where.fail(
                ["listes", name, "values"], "une liste non vide de valeurs est attendue."
            )
        seen = {}
        for n, v in enumerate(values):
            path = ["listes", name, "values", n]
            _typed(where, v, path, {"code": "text", "label": "text"})
            _required(where, v, path, ("code", "label"))
            flags = {k: val for k, val in v.items() if k not in ("code", "label")}
            for flag, val in flags.items():
                if not isinstance(val, bool):
                    raise where.fail(
                        [*path, flag], f"true ou false est attendu, trouvé « {_shown(val)} »."
                    )
            _unique(where, seen, v["code"], path, "le code")
    for section in ("identite", "membres"):
        seen = {}
        for n, f in enumerate(_rows(where, raw, section)):
            path = [section, n]
            _typed(where, f, path, FIELD_KEYS, _label(f, "key"))
            _required(where, f, path, ("key", "label", "kind"))
            _unique(where, seen, f["key"], path, "le champ")
            if f["kind"] not in FIELD_KINDS:
                raise where.fail(
                    [*path, "kind"], f"type de champ inconnu « {f['kind']} ».", f["key"]
                )
            if (f["kind"] == "code" or "liste" in f) and f.get("liste") not in lists:
                raise where.fail(
                    [*path, "liste"], f"liste inconnue « {f.get('liste')} ».", f["key"]
                )
            _bounds(where, path, f, f.get("min"), f.get("max"), f["key"])


def _indicators(where: _Where, raw: dict, kinds: dict, mains: set) -> None:
    seen: dict[str, str] = {}
    for n, spec in enumerate(_rows(where, raw, "indicateurs")):
        path = ["indicateurs", n]
        _typed(where, spec, path, INDICATOR_KEYS, _label(spec, "code"))
        _required(where, spec, path, ("code", "objectif", "kind", "label"))
        code = spec["code"]
        _unique(where, seen, code, path, "l'indicateur")
        if spec["objectif"] not in mains:
            raise where.fail(
                [*path, "objectif"],
                f"objectif inconnu « {spec['objectif']} » (un objectif principal est attendu).",
                code,
            )
        if spec["kind"] not in kinds:
            raise where.fail(
                [*path, "kind"], f"type d'indicateur inconnu « {spec['kind']} ».", code
            )
        kind = kinds[spec["kind"]]
        lo, hi = spec.get("min", kind.get("min")), spec.get("max", kind.get("max"))
        _bounds(where, path, spec, lo, hi, code)
