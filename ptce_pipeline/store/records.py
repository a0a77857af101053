"""The ledger's vocabulary, shared by the state machine (`store.ledger`) and its DuckDB side
(`store.mirror`): the columns of the tables it mirrors, the statuses it reasons on, and what
it takes in (`Result`) and gives back (`Outcome`, with a `Note` that `feedback` words)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ptce_pipeline.catalogue import issues as I
from ptce_pipeline.content.model import Content

ACCEPTED = ("acceptee", "acceptee_avec_avertissements")
DECIDED = (*ACCEPTED, "remplacee", "retiree", "retenue")  # never reset by our own failures
# The national team's review of an accepted content (`review_state`, beside the status).
TO_REVIEW, SIGNED_OFF, SENT_BACK = "a_revoir", "validee", "a_corriger"
REVIEW_STATES = (TO_REVIEW, SIGNED_OFF, SENT_BACK)
MIGRATION_USER = "migration"  # `reviewed_by` of what migration 004 signed off
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
    "last_delivery_id",
    "last_received_at",
    "review_state",
    "reviewed_at",
    "reviewed_by",
    "review_comment",
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
AUDIT_COLUMNS = (
    "audit_id",
    "done_at",
    "by_user",
    "action",
    "submission_id",
    "period",
    "reason",
    "details",
)
# Loaded as epoch microseconds (converting 10 000 rows of TIMESTAMPTZ to Python objects costs
# more than the rest of the load); `as_datetime` turns them into datetimes where they are used.
TIME_COLUMNS = ("received_at", "decided_at", "last_received_at", "reviewed_at")
# Every note code a decision can carry (`feedback.notes` words each one).
NOTE_CODES = (
    "unknown-sender",
    "held-campaign-closed",
    "superseded",
    "validated-again",
    "already-received",
    "already-received-campaign-closed",
    "already-received-reinstated",
    "already-received-refused",
    "already-received-withdrawn",
    "already-received-held",
    "already-received-replaced",
    "replaced-since",
    "reprocessed-held",
    "reprocessed-superseded",
    "reprocessed",
)


@dataclass(frozen=True)
class Note:
    """Why a decision reads as it does, for the receipt: a code of `NOTE_CODES` and its
    parameters (`received`: a datetime or None, `period`: an int)."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)


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
    outcome: str  # nouvelle | doublon | expediteur_inconnu | ecartee
    submission_id: int | None = None
    status: str | None = None
    note: Note | None = None  # why, for the receipt (déjà reçu…, campagne close…)
    changed: bool = False
    needs_feedback: bool = False
    period: int | None = None
    issues: list[I.Issue] = field(default_factory=list)


def as_datetime(value: Any) -> dt.datetime:
    """A time as loaded (epoch microseconds), journaled (ISO text) or computed → aware."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, int):  # epoch microseconds, as loaded
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=value)
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def as_datetime_or_none(value: Any) -> dt.datetime | None:
    return None if value is None else as_datetime(value)


def period_of(content: Content | None) -> int | None:
    """The period a content declares, when it is a plausible year."""
    if content is None:
        return None
    cell = content.identity.get("periode")
    value = None if cell is None else cell.value
    return value if isinstance(value, int) and 1900 <= value <= 2200 else None


def rank(sub: dict[str, Any]) -> int:
    """The pole's latest drop of this content (journal sequence number)."""
    return int(sub.get("last_delivery_id") or sub["submission_id"])
