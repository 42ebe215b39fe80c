"""A monthly run: read inputs, link every index, record the run, compare with last month."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from cvis.linkage import assign, features, feedback, identities, matching, model, offices
from cvis.linkage.engines import Engine
from cvis.linkage.mapping import ROW, SourceTable, load_mapping, load_source
from cvis.linkage.persons import Issue
from cvis.linkage.state import LinkageState

log = logging.getLogger(__name__)

CHANGE_THRESHOLD = 0.01  # a probability moving less than this is not "changed"


@dataclass(frozen=True)
class InputSpec:
    """A named input file and its optional mapping file."""

    name: str
    path: Path
    mapping: Path | None = None


@dataclass(frozen=True)
class RunRequest:
    """Everything one monthly run needs."""

    registry: InputSpec
    indices: list[InputSpec]
    state_dir: Path
    threshold: float = 0.5
    review_threshold: float = 0.2
    engine: str = "duckdb"
    retrain: bool = False
    training_sample: int | None = None
    threads: int | None = None


@dataclass
class RunResult:
    """What a run produced; `links` (at or above the threshold) and `review` (the clerical
    band below it) have matching.SCORED_COLUMNS plus identity, band, reason, person_id."""

    run_id: int
    links: pd.DataFrame
    review: pd.DataFrame
    changes: pd.DataFrame
    issues: list[Issue]
    inputs: list[dict[str, Any]]
    models: dict[str, str]
    previous_run_id: int | None
    timings: dict[str, float] = field(default_factory=dict)


Progress = Callable[[str], None]


def _record_json(table: SourceTable, ids: set[str]) -> pd.DataFrame:
    frame = table.frame[table.frame["id"].isin(ids)].drop(columns=[ROW])
    data = [json.dumps({k: v for k, v in row.items() if v is not None}, sort_keys=True,
                       default=str) for row in frame.to_dict("records")]
    return pd.DataFrame({"source": table.name, "record_id": frame["id"].astype(str),
                         "data": data})


def _fingerprints(links: pd.DataFrame, records: pd.DataFrame, registry: str) -> pd.Series:
    """Hash of both records' content: a decision is only remembered for the same data."""
    digest = {(s, r): hashlib.sha256(d.encode()).hexdigest()
              for s, r, d in zip(records.source, records.record_id, records.data, strict=True)}
    return pd.Series([
        hashlib.sha256(
            (digest.get((registry, str(a)), "") + digest.get((i, str(b)), "")).encode()
        ).hexdigest()[:16]
        for a, i, b in zip(links.registry_id, links["index"], links.record_id, strict=True)
    ], index=links.index, dtype=object)


