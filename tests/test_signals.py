"""Signal types: the one gate for values, and PDQ identical to Meta's reference."""

from __future__ import annotations

from pathlib import Path

import pytest
from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_file

from cvis.hashing import hash_item
from cvis.media.folders import file_item
from cvis.signals import SIGNAL_TYPES, get_signal_type, guess_crypto_signal, normalize
from cvis.signals.base import InvalidSignalValue
from cvis.signals.crypto import digest_chunks
from tests.conftest import BENIGN_SAMPLES, sample_image


@pytest.mark.parametrize("name", sorted(SIGNAL_TYPES))
def test_examples_pass_their_validator(name: str) -> None:
    signal = SIGNAL_TYPES[name]
    assert signal.examples, f"{name} has no examples"
    for example in signal.examples:
        assert signal.validate(example.upper()) == example.lower()


@pytest.mark.parametrize("name", sorted(SIGNAL_TYPES))
def test_validator_rejects_wrong_shapes(name: str) -> None:
    signal = SIGNAL_TYPES[name]
    example = signal.examples[0]
    for bad in (example[:-1], example + "0", "z" * len(example), ""):
        with pytest.raises(InvalidSignalValue):
            signal.validate(bad)


def test_type_told_by_length() -> None:
    assert guess_crypto_signal("a" * 32) == "md5"
    assert guess_crypto_signal("a" * 40) == "sha1"
    assert guess_crypto_signal("a" * 64) == "sha256"
    with pytest.raises(InvalidSignalValue, match="cannot tell"):
        guess_crypto_signal("a" * 33)


def test_unknown_signal_is_named_in_error() -> None:
    with pytest.raises(InvalidSignalValue, match="photodna"):
        get_signal_type("photodna")


def test_pdq_distance_counts_bits() -> None:
    pdq = get_signal_type("pdq")
    zero = "0" * 64
    assert pdq.distance(zero, zero) == 0
    assert pdq.distance(zero, "f" + "0" * 63) == 4
    assert pdq.distance(zero, "f" * 64) == 256


def test_crypto_digests_of_empty_input() -> None:
    d = digest_chunks([])
    assert (d.size, d.md5) == (0, "d41d8cd98f00b204e9800998ecf8427e")
    assert d.sha256 == normalize("sha256", SIGNAL_TYPES["sha256"].examples[0])


def test_crypto_digests_equal_whole_file_digests(tmp_path: Path) -> None:
    import hashlib

    payload = bytes(range(256)) * 10_000
    path = tmp_path / "blob.bin"
    path.write_bytes(payload)
    record = hash_item(file_item(path))
    assert record.md5 == hashlib.md5(payload).hexdigest()
    assert record.sha1 == hashlib.sha1(payload).hexdigest()
    assert record.sha256 == hashlib.sha256(payload).hexdigest()
    assert record.size == len(payload)
    assert record.pdq is None and record.error is None


@pytest.mark.parametrize("sample", BENIGN_SAMPLES)
@pytest.mark.parametrize("mode,suffix", [("RGB", ".png"), ("L", ".png"), ("RGB", ".jpg")])
def test_pdq_identical_to_reference(tmp_path: Path, sample: str, mode: str, suffix: str) -> None:
    """Plain RGB and grayscale files hash exactly as python-threatexchange's pdq_from_file."""
    path = tmp_path / f"{sample}{suffix}"
    sample_image(sample).convert(mode).save(path)
    reference_hash, reference_quality = pdq_from_file(path)
    record = hash_item(file_item(path))
    assert record.pdq == reference_hash
    assert record.pdq_quality == reference_quality
