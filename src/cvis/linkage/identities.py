"""Stable person identities: linked records share one id, kept from month to month."""

from __future__ import annotations

import pandas as pd

from cvis.linkage.state import LinkageState

REGISTRY = "registry"


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(self, x: tuple[str, str]) -> tuple[str, str]:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: tuple[str, str], b: tuple[str, str]) -> None:
        self.parent[self.find(a)] = self.find(b)


def assign(state: LinkageState, run_id: int, links: pd.DataFrame) -> pd.Series:
    """Person id per link row. A group of linked records keeps the oldest id any member
    already had; only groups with no known member get a new id."""
    uf = _UnionFind()
    for reg, idx, rec in zip(links["registry_id"], links["index"], links["record_id"], strict=True):
        uf.union((REGISTRY, str(reg)), (str(idx), str(rec)))
    known = state.query("SELECT source, record_id, person_id FROM persons")
    known_ids = {(s, r): p for s, r, p in zip(known.source, known.record_id, known.person_id,
                                               strict=True)}
    groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for member in list(uf.parent):
        groups.setdefault(uf.find(member), []).append(member)
    counter = max((int(p[1:]) for p in known_ids.values()), default=0)
    chosen: dict[tuple[str, str], str] = {}
    new_rows = []
    for root, members in sorted(groups.items()):
        existing = sorted(known_ids[m] for m in members if m in known_ids)
        if existing:
            pid = existing[0]
        else:
            counter += 1
            pid = f"P{counter:08d}"
        chosen[root] = pid
        new_rows += [(pid, s, r, run_id) for s, r in members if (s, r) not in known_ids]
    if new_rows:
        state.insert_frame(
            "persons",
            pd.DataFrame(new_rows, columns=["person_id", "source", "record_id", "first_run"]),
        )
    return pd.Series(
        [chosen[uf.find((REGISTRY, str(r)))] for r in links["registry_id"]],
        index=links.index,
        dtype=object,
    )
