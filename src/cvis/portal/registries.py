"""Every state, territory and tribal registry, and one search across them.

The search follows the national public registry site's jurisdiction pattern: one query
(by name, by up to five ZIP codes, or by point and radius) goes to every connected
jurisdiction at once; each answers within its timeout (15 s) or gets a status of its own.
A jurisdiction that keeps timing out is skipped for five minutes; one that is down is
searched in its cached daily copy. Results link to the official record, and corrections
go to the jurisdiction (the portal keeps none of it).

Wire format (our reading of the pattern; see docs/portal.md): ``POST {endpoint}/search``
with ``{"firstName", "lastName", "zips", "lat", "long", "radius"}`` answers
``{"offenders": [{"name": {"givenName", "surName"}, "aliases", "dob", "locations":
[{"type", "streetAddress", "city", "state", "zipCode", "latitude", "longitude"}],
"offenderUri"}]}``; ``GET {endpoint}/daily`` answers ``{"offenders": [...]}``, the whole
public registry, for the daily copy.
"""

from __future__ import annotations

import asyncio
import csv
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.orm import Session

from cvis.portal.geo import miles, zip_point
from cvis.portal.models import PublicRegistrySnapshot
from cvis.store.models import utcnow

DIRECTORY = Path(__file__).parent / "data" / "registries.csv"
MAX_ZIPS = 5
MAX_RADIUS = 25.0

OK, NO_MATCH, CACHED = "OK", "NO_MATCH", "CACHED"
TIMEOUT, UNAVAILABLE, SKIPPED = "TIMEOUT", "UNAVAILABLE", "SKIPPED"
NOT_SUPPORTED, NOT_CONNECTED = "NOT_SUPPORTED", "NOT_CONNECTED"


class QueryInvalid(ValueError):
    pass


@dataclass(frozen=True)
class Jurisdiction:
    jurisdiction_id: str
    name: str
    kind: str  # state | territory | tribe
    agency: str
    address: str
    geo_search: bool
    endpoint: str = ""
    url: str = ""  # the jurisdiction's public registry site ("" where not known)


def load_directory(endpoints: dict[str, str] | None = None,
                   path: Path = DIRECTORY) -> list[Jurisdiction]:
    """The shipped directory, with the endpoints this deployment is connected to."""
    endpoints = endpoints or {}
    with path.open(encoding="utf-8", newline="") as handle:
        return [Jurisdiction(row["jurisdiction_id"], row["name"], row["kind"], row["agency"],
                             row["address"], row["geo_search"] == "yes",
                             endpoints.get(row["jurisdiction_id"], "").rstrip("/"),
                             _https(row.get("url") or ""))
                for row in csv.DictReader(handle)]


def _https(url: str) -> str:
    """Only an https address is linked from the public site."""
    return url.strip() if url.strip().startswith("https://") else ""


def load_endpoints(path: Path | None) -> dict[str, str]:
    """``{"AL": "https://...", ...}``: which jurisdictions answer queries, and where."""
    if path is None:
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected an object of jurisdiction id to endpoint URL")
    return {str(k): str(v) for k, v in data.items()}


@dataclass(frozen=True)
class RegistryQuery:
    first_name: str = ""
    last_name: str = ""
    zips: tuple[str, ...] = ()
    lat: float | None = None
    lon: float | None = None
    radius_miles: float = 0.0

    @property
    def mode(self) -> str:
        return "name" if self.last_name else "zip" if self.zips else "point"

    def body(self) -> dict[str, Any]:
        return {"firstName": self.first_name, "lastName": self.last_name,
                "zips": list(self.zips), "lat": self.lat, "long": self.lon,
                "radius": self.radius_miles}


def make_query(*, first_name: str = "", last_name: str = "", zips: str = "", lat: str = "",
               lon: str = "", radius: str = "") -> RegistryQuery:
    """One of: a last name (and first), up to five ZIP codes, or a point and radius."""
    codes = tuple(z for z in zips.replace(",", " ").split() if z)
    if last_name.strip():
        return RegistryQuery(first_name.strip(), last_name.strip())
    if codes:
        if len(codes) > MAX_ZIPS:
            raise QueryInvalid(f"at most {MAX_ZIPS} ZIP codes")
        if any(zip_point(z) is None for z in codes):
            raise QueryInvalid("each ZIP code is five digits of a US ZIP code")
        return RegistryQuery(zips=codes)
    try:
        point = RegistryQuery(lat=float(lat), lon=float(lon), radius_miles=float(radius or 1))
    except ValueError:
        raise QueryInvalid("search by last name, by ZIP codes, or by a point and radius") \
            from None
    if not (-90 <= (point.lat or 0) <= 90 and -180 <= (point.lon or 0) <= 180) \
            or not 0 < point.radius_miles <= MAX_RADIUS:
        raise QueryInvalid(f"a point is a latitude and longitude; radius 1 to {MAX_RADIUS:g}")
    return point


@dataclass
class JurisdictionResult:
    jurisdiction: Jurisdiction
    status: str
    message: str = ""
    offenders: list[dict[str, Any]] = field(default_factory=list)
    copy_date: str = ""


def matches(query: RegistryQuery, offender: dict[str, Any]) -> bool:
    """The query applied to one record of a daily copy."""
    if query.mode == "name":
        name = offender.get("name") or {}
        names = [name] + [a for a in offender.get("aliases") or [] if isinstance(a, dict)]
        return any(n.get("surName", "").lower() == query.last_name.lower()
                   and n.get("givenName", "").lower().startswith(query.first_name.lower())
                   for n in names)
    locations = offender.get("locations") or []
    if query.mode == "zip":
        return any(str(loc.get("zipCode", ""))[:5] in query.zips for loc in locations)
    return any(loc.get("latitude") is not None and miles(
        (float(loc["latitude"]), float(loc["longitude"])),
        (query.lat or 0.0, query.lon or 0.0)) <= query.radius_miles for loc in locations)


