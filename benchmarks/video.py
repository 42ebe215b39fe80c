"""Known videos and the copies phones and platforms make: found/total per kind, false matches,
and hashing speed against real time.

Everything is generated from scikit-image's non-person sample photos (panned and zoomed), so the
benchmark is benign and reproducible. The known clips are imported with ``sets import-media``'s
service and the copies scanned by the scan pipeline into a fresh SQLite store: a copy is found
when the scan reports its known clip; any other known clip it reports is a false match.
Run: ``python benchmarks/video.py [--seconds 15] [--speed]``.
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageOps
from skimage import data as samples

from cvis.signals.video import hash_video

KNOWN = ("coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry", "retina")
UNRELATED = ("brick", "grass", "gravel", "coins", "moon", "colorwheel")
SIZE, FPS = (320, 180), 15
Frames = list[Image.Image]


def _photo(name: str) -> Image.Image:
    return Image.fromarray(np.asarray(getattr(samples, name)())).convert("RGB")


def pan_and_zoom(name: str, seconds: float, size: tuple[int, int] = SIZE) -> Frames:
    """A moving window over the photo that slowly zooms in: every frame differs."""
    photo = _photo(name)
    w, h = photo.size
    count, out = int(seconds * FPS), []
    for i in range(count):
        t = i / max(1, count - 1)
        scale = 0.85 - 0.1 * t  # a slow zoom and pan, as a handheld camera drifts
        cw, ch = int(w * scale), int(w * scale * size[1] / size[0])
        ch = min(ch, h)
        x, y = int((w - cw) * (0.3 + 0.4 * t)), int((h - ch) * (0.5 - 0.2 * np.sin(2 * t)))
        out.append(photo.crop((x, y, x + cw, y + ch)).resize(size))
    return out


def end_card(seconds: float = 2.0) -> Frames:
    card = Image.new("RGB", SIZE, (20, 30, 120))
    draw = ImageDraw.Draw(card)
    draw.ellipse((120, 50, 200, 130), fill=(240, 200, 40))
    draw.text((110, 140), "some-app.example", fill=(255, 255, 255))
    return [card] * int(seconds * FPS)


def write(path: Path, frames: Frames, fmt: str | None = None, codec: str = "libx264",
          fps: int = FPS, options: dict[str, str] | None = None) -> Path:
    size = frames[0].size
    if codec == "h263":
        frames, size = [f.resize((352, 288)) for f in frames], (352, 288)
    with av.open(str(path), mode="w", format=fmt) as container:
        stream = container.add_stream(codec, rate=fps, options=options or {})
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_image(frame)):
                container.mux(packet)
        container.mux(stream.encode(None))
    return path


def _watermark(frame: Image.Image) -> Image.Image:
    out = frame.copy()
    draw = ImageDraw.Draw(out)  # white text with a dark outline, as sharing apps stamp it
    draw.text((10, SIZE[1] - 24), "@shared.by.someone", fill=(255, 255, 255),
              stroke_width=1, stroke_fill=(0, 0, 0))
    return out


def copies(frames: Frames, other: Frames) -> dict[str, tuple[Frames, dict[str, object]]]:
    """Each kind of copy: its frames and how to write them."""
    n = len(frames)
    return {
        "re-encoded (CRF 35)": (frames, {"options": {"crf": "35"}}),
        "half size": ([f.resize((SIZE[0] // 2, SIZE[1] // 2)) for f in frames], {}),
        "5 s excerpt": (frames[n // 4: n // 4 + 5 * FPS], {}),
        "mkv": (frames, {"fmt": "matroska"}),
        "webm": (frames, {"fmt": "webm", "codec": "libvpx"}),
        "avi": (frames, {"fmt": "avi", "codec": "mpeg4"}),
        "ts": (frames, {"fmt": "mpegts", "codec": "mpeg2video"}),
        "flv": (frames, {"fmt": "flv", "codec": "flv"}),
        "mpg": (frames, {"fmt": "mpeg", "codec": "mpeg1video", "fps": 25}),
        "wmv": (frames, {"fmt": "asf", "codec": "wmv2"}),
        "3 s unrelated intro": (other[: 3 * FPS] + frames, {}),
        "1.25x speed": ([f for i, f in enumerate(frames) if i % 5 != 4], {}),
        "text watermark": ([_watermark(f) for f in frames], {}),
        "letterboxed": ([ImageOps.pad(f, (SIZE[0], SIZE[1] + 80)) for f in frames], {}),
        "horizontally flipped": ([ImageOps.mirror(f) for f in frames], {}),
        "stored sideways": ([f.rotate(90, expand=True) for f in frames], {}),
    }


def accuracy(root: Path, seconds: float) -> None:
    """The whole process: known clips imported with ``import_media``, copies scanned with
    ``run_scan`` into a fresh SQLite store, matches counted per kind of copy."""
    from cvis.cases.scanning import run_scan
    from cvis.config import Settings
    from cvis.hashsets.media_import import import_media
    from cvis.identify.scan import ScanRequest, iter_scan_results
    from cvis.store.db import Store

    # The first four known clips end with an app's end-card (so it is common: it weighs
    # nothing); so do half the unrelated clips, and six short "app clips" are mostly end-card.
    known_frames = {n: pan_and_zoom(n, seconds) for n in KNOWN}
    for name in KNOWN[:4]:
        known_frames[name] += end_card()
    (root / "known").mkdir()
    (root / "seized").mkdir()
    rows = [["media_id", "file", "category"]]
    for name, frames in known_frames.items():
        write(root / "known" / f"{name}.mp4", frames)
        rows.append([name, f"{name}.mp4", "1"])
    with (root / "known" / "manifest.csv").open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    others = {n: pan_and_zoom(n, seconds) for n in UNRELATED}
    expected: dict[str, tuple[str, str]] = {}  # file -> (kind, known clip)
    for k, (name, frames) in enumerate(known_frames.items()):
        other = others[UNRELATED[k % len(UNRELATED)]]
        for j, (kind, (copy_frames, how)) in enumerate(copies(frames, other).items()):
            ext = {"matroska": "mkv", "webm": "webm", "avi": "avi", "mpegts": "ts",
                   "flv": "flv", "mpeg": "mpg", "asf": "wmv"}.get(str(how.get("fmt")), "mp4")
            file = f"{name}-{j:02d}.{ext}"
            write(root / "seized" / file, copy_frames, **how)  # type: ignore[arg-type]
            expected[file] = (kind, name)
    for name, frames in others.items():
        write(root / "seized" / f"unrelated-{name}.mp4", frames)
        write(root / "seized" / f"unrelated-{name}-endcard.mp4", frames + end_card())
        write(root / "seized" / f"unrelated-{name}-app.mp4", frames[:FPS] + end_card(4.0))
    store = Store(Settings(home=root / "home", database_url=f"sqlite:///{root / 'cvis.db'}"))
    with store.session() as session:
        import_media(session, root / "known" / "manifest.csv", name="known-videos")
    started = time.perf_counter()
    scan_id = run_scan(store, ScanRequest("BENCH", [root / "seized"], ["known-videos"]))
    elapsed = time.perf_counter() - started
    found: dict[str, int] = {}
    false_matches = unrelated_hits = set_aside = 0
    with store.session() as session:
        for row in iter_scan_results(session, scan_id):
            file = Path(row["path"]).name
            hits = {m["media_id"] for m in row["matches"]}
            set_aside += any(m.get("common_frames_ignored") for m in row["matches"])
            if file in expected:
                kind, name = expected[file]
                found[kind] = found.get(kind, 0) + (name in hits)
                false_matches += len(hits - {name})
                if name not in hits:
                    print(f"  missed: {file} ({kind})")
            elif hits:
                unrelated_hits += 1
                print(f"  {file} matched {sorted(hits)}")
    print(f"{'copy':28} found")
    for kind, count in found.items():
        print(f"{kind:28} {count}/{len(KNOWN)}")
    print(f"false matches among copies: {false_matches}")
    print(f"unrelated clips matched: {unrelated_hits}/{3 * len(UNRELATED)} (a third end with "
          "the end-card four known clips end with, a third are 1 s of picture and 4 s of it)")
    print(f"matches that set common end-card frames aside: {set_aside}")
    print(f"scan of {len(expected) + 3 * len(UNRELATED)} clips: {elapsed:.1f} s")


def speed(root: Path, heights: tuple[int, ...] = (720, 1080, 2160)) -> None:
    """Hashing speed against the clip's length, as wall time and per core (the process's CPU
    time, every thread counted): cvis's whole call (decode, PDQ of one frame a second, every
    variant), cvis's frames alone (vPDQ's work), and beside them Meta's vpdq on the same file
    (its PyPI package, built from source) when it is installed, else a reference loop (PyAV
    decode + the pdqhash package per sampled frame)."""
    for height in heights:
        size = (height * 16 // 9, height)
        seconds = 6.0 if height < 2160 else 3.0
        clip = write(root / f"speed-{height}.mp4", pan_and_zoom("coffee", seconds, size),
                     fps=FPS)
        figures = [
            ("cvis whole", _best(partial(hash_video, clip))),
            ("cvis frames only", _best(partial(hash_video, clip, variants=False, digests=False))),
            _reference(clip),
        ]
        shown = "; ".join(f"{label} {wall:.2f} s wall = {seconds / wall:.1f}x real time, "
                          f"{seconds / cpu:.1f}x per core" for label, (wall, cpu) in figures)
        print(f"{height}p ({size[0]}x{size[1]}, {FPS} fps, {seconds:g} s): {shown}; "
              f"{_agreement(clip)}")


def _best(work: Callable[[], object], runs: int = 2) -> tuple[float, float]:
    """The best of ``runs``: (wall seconds, CPU seconds of the process)."""
    times = []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
    return min(times)


def _reference(clip: Path) -> tuple[str, tuple[float, float]]:
    try:
        import vpdq  # type: ignore[import-not-found]
    except ImportError:
        return "reference PyAV+pdqhash loop", _best(partial(_pdq_loop, clip))
    return "vpdq", _best(partial(vpdq.computeHash, str(clip), seconds_per_hash=1))


def _pdq_loop(clip: Path) -> list[str]:
    import pdqhash

    out = []
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        every = max(1, int(float(stream.average_rate or FPS)))
        for n, frame in enumerate(container.decode(stream)):
            if n % every == 0:
                vector, _ = pdqhash.compute(frame.to_ndarray(format="rgb24"))
                out.append(vector)
    return out


def _agreement(clip: Path) -> str:
    """How many of vpdq's frame hashes cvis computes bit for bit (same frames, same hex)."""
    try:
        import vpdq
    except ImportError:
        return "vpdq not installed"
    theirs = [(f.frame_number, f.hex) for f in vpdq.computeHash(str(clip), seconds_per_hash=1)]
    ours = {(f.frame_number, f.hash) for f in hash_video(clip, variants=False).frames}
    return f"frames identical to vpdq: {sum(t in ours for t in theirs)}/{len(theirs)}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each known clip")
    parser.add_argument("--speed", action="store_true",
                        help="also time 720p, 1080p and 4K hashing beside vpdq")
    args = parser.parse_args(argv)
    print(f"machine: {os.cpu_count()} cores; load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        accuracy(Path(tmp), args.seconds)
        if args.speed:
            speed(Path(tmp))


if __name__ == "__main__":
    main()
