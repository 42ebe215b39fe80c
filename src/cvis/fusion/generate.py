"""A generated month (Faker people, never real ones): registry extract with offence and
compliance attributes, an inmate index, a warrants index, an immigration index and tips.

``generate_month(folder, month=1)`` writes the files; month 2 changes a few things
(one absconder more, some releases, a new tip) so the second run shows what changed.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from cvis.linkage import synthetic


@dataclass(frozen=True)
class MonthFiles:
    registry: Path
    indices: dict[str, Path]
    mappings: dict[str, Path]
    tips: Path
    as_of: date


def _registry(n: int, seed: int, rnd: random.Random) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    data = synthetic.generate(n, max(20, n // 4), matched_share=0.25, seed=seed,
                              release_within_days=200)
    reg = data.registry.copy()
    reg["offence_against_child"] = [rnd.random() < 0.6 for _ in range(len(reg))]
    reg["contact_offence"] = [rnd.random() < 0.4 for _ in range(len(reg))]
    reg["compliance"] = [("absconded" if rnd.random() < 0.06 else "compliant")
                         for _ in range(len(reg))]
    return reg, data.index, data.index_mapping


def _copies(reg: pd.DataFrame, rows: list[int], extra: dict[str, list[object]],
            prefix: str) -> pd.DataFrame:
    picked = reg.iloc[rows][["given_names", "family_name", "dob", "sex"]].reset_index(drop=True)
    picked.insert(0, "id", [f"{prefix}{i:05d}" for i in range(len(picked))])
    for name, values in extra.items():
        picked[name] = values
    return picked


def generate_month(folder: Path, month: int = 1, registrants: int = 400, seed: int = 21,
                   start: date | None = None) -> MonthFiles:
    """Write month `month` (1 or 2) of a generated programme into `folder`."""
    first = start or date.today().replace(day=1)
    as_of = first if month == 1 else first + timedelta(days=31)
    rnd = random.Random(seed)
    reg, inmates, inmate_mapping = _registry(registrants, seed, rnd)
    if month > 1:  # a month later: two more registrants absconded
        for i in (10, 11):
            reg.loc[i, "compliance"] = "absconded"
    folder.mkdir(parents=True, exist_ok=True)
    picks = rnd.sample(range(len(reg)), 40)
    warrants = _copies(reg, picks[:8], {"wanted": [True] * 8,
                                        "charge": ["failure to register"] * 8}, "W")
    immigration = _copies(reg, picks[8:20], {
        "removable": [rnd.random() < 0.7 for _ in range(12)],
        "removal_country": [rnd.choice(["MX", "GT", "HN", "GB", "DE"]) for _ in range(12)],
    }, "A")
    paths = {"registry": folder / "registry.csv", "inmates": folder / "inmates.csv",
             "warrants": folder / "warrants.csv", "immigration": folder / "immigration.csv"}
    reg.to_csv(paths["registry"], index=False)
    inmates.to_csv(paths["inmates"], index=False)
    warrants.to_csv(paths["warrants"], index=False)
    immigration.to_csv(paths["immigration"], index=False)
    mapping = folder / "inmates.toml"
    mapping.write_text(inmate_mapping, encoding="utf-8")
    tips = folder / "tips.jsonl"
    lines = []
    for k, i in enumerate(picks[20:26] + ([picks[26]] if month > 1 else [])):
        r = reg.iloc[i]
        lines.append(json.dumps({"tip_id": f"{month}-{k}", "name": f"{r.given_names} "
                                 f"{r.family_name}", "dob": r.dob,
                                 "received_at": f"{as_of - timedelta(days=k)}T10:00:00+00:00"}))
    tips.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return MonthFiles(paths["registry"], {k: v for k, v in paths.items() if k != "registry"},
                      {"inmates": mapping}, tips, as_of)
