"""Review queue and decisions: a person confirms or rejects each candidate link.

Decisions are keyed by (registrant, index, record) and remembered across months;
a decision stops applying when either record's content changes (the link's
fingerprint), so a person looks again at what they have not seen.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cvis.linkage.state import LinkageState

log = logging.getLogger(__name__)

DECISIONS = ("confirm", "reject")


class ReviewError(ValueError):
    """Unknown link key, or no run to review."""


class ConflictingDecisions(ReviewError):
    """One request both confirms and rejects the same link (a usage error)."""


def link_key(registry_id: str, index: str, record_id: str) -> str:
    """Short stable key a reviewer types; the same link has the same key every month."""
    raw = "\x1f".join((str(registry_id), str(index), str(record_id))).encode()
    return hashlib.sha1(raw, usedforsecurity=False).hexdigest()[:10]


@dataclass(frozen=True)
class ReviewItem:
    """A candidate link with the evidence a reviewer needs."""

    key: str
    registry_id: str
    index: str
    record_id: str
    match_probability: float
    match_weight: float
    agreement: str
    person_id: str
    status: str  # pending | re-review | confirmed | rejected
    registrant: dict[str, Any]
    record: dict[str, Any]
    band: str = "link"  # link | review (the clerical band below the threshold)
    reason: str = ""
    office: str = ""
    explanation: list[dict[str, Any]] | None = None


def _items(state: LinkageState, run_id: int) -> list[ReviewItem]:
    rows = state.query(
        """SELECT l.*, d.decision, d.fingerprint AS decided_fp, rr.data AS reg_data,
                  ir.data AS rec_data
           FROM links l
           LEFT JOIN decisions d USING (registry_id, index_name, record_id)
           LEFT JOIN records rr ON rr.run_id = l.run_id AND rr.source = 'registry'
                AND rr.record_id = l.registry_id
           LEFT JOIN records ir ON ir.run_id = l.run_id AND ir.source = l.index_name
                AND ir.record_id = l.record_id
           WHERE l.run_id = ?
           ORDER BY l.match_probability DESC, l.registry_id""",
        [run_id],
    )
    items = []
    for r in rows.itertuples(index=False):
        if not isinstance(r.decision, str):
            status = "pending"
        elif r.decided_fp != r.fingerprint:
            status = "re-review"
        else:
            status = "confirmed" if r.decision == "confirm" else "rejected"
        items.append(ReviewItem(
            key=link_key(r.registry_id, r.index_name, r.record_id),
            registry_id=r.registry_id, index=r.index_name, record_id=r.record_id,
            match_probability=float(r.match_probability), match_weight=float(r.match_weight),
            agreement=r.agreement or "", person_id=r.person_id, status=status,
            registrant=json.loads(r.reg_data) if isinstance(r.reg_data, str) else {},
            record=json.loads(r.rec_data) if isinstance(r.rec_data, str) else {},
            band=r.band if isinstance(r.band, str) else "link",
            reason=r.reason if isinstance(r.reason, str) else "",
            office=r.office if isinstance(r.office, str) else "",
            explanation=(json.loads(r.explanation).get("fields")
                         if isinstance(r.explanation, str) else None),
        ))
    return items


def queue(state: LinkageState, include_decided: bool = False) -> list[ReviewItem]:
    """Links of the latest run awaiting a decision (or all of them)."""
    run_id = state.latest_run_id()
    if run_id is None:
        return []
    items = _items(state, run_id)
    if include_decided:
        return items
    return [i for i in items if i.status in ("pending", "re-review")]


def check_actions(actions: list[tuple[str, str]]) -> None:
    """Refuse a request that both confirms and rejects one link."""
    verdicts: dict[str, set[str]] = {}
    for key, decision in actions:
        verdicts.setdefault(key, set()).add(decision)
    both = sorted(k for k, v in verdicts.items() if len(v) > 1)
    if both:
        raise ConflictingDecisions(f"conflicting decisions (confirm and reject) for "
                                   f"{', '.join(both)}; nothing recorded")


def decide(state: LinkageState, key: str, decision: str, reviewer: str,
           note: str = "") -> ReviewItem:
    """Record a decision on a link of the latest run; a confirmation opens a lead."""
    if decision not in DECISIONS:
        raise ReviewError(f"decision must be one of {', '.join(DECISIONS)}")
    run_id = state.latest_run_id()
    if run_id is None:
        raise ReviewError("no linkage run to review yet")
    matches = [i for i in _items(state, run_id) if i.key == key]
    if not matches:
        raise ReviewError(f"no link with key {key} in the latest run")
    item = matches[0]
    if decision == "reject" and not note.strip():
        raise ReviewError("a rejection needs a reason (--note)")
    row = state.query(
        "SELECT fingerprint, explanation, match_weight FROM links WHERE run_id=? AND "
        "registry_id=? AND index_name=? AND record_id=?",
        [run_id, item.registry_id, item.index, item.record_id]).iloc[0]
    detail = json.loads(row.explanation) if isinstance(row.explanation, str) else {}
    label = json.dumps({**detail, "match_weight": float(row.match_weight)})
    values = [item.registry_id, item.index, item.record_id, decision, reviewer, note,
              datetime.now(UTC).replace(tzinfo=None), run_id, row.fingerprint, label]
    state.execute("INSERT OR REPLACE INTO decisions (registry_id, index_name, record_id, "
                  "decision, reviewer, note, decided_at, run_id, fingerprint, explanation) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
    state.execute("INSERT INTO decision_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
    if decision == "confirm":
        _open_lead(state, item, run_id)
    else:
        state.execute("UPDATE leads SET status = 'withdrawn' WHERE lead_id = ?", [item.key])
    log.info("decision %s recorded for link %s", decision, key)
    return _replace_status(item, "confirmed" if decision == "confirm" else "rejected")


def _replace_status(item: ReviewItem, status: str) -> ReviewItem:
    return ReviewItem(**{**item.__dict__, "status": status})


def field_office(item: ReviewItem) -> str:
    """The owning field office: the one resolved at the run (area-of-responsibility table),
    else the index record's or registrant's own, else by state."""
    if item.office:
        return item.office
    for data in (item.record, item.registrant):
        if data.get("field_office"):
            return str(data["field_office"])
    state = item.registrant.get("state") or item.record.get("state")
    return f"office for {state}" if state else "unassigned"


def _open_lead(state: LinkageState, item: ReviewItem, run_id: int) -> None:
    state.execute(
        "INSERT OR REPLACE INTO leads VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open')",
        [item.key, item.person_id, item.registry_id, item.index, item.record_id,
         field_office(item), datetime.now(UTC).replace(tzinfo=None), run_id],
    )


@dataclass(frozen=True)
class Lead:
    """A confirmed link handed to the field office that owns it."""

    lead_id: str
    person_id: str
    registry_id: str
    index: str
    record_id: str
    field_office: str
    status: str


def leads(state: LinkageState, office: str | None = None) -> list[Lead]:
    """Open leads, by field office."""
    sql = ("SELECT lead_id, person_id, registry_id, index_name, record_id, field_office, status"
           " FROM leads WHERE status = 'open'")
    params: list[Any] = []
    if office:
        sql += " AND field_office = ?"
        params.append(office)
    rows = state.query(sql + " ORDER BY field_office, created_at", params)
    return [Lead(*r) for r in rows.itertuples(index=False)]


def reopen(state: LinkageState, index: str, record_id: str, reason: str,
           reviewer: str = "") -> int:
    """Return a link to review: its decision is dropped (the link reads "pending" again),
    its lead withdrawn, and the reopening kept in the decision log with its reason.

    Used when the field finds the linked person is not the registrant (a "wrong person"
    outcome): nothing is rejected automatically, a person looks at the link again.
    Returns how many decided links were reopened (0 when none was decided).
    """
    if not reason.strip():
        raise ReviewError("reopening a link needs a reason")
    decided = state.query(
        "SELECT registry_id, run_id, fingerprint, explanation FROM decisions "
        "WHERE index_name = ? AND record_id = ?", [index, record_id])
    stamp = datetime.now(UTC).replace(tzinfo=None)
    for row in decided.itertuples(index=False):
        state.execute("INSERT INTO decision_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      [row.registry_id, index, record_id, "reopen", reviewer, reason, stamp,
                       row.run_id, row.fingerprint, row.explanation])
    state.execute("DELETE FROM decisions WHERE index_name = ? AND record_id = ?",
                  [index, record_id])
    state.execute("UPDATE leads SET status = 'withdrawn' WHERE index_name = ? AND record_id = ?",
                  [index, record_id])
    log.info("link %s:%s returned to review", index, record_id)
    return len(decided)
