"""``python -m model_training``: summary, train, evaluate, score-mattes.

Nothing heavy is imported at module level, so ``--help`` answers at once. User-caused problems
(TrainingError) become one line on standard error (and an ``error`` event with
``--progress jsonl``) and exit status 1; a usage error exits 2; a run stopped by a signal 130.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from model_training.errors import TrainingError
from petseg_gui.contract.exit_codes import EXIT_INTERRUPTED as EXIT_SIGNAL
from petseg_gui.contract.exit_codes import EXIT_OK, EXIT_USER_ERROR


def _decoder_filters(text: str) -> tuple[int, ...]:
    from model_training.model import parse_decoder_filters

    try:
        return parse_decoder_filters(text)
    except TrainingError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--image-size",
        type=int,
        default=128,
        metavar="N",
        help="square input side in pixels, a multiple of 32 (default 128; the paper: 128 or 224)",
    )
    parser.add_argument(
        "--encoder-weights",
        default="imagenet",
        metavar="imagenet|none|PATH",
        help="MobileNetV2 encoder weights: ImageNet (offline from $KERAS_HOME/models), random "
        "(none) or a no-top .h5 file (default imagenet)",
    )
    parser.add_argument(
        "--decoder-filters",
        type=_decoder_filters,
        default=(512, 256, 128, 64),
        metavar="A,B,C,D",
        help="filters of the four decoder stages (default the paper's 512,256,128,64; "
        "smaller gives a smaller model file)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m model_training",
        description="Train, evaluate and inspect the petseg U-Net (MobileNetV2 encoder). "
        "See docs/TRAINING.md.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    summary = commands.add_parser("summary", help="print the model summary and parameter count")
    _add_model_options(summary)

    train = commands.add_parser(
        "train",
        help="train a model folder (defaults: the paper's recipe)",
        description="Train the U-Net and write a model folder (model.keras + model.json card, "
        "checkpoints/, history.csv, curves.png, metrics.json). Defaults are the paper's: "
        "128 px, batch 64, 20 epochs, Adam(1e-3, 0.9, 0.999, 1e-8), sparse categorical "
        "cross-entropy from logits, pixel accuracy, 50% horizontal flips, frozen encoder.",
    )
    train.add_argument(
        "--data",
        action="append",
        metavar="SOURCE[,weight=W][,class3=boundary|unknown]",
        help="training data: an images/ + masks/ folder, an Oxford-IIIT Pet folder, or "
        "tfds:oxford_iiit_pet (required unless --resume). Repeat for several sources, mixed in "
        "one run: weight=W draws that source's photos W times as often; class3=unknown treats "
        "trimap value 3 as unknown (left out of loss and metrics, for pseudo-labels) instead of "
        "the boundary class. Validation is reported per source and overall.",
    )
    train.add_argument(
        "--init-model",
        metavar="DIR",
        help="start from this model folder's (or a run's checkpoint .keras file's) weights (same "
        "--image-size and --decoder-filters) instead of ImageNet's: fine-tune a trained model",
    )
    train.add_argument(
        "--data-notes",
        metavar="FILE.json",
        help="notes copied into the card per source, e.g. "
        '{"people": {"licence": "...", "labels_made_by": "..."}}',
    )
    train.add_argument("--output", required=True, metavar="DIR", help="the model folder to write")
    _add_model_options(train)
    train.add_argument(
        "--epochs", type=int, default=20, metavar="N", help="frozen-encoder epochs (default 20)"
    )
    train.add_argument("--batch-size", type=int, default=64, metavar="N", help="default 64")
    train.add_argument("--learning-rate", type=float, default=1e-3, help="Adam, default 1e-3")
    train.add_argument(
        "--fine-tune-epochs",
        type=int,
        default=0,
        help="epochs with the encoder unfrozen after the frozen ones (its BatchNorm layers stay "
        "in inference mode); default 0",
    )
    train.add_argument("--fine-tune-learning-rate", type=float, default=1e-5, help="default 1e-5")
    train.add_argument(
        "--fine-tune-schedule",
        choices=("constant", "cosine"),
        default="constant",
        help="fine-tune learning rate: constant (default) or a cosine decay to 0 over the phase",
    )
    train.add_argument(
        "--target-accuracy",
        type=float,
        metavar="A",
        help="stop once validation pixel accuracy >= A (0..1), the paper's callback",
    )
    train.add_argument(
        "--validation-split", type=float, default=0.2, help="fraction held out (default 0.2)"
    )
    train.add_argument("--seed", type=int, default=0, help="seeds split, shuffling, weights")
    train.add_argument(
        "--augment",
        choices=("none", "flip", "full"),
        default="flip",
        help="flip: 50%% horizontal flips (the paper, default); full: also crops and colour",
    )
    train.add_argument(
        "--boundary-width",
        type=int,
        metavar="PX",
        help="width of the boundary class band derived from binary masks (data default if unset)",
    )
    train.add_argument(
        "--boundary-weight",
        type=float,
        default=1.0,
        metavar="W",
        help="loss weight of boundary pixels (default 1 = the paper)",
    )
    train.add_argument(
        "--skip-bad", action="store_true", help="skip unreadable/mismatched pairs, list them"
    )
    train.add_argument(
        "--mixed-precision", action="store_true", help="mixed_float16 (GPU); logits stay float32"
    )
    train.add_argument(
        "--strategy",
        choices=("auto", "default", "mirrored", "multiworker"),
        default="auto",
        help="auto: multiworker if TF_CONFIG is set, mirrored if >1 GPU, else one device",
    )
    train.add_argument(
        "--keep-checkpoints",
        type=int,
        default=0,
        metavar="K",
        help="keep only the newest K epoch checkpoints (default 0 = all)",
    )
    train.add_argument("--name", help="model name for the card (default <data>-<size>)")
    train.add_argument(
        "--description",
        metavar="TEXT",
        help="one line for the card, shown in Model info (e.g. what the model finds)",
    )
    train.add_argument(
        "--resume",
        action="store_true",
        help="continue <output>.partial from its last checkpoint with its original options",
    )
    train.add_argument(
        "--finish",
        action="store_true",
        help="with --resume: train no further, make the model folder from the last checkpoint "
        "(a run stopped early that is good enough)",
    )
    train.add_argument(
        "--overwrite", action="store_true", help="replace an existing output / unfinished run"
    )
    train.add_argument(
        "--progress",
        choices=("bar", "jsonl", "none"),
        help="bar (default on a terminal), jsonl (JSON lines on stdout, for programs), "
        "none (one line per epoch on stderr)",
    )

    evaluate = commands.add_parser(
        "evaluate", help="pixel accuracy, IoU per class, foreground IoU, confusion matrix"
    )
    evaluate.add_argument("--model", required=True, metavar="DIR", help="a model folder")
    evaluate.add_argument(
        "--data",
        required=True,
        action="append",
        metavar="SOURCE[,class3=MODE]",
        help="folder or tfds:NAME; repeat for several sources (metrics per source and overall)",
    )
    evaluate.add_argument(
        "--split",
        choices=("validation", "test", "train", "all"),
        default="validation",
        help="validation = the split the model was trained with (default)",
    )
    evaluate.add_argument("--output", metavar="FILE.json", help="also write the metrics here")
    evaluate.add_argument("--batch-size", type=int, default=16)
    evaluate.add_argument("--boundary-width", type=int, metavar="PX")
    evaluate.add_argument("--skip-bad", action="store_true")

    export = commands.add_parser(
        "export-tflite",
        help="add model.tflite (for LiteRT, what the app segments with) to a model folder",
        description="Convert a model folder's model.keras to model.tflite, check that it gives "
        "the same logits, and record its hash in model.json. Folders written by `train` "
        "already have it; this is for folders made before.",
    )
    export.add_argument("--model", required=True, metavar="DIR", help="a model folder")

    score = commands.add_parser(
        "score-mattes",
        help="foreground IoU of `petseg segment --format alpha` mattes against binary masks",
        description="Score alpha mattes written by `petseg segment --format alpha` against the "
        "masks of an images/ + masks/ folder, at each photo's own resolution (a matte pixel is "
        "subject when alpha > 0.5). This is the bundled model's measure: it scores the app's whole "
        "path, edge refinement and test-time flips included.",
    )
    score.add_argument("--data", required=True, metavar="DIR", help="an images/ + masks/ folder")
    score.add_argument("--mattes", required=True, metavar="DIR", help="folder of <id>.png mattes")
    ids = score.add_mutually_exclusive_group(required=True)
    ids.add_argument("--ids", metavar="FILE", help="the ids to score, one per line")
    ids.add_argument(
        "--model", metavar="DIR", help="score the model folder's held-out validation_ids.txt"
    )
    score.add_argument("--output", metavar="FILE.json", help="also write the scores here")
    return parser


def _summary(args: argparse.Namespace) -> int:
    from model_training.model import build_unet

    model = build_unet(
        args.image_size, encoder_weights=args.encoder_weights, decoder_filters=args.decoder_filters
    )
    model.summary(print_fn=lambda line, **_: print(line))
    print(f"parameters: {model.count_params():,}")
    return EXIT_OK


def _train(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from model_training.progress import make_reporter
    from model_training.train import TrainOptions, run_training

    reporter = make_reporter(args.progress)
    try:
        if args.data is None and not args.resume:
            raise TrainingError("--data: give the training images folder (or use --resume)")
        options = TrainOptions(
            data=args.data,
            output=args.output,
            image_size=args.image_size,
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            fine_tune_epochs=args.fine_tune_epochs,
            fine_tune_learning_rate=args.fine_tune_learning_rate,
            fine_tune_schedule=args.fine_tune_schedule,
            target_accuracy=args.target_accuracy,
            validation_split=args.validation_split,
            seed=args.seed,
            encoder_weights=args.encoder_weights,
            mixed_precision=args.mixed_precision,
            augment=args.augment,
            boundary_width=args.boundary_width,
            boundary_weight=args.boundary_weight,
            skip_bad=args.skip_bad,
            decoder_filters=args.decoder_filters,
            strategy=args.strategy,
            keep_checkpoints=args.keep_checkpoints,
            name=args.name,
            data_notes=args.data_notes,
            init_model=args.init_model,
            description=args.description,
            command=["python", "-m", "model_training", *argv],
            resume=args.resume,
            finish=args.finish,
            overwrite=args.overwrite,
        )
        result = run_training(options, reporter)
    except TrainingError as err:
        reporter.emit("error", message=str(err))
        return EXIT_USER_ERROR
    except Exception as err:  # not the user's doing: keep the details, still tell the app
        traceback.print_exc(file=sys.stderr)
        reporter.emit("error", message=_unexpected(err))
        return EXIT_USER_ERROR
    finally:
        reporter.close()
    return EXIT_SIGNAL if result.status == "stopped" else EXIT_OK


def _unexpected(err: Exception) -> str:
    name = type(err).__name__
    first_line = (str(err).strip().splitlines() or [""])[0][:200]
    if isinstance(err, MemoryError) or name == "ResourceExhaustedError":
        return f"out of memory ({name}); try a smaller --batch-size or --image-size"
    return f"unexpected {name}: {first_line} (details in the log on standard error)"


def _evaluate(args: argparse.Namespace) -> int:
    from model_training.evaluate import evaluate_model
    from model_training.metrics import format_table

    if args.output and not Path(args.output).absolute().parent.is_dir():
        raise TrainingError(f"{args.output}: its folder does not exist; create it first")
    result = evaluate_model(
        args.model,
        args.data,
        split=args.split,
        batch_size=args.batch_size,
        output=args.output,
        boundary_width=args.boundary_width,
        skip_bad=args.skip_bad,
    )
    for name, values in result.get("sources", {}).items():
        print(f"{result['model']} on {name} ({result['split']})")
        print(format_table(values))
        print()
    print(f"{result['model']} on {' + '.join(result['data'])} ({result['split']})")
    print(format_table(result["metrics"]))
    return EXIT_OK


def _export_tflite(args: argparse.Namespace) -> int:
    from model_training.tflite import export_folder

    record = export_folder(args.model)
    check = record["check"]
    shapes = ", ".join(f"{h}x{w}" for h, w in check["shapes"])
    takes = (
        "any size in multiples of 32"
        if record["input_shape"][1] is None
        else "its training square only (the app cuts photos into tiles)"
    )
    print(
        f"wrote {Path(args.model) / record['file']} (takes {takes}): logits within "
        f"{check['max_abs_logit_difference']:.2g} of Keras on {shapes}, classes agree on "
        f"{100 * check['argmax_agreement']:.2f}% of pixels"
    )
    return EXIT_OK


def _score_mattes(args: argparse.Namespace) -> int:
    import json

    from model_training.score_mattes import read_ids, score_folder, validation_ids_from_card

    ids = (
        read_ids(Path(args.ids))
        if args.ids
        else validation_ids_from_card(Path(args.model), Path(args.data))
    )
    scores = score_folder(Path(args.data), Path(args.mattes), ids)
    print(f"{scores['photos']} photos from {args.data}, mattes in {args.mattes}")
    print(f"  foreground IoU, mean per photo  {scores['foreground_iou_per_image_mean']:.4f}")
    print(f"  foreground IoU, median          {scores['foreground_iou_per_image_median']:.4f}")
    print(f"  foreground IoU, pooled          {scores['foreground_iou_pooled']:.4f}")
    print("  worst: " + ", ".join(f"{i} {v:.3f}" for i, v in scores["worst"]))
    if args.output:
        Path(args.output).write_text(json.dumps(scores, indent=2))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train":
            return _train(args, argv)
        if args.command == "summary":
            return _summary(args)
        if args.command == "score-mattes":
            return _score_mattes(args)
        if args.command == "export-tflite":
            return _export_tflite(args)
        return _evaluate(args)
    except TrainingError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:  # a second Ctrl-C, or one outside training: no traceback
        print("interrupted", file=sys.stderr)
        return EXIT_SIGNAL
