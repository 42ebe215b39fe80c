"""The owning field office of each link, from the index record's place (state, county)
through the area-of-responsibility table the deployment imports (`cvis office import`)."""

from __future__ import annotations

import json
import logging
from functools import cache

import pandas as pd
from sqlalchemy.exc import SQLAlchemyError

from cvis.offices.service import office_for
from cvis.store.db import Store

log = logging.getLogger(__name__)
REGISTRY = "registry"


def _place(data: dict[str, object]) -> tuple[str, str]:
    return str(data.get("state") or ""), str(data.get("county") or "")


def owning(links: pd.DataFrame, records: pd.DataFrame) -> pd.Series:
    """Office id per link: the index record's county or state, else the registrant's; the
    record's own `field_office` attribute when the table has no answer; else ''."""
    if links.empty:
        return pd.Series([], dtype=object, index=links.index)
    data = {(s, r): json.loads(d) for s, r, d in
            zip(records["source"], records["record_id"], records["data"], strict=True)}
    try:
        store = Store()
        with store.session() as session:
            @cache
            def lookup(state: str, county: str) -> str:
                office = office_for(session, state or None, county or None)
                return office.office_id if office is not None else ""

            out = []
            for reg, idx, rec in zip(links["registry_id"], links["index"], links["record_id"],
                                     strict=True):
                record = data.get((str(idx), str(rec)), {})
                registrant = data.get((REGISTRY, str(reg)), {})
                state, county = _place(record)
                found = lookup(state, county) if state else lookup(*_place(registrant))
                out.append(found or str(record.get("field_office") or ""))
    except SQLAlchemyError as exc:  # no store yet, or no office table: say so, go on
        log.warning("field offices not resolved: %s", type(exc).__name__)
        out = [str(data.get((str(i), str(r)), {}).get("field_office") or "")
               for i, r in zip(links["index"], links["record_id"], strict=True)]
    return pd.Series(out, index=links.index, dtype=object)
