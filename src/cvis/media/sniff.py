"""Tell media type by content (magic bytes), not by the file's name; flag names that lie."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

SNIFF_BYTES = 512

# (prefix, format, kind); checked in order, longest/most specific first.
_PREFIXES: tuple[tuple[bytes, str, str], ...] = (
    (b"\xff\xd8\xff", "jpeg", "image"),
    (b"\x89PNG\r\n\x1a\n", "png", "image"),
    (b"GIF87a", "gif", "image"),
    (b"GIF89a", "gif", "image"),
    (b"II*\x00", "tiff", "image"),
    (b"MM\x00*", "tiff", "image"),
    (b"BM", "bmp", "image"),
    (b"\x1a\x45\xdf\xa3", "matroska", "video"),
    (b"FLV\x01", "flv", "video"),
    (b"\x00\x00\x01\xba", "mpeg", "video"),  # MPEG program stream (.mpg, .vob)
    (b"\x00\x00\x01\xb3", "mpeg", "video"),  # MPEG video elementary stream
    (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", "asf", "video"),  # .wmv, .asf
    (b"PK\x03\x04", "zip", "archive"),
    (b"PK\x05\x06", "zip", "archive"),  # empty zip
    (b"7z\xbc\xaf\x27\x1c", "7z", "archive"),
    (b"\x1f\x8b", "gzip", "archive"),
    (b"BZh", "bzip2", "archive"),
    (b"\xfd7zXZ\x00", "xz", "archive"),
    (b"EVF\x09\x0d\x0a\xff\x00", "e01", "disk"),
)
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_VIDEO_BRANDS = {
    b"isom": "mp4", b"iso2": "mp4", b"iso4": "mp4", b"iso5": "mp4", b"iso6": "mp4",
    b"mp41": "mp4", b"mp42": "mp4", b"avc1": "mp4", b"dash": "mp4", b"M4V ": "mp4",
    b"MSNV": "mp4", b"qt  ": "mov", b"3gp4": "3gp", b"3gp5": "3gp", b"3gp6": "3gp",
    b"3g2a": "3gp",
}

# What each extension promises; an item whose content says otherwise is flagged.
_EXTENSIONS: dict[str, set[str]] = {
    "jpeg": {".jpg", ".jpeg", ".jpe", ".jfif"},
    "png": {".png"},
    "gif": {".gif"},
    "tiff": {".tif", ".tiff", ".dng"},
    "bmp": {".bmp", ".dib"},
    "webp": {".webp"},
    "heif": {".heic", ".heif", ".hif"},
    "avif": {".avif"},
    "mp4": {".mp4", ".m4v", ".mov"},
    "mov": {".mov", ".mp4", ".qt"},
    "3gp": {".3gp", ".3g2"},
    "avi": {".avi"},
    "matroska": {".mkv", ".webm", ".mka"},
    "flv": {".flv", ".f4v"},
    "mpeg": {".mpg", ".mpeg", ".mpe", ".vob", ".m2v"},
    "asf": {".wmv", ".asf", ".wma"},
    "mpegts": {".ts", ".mts", ".m2ts", ".tsv"},
    "zip": {".zip", ".jar", ".apk", ".docx", ".xlsx", ".pptx", ".odt", ".epub", ".cbz"},
    "7z": {".7z"},
    "gzip": {".gz", ".tgz"},
    "bzip2": {".bz2", ".tbz", ".tbz2"},
    "xz": {".xz", ".txz"},
    "tar": {".tar"},
    "e01": {".e01"},
}
_CLAIMED = {ext: fmt for fmt, exts in _EXTENSIONS.items() for ext in exts}


def register_signature(prefix: bytes, fmt: str, kind: str, extensions: set[str]) -> None:
    """A container (or any format) a plug-in brings: content starting with ``prefix`` is
    ``fmt`` of ``kind``, and the ``extensions`` promise it."""
    global _PREFIXES
    _PREFIXES = (*_PREFIXES, (prefix, fmt, kind))
    _EXTENSIONS.setdefault(fmt, set()).update(extensions)
    _CLAIMED.update(dict.fromkeys(extensions, fmt))


@dataclass(frozen=True)
class Sniffed:
    """What the content is: a format name and its kind (image, video, archive, disk, file)."""

    format: str
    kind: str


UNKNOWN = Sniffed("unknown", "file")


def _sniff_ftyp(head: bytes) -> Sniffed | None:
    if head[4:8] != b"ftyp":
        return None
    brand = head[8:12]
    if brand in _AVIF_BRANDS:
        return Sniffed("avif", "image")
    if brand in _HEIF_BRANDS:
        return Sniffed("heif", "image")
    if brand in _VIDEO_BRANDS:
        return Sniffed(_VIDEO_BRANDS[brand], "video")
    if brand.startswith(b"3g"):
        return Sniffed("3gp", "video")
    return Sniffed("mp4", "video")  # other ISO-BMFF brands are video containers


TEXT = Sniffed("text", "file")
_CONTROL = set(range(0, 9)) | {11, 12} | set(range(14, 32)) | {127}


def _looks_like_text(head: bytes) -> bool:
    """UTF-8 (or ASCII) without control characters: what an editor would show as text."""
    if not head or b"\x00" in head:
        return False
    try:
        decoded = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # only a character cut at the end may be incomplete
            return False
        decoded = head[: exc.start].decode("utf-8")
    return not any(ord(c) in _CONTROL for c in decoded)


def sniff(head: bytes) -> Sniffed:
    """The format of content from its first bytes (``SNIFF_BYTES`` are enough)."""
    found = _sniff_binary(head)
    if found is UNKNOWN and _looks_like_text(head[:SNIFF_BYTES]):
        return TEXT
    return found


def _sniff_binary(head: bytes) -> Sniffed:
    if head[:4] == b"RIFF":
        riff = {b"WEBP": Sniffed("webp", "image"), b"AVI ": Sniffed("avi", "video")}
        return riff.get(head[8:12], UNKNOWN)
    if (found := _sniff_ftyp(head)) is not None:
        return found
    for prefix, fmt, kind in _PREFIXES:
        if head.startswith(prefix):
            return Sniffed(fmt, kind)
    if head[257:262] == b"ustar":
        return Sniffed("tar", "archive")
    if _is_transport_stream(head):
        return Sniffed("mpegts", "video")
    return UNKNOWN


def _is_transport_stream(head: bytes) -> bool:
    """MPEG-TS: 188-byte packets, each starting with the sync byte 0x47 (M2TS: 192)."""
    for size, offset in ((188, 0), (192, 4)):
        starts = range(offset, len(head), size)
        if len(head) >= offset + 2 * size and all(head[i] == 0x47 for i in starts):
            return True
    return False


def sniff_kind(head: bytes) -> str:
    """'image', 'video' or 'file' (archives and disks read as plain files here)."""
    kind = sniff(head).kind
    return kind if kind in ("image", "video") else "file"


def extension_mismatch(name: str, found: Sniffed) -> str | None:
    """A flag when the name's extension promises another format than the content has."""
    suffix = PurePosixPath(name.rsplit("!", 1)[-1]).suffix.lower()
    if suffix in _EXTENSIONS.get(found.format, set()):
        return None
    if suffix not in _CLAIMED and found.kind not in ("image", "video"):
        return None  # an archive named .bin is common; a picture named .txt is hiding
    content = "unrecognised data" if found.format == "unknown" else found.format
    return f"extension mismatch: {suffix or '(none)'} but content is {content}"
