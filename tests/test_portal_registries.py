"""The registry directory and the federated search, against fake jurisdictions on loopback:
healthy ones, a slow one, a down one, one that is not listening."""

from __future__ import annotations

import asyncio
import csv
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cvis.portal import registries
from cvis.portal.app import create_public_app
from cvis.portal.registries import FederatedSearch, load_directory, make_query
from cvis.portal.settings import PortalSettings


def offender(given: str, sur: str, zip_code: str, lat: float, lon: float, jid: str) -> dict:
    return {"name": {"givenName": given, "surName": sur}, "aliases": [], "dob": "1980-01-01",
            "locations": [{"type": "R", "streetAddress": "1 Example St", "city": "Town",
                           "state": jid, "zipCode": zip_code, "latitude": lat,
                           "longitude": lon}],
            "offenderUri": f"https://registry.{jid.lower()}.example/offender/{sur.lower()}"}


@dataclass
class Behaviour:
    records: list[dict[str, Any]]
    delay: float = 0.0
    down: bool = False
    searches: list[dict[str, Any]] = field(default_factory=list)


def handler_for(behaviour: Behaviour) -> type[BaseHTTPRequestHandler]:
    class Jurisdiction(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the portal gave up waiting

        def do_GET(self) -> None:  # noqa: N802
            if behaviour.down:
                self._answer(503, {"error": "maintenance"})
            else:
                self._answer(200, {"offenders": behaviour.records})

        def do_POST(self) -> None:  # noqa: N802
            query = json.loads(self.rfile.read(int(self.headers["content-length"])))
            behaviour.searches.append(query)
            time.sleep(behaviour.delay)
            if behaviour.down:
                self._answer(503, {"error": "maintenance"})
                return
            q = registries.RegistryQuery(query["firstName"], query["lastName"],
                                         tuple(query["zips"]), query["lat"], query["long"],
                                         query["radius"] or 0)
            self._answer(200, {"offenders": [o for o in behaviour.records
                                             if registries.matches(q, o)]})

        def log_message(self, *_args: Any) -> None:
            pass

    return Jurisdiction


@pytest.fixture
def jurisdictions(tmp_path: Path) -> Iterator[tuple[Path, dict[str, Behaviour], dict[str, str]]]:
    behaviours = {
        "AA": Behaviour([offender("Pat", "Doe", "12207", 42.65, -73.75, "AA"),
                         offender("Sam", "Roe", "12203", 42.68, -73.82, "AA")]),
        "BB": Behaviour([offender("Pat", "Doe", "33101", 25.77, -80.19, "BB")]),
        "CC": Behaviour([offender("Lee", "Doe", "60601", 41.88, -87.62, "CC")], delay=3.0),
        "DD": Behaviour([offender("Kim", "Doe", "98101", 47.61, -122.33, "DD")]),
    }
    servers, endpoints = [], {}
    for jid, behaviour in behaviours.items():
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(behaviour))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        endpoints[jid] = f"http://127.0.0.1:{server.server_address[1]}"
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        endpoints["EE"] = f"http://127.0.0.1:{sock.getsockname()[1]}"
    directory = tmp_path / "registries.csv"
    with directory.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["jurisdiction_id", "name", "kind", "agency", "address", "geo_search"])
        for jid in ("AA", "BB", "CC", "DD", "EE", "FF"):
            out.writerow([jid, f"State {jid}", "state", f"{jid} State Police",
                          f"Capital, {jid}", "no" if jid == "BB" else "yes"])
    yield directory, behaviours, endpoints
    for server in servers:
        server.shutdown()
        server.server_close()


def by_id(results: list[registries.JurisdictionResult]) -> dict[str, registries.JurisdictionResult]:
    return {r.jurisdiction.jurisdiction_id: r for r in results}


def test_the_directory_lists_every_state_territory_and_tribal_registry():
    directory = load_directory()
    ids = [j.jurisdiction_id for j in directory]
    assert len(ids) == len(set(ids))
    states = {j.jurisdiction_id for j in directory if j.kind == "state"}
    assert len(states) == 51 and {"CA", "NY", "DC", "WY"} <= states
    assert {j.jurisdiction_id for j in directory if j.kind == "territory"} == {
        "AS", "GU", "MP", "PR", "VI"}
    tribes = [j for j in directory if j.kind == "tribe"]
    assert len(tribes) >= 50 and all(j.name and j.agency and j.address for j in directory)
    assert any(j.geo_search for j in directory) and any(not j.geo_search for j in directory)
    linked = [j for j in directory if j.url]
    assert len(linked) >= 45 and all(j.url.startswith("https://") for j in linked)
    assert {j.jurisdiction_id for j in linked} <= states  # territories, tribes: not yet known


def test_a_deployment_replaces_the_directory(tmp_path, monkeypatch):
    from cvis.portal.settings import load_portal_settings

    own = tmp_path / "directory.csv"
    own.write_text("jurisdiction_id,name,kind,agency,address,geo_search,url\n"
                   "ZZ,Testland,state,Testland Police,\"Capital, ZZ\",no,http://plain.example\n")
    monkeypatch.setenv("CVIS_PUBLIC_REGISTRY_DIRECTORY", str(own))
    settings = load_portal_settings()
    assert settings.registry_directory == own
    (only,) = load_directory(None, own)
    assert (only.jurisdiction_id, only.url) == ("ZZ", "")  # only https is linked


