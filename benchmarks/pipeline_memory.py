"""Peak memory of the one-photo pipeline at 24 megapixels: load, segment, render, save.

Each stage runs in a fresh Python process (peak resident memory, ``ru_maxrss``, only grows,
so one process per stage is the only way to see what each step adds), several times; the
table shows the median. Baseline: the same process doing nothing but loading the photo.
Goal: the whole pipeline at most 1.5 GB. The time column is the stage's wall time including
its imports (TensorFlow from the second row on).

Linux carries a process's peak RSS across fork + exec, so the parent stays small: the photo
and the model are made in a child process too, or every row would start at their peak.

    .venv/bin/python benchmarks/pipeline_memory.py [--megapixels 24] [--runs 3]

Uses the bundled model (resources/model) if present, else the paper's U-Net at 224 px with
untrained weights (same size and memory as a trained one) written to a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_MB = 1500.0
STAGES = (
    ("load photo (baseline)", 1),
    ("+ load model (TensorFlow)", 2),
    ("+ segment", 3),
    ("+ render portrait", 4),
    ("+ save JPEG", 5),
)


def peak_rss_mb() -> float:
    # Linux reports kilobytes, macOS bytes.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e6


def run_stage(depth: int, photo: Path, model: Path, out_dir: Path) -> dict:
    """The child: run the pipeline up to ``depth`` and report its peak memory and time."""
    sys.path.insert(0, str(ROOT))
    from petseg_gui.imaging import load_image, save_image

    start = time.perf_counter()
    loaded = load_image(photo)
    if depth >= 2:
        from petseg_gui.inference import Segmenter

        segmenter = Segmenter(model)
        segmenter.load()
    if depth >= 3:
        result = segmenter.predict(loaded.pixels)
    if depth >= 4:
        from petseg_gui.effects import PortraitParams, render

        edited = render(loaded.pixels, result.alpha, PortraitParams())
    if depth >= 5:
        save_image(out_dir / "out.jpg", edited, exif=loaded.exif, icc_profile=loaded.icc_profile)
    return {"peak_mb": peak_rss_mb(), "seconds": time.perf_counter() - start}


def make_photo(path: Path, megapixels: float) -> tuple[int, int]:
    """A photo-like 3:2 JPEG: smooth colour gradients, sensor-like noise, a bright subject."""
    import numpy as np
    from PIL import Image

    height = int(round((megapixels * 1e6 / 1.5) ** 0.5))
    width = int(round(height * 1.5))
    rng = np.random.default_rng(0)
    yy, xx = np.ogrid[0:height, 0:width]
    photo = np.empty((height, width, 3), np.uint8)
    for channel, period in enumerate((900.0, 1300.0, 700.0)):
        wave = 110 + 70 * np.sin(xx / period + channel) * np.cos(yy / (period * 0.8))
        photo[..., channel] = np.clip(wave + rng.normal(0, 6, (height, width)), 0, 255)
    inside = ((yy - height / 2) / (height * 0.35)) ** 2 + ((xx - width / 2) / (width * 0.18)) ** 2
    photo[inside <= 1.0] = (225, 190, 150)
    Image.fromarray(photo).save(path, quality=92)
    return width, height


def model_folder(scratch: Path) -> tuple[Path, str]:
    bundled = ROOT / "resources" / "model"
    if (bundled / "model.keras").is_file():
        return bundled, "bundled model"
    sys.path.insert(0, str(ROOT))
    from model_training.export import write_card
    from model_training.model import build_unet

    folder = scratch / "model"
    folder.mkdir()
    build_unet(224, encoder_weights=None).save(folder / "model.keras")
    write_card(folder, image_size=224, name="benchmark-untrained-224")
    return folder, "paper U-Net 224 px, untrained weights"


def child(depth: int, photo: Path, model: Path, out_dir: Path) -> dict:
    command = [sys.executable, __file__, "--stage", str(depth), "--photo", str(photo)]
    command += ["--model", str(model), "--out-dir", str(out_dir)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"stage {depth} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", type=float, default=24.0)
    parser.add_argument("--runs", type=int, default=3, help="runs per stage (median shown)")
    parser.add_argument("--stage", type=int, help=argparse.SUPPRESS)  # child mode
    parser.add_argument("--photo", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--model", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--prepare", type=Path, help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args()
    if args.prepare:
        width, height = make_photo(args.prepare / "photo.jpg", args.megapixels)
        model, note = model_folder(args.prepare)
        setup = {"width": width, "height": height, "model": str(model), "model_note": note}
        print(json.dumps(setup))
        return 0
    if args.stage:
        print(json.dumps(run_stage(args.stage, args.photo, args.model, args.out_dir)))
        return 0

    with tempfile.TemporaryDirectory(prefix="petseg-memory-") as scratch_name:
        scratch = Path(scratch_name)
        photo = scratch / "photo.jpg"
        command = [sys.executable, __file__, "--prepare", str(scratch)]
        command += ["--megapixels", str(args.megapixels)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"preparing the photo and model failed:\n{done.stderr[-3000:]}")
        setup = json.loads(done.stdout.strip().splitlines()[-1])
        width, height, model = setup["width"], setup["height"], Path(setup["model"])
        print(
            f"photo {width}x{height} ({width * height / 1e6:.1f} MP, "
            f"{photo.stat().st_size / 1e6:.1f} MB JPEG); {setup['model_note']}; "
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}; "
            f"median of {args.runs} runs per stage, one fresh process each"
        )
        print(f"{'stage':28s} {'peak RSS MB':>12s} {'x baseline':>11s} {'+MB':>8s} {'time s':>7s}")
        baseline = previous = None
        for name, depth in STAGES:
            runs = [child(depth, photo, model, scratch) for _ in range(args.runs)]
            peak = statistics.median(r["peak_mb"] for r in runs)
            seconds = statistics.median(r["seconds"] for r in runs)
            baseline = baseline or peak
            added = peak - previous if previous is not None else 0.0
            print(f"{name:28s} {peak:12.0f} {peak / baseline:11.2f} {added:8.0f} {seconds:7.1f}")
            previous = peak
        verdict = "within" if previous <= GOAL_MB else "OVER"
        print(f"whole pipeline: {previous:.0f} MB peak, {verdict} the {GOAL_MB:.0f} MB goal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
