"""A video match under review and in the report: both percentages and the matching time ranges
in both videos; the web review shows a keyframe strip of the matching ranges, decoded from the
evidence on request, blurred and grey until revealed, never cached, every reveal audited."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from cvis.accounts.service import add_agency, add_user
from cvis.cases.report import build_report
from cvis.cases.report_pdf import write_pdf
from cvis.cases.review import review_queue
from cvis.cases.scanning import run_scan
from cvis.cases.service import new_case
from cvis.cli.render import video_figures
from cvis.hashsets.media_import import import_media
from cvis.identify.scan import ScanRequest
from cvis.store.db import Store
from cvis.store.models import AuditRecord
from cvis.web import thumbnails
from tests.hashing_samples import make_video, photo
from tests.web_helpers import PASSWORD, World, client, item_ids, sign_in

CASE = "CASE-VIDEO-REVIEW"


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("review-clips")
    scenes = [photo(n) for n in ("chelsea.png", "coffee.png", "rocket.jpg")]
    (root / "known").mkdir()
    (root / "seized").mkdir()
    make_video(root / "known" / "k.mp4", scenes, seconds_each=2.0)
    with (root / "known" / "manifest.csv").open("w", newline="") as f:
        csv.writer(f).writerows([["media_id", "file", "category", "victim_identified"],
                                 ["KV-R", "k.mp4", "1", "true"]])
    make_video(root / "seized" / "copy.mp4", scenes[1:], seconds_each=2.0, size=(256, 192))
    return {"root": root}


def _world(store: Store, root: Path) -> World:
    world = World(store, root / "seized")
    with store.session() as session:
        import_media(session, root / "known" / "manifest.csv", name="known-videos")
        add_agency(session, "Demo Agency")
        world.secrets["ana"] = add_user(session, "ana", "Demo Agency", "examiner", PASSWORD)[1]
        new_case(session, CASE, actor="ana", agency="Demo Agency", examiners=["ana"],
                 title="A video")
    run_scan(store, ScanRequest(CASE, [root / "seized"], ["known-videos"], workers=1))
    return world


def _is_grey(jpeg: bytes) -> bool:
    rgb = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"), dtype=int)
    return int(np.abs(rgb[..., 0] - rgb[..., 1]).max()) <= 3


def test_a_video_match_shows_its_figures_ranges_and_a_protected_keyframe_strip(
    store: Store, clips: dict[str, Path], tmp_path: Path
) -> None:
    world = _world(store, clips["root"])
    with store.session() as session:
        (entry,) = review_queue(session, CASE)
        report = build_report(session, CASE)
    (match,) = entry.matches
    assert match.signal == "vpdq" and match.video is not None
    assert match.video["query_match_percent"] >= 80 and match.video["compared_ranges"][0][0] >= 1
    line = video_figures(match.match_id, match.video)
    assert "% of the seized video at 0-" in line and "% of the known video at " in line
    (listed,) = report["video_matches"]
    assert (listed["media_id"], listed["verdict"]) == ("KV-R", "pending")
    assert listed["query_ranges"] == match.video["query_ranges"]
    assert report["identified_files"][0]["matches"][0]["video"] == match.video
    write_pdf(report, tmp_path / "report.pdf")  # the videos section renders

    http = client(store)
    sign_in(http, world, "ana")
    page = http.get(f"/cases/{CASE}/review").text
    assert "Video match with known-videos / KV-R" in page
    (item,) = item_ids(page)
    assert f'src="/media/{item}/frame?at=0.0&amp;step=0"' in page
    assert "<video" not in page  # stills only: nothing plays, nothing makes a sound
    frame = http.get(f"/media/{item}/frame?at=1.0")
    assert frame.status_code == 200 and frame.headers["cache-control"] == "no-store"
    assert frame.headers["content-type"] == "image/jpeg" and _is_grey(frame.content)
    revealed = http.get(f"/media/{item}/frame?at=1.0&step={thumbnails.LAST_STEP}")
    assert revealed.status_code == 200 and not _is_grey(revealed.content)
    with store.session() as session:
        reveals = session.scalars(select(AuditRecord.object).where(
            AuditRecord.event == "web.reveal")).all()
    assert reveals == [f"item:{item}"]
    assert http.get(f"/media/{item}/frame?at=-1").status_code == 422