def test_federated_search_by_name_reports_every_jurisdiction(jurisdictions):
    path, behaviours, endpoints = jurisdictions
    search = FederatedSearch(load_directory(endpoints, path), timeout=0.4)
    started = time.monotonic()
    results = by_id(asyncio.run(search.search(make_query(first_name="pat", last_name="doe"),
                                              {})))
    assert time.monotonic() - started < 2.5  # the slow one (3 s) does not hold the others up
    assert results["AA"].status == "OK" and len(results["AA"].offenders) == 1
    assert results["AA"].offenders[0]["offenderUri"].startswith("https://registry.aa.")
    assert results["BB"].status == "OK"
    assert results["CC"].status == "TIMEOUT" and "0.4 s" in results["CC"].message
    assert results["DD"].status == "NO_MATCH"
    assert results["EE"].status == "UNAVAILABLE"
    assert results["FF"].status == "NOT_CONNECTED"
    assert behaviours["AA"].searches[-1]["lastName"] == "doe"


def test_a_jurisdiction_that_keeps_timing_out_is_skipped_for_five_minutes(jurisdictions):
    path, behaviours, endpoints = jurisdictions
    search = FederatedSearch(load_directory(endpoints, path), timeout=0.3)
    query = make_query(last_name="Doe")
    statuses = [by_id(asyncio.run(search.search(query, {})))["CC"].status for _ in range(3)]
    assert statuses == ["TIMEOUT", "TIMEOUT", "SKIPPED"]
    assert len(behaviours["CC"].searches) == 2
    assert search.skip_seconds == 300.0
    search._skip_until["CC"] = time.monotonic() - 1  # five minutes later
    assert by_id(asyncio.run(search.search(query, {})))["CC"].status == "TIMEOUT"


def test_a_down_jurisdiction_is_searched_in_its_daily_copy(jurisdictions, store):
    path, behaviours, endpoints = jurisdictions
    directory = load_directory(endpoints, path)
    with store.session() as session:
        outcome = registries.refresh_daily_copies(session, directory, timeout=2.0)
    assert outcome["DD"] == "1 records" and outcome["EE"] == "failed"
    behaviours["DD"].down = True
    search = FederatedSearch(directory, timeout=0.4)
    with store.session() as session:
        copies = registries.snapshots(session)
        results = by_id(asyncio.run(search.search(make_query(last_name="doe"), copies)))
    assert results["DD"].status == "CACHED" and "HTTP 503" in results["DD"].message
    assert results["DD"].copy_date == registries.today()
    assert [o["name"]["givenName"] for o in results["DD"].offenders] == ["Kim"]
    assert results["CC"].status == "CACHED"  # slow now, but its copy answers
    assert results["EE"].status == "UNAVAILABLE"  # never had a copy


def test_search_by_zip_codes_and_by_point(jurisdictions):
    path, _behaviours, endpoints = jurisdictions
    search = FederatedSearch(load_directory(endpoints, path), timeout=0.4)
    zips = by_id(asyncio.run(search.search(make_query(zips="12203, 33101"), {})))
    assert [o["name"]["surName"] for o in zips["AA"].offenders] == ["Roe"]
    assert zips["BB"].status == "OK"
    point = by_id(asyncio.run(search.search(
        make_query(lat="42.66", lon="-73.76", radius="3"), {})))
    assert [o["name"]["surName"] for o in point["AA"].offenders] == ["Doe"]
    assert point["BB"].status == "NOT_SUPPORTED"
    with pytest.raises(registries.QueryInvalid):
        make_query(zips="12203 12207 12208 12209 12210 12211")
    with pytest.raises(registries.QueryInvalid):
        make_query(lat="x", lon="y")


def test_registry_pages_show_statuses_deep_links_and_corrections(jurisdictions, settings,
                                                                  tmp_path):
    path, _behaviours, endpoints = jurisdictions
    endpoints_file = tmp_path / "endpoints.json"
    endpoints_file.write_text(json.dumps(endpoints))
    portal = PortalSettings(store=settings, jurisdictions_file=endpoints_file,
                            registry_directory=path, jurisdiction_timeout=0.4)
    with TestClient(create_public_app(portal)) as client:
        page = client.get("/registries/search", params={"last": "Doe"})
        assert page.status_code == 200
        for needle in ("State AA", "OK", "TIMEOUT", "UNAVAILABLE",
                       'href="https://registry.aa.example/offender/doe"',
                       "To correct a record, contact AA State Police"):
            assert needle in page.text, needle
        assert "State FF</h3>" not in page.text
        answer = client.get("/api/v1/registries/search", params={"zips": "12207"}).json()
        statuses = {j["jurisdiction"]["jurisdiction_id"]: j["status"]
                    for j in answer["jurisdictions"]}
        assert statuses["AA"] == "OK" and statuses["CC"] == "TIMEOUT"
        assert all(j["jurisdiction"]["endpoint"] is None for j in answer["jurisdictions"])
        assert client.get("/registries/search", params={"zips": "1"}).status_code == 400
        directory = client.get("/registries").text
        assert "AA State Police, Capital, AA" in directory


def test_cli_refresh_registries_keeps_the_daily_copies(jurisdictions, cli_env, runner,
                                                       tmp_path, monkeypatch):
    from cvis.cli.app import app
    from cvis.store.db import Store

    _path, _behaviours, endpoints = jurisdictions
    endpoints_file = tmp_path / "endpoints.json"
    endpoints_file.write_text(json.dumps({"AL": endpoints["AA"], "AK": endpoints["EE"]}))
    monkeypatch.setenv("CVIS_PUBLIC_JURISDICTIONS", str(endpoints_file))
    result = runner.invoke(app, ["public", "refresh-registries"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"AL": "2 records", "AK": "failed"}
    store = Store(cli_env)
    with store.session() as session:
        assert set(registries.snapshots(session)) == {"AL"}
    store.dispose()
