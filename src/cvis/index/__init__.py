"""Indexes: exact lookup for crypto digests, Hamming range search for PDQ."""

from cvis.index.brute import BruteForcePdqIndex
from cvis.index.crypto_index import CryptoIndex
from cvis.index.hamming import hex_to_array
from cvis.index.pdq_index import Matches, PdqIndex
from cvis.index.sharded import ShardedPdqIndex
from cvis.index.storage import IndexCorrupt, IndexFileError, IndexMissing, IndexStale

__all__ = [
    "BruteForcePdqIndex",
    "CryptoIndex",
    "IndexCorrupt",
    "IndexFileError",
    "IndexMissing",
    "IndexStale",
    "Matches",
    "PdqIndex",
    "ShardedPdqIndex",
    "hex_to_array",
]
