"""Indexes: exact lookup for crypto digests, Hamming range search for PDQ."""

from cvis.index.crypto_index import CryptoIndex
from cvis.index.pdq_index import PdqIndex, hex_to_array

__all__ = ["CryptoIndex", "PdqIndex", "hex_to_array"]
