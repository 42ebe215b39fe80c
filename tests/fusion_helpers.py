"""Synthetic registry, manifests and a generated month for the fusion and foreign tests."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from cvis.foreign.manifest import COLUMNS
from cvis.linkage import synthetic

# A registrant with a common name, and a traveller who shares only the name.
COMMON = {"id": "R9000001", "given_names": "John", "family_name": "Smith",
          "dob": "1971-03-14", "sex": "M", "state": "TX"}


def registry_frame(n: int = 300, seed: int = 5) -> pd.DataFrame:
    reg = synthetic.generate(n, 5, seed=seed).registry
    extra = pd.DataFrame([COMMON])
    return pd.concat([reg, extra], ignore_index=True)


def write_registry(folder: Path, n: int = 300) -> tuple[Path, pd.DataFrame]:
    frame = registry_frame(n)
    path = folder / "registry.csv"
    frame.to_csv(path, index=False)
    return path, frame


def write_manifest(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(COLUMNS))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in COLUMNS})
    return path


def traveller_from(reg: pd.Series, departure: str = "2026-12-20T09:15:00-05:00",
                   destination: str = "GB", **over: str) -> dict[str, str]:
    row = {"given_names": str(reg["given_names"]), "family_name": str(reg["family_name"]),
           "dob": str(reg["dob"]), "sex": str(reg["sex"]), "nationality": "US",
           "passport_number": f"P{abs(hash(reg['id'])) % 10**8:08d}",
           "departure_at": departure, "destination": destination, "flight": "XA100"}
    row.update(over)
    return row


def paxlst(passengers: list[dict[str, str]], origin: str = "JFK", arrival: str = "LHR",
           departure: str = "2612201430") -> str:
    """A PAXLST interchange, one segment a line."""
    lines = ["UNA:+.? '", "UNB+UNOA:4+AIRLINE1+USCBP+261130:1200+000000001++USADHS'",
             "UNH+PAX001+PAXLST:D:02B:UN:IATA'", "BGM+745'", "NAD+MS+++OPS DESK'",
             "TDT+20+XA123'", f"LOC+125+{origin}'", f"DTM+189:{departure}:201'",
             f"LOC+87+{arrival}'", "DTM+232:2612210230:201'"]
    for p in passengers:
        family = p["family_name"].replace("'", "?'")
        lines += [f"NAD+FL+++{family}:{p['given_names']}'", f"ATT+2++{p['sex']}'",
                  f"DTM+329:{p['dob'].replace('-', '')[2:]}'", "NAT+2+USA'",
                  f"DOC+P+{p['passport_number']}'"]
    lines += [f"CNT+42:{len(passengers)}'", f"UNT+{len(lines) - 1}+PAX001'",
              "UNZ+1+000000001'"]
    return "\n".join(lines) + "\n"
