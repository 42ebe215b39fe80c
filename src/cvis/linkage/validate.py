"""Check inputs before anything runs: required and expected fields, near-miss column
names, and which comparisons the run will and will not make.

A registry whose date-of-birth column was renamed would otherwise run without its
strongest evidence against linking namesakes; a renamed family-name column would
end in a Splink traceback. Both are input errors (exit 2), said in words.
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from cvis.linkage.mapping import Mapping, MappingError, is_parquet
from cvis.linkage.persons import CANONICAL_FIELDS

#: What a missing field costs, in the words a user reads.
COMPARISONS = {
    "dob": "the date-of-birth comparison (the strongest evidence against linking namesakes)",
    "given_names": "the given-name comparison",
    "sex": "the sex comparison",
    "national_id": "the national-id comparison",
    "state": "the state comparison",
    "postcode": "the postcode comparison",
    "address": "the address comparison",
    "city": "the city comparison",
    "nationality": "the nationality comparison",
    "country_of_birth": "the country-of-birth comparison",
}
#: Fields a run should not go without unless told (--allow-missing FIELD).
EXPECTED = ("dob",)

#: Common spellings of canonical fields (compared lower-case, letters and digits only).
SYNONYMS = {
    "dateofbirth": "dob", "birthdate": "dob", "birthday": "dob", "born": "dob",
    "dobirth": "dob", "bdate": "dob", "surname": "family_name", "lastname": "family_name",
    "familyname": "family_name", "lname": "family_name", "firstname": "given_names",
    "givenname": "given_names", "forename": "given_names", "fname": "given_names",
    "givennames": "given_names", "forenames": "given_names", "name": "full_name",
    "fullname": "full_name", "ssn": "national_id", "socialsecuritynumber": "national_id",
    "nationalid": "national_id", "gender": "sex", "zip": "postcode", "zipcode": "postcode",
    "postalcode": "postcode", "alias": "aliases", "aka": "aliases", "middlename": "middle_names",
    "nativename": "native_script_name",
}


class InputError(MappingError):
    """An input lacks what the run needs, or names a column that looks mistyped."""


@dataclass
class InputCheck:
    """What one input provides (canonical fields) and what it left as attributes."""

    name: str
    fields: set[str] = field(default_factory=set)
    attributes: list[str] = field(default_factory=list)


def _key(column: str) -> str:
    return re.sub(r"[^a-z0-9]", "", column.lower())


def looks_like(column: str) -> str | None:
    """The canonical field an unmapped column most likely meant, if any."""
    if column in CANONICAL_FIELDS:
        return None
    key = _key(column)
    if key in SYNONYMS:
        return SYNONYMS[key]
    close = difflib.get_close_matches(column.lower(), CANONICAL_FIELDS, n=1, cutoff=0.8)
    return close[0] if close else None


def header(path: Path, mapping: Mapping) -> list[str]:
    """Column names only: the first CSV line, or the Parquet schema."""
    if is_parquet(path, mapping):
        import pyarrow.parquet as pq

        return [str(n) for n in pq.read_schema(path).names]
    with open(path, newline="", encoding=mapping.encoding, errors="replace") as fh:
        row = next(csv.reader(fh, delimiter=mapping.delimiter), [])
    return [c.strip() for c in row]


def check_input(name: str, path: Path, mapping: Mapping) -> InputCheck:
    """Mapping columns exist, near-miss names are flagged, id and a name are present."""
    if not Path(path).is_file():
        raise InputError(f"{name}: no such file {path}")
    columns = header(Path(path), mapping)
    if not columns:
        raise InputError(f"{name}: {path} is empty (no header line)")
    check = InputCheck(name)
    used: set[str] = set()
    for key, spec in {**mapping.fields, **mapping.attributes}.items():
        for col in spec.columns:
            if col not in columns:
                hint = difflib.get_close_matches(col, columns, n=1, cutoff=0.6)
                raise InputError(f"{name}: the mapping's {key!r} names column {col!r}, which "
                                 f"{path.name} does not have"
                                 + (f"; did you mean {hint[0]!r}?" if hint else ""))
            used.add(col)
        if key in mapping.fields:
            check.fields.add(key)
    for col in columns:
        if col in used:
            continue
        if col in CANONICAL_FIELDS:
            check.fields.add(col)
            continue
        meant = looks_like(col)
        if meant and meant not in check.fields and meant not in mapping.fields:
            raise InputError(
                f"{name}: column {col!r} looks like the canonical field {meant!r}; rename it "
                f"to {meant!r} or map it in a mapping file ({meant} = \"{col}\"), so that "
                f"{COMPARISONS.get(meant, 'its comparison')} is made")
        check.attributes.append(col)
    if "id" not in check.fields:
        raise InputError(f"{name}: no 'id' column, and the mapping does not name one")
    if not check.fields & {"family_name", "full_name"}:
        raise InputError(f"{name}: no family name: give a 'family_name' or 'full_name' "
                         "column (or map one); names are what cvis links on")
    return check


def check_run(inputs: list[tuple[str, Path, Mapping]], allow_missing: set[str]
              ) -> list[str]:
    """Check every input; returns notes on comparisons that will not be made (one side
    only). Raises InputError on what must be fixed first."""
    checks = [check_input(n, p, m) for n, p, m in inputs]
    for check in checks:
        for expected in EXPECTED:
            if expected not in check.fields and expected not in allow_missing:
                raise InputError(
                    f"{check.name}: no {expected!r} column, so {COMPARISONS[expected]} would "
                    f"be skipped; map it ({expected} = \"YourColumn\") or pass "
                    f"--allow-missing {expected}")
    registry, indices = checks[0], checks[1:]
    notes = []
    for index in indices:
        one_sided = sorted((registry.fields ^ index.fields) & set(COMPARISONS))
        if one_sided:
            notes.append(f"{index.name}: not compared (only one side has it): "
                         + "; ".join(COMPARISONS[f] for f in one_sided))
    return notes
