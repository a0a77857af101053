"""The référentiel's data model: kinds, objectives, indicators, criteria, code lists,
identity fields and their diffusion levels, the geography (what `referentiel` builds)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import cached_property

# Who may read a field a pole supplies, pole by pole: the open-data release (publique), the pole
# itself and the national team (restreinte), nobody outside the live warehouse (personnelle).
DIFFUSION = ("publique", "restreinte", "personnelle")
PUBLIC, RESTRICTED, PERSONAL = DIFFUSION
# Family defaults when neither the field nor the file's [diffusion] table says otherwise.
DIFFUSION_DEFAULTS = {
    "identite": RESTRICTED,
    "membres": RESTRICTED,
    "indicateurs": RESTRICTED,
    "criteres": RESTRICTED,
    "justifications": RESTRICTED,
}
KINDS_NUMERIC = ("count", "euros", "fte", "percent", "m2", "scale")
IDENTITY_KINDS = (
    "pole_id",
    "text",
    "siret",
    "code",
    "commune",
    "departement",
    "region",
    "year",
    "period",
    "email",
    "date",
)


def fold(text: str) -> str:
    """Case-, accent-, space- and apostrophe-insensitive key used to match labels."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("’", "'").replace("‘", "'").replace("`", "'")
    return " ".join(text.casefold().split())


@dataclass(frozen=True)
class Kind:
    name: str
    unit: str
    integer: bool
    min: float | None
    max: float | None
    total: bool
    excel_format: str


@dataclass(frozen=True)
class Objective:
    code: str
    label: str
    parent: str | None = None  # general objective of a main objective


@dataclass(frozen=True)
class Indicator:
    code: str
    objective: str  # main objective code
    general: str  # general objective code
    label: str
    help: str
    kind: str
    unit: str
    integer: bool
    min: float | None
    max: float | None
    required: bool
    total: bool
    excel_format: str
    diffusion: str = RESTRICTED

    @property
    def public(self) -> bool:
        return self.diffusion == PUBLIC


@dataclass(frozen=True)
class Criterion:
    code: str
    type: str  # incontournable | a_tester
    label: str
    help: str = ""
    diffusion: str = RESTRICTED  # of the answer
    diffusion_justification: str = RESTRICTED  # of the free-text justification


@dataclass(frozen=True)
class CodeValue:
    code: str
    label: str
    flags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CodeList:
    name: str
    label: str
    values: tuple[CodeValue, ...]

    @cached_property
    def lookup(self) -> dict[str, str]:
        """folded label or code → code"""
        out: dict[str, str] = {}
        for value in self.values:
            out[fold(value.code)] = value.code
            out[fold(value.code.replace("_", " "))] = value.code
            out[fold(value.label)] = value.code
        return out

    def label_of(self, code: str | None) -> str | None:
        for value in self.values:
            if value.code == code:
                return value.label
        return None

    @property
    def labels(self) -> list[str]:
        return [v.label for v in self.values]

    def codes_with(self, flag: str) -> frozenset[str]:
        return frozenset(v.code for v in self.values if flag in v.flags)


@dataclass(frozen=True)
class Field:
    """A field of the Identité sheet or a column of the Membres sheet."""

    key: str
    label: str
    kind: str
    required: bool
    help: str
    liste: str | None = None
    diffusion: str = RESTRICTED
    min: float | None = None
    max: float | None = None
    width: int | None = None

    @property
    def personal(self) -> bool:
        """Never leaves the live warehouse (not in snapshots, not in any publication)."""
        return self.diffusion == PERSONAL

    @property
    def public(self) -> bool:
        return self.diffusion == PUBLIC


@dataclass(frozen=True)
class Geography:
    regions: dict[str, str]  # code → name
    departements: dict[str, tuple[str, str]]  # code → (name, region code)
    old_regions: dict[str, str]  # folded old name → current region code

    def region_lookup(self) -> dict[str, str]:
        out = {fold(code): code for code in self.regions}
        out.update({fold(name): code for code, name in self.regions.items()})
        return out


@dataclass(frozen=True)
class Referentiel:
    version: str
    sha256: str
    source: str
    provisional: bool
    title: str
    note: str
    contact: str
    kinds: dict[str, Kind]
    general_objectives: tuple[Objective, ...]
    main_objectives: tuple[Objective, ...]
    indicators: tuple[Indicator, ...]
    criterion_types: dict[str, tuple[str, str]]  # type → (label, plural label)
    criteria: tuple[Criterion, ...]
    lists: dict[str, CodeList]
    identity: tuple[Field, ...]
    members: tuple[Field, ...]
    geography: Geography = field(repr=False, default=None)  # type: ignore[assignment]

    @cached_property
    def indicator_by_code(self) -> dict[str, Indicator]:
        return {i.code: i for i in self.indicators}

    @cached_property
    def criterion_by_code(self) -> dict[str, Criterion]:
        return {c.code: c for c in self.criteria}

    @cached_property
    def objective_by_code(self) -> dict[str, Objective]:
        return {o.code: o for o in (*self.general_objectives, *self.main_objectives)}

    @cached_property
    def identity_by_key(self) -> dict[str, Field]:
        return {f.key: f for f in self.identity}

    @cached_property
    def member_by_key(self) -> dict[str, Field]:
        return {f.key: f for f in self.members}

    def criteria_of(self, ctype: str) -> list[Criterion]:
        return [c for c in self.criteria if c.type == ctype]

    def indicators_of(self, objective: str) -> list[Indicator]:
        return [i for i in self.indicators if i.objective == objective or i.general == objective]

    @property
    def short_sha(self) -> str:
        return self.sha256[:12]


# --------------------------------------------------------------------------------------------
