"""Photo -> full-resolution alpha: speed (and the quality that the speed buys).

    KERAS_HOME=/work/shared/keras_home TF_CPP_MIN_LOG_LEVEL=2 \
        .venv/bin/python benchmarks/inference_speed.py [--runs 15] [--model DIR] \
        [--skip speed|known-edge|people]

Speed: a model folder with the paper's architecture (MobileNetV2 U-Net, 224 px, 6.5 M
parameters) carrying the weights of the trained model (--model, else the bundled one; random
weights when there is none), and a people photo enlarged to --size. Every row is the median of
--runs runs, the variants taking turns, measured next to the paper's way as the baseline (squash
the photo to 224 x 224, predict, argmax, nearest-neighbour labels at full resolution).

"scale x1" / "x2": the photo's short side at 1x / 2x the model size, as the app does it: one
pass over the whole photo on a model.tflite that takes any size (WholePhotoPlan), overlapping
squares on a square-only one; "two square tiles" forces the squares (the default before issue
12). Small photos (<= 0.25 MP) take one squeezed square either way.

Quality: (1) known-edge scenes (petseg_gui.inference.known_edge) seen by a perfect low-resolution
model: error of the full-resolution alpha against the true alpha; (2) if a trained model folder
is given (--model, default the bundled one when present), foreground IoU against the masks of
/work/shared/data/people (alpha > 0.5, at each photo's own resolution).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_HOME", str(ROOT.parent / "shared" / "keras_home"))

from petseg_gui.inference import RefineParams, Segmenter, bundled_model_dir  # noqa: E402
from petseg_gui.inference.known_edge import hair_scene, ideal_probabilities  # noqa: E402
from petseg_gui.inference.letterbox import LetterboxPlan  # noqa: E402
from petseg_gui.inference.matting import downscale, guide_factor, refine  # noqa: E402
from petseg_gui.inference.tiling import TilePlan, WholePhotoPlan  # noqa: E402

PEOPLE = ROOT.parent / "shared" / "data" / "people"


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times)


def interleaved_medians(fns: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Median ms of each function, taking turns run by run, so that load from other processes
    on this shared machine falls on every variant alike instead of on whichever ran then."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: 1000.0 * statistics.median(t) for name, t in times.items()}


def table(title: str, header: tuple[str, ...], rows: list[tuple]) -> None:
    print(f"\n## {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(" --- " for _ in header) + "|")
    for row in rows:
        cells = [f"{c:.4g}" if isinstance(c, float) else str(c) for c in row]
        print("| " + " | ".join(cells) + " |")


def write_paper_model(folder: Path, size: int = 224, weights_from: Path | None = None) -> str:
    """A model folder with the paper's U-Net at ``size``. The U-Net is fully convolutional, so a
    trained model of another size lends its weights: then the refinement times below see the
    near-saturated probabilities of a real model, not the noise of random weights. Returns
    where the weights came from."""
    import keras

    from model_training.model import build_unet

    model = build_unet(size, encoder_weights=None)
    source = "random weights"
    if weights_from is not None and (weights_from / "model.keras").is_file():
        trained = keras.saving.load_model(weights_from / "model.keras", compile=False)
        try:
            model.set_weights(trained.get_weights())
            source = f"weights of {weights_from}"
        except ValueError:
            source = f"random weights ({weights_from} has another architecture)"
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / "model.keras")
    card = {
        "format": "petseg-model",
        "format_version": 1,
        "name": f"paper-architecture-{size}",
        "input_size": size,
        "classes": ["subject", "background", "boundary"],
        "sha256": hashlib.sha256((folder / "model.keras").read_bytes()).hexdigest(),
        "architecture": {"parameters": int(model.count_params())},
    }
    (folder / "model.json").write_text(json.dumps(card, indent=2))
    return source


def cold_load_seconds(folder: Path, runs: int) -> float:
    """A fresh Python: import TensorFlow + check + load + warm up (what a user waits for)."""
    code = (
        "import time; t = time.perf_counter();"
        "from petseg_gui.inference import Segmenter;"
        f"Segmenter({str(folder)!r}).load(); print(time.perf_counter() - t)"
    )
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def benchmark_photo(width: int, height: int) -> np.ndarray:
    """A real person (the first people photo) enlarged to the size asked, else a synthetic one."""
    path = PEOPLE / "images" / "1.jpg"
    if path.is_file():
        from petseg_gui.imaging import load_image

        small = load_image(path).pixels
        if small.shape[0] > small.shape[1]:
            width, height = height, width  # keep the photo's orientation
    else:
        small, _ = hair_scene(height // 4, width // 4, seed=1)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)


def paper_way(seg: Segmenter, rgb: np.ndarray) -> np.ndarray:
    """The seed: squash to S x S, predict, argmax, labels back to full size (nearest)."""
    s = seg.input_size
    x = cv2.resize(rgb, (s, s), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    probs = seg._model.forward(x[None])[0]  # noqa: SLF001 (benchmark reaches into the model)
    labels = probs.argmax(axis=2).astype(np.uint8)
    return cv2.resize(labels, rgb.shape[1::-1], interpolation=cv2.INTER_NEAREST)


def speed(args: argparse.Namespace, trained: Path | None) -> None:
    width, height = (int(v) for v in args.size.lower().split("x"))
    photo = benchmark_photo(width, height)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "paper224"
        source = write_paper_model(folder, weights_from=trained)
        if source.startswith("random weights (") and trained is not None:
            # Random weights give the refinement noise to work on, not a real model's nearly
            # settled probabilities: time the trained model itself (as the app runs it).
            folder, source = trained, f"the trained model {trained} itself"
        card = json.loads((folder / "model.json").read_text())
        params_m, size_px = card["architecture"]["parameters"], card["input_size"]

        start = time.perf_counter()
        Segmenter(folder).load()  # first load in this process (Keras/TF already imported)
        first_load = time.perf_counter() - start
        warm_load = median_ms(lambda: Segmenter(folder).load(), max(3, args.runs // 2)) / 1000
        cold = cold_load_seconds(folder, 3)
        table(
            f"Loading the model ({params_m:,} parameters, {size_px} px, {source})",
            ("what", "seconds", "goal"),
            [
                ("fresh process: import TensorFlow + load + warm-up (median of 3)", cold, "-"),
                ("load + warm-up, TensorFlow already imported (first)", first_load, "<= 3"),
                ("load + warm-up, TensorFlow already imported (median)", warm_load, "<= 3"),
            ],
        )

        variants = {
            f"paper: squash to {size_px}, argmax, nearest labels (baseline)": None,
            "letterbox, bilinear alpha, no refinement": Segmenter(
                folder, strategy="letterbox", refine=False
            ),
            "letterbox + colour guided filter": Segmenter(folder, strategy="letterbox"),
            "scale x1 + colour guided filter (default)": Segmenter(folder),
            "the default without the compiled matte module (no C compiler)": OpenCVPass(folder),
            "two square tiles + colour guided filter (default before issue 12)": SquareTiles(
                folder
            ),
            "scale x1 + grey guided filter": Segmenter(
                folder, params=RefineParams(color_guide=False)
            ),
            "scale x1 + colour guided filter + flip TTA": Segmenter(folder, tta=True),
            "scale x2 + colour guided filter": Segmenter(folder, tile_scale=2.0),
        }
        baseline_seg = variants["scale x1 + colour guided filter (default)"]
        # The paper's way holds its own model, as an app doing only that would: sharing the
        # default's interpreters would make both re-plan for 288 x 288 <-> 288 x 384 every run.
        paper_seg = Segmenter(folder)
        paper_seg.load()
        paper_way(paper_seg, photo)
        for seg in variants.values():
            if seg is not None:
                seg.load()
                seg.predict(photo)  # first full-size call: page faults, oneDNN batch shapes
        fns = {
            name: (lambda: paper_way(paper_seg, photo))
            if seg is None
            else (lambda s=seg: s.predict(photo))
            for name, seg in variants.items()
        }
        medians = interleaved_medians(fns, args.runs)
        baseline = next(iter(medians.values()))
        rows = [(name, ms, ms / baseline) for name, ms in medians.items()]
        size = f"{photo.shape[1]}x{photo.shape[0]}"
        table(
            f"Photo {size} -> full-resolution alpha + trimap, model loaded "
            f"(median of {args.runs}; goal: default <= 1.5 x baseline)",
            ("pipeline", "ms", "x baseline"),
            rows,
        )
        stage_rows = stages(baseline_seg, photo, args.runs)
        table("Where the default's time goes", ("stage", "ms"), stage_rows)


def stages(seg: Segmenter, photo: np.ndarray, runs: int) -> list[tuple[str, float]]:
    h, w = photo.shape[:2]
    plan = seg._plan(h, w, seg.input_size, flexible=seg._model.flexible)  # noqa: SLF001
    k = guide_factor(h, w, max(plan.shape), seg.params)
    guide = downscale(photo, k)
    batch = plan.batch(plan.working_image(guide))
    probs = plan.merge(seg._model.forward(batch))  # noqa: SLF001
    rows = [
        (f"area downscale to the guide ({guide.shape[1]}x{guide.shape[0]}, k={k})", 0.0),
        (f"{type(plan).__name__}: cut {len(batch)} model input(s)", 0.0),
        (f"model forward (batch {len(batch)} of {batch.shape[1]}x{batch.shape[2]})", 0.0),
        ("guided filter + full-res pass + trimap (strips)", 0.0),
        ("plain bilinear alpha + trimap at full res", 0.0),
    ]
    fns = [
        lambda: downscale(photo, k),
        lambda: plan.batch(plan.working_image(guide)),
        lambda: seg._model.forward(batch),  # noqa: SLF001
        lambda: refine(photo, guide, k, probs, seg.params),
        lambda: refine(photo, guide, k, probs, seg.params, enabled=False),
    ]
    medians = interleaved_medians({name: fn for (name, _), fn in zip(rows, fns, strict=True)}, runs)
    return list(medians.items())


def gradient_error(alpha: np.ndarray, truth: np.ndarray, band: np.ndarray) -> float:
    """Mean |grad alpha - grad truth| in the band: blur and staircases both show up here."""

    def grad(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return cv2.Sobel(a, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(a, cv2.CV_32F, 0, 1, ksize=3)

    (ax, ay), (tx, ty) = grad(alpha), grad(truth)
    return float(np.hypot(ax - tx, ay - ty)[band].mean())


def known_edge_quality() -> None:
    height, width = 1200, 1600
    photo, truth = hair_scene(height, width)
    jpeg = cv2.imencode(".jpg", photo[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])[1]
    photos = {"clean": photo, "JPEG 85": cv2.imdecode(jpeg, cv2.IMREAD_COLOR)[..., ::-1]}
    band = cv2.dilate(((truth > 0.02) & (truth < 0.98)).astype(np.uint8), np.ones((13, 13))) > 0
    rows = []
    for plan_name, plan in (
        ("letterbox 224", LetterboxPlan.fit(height, width, 224)),
        ("tiles x1 224", TilePlan.fit(height, width, 224)),
        ("whole photo 224 (flexible model)", WholePhotoPlan.fit(height, width, 224)),
    ):
        for blur in (0.0, 0.7):
            probs = ideal_probabilities(truth, *plan.shape, blur=blur)
            for photo_name, image in photos.items():
                for method, params, enabled in (
                    ("bilinear", RefineParams(), False),
                    ("grey guided", RefineParams(color_guide=False), True),
                    ("colour guided", RefineParams(), True),
                ):
                    k = guide_factor(height, width, max(plan.shape), params)
                    alpha, _ = refine(image, downscale(image, k), k, probs, params, enabled=enabled)
                    err = np.abs(alpha - truth)
                    iou = np.sum((alpha > 0.5) & (truth > 0.5)) / np.sum(
                        (alpha > 0.5) | (truth > 0.5)
                    )
                    rows.append(
                        (
                            plan_name,
                            blur,
                            photo_name,
                            method,
                            float(err.mean()),
                            float(err[band].mean()),
                            gradient_error(alpha, truth, band),
                            float(iou),
                        )
                    )
    table(
        f"Known-edge hair scene {width}x{height}, perfect low-res model (blur = its uncertainty "
        "in model px)",
        ("working res", "blur", "photo", "upsampling", "MAE", "MAE edge band", "grad err", "IoU"),
        rows,
    )


class MirroredTiles(Segmenter):
    """Tiles with the U-Net paper's mirrored border around the photo (off in the app)."""

    def _plan(self, height: int, width: int, size: int, **_) -> TilePlan:
        return TilePlan.fit(height, width, size, scale=self.tile_scale, mirror=True)


