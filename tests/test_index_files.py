"""Saved indexes load back equal; corrupt, stale or missing files are refused."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from cvis.index import CryptoIndex, PdqIndex
from cvis.index.kernel import probe_segment, warm_up
from cvis.index.storage import IndexCorrupt, IndexMissing, IndexStale, saved_generation
from tests.index_data import queries_near, structured_hashes


def mixed_index(rng: np.random.Generator) -> tuple[PdqIndex, np.ndarray]:
    """Two segments, removed rows and a delta: every part of the format."""
    data = structured_hashes(6000, rng, "mixed")
    index = PdqIndex.build(np.arange(5000), data[:5000])
    index.add(np.arange(5000, 5990), data[5000:5990])
    index.add(np.arange(5990, 6000), data[5990:])
    index.remove(np.arange(0, 6000, 7))
    return index, data


def test_pdq_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    index, data = mixed_index(rng)
    index.save(tmp_path, generation=3)
    loaded = PdqIndex.load(tmp_path, generation=3)
    queries = queries_near(data, 200, rng)
    assert len(loaded) == len(index)
    assert loaded.search(queries, 31) == index.search(queries, 31)
    assert loaded.generation == 3 and saved_generation(tmp_path, "cvis-pdq-index") == 3
    assert not loaded.segments[0].halves.flags.owndata  # mapped, not read into memory


def test_warm_up_compiles_what_saved_and_built_indexes_search_with(tmp_path: Path) -> None:
    """A served worker compiles the search loop before its first lookup: afterwards neither
    a memory-mapped (read-only) index nor one built in memory makes numba compile again."""
    rng = np.random.default_rng(8)
    index, data = mixed_index(rng)
    index.save(tmp_path, generation=1)
    warm_up()
    compiled = len(probe_segment.signatures)
    queries = queries_near(data, 20, rng)
    assert PdqIndex.load(tmp_path).search(queries, 31) == index.search(queries, 31)
    assert len(probe_segment.signatures) == compiled >= 2


def test_loaded_index_takes_updates_and_saves_again(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    index, data = mixed_index(rng)
    index.save(tmp_path, generation=1)
    loaded = PdqIndex.load(tmp_path)
    loaded.add([10**9], data[:1])
    loaded.remove([1, 2])
    loaded.compact()
    loaded.save(tmp_path, generation=2)
    again = PdqIndex.load(tmp_path, generation=2)
    assert (10**9, 0) in again.search(data[:1], 0)[0]
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 1  # old version removed


def test_stale_generation_is_refused(tmp_path: Path) -> None:
    index, _ = mixed_index(np.random.default_rng(7))
    index.save(tmp_path, generation=4)
    with pytest.raises(IndexStale) as err:
        PdqIndex.load(tmp_path, generation=5)
    assert err.value.generation == 4 and err.value.expected == 5


def test_missing_index_is_reported(tmp_path: Path) -> None:
    with pytest.raises(IndexMissing):
        PdqIndex.load(tmp_path / "nothing")


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete", "manifest", "version",
                                    "kind"])
def test_corrupt_files_are_refused(tmp_path: Path, damage: str) -> None:
    index, _ = mixed_index(np.random.default_rng(8))
    index.save(tmp_path, generation=1)
    manifest = tmp_path / "MANIFEST.json"
    folder = next(p for p in tmp_path.iterdir() if p.is_dir())
    victim = folder / "seg0.halves.npy"
    if damage == "flip":
        raw = bytearray(victim.read_bytes())
        raw[len(raw) // 2] ^= 0x10
        victim.write_bytes(bytes(raw))
    elif damage == "truncate":
        victim.write_bytes(victim.read_bytes()[:-32])
    elif damage == "delete":
        victim.unlink()
    elif damage == "manifest":
        manifest.write_text(manifest.read_text().replace('"generation": 1', '"generation": 2'))
    else:
        doc = json.loads(manifest.read_text())
        doc["version" if damage == "version" else "format"] = 99 if damage == "version" else "x"
        manifest.write_text(json.dumps(doc))
    with pytest.raises(IndexCorrupt):
        PdqIndex.load(tmp_path)


def test_crypto_round_trip_and_corruption(tmp_path: Path) -> None:
    index = CryptoIndex()
    digests = [hashlib.sha1(str(i).encode()).digest() for i in range(3000)]
    digests += [hashlib.md5(str(i).encode()).digest() for i in range(100)]
    index.add(range(len(digests)), digests)
    index.remove([5])
    index.save(tmp_path, generation=9)
    loaded = CryptoIndex.load(tmp_path, generation=9)
    assert loaded.lookup(digests) == index.lookup(digests)
    assert loaded.lookup([digests[5]]) == [[]]
    with pytest.raises(IndexStale):
        CryptoIndex.load(tmp_path, generation=10)
    with pytest.raises(IndexCorrupt):
        PdqIndex.load(tmp_path)  # another kind of index
    victim = next(next(p for p in tmp_path.iterdir() if p.is_dir()).glob("*.ids.npy"))
    raw = bytearray(victim.read_bytes())
    raw[-1] ^= 1
    victim.write_bytes(bytes(raw))
    with pytest.raises(IndexCorrupt):
        CryptoIndex.load(tmp_path)
