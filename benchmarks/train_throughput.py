"""Training throughput (images/second) of the U-Net: 128 and 224 px, frozen and fine-tuned
encoder, fed by our tf.data pipeline (model_training.data.make_pipeline, flips on) and by the
plain way (model.fit on in-memory numpy arrays, the baseline), measured in the same run.

Each cell is the median of the timed steps after warm-up steps (the first steps trace and
compile the graph). Run from the repository root:

    .venv/bin/python benchmarks/train_throughput.py            # ~2-3 min on 2 CPU cores
    .venv/bin/python benchmarks/train_throughput.py --quick    # 128 px only, fewer steps
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def step_times(model, data, *, steps: int, warmup: int, batch_size: int | None) -> list[float]:
    """Seconds per training step for ``steps`` steps after ``warmup`` untimed ones."""
    import keras

    times: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.started = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            times.append(time.perf_counter() - self.started)

    x, y = data if isinstance(data, tuple) else (data, None)
    model.fit(
        x,
        y,
        batch_size=batch_size,
        epochs=1,
        steps_per_epoch=warmup + steps,
        shuffle=False,
        callbacks=[Timer()],
        verbose=0,
    )
    return times[warmup:]


def measure(size: int, phase: str, args: argparse.Namespace) -> dict[str, float]:
    import numpy as np
    import tensorflow as tf

    from model_training.data import make_pipeline
    from model_training.model import build_unet, compile_unet, set_encoder_trainable

    count = args.batch_size * (args.steps + args.warmup)
    rng = np.random.default_rng(0)
    images = rng.random((count, size, size, 3), dtype=np.float32)
    masks = rng.integers(0, 3, (count, size, size, 1), dtype=np.uint8)

    model = build_unet(size, encoder_weights=None)
    set_encoder_trainable(model, phase == "fine-tune")
    compile_unet(model, 1e-4)

    pipeline = make_pipeline(
        tf.data.Dataset.from_tensor_slices((images, masks)),
        batch_size=args.batch_size,
        training=True,
        augment="flip",
    ).repeat()
    result = {}
    # The baseline first, then ours, then the baseline again: drift on a shared machine shows
    # up as a difference between the two baseline medians instead of biasing the ratio.
    plain_a = step_times(
        model, (images, masks), steps=args.steps, warmup=args.warmup, batch_size=args.batch_size
    )
    ours = step_times(model, pipeline, steps=args.steps, warmup=args.warmup, batch_size=None)
    plain_b = step_times(
        model, (images, masks), steps=args.steps, warmup=1, batch_size=args.batch_size
    )
    result["numpy"] = args.batch_size / statistics.median(plain_a + plain_b)
    result["pipeline"] = args.batch_size / statistics.median(ours)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="128 px only, 3 timed steps")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per cell (default 5)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (default 2)")
    parser.add_argument("--batch-size", type=int, default=8, help="default 8 (CPU-sized)")
    parser.add_argument("--sizes", default="128,224", help="image sizes (default 128,224)")
    args = parser.parse_args()
    sizes = [128] if args.quick else [int(s) for s in args.sizes.split(",")]
    if args.quick:
        args.steps = min(args.steps, 3)

    import tensorflow as tf

    devices = ", ".join(d.name for d in tf.config.list_logical_devices()) or "?"
    print(
        f"training throughput, batch {args.batch_size}, median of {args.steps} steps after "
        f"{args.warmup} warm-up; devices: {devices}; {os.cpu_count()} CPUs"
    )
    header = f"{'size':>5} {'encoder':>10} {'numpy img/s':>12} {'pipeline img/s':>15} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    for size in sizes:
        for phase in ("frozen", "fine-tune"):
            r = measure(size, phase, args)
            print(
                f"{size:>5} {phase:>10} {r['numpy']:>12.1f} {r['pipeline']:>15.1f} "
                f"{r['pipeline'] / r['numpy']:>6.2f}",
                flush=True,
            )
    print("ratio = pipeline / numpy (the plain model.fit on in-memory arrays); > 1 is faster")


if __name__ == "__main__":
    main()
