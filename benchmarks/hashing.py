"""Hashing benchmark (issue 4): cvis's PDQ against python-threatexchange's reference.

Run:  python benchmarks/hashing.py [--quick] [--repeat N]
      python benchmarks/hashing.py --whole-process N [--baseline-src DIR] [--repeat R]
          [--workdir DIR]

Prints markdown tables:
  1. per format (JPEG, PNG, WEBP, HEIC): images/s of cvis (one worker) and of
     ``pdq_from_file`` in the same run, their ratio, and bit distances to the
     reference (max, p95, mean) by quality band;
  2. the JPEG decode-size sweep behind ``DECODE_MIN_SIDE``;
  3. cost and gain of the extra hashes (dihedral variants, border trim);
  4. the low-quality policy on generated dark, faint and flat pictures;
  5. video frames/s.

``--whole-process N`` measures instead what the user meets: the whole `cvis hash` process
over a folder of N distinct >= 4 MP JPEGs (every variant it looks up: dihedral and
trimmed hashes included, its audit records written) against a whole Python process that
calls ``pdq_from_file`` on the same files, both pinned to one core with ``taskset -c 0``,
interleaved, each side its fastest of R runs; ``--baseline-src`` adds another checkout's
`cvis hash` (e.g. main) to the same run. Drift: cvis's PDQ against the reference's, by
the reference's quality band.

Corpus: benign photos shipped with scikit-image (no people), scaled up to
>= 4 megapixels with sensor-like grain, plus darker copies so that every
quality band has members. Files are written to a temporary folder and removed.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import skimage
from PIL import Image
from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_file

from cvis.signals import decode, pdqcore
from cvis.signals.crypto import digest_chunks
from cvis.signals.image import ImageSignals, hash_image_bytes
from cvis.signals.quality import allow_match
from cvis.signals.video import hash_video

SAMPLES = Path(skimage.__file__).parent / "data"
PHOTOS = (
    "chelsea.png", "coffee.png", "rocket.jpg", "hubble_deep_field.jpg", "motorcycle_left.png",
    "brick.png", "grass.png", "gravel.png", "coins.png", "moon.png", "retina.jpg",
)  # fmt: skip
FORMATS = {"JPEG": {"quality": 90}, "PNG": {"compress_level": 3}, "WEBP": {"quality": 90},
           "HEIF": {"quality": 90}}  # fmt: skip
BANDS = ((80, 101, ">=80"), (50, 80, "50-79"), (0, 50, "<50"))


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def scaled(name: str, megapixels: float, seed: int) -> Image.Image:
    with Image.open(SAMPLES / name) as image:
        base = image.convert("RGB")
    scale = (megapixels * 1e6 / (base.width * base.height)) ** 0.5
    size = (round(base.width * scale), round(base.height * scale))
    big = np.asarray(base.resize(size, Image.Resampling.LANCZOS), dtype=np.float32)
    grain = np.random.default_rng(seed).normal(0, 3, big.shape)
    return Image.fromarray(np.clip(big + grain, 0, 255).astype(np.uint8))


def corpus(photos: tuple[str, ...], megapixels: float) -> list[tuple[str, Image.Image]]:
    pictures = []
    for seed, name in enumerate(photos):
        image = scaled(name, megapixels, seed)
        pictures.append((name, image))
        if seed % 2 == 0:  # darker copies fill the lower quality bands
            dark = Image.fromarray((np.asarray(image) * 0.25).astype(np.uint8))
            pictures.append((f"{name}(dark)", dark))
    return pictures


def best_time(func: Callable[[], object], repeat: int) -> float:
    """Fastest of ``repeat`` runs: the machine is shared, the minimum is the least noisy."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def cvis_primary(path: Path) -> tuple[str, int]:
    data = path.read_bytes()
    digest_chunks([data])  # md5/sha1/sha256 from the same bytes, as the pipeline does
    signals = hash_image_bytes(data, dihedral=False, trim_borders=False, max_frames=1)
    return signals.pdq, signals.quality