class FederatedSearch:
    """Asks every connected jurisdiction at once; remembers which keep timing out."""

    def __init__(self, directory: list[Jurisdiction], *, timeout: float = 15.0,
                 timeouts_before_skip: int = 2, skip_seconds: float = 300.0) -> None:
        self.directory = directory
        self.timeout, self.timeouts_before_skip = timeout, timeouts_before_skip
        self.skip_seconds = skip_seconds
        self._timeouts: dict[str, int] = {}
        self._skip_until: dict[str, float] = {}

    def _skipped(self, jid: str, now: float) -> bool:
        return self._skip_until.get(jid, 0.0) > now

    def _timed_out(self, jid: str, now: float) -> None:
        self._timeouts[jid] = self._timeouts.get(jid, 0) + 1
        if self._timeouts[jid] >= self.timeouts_before_skip:
            self._skip_until[jid], self._timeouts[jid] = now + self.skip_seconds, 0

    async def _ask(self, client: httpx.AsyncClient, j: Jurisdiction, query: RegistryQuery
                   ) -> JurisdictionResult:
        response = await client.post(f"{j.endpoint}/search", json=query.body(),
                                     timeout=self.timeout)
        if response.status_code != 200:
            return JurisdictionResult(j, UNAVAILABLE, f"answered HTTP {response.status_code}")
        offenders = response.json().get("offenders") or []
        return JurisdictionResult(j, OK if offenders else NO_MATCH, "", offenders)

    async def _one(self, client: httpx.AsyncClient, j: Jurisdiction, query: RegistryQuery,
                   copies: dict[str, PublicRegistrySnapshot]) -> JurisdictionResult:
        if not j.endpoint:
            return JurisdictionResult(j, NOT_CONNECTED, "search on the jurisdiction's own site")
        if query.mode == "point" and not j.geo_search:
            return JurisdictionResult(j, NOT_SUPPORTED, "no geographic search")
        now = time.monotonic()
        if self._skipped(j.jurisdiction_id, now):
            return self._from_copy(j, query, copies, SKIPPED, "kept timing out; skipped a while")
        try:
            result = await asyncio.wait_for(self._ask(client, j, query), self.timeout)
        except (TimeoutError, httpx.TimeoutException):
            self._timed_out(j.jurisdiction_id, time.monotonic())
            return self._from_copy(j, query, copies, TIMEOUT,
                                   f"no answer within {self.timeout:g} s")
        except (httpx.HTTPError, ValueError) as exc:
            return self._from_copy(j, query, copies, UNAVAILABLE, type(exc).__name__)
        self._timeouts[j.jurisdiction_id] = 0
        if result.status == UNAVAILABLE:
            return self._from_copy(j, query, copies, UNAVAILABLE, result.message)
        return result

    @staticmethod
    def _from_copy(j: Jurisdiction, query: RegistryQuery,
                   copies: dict[str, PublicRegistrySnapshot], status: str, why: str
                   ) -> JurisdictionResult:
        copy = copies.get(j.jurisdiction_id)
        if copy is None:
            return JurisdictionResult(j, status, why)
        day = copy.fetched_at.date().isoformat()
        found = [o for o in copy.records if isinstance(o, dict) and matches(query, o)]
        return JurisdictionResult(j, CACHED, f"{why}; daily copy of {day}", found, day)

    async def search(self, query: RegistryQuery, copies: dict[str, PublicRegistrySnapshot]
                     ) -> list[JurisdictionResult]:
        async with httpx.AsyncClient(follow_redirects=False) as client:
            return list(await asyncio.gather(
                *(self._one(client, j, query, copies) for j in self.directory)))


def snapshots(session: Session) -> dict[str, PublicRegistrySnapshot]:
    return {s.jurisdiction_id: s for s in session.query(PublicRegistrySnapshot)}


async def _daily(client: httpx.AsyncClient, j: Jurisdiction, timeout: float
                 ) -> list[Any] | None:
    try:
        response = await client.get(f"{j.endpoint}/daily", timeout=timeout)
        data = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    offenders = data.get("offenders") if isinstance(data, dict) else None
    return offenders if isinstance(offenders, list) else None


def refresh_daily_copies(session: Session, directory: list[Jurisdiction],
                         timeout: float = 60.0) -> dict[str, str]:
    """Fetch each connected jurisdiction's daily copy; keep the old one where it fails."""

    async def fetch_all() -> list[list[Any] | None]:
        async with httpx.AsyncClient() as client:
            return list(await asyncio.gather(*(_daily(client, j, timeout) for j in connected)))

    connected = [j for j in directory if j.endpoint]
    outcome = {}
    for j, records in zip(connected, asyncio.run(fetch_all()), strict=True):
        if records is None:
            outcome[j.jurisdiction_id] = "failed"
            continue
        copy = session.get(PublicRegistrySnapshot, j.jurisdiction_id)
        if copy is None:
            copy = PublicRegistrySnapshot(jurisdiction_id=j.jurisdiction_id)
            session.add(copy)
        copy.records, copy.fetched_at = records, utcnow()
        outcome[j.jurisdiction_id] = f"{len(records)} records"
    return outcome


def today() -> str:
    return datetime.now(UTC).date().isoformat()