class OpenCVPass(Segmenter):
    """The default with the matte's compiled module off (the full-resolution pass on OpenCV, the
    guided filter's colour algebra in numpy), as an install without a C compiler runs it (and
    every install did before _matte.c)."""

    def predict(self, *args, **kwargs):
        from petseg_gui.inference import full_resolution

        built = full_resolution.native
        full_resolution.native = None
        try:
            return super().predict(*args, **kwargs)
        finally:
            full_resolution.native = built


class SquareTiles(Segmenter):
    """The tiles plan as if the model.tflite took only squares (an older file): overlapping
    S x S tiles instead of one whole-photo pass (small photos: one squeezed square)."""

    def _plan(self, height: int, width: int, size: int, **_):
        return super()._plan(height, width, size, flexible=False)


def people_ids(model_dir: Path, limit: int) -> tuple[list[str], str]:
    """The model's held-out validation photos when its folder lists them, else the first ids."""
    listed = model_dir / "validation_ids.txt"
    if not listed.is_file():  # the bundled folder lists each source's held-out ids
        listed = model_dir / "validation_ids" / "people.txt"
    if listed.is_file():
        return listed.read_text().split()[:limit], "held-out validation photos of this model"
    ids = (PEOPLE / "ids.txt").read_text().split()[:limit]
    return ids, "first ids; the model may have trained on them"