def format_table(files: dict[str, list[Path]], repeat: int) -> None:
    print("## PDQ per format: cvis (1 worker, + md5/sha1/sha256) vs pdq_from_file\n")
    print(
        "| format | files | MP (mean) | ref img/s | cvis img/s | ratio "
        "| band | n | max | p95 | mean |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for fmt, paths in files.items():
        ref_t = cvis_t = 0.0
        rows: list[tuple[int, int]] = []
        for path in paths:
            ref_hash, ref_q = pdq_from_file(path)
            ours, _ = cvis_primary(path)
            rows.append((ref_q, hamming(ours, ref_hash)))
            ref_t += best_time(lambda p=path: pdq_from_file(p), repeat)
            cvis_t += best_time(lambda p=path: cvis_primary(p), repeat)
        megapixels = statistics.mean(_megapixels(p) for p in paths)
        head = (
            f"| {fmt} | {len(paths)} | {megapixels:.1f} | {len(paths) / ref_t:.2f} | "
            f"{len(paths) / cvis_t:.2f} | {ref_t / cvis_t:.1f}x"
        )
        for low, high, label in BANDS:
            dists = [d for q, d in rows if low <= q < high]
            if not dists:
                continue
            p95 = float(np.percentile(dists, 95))
            print(
                f"{head} | {label} | {len(dists)} | {max(dists)} | {p95:.1f} | "
                f"{statistics.mean(dists):.2f} |"
            )
            head = "| | | | | | "
    print()


def _megapixels(path: Path) -> float:
    with Image.open(path) as image:
        return image.width * image.height / 1e6


def decode_size_sweep(paths: list[Path], repeat: int) -> None:
    print("## JPEG decode size (DCT scaling) vs distance to the reference\n")
    print("| min short side | scale (median) | px per PDQ cell (median) | ms/img | max | mean |")
    print("|---|---|---|---|---|---|")
    refs = {p: pdq_from_file(p)[0] for p in paths}
    for side in (None, 1024, 512, 256, 128):
        dists, total, scales, cells = [], 0.0, [], []
        for path in paths:
            data = path.read_bytes()
            frame = next(decode.decode_frames(data, min_side=side))
            scales.append(frame.full_size[0] / frame.pixels.shape[1])
            cells.append(min(frame.pixels.shape[:2]) / 64)
            dists.append(hamming(_hash_at(data, side), refs[path]))
            total += best_time(lambda d=data, s=side: _hash_at(d, s), repeat)
        label = "full" if side is None else str(side)
        print(
            f"| {label} | 1/{statistics.median(scales):.0f} | {statistics.median(cells):.0f} | "
            f"{1000 * total / len(paths):.0f} | {max(dists)} | {statistics.mean(dists):.2f} |"
        )
    print()


def _hash_at(data: bytes, side: int | None) -> str:
    frame = next(decode.decode_frames(data, min_side=side))
    return pdqcore.bits_hex(pdqcore.pdq_float(frame.pixels, frame.full_size).dct16)


def variants_table(pictures: list[tuple[str, Image.Image]], repeat: int) -> None:
    print("## Extra hashes: what they cost and what they find\n")
    plain, mirrored, framed = [], [], []
    for _, image in pictures:
        small = image.resize((image.width // 3, image.height // 3))
        plain.append(_jpeg(small))
        mirrored.append(_jpeg(small.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
        pad = Image.new("RGB", (small.width, small.height + small.height // 6), "black")
        pad.paste(small, (0, small.height // 12))
        framed.append(_jpeg(pad))
    known = [hash_image_bytes(d, dihedral=False, trim_borders=False).pdq for d in plain]
    print("| setting | ms/img (1 MP JPEG) | mirrored copies found | letterboxed copies found |")
    print("|---|---|---|---|")
    for dihedral, trim in ((False, False), (True, False), (False, True), (True, True)):
        cost = sum(
            best_time(lambda d=d, e=dihedral, t=trim: _extras(d, e, t), repeat) for d in plain
        )
        found = [
            sum(
                _found(_extras(d, dihedral, trim).hashes(), k)
                for d, k in zip(copies, known, strict=True)
            )
            for copies in (mirrored, framed)
        ]
        n = len(plain)
        print(
            f"| dihedral={dihedral}, trim={trim} | {1000 * cost / n:.1f} | "
            f"{found[0]}/{n} | {found[1]}/{n} |"
        )
    print()


def _extras(data: bytes, dihedral: bool, trim: bool) -> ImageSignals:
    return hash_image_bytes(data, dihedral=dihedral, trim_borders=trim)


def _found(hashes: list[str], known: str) -> bool:
    return min(hamming(h, known) for h in hashes) <= 31


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def quality_table() -> None:
    print("## Low-quality policy on generated pictures\n")
    print("| copy | n | quality (median) | distance (max) | Meta rule finds | cvis finds |")
    print("|---|---|---|---|---|---|")
    changes = {
        "dark x0.25": lambda x: x * 0.25, "dark x0.12": lambda x: x * 0.12,
        "dark x0.06": lambda x: x * 0.06, "faint x0.2": lambda x: 128 + (x - 128) * 0.2,
        "faint x0.1": lambda x: 128 + (x - 128) * 0.1,
        "faint x0.05": lambda x: 128 + (x - 128) * 0.05,
    }  # fmt: skip
    originals = {n: np.asarray(Image.open(SAMPLES / n).convert("RGB")) for n in PHOTOS}
    known = {n: hash_image_bytes(_jpeg(Image.fromarray(a))) for n, a in originals.items()}
    for label, change in changes.items():
        qs, ds, meta, ours = [], [], 0, 0
        for name, pixels in originals.items():
            copy = np.clip(np.rint(change(pixels.astype(np.float64))), 0, 255).astype(np.uint8)
            found = hash_image_bytes(_jpeg(Image.fromarray(copy)), dihedral=False)
            k = known[name]
            d = hamming(found.pdq, k.pdq)
            qs.append(found.quality)
            ds.append(d)
            meta += allow_match(found.quality, k.quality, d)
            ours += allow_match(found.quality, k.quality, d,
                                query_contrast_quality=found.contrast_quality)  # fmt: skip
        n = len(originals)
        print(
            f"| {label} | {n} | {statistics.median(qs):.0f} | {max(ds)} | {meta}/{n} | {ours}/{n} |"
        )
    flats = _flat_pictures()
    pairs = list(itertools.combinations(flats, 2))
    naive = sum(hamming(a.pdq, b.pdq) <= 31 for a, b in pairs)
    ours_flat = sum(
        allow_match(
            a.quality,
            b.quality,
            hamming(a.pdq, b.pdq),
            query_contrast_quality=a.contrast_quality,
            query_hash=a.pdq,
        )
        for a, b in pairs
    )
    print(
        f"\nBlank/flat pictures ({len(flats)}: constant 0..255, +-2 noise, PNG and JPEG): "
        f"{len(pairs)} pairs; distance-only matcher pairs {naive}, cvis pairs {ours_flat}.\n"
    )


def _flat_pictures() -> list[ImageSignals]:
    rng = np.random.default_rng(0)
    found = []
    for value in (0, 1, 16, 37, 128, 200, 255):
        for noise in (0, 2):
            pixels = np.clip(value + rng.integers(-noise, noise + 1, (300, 400, 3)), 0, 255)
            image = Image.fromarray(pixels.astype(np.uint8))
            for fmt in ("PNG", "JPEG"):
                out = io.BytesIO()
                image.save(out, format=fmt)
                found.append(hash_image_bytes(out.getvalue(), dihedral=False))
    return found


def video_table(folder: Path, quick: bool) -> None:
    import av

    print("## Video (1 frame hashed per second, collapse on)\n")
    print("| video | frames decoded | frames kept | seconds | decoded frames/s | x real time |")
    print("|---|---|---|---|---|---|")
    path = folder / "generated_720p.mp4"
    seconds = 4 if quick else 10
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        for name in ("chelsea.png", "coffee.png", "rocket.jpg"):
            scene = Image.open(SAMPLES / name).convert("RGB").resize((1320, 760))
            for i in range(25 * seconds // 3):
                frame = scene.crop((i % 40, i % 40, i % 40 + 1280, i % 40 + 720))
                container.mux(stream.encode(av.VideoFrame.from_image(frame)))
        container.mux(stream.encode(None))
    videos = [path]
    try:
        import importlib.util

        spec = importlib.util.find_spec("perception")
        if spec and spec.origin:
            videos += sorted((Path(spec.origin).parent / "testing" / "videos").glob("*.m4v"))
    except ImportError:
        pass
    for video in videos:
        start = time.perf_counter()
        signals = hash_video(video, collapse_distance=4)
        took = time.perf_counter() - start
        print(
            f"| {video.name} ({signals.width}x{signals.height}) | {signals.frames_decoded} | "
            f"{len(signals.frames)} | {took:.2f} | {signals.frames_decoded / took:.0f} | "
            f"{signals.frames_decoded / signals.fps / took:.1f} |"
        )
    print()


REFERENCE = (
    "import json, sys\n"
    "from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_file\n"
    "for path in sys.argv[1:]:\n"
    "    print(json.dumps([path, *pdq_from_file(path)]))\n"
)


def _timed(argv: list[str], env: dict[str, str], out: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, children included) of one pinned process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with out.open("w") as sink:
        subprocess.run(["taskset", "-c", "0", *argv], env=env, check=True, stdout=sink)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def whole_process(count: int, repeat: int, baseline: Path | None, keep: Path | None) -> None:
    """`cvis hash DIR` against pdq_from_file over the same JPEGs, one core, whole processes."""
    work = Path(tempfile.mkdtemp(prefix="cvis-hash-whole-"))
    folder = (keep or work) / f"jpegs-{count}"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):  # distinct files: grain differs (identical content decodes once)
        path = folder / f"{i:04d}.jpg"
        if path.exists():  # made by an earlier run with the same --workdir
            continue
        image = scaled(PHOTOS[i % 8], 4.2, seed=1000 + i)
        if i % 4 == 3:
            image = Image.fromarray((np.asarray(image) * 0.25).astype(np.uint8))
        image.save(path, quality=90)
    files = sorted(str(p) for p in folder.iterdir())
    ours = Path(__file__).resolve().parents[1] / "src"
    sides: dict[str, list[str]] = {"pdq_from_file": [sys.executable, "-c", REFERENCE, *files]}
    trees = {"cvis hash": ours, **({"cvis hash (baseline)": baseline} if baseline else {})}
    envs: dict[str, dict[str, str]] = {"pdq_from_file": dict(os.environ)}
    for label, src in trees.items():
        home = work / label.replace(" ", "_")
        # Installed packages carry compiled bytecode (pip compiles at install); a shell that sets
        # PYTHONDONTWRITEBYTECODE would have every timed run compile the sources again.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("CVIS_") and k != "PYTHONDONTWRITEBYTECODE"}
        envs[label] = {**env, "PYTHONPATH": str(src), "CVIS_HOME": str(home)}
        sides[label] = [sys.executable, "-m", "cvis.cli.app", "hash", str(folder)]
        tiny = work / "tiny.png"
        Image.new("RGB", (16, 16)).save(tiny)  # the first run creates the store: not timed
        subprocess.run([*sides[label][:-1], str(tiny)], env=envs[label], check=True,
                       stdout=subprocess.DEVNULL)
    best: dict[str, tuple[float, float]] = {}
    load = os.getloadavg()[0]
    for _ in range(repeat):
        for label, argv in sides.items():
            wall, cpu = _timed(argv, envs[label], work / f"{label}.out")
            old = best.get(label)
            best[label] = (min(wall, old[0]), min(cpu, old[1])) if old else (wall, cpu)
    ref = {json.loads(line)[0]: json.loads(line)[1:]
           for line in (work / "pdq_from_file.out").read_text().splitlines()}
    print(f"## `cvis hash` whole process, one core: {count} JPEGs of 4.2 MP (q90)\n")
    print("| process | wall s | CPU s | ms/img (wall) | ratio (wall) | ratio (CPU) |")
    print("|---|---|---|---|---|---|")
    ref_wall, ref_cpu = best["pdq_from_file"]
    for label, (wall, cpu) in best.items():
        print(f"| {label} | {wall:.2f} | {cpu:.2f} | {1000 * wall / count:.1f} | "
              f"{ref_wall / wall:.1f}x | {ref_cpu / cpu:.1f}x |")
    print(f"\nload average {load:.1f} → {os.getloadavg()[0]:.1f}\n")
    for label in trees:
        rows = [json.loads(line) for line in (work / f"{label}.out").read_text().splitlines()]
        drift = [(ref[r["path"]][1], hamming(r["pdq"], ref[r["path"]][0])) for r in rows]
        for low, high, band in BANDS:
            ds = [d for q, d in drift if low <= q < high]
            if ds:
                print(f"{label}: quality {band}: n {len(ds)}, max {max(ds)} bits, "
                      f"mean {statistics.mean(ds):.2f}")
    shutil.rmtree(work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer photos, one repeat")
    parser.add_argument("--repeat", type=int, default=3, help="runs per file; the fastest counts")
    parser.add_argument("--photos", type=int, default=len(PHOTOS), help="sample photos to use")
    parser.add_argument("--whole-process", type=int, metavar="N",
                        help="only the whole-process `cvis hash` comparison, over N JPEGs")
    parser.add_argument("--baseline-src", type=Path, help="another checkout's src, compared too")
    parser.add_argument("--workdir", type=Path, help="keep (and reuse) the generated JPEGs here")
    args = parser.parse_args()
    if args.whole_process:
        whole_process(args.whole_process, args.repeat, args.baseline_src, args.workdir)
        return
    repeat = 1 if args.quick else args.repeat
    photos = PHOTOS[: 4 if args.quick else args.photos]
    print(f"# cvis hashing benchmark ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n")
    pictures = corpus(photos, megapixels=4.2)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files: dict[str, list[Path]] = {}
        for fmt, params in FORMATS.items():
            files[fmt] = []
            for i, (_, image) in enumerate(pictures):
                path = folder / f"{i:02d}.{fmt.lower()}"
                image.save(path, format=fmt, **params)
                files[fmt].append(path)
        format_table(files, repeat)
        decode_size_sweep(files["JPEG"], repeat)
        variants_table(pictures, repeat)
        quality_table()
        video_table(folder, args.quick)


if __name__ == "__main__":
    main()