def compare(current: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """New, changed and ended links between two runs' link tables."""
    key = ["registry_id", "index", "record_id"]
    merged = current.merge(previous, on=key, how="outer", suffixes=("", "_prev"),
                           indicator=True)
    change = pd.Series("unchanged", index=merged.index, dtype=object)
    change[merged["_merge"] == "left_only"] = "new"
    change[merged["_merge"] == "right_only"] = "ended"
    both = merged["_merge"] == "both"
    moved = (merged["match_probability"] - merged["match_probability_prev"]).abs()
    differs = (moved >= CHANGE_THRESHOLD) | (merged["fingerprint"] != merged["fingerprint_prev"])
    change[both & differs] = "changed"
    out = merged.assign(change=change)[
        [*key, "change", "match_probability_prev", "match_probability"]
    ].rename(columns={"match_probability_prev": "previous_probability"})
    return out[out["change"] != "unchanged"].sort_values(key).reset_index(drop=True)


def _previous_links(state: LinkageState, run_id: int | None) -> pd.DataFrame:
    cols = ["registry_id", "index", "record_id", "match_probability", "fingerprint"]
    if run_id is None:
        return pd.DataFrame(columns=cols)
    return state.query(
        "SELECT registry_id, index_name AS \"index\", record_id, match_probability, fingerprint"
        " FROM links WHERE run_id = ? AND coalesce(band, 'link') = 'link'", [run_id])


def _link_index(engine: Engine, state: LinkageState, registry: SourceTable,
                index: SourceTable, req: RunRequest) -> tuple[pd.DataFrame, model.ModelRef]:
    fields = features.shared_fields(registry.frame, index.frame)
    left = features.splink_input(registry.frame, fields)
    right = features.splink_input(index.frame, fields, side="i")
    ref = model.obtain(state.models, index.name, engine, left, right, fields,
                       retrain=req.retrain, sample=req.training_sample,
                       cal=feedback.calibration_with_decisions(state, index.name))
    floor = min(req.review_threshold, req.threshold)
    identities = assign.index_identities(right)
    inputs = [left, right]
    del left, right  # predict_consuming frees them once the engine holds the tables
    found = matching.predict_consuming(engine, ref, index.name, inputs, floor)
    pairs = assign.plausible(found.links, identities, req.threshold, floor)
    log.info("%s: %d links at threshold %.2f, %d in the review band", index.name,
             int((pairs["band"] == assign.LINK).sum()), req.threshold,
             int((pairs["band"] == assign.REVIEW).sum()))
    return pairs, ref


def execute(req: RunRequest, progress: Progress | None = None) -> RunResult:
    """Run one month end to end and record it in the state directory."""
    step = progress or (lambda _msg: None)
    started = datetime.now(UTC).replace(tzinfo=None)
    timings: dict[str, float] = {}
    step("reading inputs")
    t0 = datetime.now(UTC)
    registry = load_source("registry", req.registry.path, load_mapping(req.registry.mapping))
    indices = [load_source(i.name, i.path, load_mapping(i.mapping)) for i in req.indices]
    timings["read"] = (datetime.now(UTC) - t0).total_seconds()
    engine = Engine(req.engine, threads=req.threads)
    with LinkageState(req.state_dir, purpose="link run") as state:
        run_id = state.next_run_id()
        all_links, models = [], {}
        for table in indices:
            step(f"linking {table.name}")
            t0 = datetime.now(UTC)
            links, ref = _link_index(engine, state, registry, table, req)
            timings[f"link:{table.name}"] = (datetime.now(UTC) - t0).total_seconds()
            all_links.append(links)
            models[table.name] = ref.label
        scored = pd.concat(all_links, ignore_index=True) if all_links else pd.DataFrame(
            columns=[*matching.SCORED_COLUMNS, "identity", "band", "reason"])
        links = scored[scored["band"] == assign.LINK].reset_index(drop=True)
        review = scored[scored["band"] == assign.REVIEW].reset_index(drop=True)
        step("recording the run")
        records = pd.concat(
            [_record_json(registry, set(scored["registry_id"]))]
            + [_record_json(t, set(scored.loc[scored["index"] == t.name, "record_id"]))
               for t in indices], ignore_index=True)
        links["fingerprint"] = _fingerprints(links, records, registry.name)
        review["fingerprint"] = _fingerprints(review, records, registry.name)
        links["person_id"] = identities.assign(state, run_id, links) if len(links) else []
        review["person_id"] = ""
        links["office"] = offices.owning(links, records)
        review["office"] = offices.owning(review, records)
        previous_id = state.latest_run_id(before=run_id)
        changes = compare(links, _previous_links(state, previous_id))
        issues = registry.issues + [i for t in indices for i in t.issues]
        inputs = [{"name": t.name, "path": str(spec.path), "sha256": t.sha256,
                   "records": len(t.frame)}
                  for t, spec in zip([registry, *indices], [req.registry, *req.indices],
                                     strict=True)]
        _record(state, run_id, started, req, inputs, models, links, review, records, issues)
    log.info("run %d: %d links, %d for review, %d changes since run %s", run_id, len(links),
             len(review), len(changes), previous_id)
    return RunResult(run_id, links, review, changes, issues, inputs, models, previous_id,
                     timings)


def _record(state: LinkageState, run_id: int, started: datetime, req: RunRequest,
            inputs: list[dict[str, Any]], models: dict[str, str], links: pd.DataFrame,
            review: pd.DataFrame, records: pd.DataFrame, issues: list[Issue]) -> None:
    state.execute(
        "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, started, datetime.now(UTC).replace(tzinfo=None), req.engine, req.threshold,
         str(req.registry.path), json.dumps(inputs), json.dumps(models), len(links),
         len(issues)],
    )
    both = pd.concat([links, review], ignore_index=True)
    stored = both.rename(columns={"index": "index_name"}).assign(run_id=run_id)
    state.insert_frame("links", stored[[
        "run_id", "registry_id", "index_name", "record_id", "match_probability",
        "match_weight", "agreement", "fingerprint", "person_id", "band", "reason",
        "explanation", "identity", "office"]])
    state.insert_frame("records", records.assign(run_id=run_id)[
        ["run_id", "source", "record_id", "data"]])


def write_outputs(result: RunResult, out: Path) -> dict[str, Path]:
    """links.csv (the contract), changes.csv, issues.csv and run.json in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / name for name in ("links.csv", "links_explained.jsonl",
                                           "review_band.csv", "changes.csv", "issues.csv",
                                           "run.json")}
    result.links[matching.LINK_COLUMNS].to_csv(paths["links.csv"], index=False)
    _write_explained(result, paths["links_explained.jsonl"])
    result.review[[*matching.LINK_COLUMNS, "reason"]].to_csv(paths["review_band.csv"],
                                                             index=False)
    result.changes.to_csv(paths["changes.csv"], index=False)
    pd.DataFrame([i.__dict__ for i in result.issues],
                 columns=["source", "row", "field", "problem"]).to_csv(paths["issues.csv"],
                                                                     index=False)
    summary = {
        "run_id": result.run_id,
        "previous_run_id": result.previous_run_id,
        "inputs": result.inputs,
        "models": result.models,
        "links": len(result.links),
        "review_band": len(result.review),
        "changes": result.changes["change"].value_counts().to_dict(),
        "issues": len(result.issues),
        "timings_s": result.timings,
    }
    paths["run.json"].write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return paths


def _write_explained(result: RunResult, path: Path) -> None:
    """One JSON line per link, then per review-band pair: the evidence field by field."""
    with open(path, "w", encoding="utf-8") as fh:
        for band, frame in (("link", result.links), ("review", result.review)):
            for row in frame.to_dict("records"):
                detail = json.loads(row["explanation"]) if row.get("explanation") else {}
                fh.write(json.dumps({
                    "registry_id": row["registry_id"], "index": row["index"],
                    "record_id": row["record_id"],
                    "match_probability": round(float(row["match_probability"]), 6),
                    "match_weight": round(float(row["match_weight"]), 4),
                    "band": band, "reason": row.get("reason") or "",
                    "identity": row.get("identity"), "office": row.get("office") or None,
                    **detail,
                }, ensure_ascii=False) + "\n")
