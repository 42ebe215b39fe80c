"""The monthly protocol on a generated month, then a second month showing what changed."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from cvis.fusion.generate import generate_month
from cvis.fusion.month import MonthRequest, run_month
from cvis.linkage import service as linkage
from cvis.policy.actors import local_operator
from cvis.store.db import Store


def _request(folder: Path, month: int, out: Path, state: Path) -> MonthRequest:
    files = generate_month(folder / f"in{month}", month, registrants=200,
                           start=date(2026, 10, 1))
    return MonthRequest(
        period=files.as_of.strftime("%Y-%m"),
        registry=linkage.InputSpec("registry", files.registry),
        indices=[linkage.InputSpec(n, p, files.mappings.get(n)) for n, p in files.indices.items()],
        out=out, state_dir=state, as_of=files.as_of, tips=files.tips)


def test_two_generated_months(sqlite_store: Store, tmp_path: Path) -> None:
    actor = local_operator(purpose="monthly protocol")
    state = tmp_path / "linkage"
    first = run_month(sqlite_store, actor, _request(tmp_path, 1, tmp_path / "m1", state))
    s1 = first.summary
    assert s1["subjects"] == 200 and s1["links"] > 0 and s1["targets"] > 0
    assert s1["link_changes"] == {"new": s1["links"]}
    assert first.targets[0].rank == 1 and first.targets[0].factors
    assert {t.tier for t in first.targets} <= {"critical", "high", "medium", "low"}
    assert (tmp_path / "m1" / "month.pdf").read_bytes().startswith(b"%PDF")
    lines = (tmp_path / "m1" / "targets.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["subject_id"] == first.targets[0].subject_id
    assert s1["detainers_drafted"] > 0  # linked inmates released within 90 days

    # a field team finds the wrong person: the link goes back to the review queue
    from cvis.fusion import queues

    item = next(i for i in linkage.review_queue(state) if i.index == "inmates")
    linkage.decide(state, item.key, "confirm", "reviewer")
    assert item.key not in {i.key for i in linkage.review_queue(state)}
    job = queues.assign(sqlite_store, actor, f"S-{item.registry_id}", "HOU",
                        link_key=f"inmates:{item.record_id}")
    queues.record_outcome(sqlite_store, actor, job, "wrong_person", "not him",
                          state_dir=state)
    back = {i.key: i.status for i in linkage.review_queue(state)}
    assert back[item.key] == "pending"

    second = run_month(sqlite_store, actor, _request(tmp_path, 2, tmp_path / "m2", state))
    s2 = second.summary
    assert s2["subjects"] == 200 and s2["link_run"] == s1["link_run"] + 1
    assert s2["ingested"]["facts"] < s1["ingested"]["facts"]  # only what changed is new
    absconders = {t.subject_id for t in second.targets
                  if any(f["name"] == "absconder" for f in t.factors)}
    assert {"S-R0000010", "S-R0000011"} <= absconders
    flagged = set(s2["no_bond_flags"])
    assert flagged and flagged <= {t.subject_id for t in second.targets if t.tier in (
        "critical", "high")}
    assert s2["most_wanted_nominations"]
    assert s2["previous_period"] == s1["period"]
    assert {"S-R0000010", "S-R0000011"} & (set(s2["targets_new"]) | set(s2["tier_changes"]))


def test_the_fusion_demo_runs_end_to_end(sqlite_store: Store, tmp_path: Path) -> None:
    from cvis.fusion.demo import run_fusion_demo

    said: list[str] = []
    made = run_fusion_demo(tmp_path, said.append, store=sqlite_store)
    assert len(made["months"]) == 2 and made["annual"]["errors_found"] == 1
    assert any("the namesake is not proposed" in line and "[1, 0]" in line for line in said)
    # the demo's programme belongs to the demo agency, so `cvis demo --serve`'s sign-in sees it
    from cvis.fusion import views
    from cvis.fusion.service import list_targets
    from cvis.policy import Actor

    demo = Actor("demo", "Demo Agency", "supervisor", frozenset({"fusion:read"}))
    targets = list_targets(sqlite_store, demo)
    assert targets and {t.office for t in targets} <= {"WEST", "SOUTH", "EAST"}
    assert len(views.month_reports(sqlite_store, demo)) == 2
    assert views.queue_rows(sqlite_store, demo)[0] and views.detainers(sqlite_store, demo,
                                                                       date.today())


def test_target_list_takes_in_a_plain_link_run(tmp_path: Path, monkeypatch) -> None:
    import json as _json

    from typer.testing import CliRunner

    from cvis.cli.app import app

    home = tmp_path / "home"
    monkeypatch.setenv("CVIS_HOME", str(home))
    monkeypatch.setenv("CVIS_DATABASE_URL", f"sqlite:///{home / 'cvis.db'}")
    files = generate_month(tmp_path / "in", 1, registrants=150, start=date(2026, 10, 1))
    runner = CliRunner()
    linked = runner.invoke(app, ["link", "run", "--registry", str(files.registry),
                                 "--index", f"inmates={files.indices['inmates']}",
                                 "--mapping", f"inmates={files.mappings['inmates']}",
                                 "--out", str(tmp_path / "links"), "--quiet"])
    assert linked.exit_code == 0, linked.output
    result = runner.invoke(app, ["target", "list", "--as-of", files.as_of.isoformat()])
    assert result.exit_code == 0, result.output
    rows = [_json.loads(line) for line in result.stdout.splitlines()]
    assert rows and [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert all(any(s["kind"] == "link" for s in r["sources"]) for r in rows)
    again = runner.invoke(app, ["target", "list", "--as-of", files.as_of.isoformat()])
    assert again.stdout == result.stdout  # the same run is not taken in twice
