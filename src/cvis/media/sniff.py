"""Tell media kind by content (magic bytes), not by the file's name."""

from __future__ import annotations

_IMAGE_MAGIC = (
    b"\xff\xd8\xff",  # JPEG
    b"\x89PNG\r\n\x1a\n",
    b"GIF87a",
    b"GIF89a",
    b"BM",
    b"II*\x00",  # TIFF little-endian
    b"MM\x00*",  # TIFF big-endian
)
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
_VIDEO_BRANDS_PREFIX = (b"isom", b"iso2", b"mp41", b"mp42", b"qt  ", b"3gp", b"M4V ", b"avc1")


def sniff_kind(head: bytes) -> str:
    """'image', 'video' or 'file' from the first bytes of the content."""
    if head.startswith(_IMAGE_MAGIC):
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return "image"
        if brand.startswith(_VIDEO_BRANDS_PREFIX):
            return "video"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # Matroska / WebM
        return "video"
    return "file"
