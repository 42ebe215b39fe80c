"""Feedback on matches: confirmations, false positives suppressed at match time, contested lists;
visibility by agency; series with the contact a prosecutor calls."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from cvis.hashsets.access import grant, visible_sets
from cvis.hashsets.feedback import (
    UnknownMatch,
    agency_suppressed,
    contested_hashes,
    lift_suppression,
    record_feedback,
)
from cvis.hashsets.series import SeriesRecord, get_series, identification_for, save_series
from cvis.hashsets.service import configure_set, get_set
from cvis.identify.matcher import Matcher, Query
from cvis.store.db import Store
from cvis.store.models import Case, KnownMedia, Match, Scan, ScanItem
from tests.hashset_helpers import import_lines, line, md5


def stored_match(store: Store, set_name: str, media_id: str) -> int:
    """A match row as a scan would have written it."""
    with store.session() as session:
        media = session.scalar(select(KnownMedia).join(KnownMedia.hash_set).where(
            KnownMedia.media_id == media_id, KnownMedia.hash_set.has(name=set_name)))
        assert media is not None
        case = Case(number=f"C-{uuid.uuid4().hex[:12]}")
        session.add(case)
        session.flush()
        scan = Scan(case_id=case.id)
        session.add(scan)
        session.flush()
        item = ScanItem(scan_id=scan.id, path=f"/evidence/{media_id}.png", md5=md5(media_id))
        session.add(item)
        session.flush()
        match = Match(item_id=item.id, known_media_id=media.id, signal_type="md5")
        session.add(match)
        session.flush()
        return match.id


def matched_sets(store: Store, value: str) -> list[str]:
    with store.session() as session:
        return [m.set for m in Matcher(session).match([Query("md5", value)])[0]]


def test_false_positive_suppresses_the_hash_in_that_set_only(store: Store) -> None:
    import_lines(store, "national", line("X"), line("Y"))
    import_lines(store, "regional", line("X"))
    assert matched_sets(store, md5("X")) == ["national", "regional"]
    match_id = stored_match(store, "national", "X")
    with store.session() as session:
        record_feedback(session, match_id, "false_positive", examiner="e1", note="a sunset")
    assert matched_sets(store, md5("X")) == ["regional"]
    assert matched_sets(store, md5("Y")) == ["national"], "other hashes still match"



def test_an_agency_suppresses_only_its_own_hash_in_that_set(store: Store) -> None:
    """Read from the agency's suppressions: the same value in another set, another agency's
    verdict and an unsuppressed hash stay out."""
    import_lines(store, "own", line("X"), line("Y"))
    import_lines(store, "other", line("X"))
    own, other = stored_match(store, "own", "X"), stored_match(store, "other", "X")
    with store.session() as session:
        record_feedback(session, own, "false_positive", examiner="e1", agency="NCA",
                        note="a sunset")
        record_feedback(session, other, "false_positive", examiner="e2", agency="AFP",
                        note="a beach")
    with store.session() as session:
        assert agency_suppressed(session, "NCA") == {("own", "X", "md5")}
        assert agency_suppressed(session, "AFP") == {("other", "X", "md5")}
        assert agency_suppressed(session, "FBI") == set()

def test_suppression_survives_a_reimport_and_can_be_lifted(sqlite_store: Store) -> None:
    import_lines(sqlite_store, "national", line("X"))
    with sqlite_store.session() as session:
        record_feedback(session, stored_match(sqlite_store, "national", "X"), "false_positive")
    import_lines(sqlite_store, "national", line("X", category=1))
    assert matched_sets(sqlite_store, md5("X")) == []
    with sqlite_store.session() as session:
        assert lift_suppression(session, get_set(session, "national"), "md5", md5("X"))
    assert matched_sets(sqlite_store, md5("X")) == ["national"]


def test_contested_hashes_are_listed_with_counts(store: Store) -> None:
    import_lines(store, "national", line("X"), line("Y"))
    for verdict in ("confirmed", "false_positive", "false_positive"):
        with store.session() as session:
            record_feedback(session, stored_match(store, "national", "X"), verdict)
    with store.session() as session:
        record_feedback(session, stored_match(store, "national", "Y"), "confirmed")
        contested = contested_hashes(session, get_set(session, "national"))
    assert [(c.media_id, c.confirmed, c.false_positive, c.suppressed) for c in contested] == [
        ("X", 1, 2, True)]


def test_feedback_needs_a_real_match_and_verdict(sqlite_store: Store) -> None:
    import_lines(sqlite_store, "national", line("X"))
    with pytest.raises(UnknownMatch), sqlite_store.session() as session:
        record_feedback(session, 999, "confirmed")
    match_id = stored_match(sqlite_store, "national", "X")
    with pytest.raises(ValueError, match="verdict"), sqlite_store.session() as session:
        record_feedback(session, match_id, "maybe")


def test_visible_sets_follow_the_access_rows(store: Store) -> None:
    import_lines(store, "open", line("A"))
    import_lines(store, "closed", line("B"))
    with store.session() as session:
        closed = configure_set(session, "closed", agency="NCA")
        grant(session, closed, ["FBI"], match=True, metadata=False)
        grant(session, closed, ["AFP"], match=True, metadata=True)
    with store.session() as session:
        names = {a: [s.name for s in visible_sets(session, a)] for a in ("NCA", "FBI", "RCMP")}
        see = [s.name for s in visible_sets(session, "FBI", "metadata")]
        see_afp = [s.name for s in visible_sets(session, "AFP", "metadata")]
    assert names == {"NCA": ["closed", "open"], "FBI": ["closed", "open"], "RCMP": ["open"]}
    assert see == ["open"] and see_afp == ["closed", "open"]


def test_disabled_sets_are_not_visible(sqlite_store: Store) -> None:
    import_lines(sqlite_store, "off", line("A"))
    with sqlite_store.session() as session:
        configure_set(session, "off", enabled=False)
        assert visible_sets(session, "anyone") == []


def test_a_match_says_who_identified_the_child_and_whom_to_call(store: Store) -> None:
    import_lines(store, "national", line("X", series="Harbour"), line("Y"))
    with store.session() as session:
        save_series(session, SeriesRecord(
            name="Harbour", agency="AFP", victim_identified=True, identifying_agency="NCA",
            contact_agency="NCA", contact_unit="CEOP", contact_phone="+44 20 0000 0000",
            contact_email="vid@example.org"))
        x = session.scalar(select(KnownMedia.id).where(KnownMedia.media_id == "X"))
        y = session.scalar(select(KnownMedia.id).where(KnownMedia.media_id == "Y"))
        assert x is not None and y is not None
        found = identification_for(session, x)
        assert identification_for(session, y) is None
    assert found is not None and found.victim_identified is True
    assert found.contact == "NCA, CEOP, +44 20 0000 0000, vid@example.org"


def test_series_are_validated_and_replaced_by_name(sqlite_store: Store) -> None:
    with sqlite_store.session() as session:
        with pytest.raises(ValueError, match="email"):
            save_series(session, SeriesRecord(name="S", contact_email="nope"))
        save_series(session, SeriesRecord(name="S", agency="A"))
        save_series(session, SeriesRecord(name="S", agency="B"))
        series = get_series(session, "S")
    assert series is not None and series.agency == "B"
