"""The home's registry of expected poles (poles.csv) and campaign deadlines (campagnes.csv)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from ptce_pipeline.catalogue.referentiel import load_geography
from ptce_pipeline.config import is_address
from ptce_pipeline.errors import RegistryError

REGISTRY_HEADER = ("pole_id", "nom", "departement", "premiere_periode", "derniere_periode")
# optional, after the columns above: the pole's e-mail addresses, `;`-separated (personal data:
# they change no decision, so they are left out of the registry's hash and of its archived copy)
ADDRESSES_COLUMN = "courriels"
CAMPAIGNS_HEADER = ("periode", "date_limite")
POLE_ID_RE = re.compile(r"^PTCE-\d{3,}$")
PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class Pole:
    pole_id: str
    nom: str
    departement: str
    premiere_periode: int
    derniere_periode: int | None
    courriels: tuple[str, ...] = ()

    def expected_in(self, period: int) -> bool:
        if period < self.premiere_periode:
            return False
        return self.derniere_periode is None or period <= self.derniere_periode


@dataclass(frozen=True)
class Registry:
    poles: dict[str, Pole]
    # of poles.csv as read ("" when absent), without its `courriels` column when it has one
    sha256: str
    # the bytes that hash is of: what is archived and what a decision depends on
    decision_bytes: bytes = b""

    def expected(self, period: int) -> list[Pole]:
        return [p for p in self.poles.values() if p.expected_in(period)]


@dataclass(frozen=True)
class Campaigns:
    deadlines: dict[int, dt.date]
    sha256: str

    def deadline(self, period: int) -> dt.date:
        return self.deadlines.get(period, dt.date(period + 1, 3, 31))

    def is_late(self, period: int | None, received_at: dt.datetime) -> bool:
        if period is None:
            return False
        limit = dt.datetime.combine(self.deadline(period), dt.time(23, 59, 59), tzinfo=PARIS)
        return received_at > limit


def _read_rows(
    path: Path, header: tuple[str, ...], what: str, extra: tuple[str, ...] = ()
) -> tuple[list[tuple[int, dict]], bytes]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], b""
    except OSError as exc:
        raise RegistryError(f"Impossible de lire {path} : {exc.strerror}.") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RegistryError(f"{path} doit être enregistré en UTF-8.") from None
    reader = csv.reader(text.splitlines())
    rows = list(reader)
    if not rows:
        return [], data
    got = tuple(h.strip() for h in rows[0])
    if got[: len(header)] != header:
        raise RegistryError(
            f"{path} : en-tête attendu « {','.join(header)} », trouvé « {','.join(got)} »."
        )
    where = {name: got.index(name) for name in extra if name in got[len(header) :]}
    out = []
    for lineno, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        row = [*row, *[""] * (len(got) - len(row))]
        values = {h: row[i].strip() for i, h in enumerate(header)}
        values.update({name: row[i].strip() for name, i in where.items()})
        out.append((lineno, values))
    if where:  # the decision bytes: the file without its personal column
        data = _without_column(rows, where[extra[0]]) if extra else data
    return out, data


def _without_column(rows: list[list[str]], index: int) -> bytes:
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row in rows:
        writer.writerow([cell for i, cell in enumerate(row) if i != index])
    return buf.getvalue().encode("utf-8")


def _addresses(value: str, path: Path, lineno: int) -> tuple[str, ...]:
    out: list[str] = []
    for part in value.split(";"):
        address = part.strip()
        if not address:
            continue
        if not is_address(address):
            raise RegistryError(
                f"{path}, ligne {lineno} : « {ADDRESSES_COLUMN} » : « {address[:80]} » n'est pas "
                "une adresse électronique (attendu : prenom.nom@exemple.fr, plusieurs "
                "adresses séparées par « ; »)."
            )
        if address.lower() not in {a.lower() for a in out}:
            out.append(address)
    return tuple(out)


def departements() -> frozenset[str]:
    """The codes of the départements (the packaged code list)."""
    return frozenset(load_geography().departements)


def _year(value: str, path: Path, lineno: int, column: str, *, optional=False) -> int | None:
    if value == "" and optional:
        return None
    if not re.fullmatch(r"\d{4}", value):
        raise RegistryError(
            f"{path}, ligne {lineno} : « {column} » doit être une année (reçu « {value} »)."
        )
    return int(value)


def load_registry(path: Path) -> Registry:
    rows, data = _read_rows(path, REGISTRY_HEADER, "registre", (ADDRESSES_COLUMN,))
    poles: dict[str, Pole] = {}
    for lineno, row in rows:
        pole_id = row["pole_id"]
        if not POLE_ID_RE.match(pole_id):
            raise RegistryError(
                f"{path}, ligne {lineno} : identifiant « {pole_id} » invalide "
                "(attendu : PTCE- suivi d'au moins trois chiffres, par exemple PTCE-001)."
            )
        if pole_id in poles:
            raise RegistryError(f"{path}, ligne {lineno} : le pôle {pole_id} est déjà inscrit.")
        if not row["nom"]:
            raise RegistryError(f"{path}, ligne {lineno} : le nom du pôle {pole_id} est vide.")
        if row["departement"] not in departements():
            raise RegistryError(
                f"{path}, ligne {lineno} : département « {row['departement']} » inconnu pour le "
                f"pôle {pole_id} (attendu : un code comme 59, 2A ou 974)."
            )
        first = _year(row["premiere_periode"], path, lineno, "premiere_periode")
        last = _year(row["derniere_periode"], path, lineno, "derniere_periode", optional=True)
        if last is not None and first is not None and last < first:
            raise RegistryError(
                f"{path}, ligne {lineno} : derniere_periode précède premiere_periode."
            )
        addresses = _addresses(row.get(ADDRESSES_COLUMN, ""), path, lineno)
        poles[pole_id] = Pole(pole_id, row["nom"], row["departement"], first, last, addresses)  # type: ignore[arg-type]
    return Registry(
        poles=poles, sha256=hashlib.sha256(data).hexdigest() if data else "", decision_bytes=data
    )


def load_campaigns(path: Path) -> Campaigns:
    rows, data = _read_rows(path, CAMPAIGNS_HEADER, "campagnes")
    deadlines = {}
    for lineno, row in rows:
        period = _year(row["periode"], path, lineno, "periode")
        if period in deadlines:
            raise RegistryError(
                f"{path}, ligne {lineno} : la période {period} a déjà une date limite "
                "(une seule ligne par période)."
            )
        try:
            deadlines[period] = dt.date.fromisoformat(row["date_limite"])
        except ValueError:
            raise RegistryError(
                f"{path}, ligne {lineno} : date_limite doit être une date ISO (AAAA-MM-JJ), "
                f"reçu « {row['date_limite']} »."
            ) from None
    return Campaigns(deadlines=deadlines, sha256=hashlib.sha256(data).hexdigest() if data else "")


def write_registry_header(path: Path) -> None:
    path.write_text(",".join(REGISTRY_HEADER) + "\n", encoding="utf-8")


def write_registry(path: Path, poles: list[Pole]) -> None:
    """Write poles.csv; the `courriels` column is written when a pole has an address."""
    with_addresses = any(p.courriels for p in poles)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([*REGISTRY_HEADER, *([ADDRESSES_COLUMN] if with_addresses else [])])
        for p in poles:
            row = [p.pole_id, p.nom, p.departement, p.premiere_periode, p.derniere_periode or ""]
            writer.writerow([*row, *([";".join(p.courriels)] if with_addresses else [])])
