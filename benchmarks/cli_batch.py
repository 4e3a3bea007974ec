"""`petseg segment` on many small photos: cost per photo after start-up, against one forward pass.

    .venv/bin/python benchmarks/cli_batch.py [--model DIR] [--photos 40] [--pixels 200000]

Makes --photos copies of the people photos (/work/shared/data/people, else synthetic ones)
resized to about --pixels pixels, then times the command (a fresh process) on 1 photo and on
all of them: per photo after start-up = (t_all - t_one) / (photos - 1). Baseline, measured in
the same run: one forward pass of the model (batch 1, LiteRT, in this process; median of 9).
Goal: per photo <= 1.2 x one forward pass; the whole command on one photo <= 1.5 s.

A second table breaks one photo's work into the command's stages, timed in this process one
photo after another (median over the photos): what the command would cost per photo without
its pipeline (petseg_gui/cli_segment.py overlaps decoding, segmenting and writing).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
PEOPLE = ROOT.parent / "shared" / "data" / "people"


def small_photos(folder: Path, count: int, pixels: int) -> list[Path]:
    from PIL import Image

    sources = sorted((PEOPLE / "images").glob("*.jpg"))[:count] if PEOPLE.is_dir() else []
    paths = []
    for i in range(count):
        if sources:
            image = Image.open(sources[i % len(sources)]).convert("RGB")
        else:
            from tiny_model import synthetic_photo

            image = Image.fromarray(synthetic_photo(480, 640, seed=i))
        scale = (pixels / (image.width * image.height)) ** 0.5
        size = (round(image.width * scale), round(image.height * scale))
        path = folder / f"{i:03d}.jpg"
        image.resize(size, Image.Resampling.LANCZOS).save(path, quality=92)
        paths.append(path)
    return paths


def command_seconds(model: Path, photos: list[Path], out: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "petseg_gui.cli", "segment", "--model", str(model)]
        + ["--out-dir", str(out), "--overwrite", *map(str, photos)],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument("--pixels", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from petseg_gui.inference import Segmenter, bundled_model_dir
    from petseg_gui.inference.model_folder import load_model_folder

    model = args.model or bundled_model_dir()
    work = Path(tempfile.mkdtemp(prefix="petseg-cli-bench-"))
    photos = small_photos(work, args.photos, args.pixels)
    loaded = load_model_folder(model, warmup_batch=1)
    size = loaded.input_size
    batch = np.random.default_rng(0).random((1, size, size, 3), dtype=np.float32)
    forwards = []
    for _ in range(9):
        start = time.perf_counter()
        loaded.forward(batch)
        forwards.append(time.perf_counter() - start)
    forward = statistics.median(forwards)
    # What each of the command's two workers runs: a 1-thread interpreter (for the record).
    lane = load_model_folder(model, warmup_batch=1, workers=2).forward
    singles = []
    for _ in range(9):
        start = time.perf_counter()
        lane(batch)
        singles.append(time.perf_counter() - start)
    single = statistics.median(singles)
    ones, alls = [], []
    for _ in range(args.runs):
        ones.append(command_seconds(model, photos[:1], work / "one"))
        alls.append(command_seconds(model, photos, work / "all"))
    one, everything = statistics.median(ones), statistics.median(alls)
    per_photo = (everything - one) / (len(photos) - 1)
    plan = Segmenter(model)._plan(*_shape(photos[0]), size)  # noqa: SLF001
    print(
        f"petseg segment, {len(photos)} photos of ~{args.pixels / 1e6:.2f} MP "
        f"({type(plan).__name__}), model {model} ({loaded.runtime}), {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f}, median of {args.runs}"
    )
    print(f"{'measure':40} {'ms':>8}  ratio / goal")
    print(f"{'baseline: one forward pass (batch 1)':40} {forward * 1000:8.0f}")
    print(f"{'  the same on a 1-thread interpreter':40} {single * 1000:8.0f}  (each worker's)")
    print(f"{'command on 1 photo (wall)':40} {one * 1000:8.0f}  <= 1500 ms")
    print(
        f"{'per photo after start-up':40} {per_photo * 1000:8.0f}  "
        f"{per_photo / forward:.2f} x forward (goal <= 1.2)"
    )
    print(f"\nstages of one photo, one after another in this process (median of {len(photos)}):")
    print(f"{'stage':40} {'ms':>8}  x forward")
    for name, seconds in stage_times(model, photos, work / "stages").items():
        print(f"{name:40} {seconds * 1000:8.1f}  {seconds / forward:.2f}")
    print(f"load average at end {os.getloadavg()[0]:.2f}")


def stage_times(model: Path, photos: list[Path], out: Path) -> dict[str, float]:
    """Median seconds per photo of each stage of `petseg segment --format alpha`."""
    from petseg_gui.cli_segment import MATTE_PNG_LEVEL
    from petseg_gui.imaging import load_image, save_image
    from petseg_gui.inference import Segmenter
    from petseg_gui.overlay import matte_to_grey

    out.mkdir(exist_ok=True)
    segmenter = Segmenter(model)
    segmenter.load()
    forwards: list[float] = []
    real = segmenter._model.forward  # noqa: SLF001 (the benchmark times the model's share)

    def timed(batch: np.ndarray) -> np.ndarray:
        start = time.perf_counter()
        result = real(batch)
        forwards.append(time.perf_counter() - start)
        return result

    segmenter._model = dataclasses.replace(segmenter._model, forward=timed)  # noqa: SLF001
    names = (
        "decode + EXIF (load_image)",
        "model forward",
        "rest of predict (plan, guided filter, trimap)",
        "alpha -> 8-bit matte",
        f"PNG encode (level {MATTE_PNG_LEVEL}) + atomic write",
    )
    stages: dict[str, list[float]] = {name: [] for name in (*names, "sum")}
    segmenter.predict(load_image(photos[0]).pixels)  # warm up this photo size
    for path in photos:
        t0 = time.perf_counter()
        photo = load_image(path)
        t1 = time.perf_counter()
        before = len(forwards)
        result = segmenter.predict(photo.pixels)
        t2 = time.perf_counter()
        forward = sum(forwards[before:])
        grey = matte_to_grey(result.alpha)
        t3 = time.perf_counter()
        save_image(out / f"{path.stem}.png", grey, png_level=MATTE_PNG_LEVEL)
        t4 = time.perf_counter()
        for name, seconds in zip(
            names, (t1 - t0, forward, t2 - t1 - forward, t3 - t2, t4 - t3), strict=True
        ):
            stages[name].append(seconds)
        stages["sum"].append(t4 - t0)
    return {name: statistics.median(values) for name, values in stages.items()}


def _shape(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as image:
        return image.height, image.width


if __name__ == "__main__":
    main()
