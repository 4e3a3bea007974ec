"""A stand-in for ``python -m model_training train --progress jsonl`` (docs/INTERFACES.md §2).

It speaks the real protocol, keeps checkpoints in ``<output>.partial/checkpoints/`` with a
``state.json``, stops on SIGTERM with exit 130, resumes with ``--resume``, and finishes with a
model folder the registry accepts. No TensorFlow: dialog tests run in a second.

Behaviour switches (appended as extra arguments by the tests):
  --fake-mode done       train all epochs and write the model (default)
  --fake-mode hang       after epoch --hang-after (only that one), wait for a signal
  --fake-mode error      print an ``error`` event (as for no network) and exit 1
  --fake-mode crash      print to stderr and die with exit status 3, no ``done``
  --fake-mode garbage    print a non-JSON line on stdout, then train normally
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

STEPS = 4


def emit(**event: object) -> None:
    print(json.dumps(event), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("train")
    parser.add_argument("--data")
    parser.add_argument("--output", required=True)
    parser.add_argument("--name")
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--fine-tune-epochs", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--target-accuracy", type=float)
    parser.add_argument("--progress")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--fake-mode", default="done")
    parser.add_argument("--hang-after", type=int, default=1)
    args, _unknown = parser.parse_known_args()

    output = Path(args.output)
    work = output.with_name(output.name + ".partial")
    checkpoints = work / "checkpoints"
    state_file = checkpoints / "state.json"
    epochs = args.epochs + args.fine_tune_epochs

    if args.fake_mode == "error":
        emit(event="error", message="oxford_iiit_pet: download failed (no network); use --data")
        return 1
    if args.fake_mode == "crash":
        print("Traceback (most recent call last):", file=sys.stderr, flush=True)
        print("RuntimeError: fake trainer crashed on purpose", file=sys.stderr, flush=True)
        return 3
    if args.fake_mode == "garbage":
        print("this is not json", flush=True)

    if args.overwrite and not args.resume and work.exists():
        shutil.rmtree(work)
    initial = 0
    if args.resume:  # like the real trainer: the stopped run's options, not today's
        initial = json.loads(state_file.read_text())["epoch"]
        saved = json.loads((work / "run.json").read_text())
        args.epochs, args.fine_tune_epochs = saved["epochs"], saved["fine_tune_epochs"]
        epochs = args.epochs + args.fine_tune_epochs
    checkpoints.mkdir(parents=True, exist_ok=True)
    if not args.resume:
        run = {"epochs": args.epochs, "fine_tune_epochs": args.fine_tune_epochs}
        (work / "run.json").write_text(json.dumps(run))

    stopping = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stopping.update(now=True))

    def stop(epoch: int) -> int:
        emit(event="stopped", epoch=epoch, checkpoint=str(state_file), reason="signal")
        return 130

    emit(
        event="start",
        epochs=epochs,
        steps=STEPS,
        train_images=6,
        validation_images=2,
        image_size=args.image_size,
        batch_size=args.batch_size,
        work_dir=str(work),
        output=str(output),
        initial_epoch=initial,
    )
    print(f"fake training from epoch {initial + 1}", file=sys.stderr, flush=True)
    for epoch in range(initial + 1, epochs + 1):
        phase = "frozen" if epoch <= args.epochs else "fine-tune"
        for step in range(1, STEPS + 1):
            eta = ((epochs - epoch) * STEPS + STEPS - step) * 0.01
            emit(event="step", epoch=epoch, epochs=epochs, step=step, steps=STEPS,
                 loss=1.0 / (epoch + step), accuracy=0.5 + epoch / (2 * epochs + 2),
                 eta_seconds=eta, phase=phase)  # fmt: skip
            time.sleep(0.01)
        accuracy = 0.6 + 0.3 * epoch / epochs
        emit(event="epoch_end", epoch=epoch, epochs=epochs, loss=1.0 / epoch,
             accuracy=accuracy, val_loss=1.2 / epoch, val_accuracy=accuracy - 0.05,
             eta_seconds=(epochs - epoch) * STEPS * 0.01, phase=phase)  # fmt: skip
        with open(work / "history.csv", "a", encoding="utf-8") as history:
            if epoch == 1:
                history.write("epoch,phase,loss,accuracy,val_loss,val_accuracy\n")
            history.write(
                f"{epoch},{phase},{1.0 / epoch},{accuracy},{1.2 / epoch},{accuracy - 0.05}\n"
            )
        checkpoint = checkpoints / f"epoch-{epoch:03d}.keras"
        checkpoint.write_bytes(b"fake checkpoint")
        state_file.write_text(json.dumps({"epoch": epoch, "checkpoint": checkpoint.name}))
        emit(event="checkpoint", epoch=epoch, path=str(checkpoint))
        if stopping["now"]:
            return stop(epoch)
        if args.fake_mode == "hang" and epoch == args.hang_after:
            deadline = time.monotonic() + 120  # never outlive a killed test run for long
            while not stopping["now"] and time.monotonic() < deadline:
                time.sleep(0.02)
            return stop(epoch)

    model = b"fake keras model"
    (work / "model.keras").write_bytes(model)
    metrics = {"validation": {"pixel_accuracy": 0.87, "mean_iou": 0.7, "foreground_iou": 0.8}}
    card = {
        "format": "petseg-model",
        "format_version": 1,
        "name": args.name or output.name,
        "input_size": args.image_size,
        "classes": ["subject", "background", "boundary"],
        "sha256": hashlib.sha256(model).hexdigest(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        "metrics": metrics,
    }
    (work / "model.json").write_text(json.dumps(card))
    for leftover in checkpoints.iterdir():
        leftover.unlink()
    checkpoints.rmdir()
    os.replace(work, output)
    emit(event="done", output=str(output), metrics=metrics)
    return 0


if __name__ == "__main__":
    sys.exit(main())
