"""Small disk images built with Debian tools (mtools, mke2fs, ewfacquire), benign pictures in
them; a test that needs a missing tool is skipped, saying which package has it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image


def need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (Debian: dosfstools, mtools, e2fsprogs, "
                    "ewf-tools)")


def run(*cmd: str | Path) -> None:
    subprocess.run([str(c) for c in cmd], check=True, capture_output=True)


def pictures(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    kept, gone = folder / "kept.png", folder / "gone.jpg"
    Image.new("RGB", (64, 64), (200, 30, 30)).save(kept)
    Image.new("RGB", (64, 64), (20, 130, 30)).save(gone)
    return kept, gone


def fat_image(tmp_path: Path, extra: Path | None = None, mib: int = 4) -> Path:
    """card.img: /DCIM/kept.png, a deleted /gone.jpg whose clusters remain, and ``extra``
    (a picture) as /DCIM/<its name>."""
    need("mkfs.vfat", "mcopy", "mdel", "mmd")
    kept, gone = pictures(tmp_path / "src")
    image = tmp_path / "card.img"
    with image.open("wb") as f:
        f.truncate(mib << 20)
    run("mkfs.vfat", "-n", "CARD", image)
    run("mmd", "-i", image, "::/DCIM")
    run("mcopy", "-i", image, kept, "::/DCIM/kept.png")
    if extra is not None:
        run("mcopy", "-i", image, extra, f"::/DCIM/{extra.name}")
    run("mcopy", "-i", image, gone, "::/gone.jpg")
    run("mdel", "-i", image, "::/gone.jpg")
    return image


def e01_set(raw: Path, target: Path, segment_mib: int | None = None) -> list[Path]:
    """The raw image acquired as an E01 (``target``.E01, .E02... when ``segment_mib`` splits
    it: stored uncompressed, so each segment holds about that much)."""
    need("ewfacquire")
    split = ["-c", "none", "-S", f"{segment_mib}MiB"] if segment_mib else ["-c", "deflate:fast"]
    run("ewfacquire", "-u", "-t", target, *split, "-D", "benign test", "-e", "examiner",
        "-E", "1", "-N", "none", "-f", "encase6", "-q", raw)
    return sorted(target.parent.glob(f"{target.name}.E*"))
