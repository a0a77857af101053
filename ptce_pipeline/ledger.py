"""The submission state machine, applied to an in-memory mirror of the warehouse and written
back in one DuckDB transaction per flush (all of a file's rows or none).

The same code serves a live run, the catch-up after a crash and `ptce rebuild`, so a warehouse
derived from the journal takes the same decisions as the live one did.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from . import issues as I
from .extract import Content
from .faults import fault_point

ACCEPTED = ("acceptee", "acceptee_avec_avertissements")
SUBMISSION_COLUMNS = (
    "submission_id",
    "sha256",
    "inbox_folder",
    "pole_id",
    "period",
    "status",
    "accepted_status",
    "file_format",
    "template_version",
    "referentiel_version",
    "referentiel_sha256",
    "rules_version",
    "registry_sha256",
    "campaigns_sha256",
    "n_errors",
    "n_warnings",
    "original_name",
    "archived_path",
    "feedback_annotated",
    "feedback_receipt",
    "received_at",
    "decided_at",
    "late",
    "attempts",
    "last_error",
    "previous_submission_id",
)
DELIVERY_COLUMNS = (
    "delivery_id",
    "received_at",
    "inbox_folder",
    "original_name",
    "size",
    "sha256",
    "outcome",
    "submission_id",
)
MAX_ATTEMPTS = 3


@dataclass
class Versions:
    referentiel_sha256: str
    referentiel_version: str
    rules_version: str
    registry_sha256: str
    campaigns_sha256: str


@dataclass
class Result:
    """What reading and validating one archived file gave."""

    issues: list[I.Issue]
    content: Content | None = None
    file_format: str | None = None

    @property
    def refused(self) -> bool:
        return I.has_errors(self.issues)


@dataclass
class Outcome:
    """What a decision did, for the receipt, the run report and the journal."""

    delivery_id: int
    folder: str
    name: str
    outcome: str  # nouvelle | doublon | expediteur_inconnu
    submission_id: int | None = None
    status: str | None = None
    note: str = ""  # french explanation for the receipt (déjà reçu…, campagne close…)
    changed: bool = False
    needs_feedback: bool = False
    period: int | None = None
    issues: list[I.Issue] = field(default_factory=list)


def _period_of(content: Content | None) -> int | None:
    if content is None:
        return None
    cell = content.identity.get("periode")
    value = None if cell is None else cell.value
    return value if isinstance(value, int) and 1900 <= value <= 2200 else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class Ledger:
    def __init__(self, con, personal_fields: frozenset[str] = frozenset()):
        self.con = con
        self.personal = personal_fields
        cols = ", ".join(SUBMISSION_COLUMNS)
        self.subs: dict[int, dict[str, Any]] = {}
        for row in con.execute(f"SELECT {cols} FROM submissions").fetchall():
            self.subs[row[0]] = dict(zip(SUBMISSION_COLUMNS, row, strict=True))
        self.by_key = {(s["sha256"], s["inbox_folder"]): sid for sid, s in self.subs.items()}
        self.current: dict[tuple[str, int], int] = {}
        for sid, s in self.subs.items():
            if s["status"] in ACCEPTED:
                self.current[(s["pole_id"], s["period"])] = sid
        cols = ", ".join(DELIVERY_COLUMNS)
        self.deliveries: dict[int, dict[str, Any]] = {}
        self.dirty_deliveries: set[int] = set()
        self.closed = {
            p: c for p, c in con.execute("SELECT period, closed FROM campaigns").fetchall()
        }
        self.dirty: set[int] = set()
        self.replace_data: set[int] = set()
        self.rows: dict[str, list[tuple]] = {
            t: []
            for t in (
                "identity_values",
                "contacts",
                "members",
                "indicator_values",
                "criteria_answers",
                "validation_issues",
            )
        }
        self.audit: list[tuple] = []
        self.bumps: dict[int, dt.datetime] = {}
        self.new_campaigns: dict[int, tuple] = {}
        self.last_seq: int | None = None

    # -- deliveries -----------------------------------------------------------------------------
    def delivery(self, rec: dict[str, Any], *, registered: bool) -> None:
        did = int(rec["seq"])
        at = _ts(rec["at"])
        row = {
            "delivery_id": did,
            "received_at": at,
            "inbox_folder": rec.get("folder", ""),
            "original_name": rec["name"],
            "size": int(rec["size"]),
            "sha256": rec["sha256"],
            "outcome": None,
            "submission_id": None,
        }
        self.deliveries[did] = row
        self.dirty_deliveries.add(did)
        key = (rec["sha256"], row["inbox_folder"])
        if registered and key not in self.by_key:
            self.subs[did] = {
                **dict.fromkeys(SUBMISSION_COLUMNS),
                "submission_id": did,
                "sha256": rec["sha256"],
                "inbox_folder": row["inbox_folder"],
                "pole_id": row["inbox_folder"],
                "status": "en_attente",
                "n_errors": 0,
                "n_warnings": 0,
                "original_name": rec["name"],
                "archived_path": rec["archived_path"],
                "received_at": at,
                "late": False,
                "attempts": 0,
            }
            self.by_key[key] = did
            self.dirty.add(did)
        self.last_seq = did

    def get_delivery(self, did: int) -> dict[str, Any]:
        if did not in self.deliveries:
            cols = ", ".join(DELIVERY_COLUMNS)
            row = self.con.execute(
                f"SELECT {cols} FROM deliveries WHERE delivery_id = ?", [did]
            ).fetchone()
            if row is None:
                raise KeyError(did)
            self.deliveries[did] = dict(zip(DELIVERY_COLUMNS, row, strict=True))
        return self.deliveries[did]

    def submission_for(self, sha256: str, folder: str) -> dict[str, Any] | None:
        sid = self.by_key.get((sha256, folder))
        return None if sid is None else self.subs[sid]

    def needs_validation(
        self, sha256: str, folder: str, versions: Versions, registered: bool
    ) -> bool:
        if not registered:
            return False
        sub = self.submission_for(sha256, folder)
        if sub is None or sub["status"] in ("en_attente", "en_erreur"):
            return True
        if sub["status"] == "refusee":
            return self._versions_changed(sub, versions)
        return False

    @staticmethod
    def _versions_changed(sub: dict[str, Any], v: Versions) -> bool:
        return (sub["referentiel_sha256"], sub["rules_version"], sub["registry_sha256"]) != (
            v.referentiel_sha256,
            v.rules_version,
            v.registry_sha256,
        )

    # -- decisions ------------------------------------------------------------------------------
    def decide(
        self,
        did: int,
        *,
        registered: bool,
        result: Result | None,
        versions: Versions,
        at: dt.datetime,
        late_fn,
        feedback_paths,
        previous_submission_id: int | None = None,
    ) -> Outcome:
        d = self.get_delivery(did)
        folder, name = d["inbox_folder"], d["original_name"]
        self.last_seq = max(self.last_seq or 0, did)
        if not registered:
            d["outcome"] = "expediteur_inconnu"
            self.dirty_deliveries.add(did)
            return Outcome(
                did, folder, name, "expediteur_inconnu", note="dossier d'aucun pôle inscrit"
            )
        sub = self.submission_for(d["sha256"], folder)
        if sub is None:  # registered after the delivery was recorded
            self.delivery(
                {
                    "seq": did,
                    "at": d["received_at"].isoformat(),
                    "folder": folder,
                    "name": name,
                    "size": d["size"],
                    "sha256": d["sha256"],
                    "archived_path": feedback_paths.get("archived_path", ""),
                },
                registered=True,
            )
            sub = self.submission_for(d["sha256"], folder)
        sid = sub["submission_id"]
        first = sid == did
        d["outcome"] = "nouvelle" if first else "doublon"
        d["submission_id"] = sid
        self.dirty_deliveries.add(did)
        creating = self.deliveries.get(sid)
        if creating is not None and creating["outcome"] is None and not first:
            creating["outcome"] = "nouvelle"
            creating["submission_id"] = sid
            self.dirty_deliveries.add(sid)
        status = sub["status"]
        out = Outcome(
            did, folder, name, d["outcome"], submission_id=sid, status=status, period=sub["period"]
        )
        if result is None:
            # a known content: nothing to validate
            received = _fr_datetime(sub["received_at"])
            if status in ACCEPTED:
                out.note = f"déjà reçu le {received} ; rien ne change"
            elif status == "remplacee":
                if self.closed.get(sub["period"]):
                    out.note = (
                        f"déjà reçu le {received}. La campagne {sub['period']} est close : la version "
                        "actuelle reste en place jusqu'à sa réouverture"
                    )
                else:
                    self._make_current(sub, at)
                    self.audit.append(
                        (
                            did,
                            at,
                            "pôle",
                            "reinstate",
                            sid,
                            sub["period"],
                            "le pôle a déposé de nouveau une version antérieure",
                            None,
                        )
                    )
                    out.note = (
                        f"déjà reçu le {received} ; cette version redevient la version en vigueur"
                    )
                    out.status = sub["status"]
                    out.changed = True
            elif status == "refusee":
                out.note = f"déjà reçu le {received} et refusé : le rapport ci-dessous est inchangé"
                out.issues = self.issues_of(sid)
            elif status == "retiree":
                out.note = (
                    f"déjà reçu le {received} ; ce classeur a été retiré par l'équipe nationale"
                )
            elif status == "retenue":
                out.note = (
                    f"déjà reçu le {received} ; la campagne {sub['period']} est close, il sera pris en "
                    "compte à sa réouverture"
                )
            out.needs_feedback = True
            return out
        self._apply_result(
            sub,
            result,
            versions=versions,
            at=at,
            late_fn=late_fn,
            feedback_paths=feedback_paths,
            previous_submission_id=previous_submission_id,
        )
        out.status = sub["status"]
        out.period = sub["period"]
        out.issues = result.issues
        out.changed = True
        out.needs_feedback = True
        if sub["status"] == "retenue":
            out.note = (
                f"la campagne {sub['period']} est close : ce classeur est enregistré et validé, mais il ne "
                "remplacera les données en vigueur qu'à la réouverture de la campagne"
            )
        elif not first:
            out.note = "déjà reçu auparavant ; validé de nouveau avec les règles en vigueur"
        return out

    def _apply_result(
        self,
        sub,
        result: Result,
        *,
        versions: Versions,
        at,
        late_fn,
        feedback_paths,
        previous_submission_id,
    ) -> None:
        sid = sub["submission_id"]
        was_current = sub["status"] in ACCEPTED
        errors, warnings = I.counts(result.issues)
        period = _period_of(result.content)
        old_period = sub["period"]
        sub.update(
            period=period,
            file_format=result.file_format,
            template_version=result.content.template_version if result.content else None,
            referentiel_version=versions.referentiel_version,
            referentiel_sha256=versions.referentiel_sha256,
            rules_version=versions.rules_version,
            registry_sha256=versions.registry_sha256,
            campaigns_sha256=versions.campaigns_sha256,
            n_errors=errors,
            n_warnings=warnings,
            decided_at=at,
            late=bool(late_fn(period, sub["received_at"])),
            last_error=None,
            previous_submission_id=previous_submission_id,
            feedback_annotated=feedback_paths.get("annotated") if result.issues else None,
            feedback_receipt=feedback_paths.get("receipt"),
        )
        self.dirty.add(sid)
        self.replace_data.add(sid)
        self._issue_rows(sid, result.issues)
        if was_current and self.current.get((sub["pole_id"], old_period)) == sid:
            del self.current[(sub["pole_id"], old_period)]
        if errors:
            sub["status"] = "refusee"
            sub["accepted_status"] = None
            if was_current:
                self._reinstate_previous(sub["pole_id"], old_period, at, exclude=sid)
        else:
            sub["accepted_status"] = "acceptee_avec_avertissements" if warnings else "acceptee"
            self._data_rows(sid, result.content)
            if period is not None and self.closed.get(period):
                sub["status"] = "retenue"
            else:
                sub["status"] = sub["accepted_status"]
                self._make_current(sub, at)
        self._bump(old_period, at)
        self._bump(period, at)

    def _make_current(self, sub, at) -> None:
        key = (sub["pole_id"], sub["period"])
        old = self.current.get(key)
        if old is not None and old != sub["submission_id"]:
            self.subs[old]["status"] = "remplacee"
            self.dirty.add(old)
        sub["status"] = sub["accepted_status"] or "acceptee"
        self.current[key] = sub["submission_id"]
        self.dirty.add(sub["submission_id"])
        self._bump(sub["period"], at)

    def _reinstate_previous(self, pole_id, period, at, *, exclude: int) -> int | None:
        candidates = [
            s
            for s in self.subs.values()
            if s["pole_id"] == pole_id
            and s["period"] == period
            and s["status"] == "remplacee"
            and s["submission_id"] != exclude
        ]
        if not candidates:
            return None
        best = max(
            candidates, key=lambda s: (s["decided_at"] or s["received_at"], s["submission_id"])
        )
        self._make_current(best, at)
        return best["submission_id"]

    def _bump(self, period: int | None, at: dt.datetime) -> None:
        if period is not None:
            self.bumps[period] = at

    def failure(self, did: int, reason: str, at: dt.datetime) -> dict[str, Any] | None:
        d = self.get_delivery(did)
        sub = self.submission_for(d["sha256"], d["inbox_folder"])
        if sub is None:
            return None
        sub["attempts"] = int(sub["attempts"] or 0) + 1
        sub["last_error"] = reason[:500]
        sub["status"] = "en_erreur" if sub["attempts"] >= MAX_ATTEMPTS else "en_attente"
        self.dirty.add(sub["submission_id"])
        self.last_seq = max(self.last_seq or 0, did)
        return sub

    # -- corrections ----------------------------------------------------------------------------
    def withdraw(self, seq: int, sid: int, reason: str, by: str, at: dt.datetime) -> int | None:
        sub = self.subs[sid]
        was_current = sub["status"] in ACCEPTED
        sub["status"] = "retiree"
        self.dirty.add(sid)
        reinstated = None
        if was_current:
            if self.current.get((sub["pole_id"], sub["period"])) == sid:
                del self.current[(sub["pole_id"], sub["period"])]
            reinstated = self._reinstate_previous(sub["pole_id"], sub["period"], at, exclude=sid)
        self.audit.append(
            (
                seq,
                at,
                by,
                "withdraw",
                sid,
                sub["period"],
                reason,
                json.dumps({"reinstated": reinstated}),
            )
        )
        self._bump(sub["period"], at)
        self.last_seq = max(self.last_seq or 0, seq)
        return reinstated

    def reprocess(
        self,
        seq: int,
        sid: int,
        result: Result,
        *,
        versions,
        at,
        late_fn,
        feedback_paths,
        by,
        reason,
        previous_submission_id=None,
    ) -> Outcome:
        sub = self.subs[sid]
        before = sub["status"]
        self._apply_result(
            sub,
            result,
            versions=versions,
            at=at,
            late_fn=late_fn,
            feedback_paths=feedback_paths,
            previous_submission_id=previous_submission_id,
        )
        self.audit.append(
            (
                seq,
                at,
                by,
                "reprocess",
                sid,
                sub["period"],
                reason,
                json.dumps({"before": before, "after": sub["status"]}),
            )
        )
        self.last_seq = max(self.last_seq or 0, seq)
        return Outcome(
            sid,
            sub["inbox_folder"],
            sub["original_name"],
            "doublon",
            submission_id=sid,
            status=sub["status"],
            changed=True,
            needs_feedback=True,
            period=sub["period"],
            issues=result.issues,
        )

    def close_campaign(
        self, seq: int, period: int, by: str, at: dt.datetime, reason: str | None, deadline: dt.date
    ) -> None:
        self.closed[period] = True
        self.new_campaigns[period] = (period, deadline, True, at, by)
        self.audit.append((seq, at, by, "campaign_close", None, period, reason, None))
        self._bump(period, at)
        self.last_seq = max(self.last_seq or 0, seq)

    def reopen_campaign(
        self, seq: int, period: int, by: str, at: dt.datetime, reason: str | None, deadline: dt.date
    ) -> list[int]:
        self.closed[period] = False
        self.new_campaigns[period] = (period, deadline, False, None, None)
        held = sorted(
            sid
            for sid, s in self.subs.items()
            if s["period"] == period and s["status"] == "retenue"
        )
        for sid in held:
            self._make_current(self.subs[sid], at)
        self.audit.append(
            (seq, at, by, "campaign_reopen", None, period, reason, json.dumps({"applied": held}))
        )
        self._bump(period, at)
        self.last_seq = max(self.last_seq or 0, seq)
        return held

    def indicator_values_of(self, sid: int) -> tuple[dict[str, float], int | None]:
        """Indicator values of a submission (buffered rows first, then the database)."""
        values = {
            r[1]: r[2] for r in self.rows["indicator_values"] if r[0] == sid and r[2] is not None
        }
        if not values:
            values = dict(
                self.con.execute(
                    "SELECT indicator_code, value FROM indicator_values WHERE submission_id = ? AND value IS NOT NULL",
                    [sid],
                ).fetchall()
            )
        sub = self.subs.get(sid)
        return values, (sub["period"] if sub else None)

    # -- rows -----------------------------------------------------------------------------------
    def issues_of(self, sid: int) -> list[I.Issue]:
        rows = self.con.execute(
            "SELECT code, severity, message, sheet, cell, column_name, value FROM validation_issues "
            "WHERE submission_id = ? ORDER BY seq",
            [sid],
        ).fetchall()
        return [
            I.Issue(
                code=r[0],
                severity=r[1],
                message=r[2],
                sheet=r[3],
                cell=r[4],
                column=r[5],
                value=r[6],
            )
            for r in rows
        ]

    def _issue_rows(self, sid: int, issues: list[I.Issue]) -> None:
        self.rows["validation_issues"].extend(
            (sid, n, i.sheet, i.cell, i.column, i.code, i.severity, i.message, i.value)
            for n, i in enumerate(issues, start=1)
        )

    def _data_rows(self, sid: int, content: Content | None) -> None:
        if content is None:
            return
        ident_sheet = content.sheet_names.get("Identité", "Identité")
        for key, cell in content.identity.items():
            table = "contacts" if key in self.personal else "identity_values"
            self.rows[table].append((sid, key, _text(cell.value), ident_sheet, cell.cell))
        mem_sheet = content.sheet_names.get("Membres", "Membres")
        columns = json.dumps(content.member_columns, sort_keys=True)
        for n, (member, row) in enumerate(
            zip(content.members, content.member_rows, strict=True), start=1
        ):

            def v(key, member=member):
                cell = member.get(key)
                return None if cell is None else cell.value

            year = v("annee_adhesion")
            etp = v("etp")
            self.rows["members"].append(
                (
                    sid,
                    n,
                    v("nom"),
                    v("siret"),
                    v("categorie"),
                    v("forme_juridique"),
                    v("commune"),
                    year if isinstance(year, int) else None,
                    etp if isinstance(etp, float) else None,
                    mem_sheet,
                    row,
                    columns,
                )
            )
        ind_sheet = content.sheet_names.get("Indicateurs", "Indicateurs")
        for code, cell in content.indicators.items():
            comment = content.indicator_comments.get(code)
            value = cell.value if isinstance(cell.value, float) else None
            self.rows["indicator_values"].append(
                (sid, code, value, comment.value if comment else None, ind_sheet, cell.cell)
            )
        crit_sheet = content.sheet_names.get("Critères", "Critères")
        for code, cell in content.criteria.items():
            why = content.justifications.get(code)
            self.rows["criteria_answers"].append(
                (
                    sid,
                    code,
                    _text(cell.value),
                    why.value if why else None,
                    crit_sheet,
                    cell.cell,
                    why.cell if why else None,
                )
            )

    # -- writing --------------------------------------------------------------------------------
    def pending(self) -> bool:
        return bool(
            self.dirty
            or self.dirty_deliveries
            or self.audit
            or self.new_campaigns
            or any(self.rows.values())
        )

    def flush(self, settings=None) -> None:
        """Write everything decided since the last flush, in one transaction."""
        import pandas as pd

        con = self.con
        if not self.pending() and self.last_seq is None:
            return
        con.execute("BEGIN")
        try:
            if self.dirty_deliveries:
                ids = sorted(self.dirty_deliveries)
                con.execute("DELETE FROM deliveries WHERE delivery_id IN (SELECT unnest(?))", [ids])
                frame = pd.DataFrame(
                    [self.deliveries[i] for i in ids], columns=list(DELIVERY_COLUMNS)
                )
                _append(con, "deliveries", frame)
            if self.dirty:
                ids = sorted(self.dirty)
                con.execute(
                    "DELETE FROM submissions WHERE submission_id IN (SELECT unnest(?))", [ids]
                )
                frame = pd.DataFrame([self.subs[i] for i in ids], columns=list(SUBMISSION_COLUMNS))
                _append(con, "submissions", frame)
            if self.replace_data:
                ids = sorted(self.replace_data)
                for table in self.rows:
                    con.execute(
                        f"DELETE FROM {table} WHERE submission_id IN (SELECT unnest(?))", [ids]
                    )
            if settings is not None:
                fault_point(settings, "load_before_commit")
            for table, rows in self.rows.items():
                if rows:
                    _append_rows(con, table, rows)
            for row in self.audit:
                con.execute("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?)", list(row))
            for p, deadline, closed, closed_at, by in self.new_campaigns.values():
                con.execute(
                    "INSERT INTO campaigns VALUES (?, ?, ?, ?, ?) ON CONFLICT (period) DO UPDATE SET "
                    "closed = excluded.closed, closed_at = excluded.closed_at, closed_by = excluded.closed_by",
                    [p, deadline, closed, closed_at, by],
                )
            for period, at in self.bumps.items():
                con.execute(
                    "INSERT INTO period_versions VALUES (?, 1, ?) ON CONFLICT (period) DO UPDATE SET "
                    "version = period_versions.version + 1, changed_at = excluded.changed_at",
                    [period, at],
                )
            if self.last_seq is not None:
                con.execute(
                    "INSERT INTO meta VALUES ('journal_seq', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [str(self.last_seq)],
                )
            if settings is not None:
                fault_point(settings, "load_commit")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        self.dirty.clear()
        self.dirty_deliveries.clear()
        self.replace_data.clear()
        for rows in self.rows.values():
            rows.clear()
        self.audit.clear()
        self.bumps.clear()
        self.new_campaigns.clear()


_TABLE_COLUMNS = {
    "identity_values": ("submission_id", "field", "value", "sheet", "cell"),
    "contacts": ("submission_id", "field", "value", "sheet", "cell"),
    "members": (
        "submission_id",
        "member_no",
        "nom",
        "siret",
        "categorie",
        "forme_juridique",
        "commune",
        "annee_adhesion",
        "etp",
        "sheet",
        "row_number",
        "columns",
    ),
    "indicator_values": ("submission_id", "indicator_code", "value", "comment", "sheet", "cell"),
    "criteria_answers": (
        "submission_id",
        "criterion_code",
        "answer",
        "justification",
        "sheet",
        "cell",
        "justification_cell",
    ),
    "validation_issues": (
        "submission_id",
        "seq",
        "sheet",
        "cell",
        "column_name",
        "code",
        "severity",
        "message",
        "value",
    ),
}


def _append_rows(con, table: str, rows: list[tuple]) -> None:
    import pandas as pd

    frame = pd.DataFrame(rows, columns=list(_TABLE_COLUMNS[table]))
    _append(con, table, frame)


def _append(con, table: str, frame) -> None:
    con.register("_ptce_frame", frame)
    try:
        cols = ", ".join(f'"{c}"' for c in frame.columns)
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _ptce_frame")
    finally:
        con.unregister("_ptce_frame")


def _ts(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _fr_datetime(value: Any) -> str:
    if value is None:
        return "?"
    from zoneinfo import ZoneInfo

    ts = _ts(value).astimezone(ZoneInfo("Europe/Paris"))
    return ts.strftime("%d/%m/%Y à %H:%M")