def people_quality(model_dir: Path, limit: int) -> None:
    from petseg_gui.imaging import load_image

    ids, which = people_ids(model_dir, limit)
    variants: dict[str, Segmenter | None] = {
        "paper: squash, argmax, nearest labels": None,
        "letterbox, bilinear": Segmenter(model_dir, strategy="letterbox", refine=False),
        "letterbox + colour guided": Segmenter(model_dir, strategy="letterbox"),
        "letterbox + colour guided + TTA": Segmenter(model_dir, strategy="letterbox", tta=True),
        "scale x1, bilinear": Segmenter(model_dir, refine=False),
        "scale x1 + colour guided (default)": Segmenter(model_dir),
        "two square tiles + colour guided (default before issue 12)": SquareTiles(model_dir),
        "scale x1 + grey guided": Segmenter(model_dir, params=RefineParams(color_guide=False)),
        "scale x1 + colour guided + TTA": Segmenter(model_dir, tta=True),
        "tiles x1 with mirrored border + colour guided": MirroredTiles(model_dir),
        "scale x2 + colour guided": Segmenter(model_dir, tile_scale=2.0),
    }
    paper_seg = variants["scale x1, bilinear"]
    paper_seg.load()
    totals: dict[str, list] = {name: [0, 0, []] for name in variants}
    for image_id in ids:
        rgb = load_image(PEOPLE / "images" / f"{image_id}.jpg").pixels
        mask = cv2.imread(str(PEOPLE / "masks" / f"{image_id}.png"), cv2.IMREAD_GRAYSCALE)
        mask = cv2.resize(mask, rgb.shape[1::-1], interpolation=cv2.INTER_NEAREST) > 127
        for name, seg in variants.items():
            if seg is None:
                fg = paper_way(paper_seg, rgb) == 0
            else:
                fg = seg.predict(rgb).alpha > 0.5
            inter, union = int(np.sum(fg & mask)), int(np.sum(fg | mask))
            totals[name][0] += inter
            totals[name][1] += union
            totals[name][2].append(inter / union if union else 1.0)
    rows = [(name, t[0] / t[1], float(np.mean(t[2]))) for name, t in totals.items()]
    table(
        f"{model_dir} ({paper_seg.input_size} px) on {len(ids)} people photos ({which}); "
        "foreground IoU at each photo's resolution",
        ("pipeline", "pooled IoU", "mean IoU per photo"),
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 15: with 7 the default's ratio moved by +-0.15 between runs on the shared machine.
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--size", default="4000x3000")
    parser.add_argument("--model", type=Path, default=None, help="trained model for IoU")
    parser.add_argument("--people", type=int, default=40, help="photos for the IoU table")
    parser.add_argument(
        "--skip", choices=("speed", "known-edge", "people"), action="append", default=[]
    )
    args = parser.parse_args()

    from petseg_gui.inference import full_resolution

    load1 = os.getloadavg()[0]
    print(
        f"# inference_speed: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {load1:.2f} at start, OpenCV threads "
        f"{cv2.getNumThreads()}, Python {platform.python_version()}; "
        f"{full_resolution.status()}"
    )
    model_dir = args.model or bundled_model_dir()
    trained = model_dir if (model_dir / "model.json").is_file() else None
    if "speed" not in args.skip:
        speed(args, trained)
    if "known-edge" not in args.skip:
        known_edge_quality()
    if "people" not in args.skip:
        if trained is not None and PEOPLE.is_dir():
            people_quality(model_dir, args.people)
        else:
            print(f"\n(no trained model at {model_dir}: people IoU table skipped)")
    print(f"\nload average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
