"""The ``petseg`` command: segment photos or give them the portrait look, in batches.

    petseg segment IMAGE... --out-dir DIR [--format alpha|oxford|overlay] [--model DIR] [--tta]
    petseg portrait IMAGE... (-o FILE | --out-dir DIR | --in-place) [--blur N] [--sharpen N] ...

Exit status: 0 all photos written, 1 some failed (each named on one stderr line), 2 usage
error, 130 stopped by Ctrl-C (after the photo in progress; a second Ctrl-C stops at once).
Nothing heavy is imported at module level: ``--help`` and ``--version`` never load TensorFlow.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from petseg_gui import __version__
from petseg_gui.cli_mattes import needs_model, portrait_matte
from petseg_gui.cli_paths import Inputs
from petseg_gui.cli_terminal import Progress, StopFlag, failure_text, native_stderr_captured
from petseg_gui.contract.exit_codes import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from petseg_gui.contract.exit_codes import EXIT_USER_ERROR as EXIT_FAILED
from petseg_gui.contract.photos import PHOTO_EXTENSIONS as WRITABLE
from petseg_gui.errors import PetsegError

if TYPE_CHECKING:
    import numpy as np

    from petseg_gui.imaging import LoadedImage
    from petseg_gui.inference import Segmenter


# --------------------------------------------------------------------------- arguments


def _number_in(low: int, high: int, *, whole: bool):
    """An argparse type: a number (an integer when ``whole``) between low and high inclusive."""
    kind, convert = ("whole number", int) if whole else ("number", float)

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is outside {low}..{high}")
        return value

    return parse


_percent = _number_in(0, 100, whole=False)
_quality = _number_in(1, 100, whole=True)


class _Version(argparse.Action):
    """``--version``: the version and which passes run compiled (the effect's, the matte's)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from petseg_gui.native import status

        print(f"petseg {__version__}\n{status()}")  # to stdout, as argparse's own version action
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="petseg",
        description="Find the subject of photos with a U-Net; write mattes or portrait-mode edits.",
    )
    parser.add_argument("--version", action=_Version, help="show the version and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("images", nargs="+", type=Path, metavar="IMAGE", help="photos to read")
        sub.add_argument(
            "--model",
            type=Path,
            metavar="DIR",
            help="model folder (default: the bundled one, trained on cats, dogs and people)",
        )
        sub.add_argument(
            "--tta", action="store_true", help="test-time augmentation: slower, a bit more exact"
        )
        sub.add_argument("--overwrite", action="store_true", help="replace existing output files")

    segment = commands.add_parser(
        "segment",
        help="write the subject matte or trimap of each photo",
        description="Write DIR/<stem>.png (alpha, oxford) or DIR/<stem>.jpg (overlay) per photo, "
        "at the photo's resolution.",
    )
    common(segment)
    segment.add_argument("--out-dir", type=Path, required=True, metavar="DIR")
    segment.add_argument(
        "--format",
        choices=("alpha", "oxford", "overlay"),
        default="alpha",
        help="alpha: 8-bit matte, 255 = subject (default); oxford: trimap 1 subject, "
        "2 background, 3 boundary; overlay: the classes tinted over the photo",
    )

    portrait = commands.add_parser(
        "portrait",
        help="blur the background and sharpen the subject",
        description="Save each photo with the portrait effect; EXIF and colour profile are kept.",
    )
    common(portrait)
    where = portrait.add_mutually_exclusive_group()
    where.add_argument("-o", "--output", type=Path, metavar="FILE", help="output (one IMAGE only)")
    where.add_argument(
        "--out-dir", type=Path, metavar="DIR", help="write DIR/<stem>_portrait.<ext> per photo"
    )
    portrait.add_argument(
        "--in-place",
        action="store_true",
        help="allow writing over an input photo (alone: replace every input)",
    )
    portrait.add_argument(
        "--blur", type=_percent, default=50.0, metavar="N", help="background blur 0..100 (50)"
    )
    portrait.add_argument(
        "--sharpen", type=_percent, default=30.0, metavar="N", help="subject sharpening 0..100 (30)"
    )
    portrait.add_argument(
        "--quality", type=_quality, default=95, metavar="Q", help="JPEG/WebP quality 1..100 (95)"
    )
    portrait.add_argument(
        "--matte",
        type=Path,
        metavar="FILE",
        help="use this matte (grey image, white = subject, any size of the photo's aspect ratio) "
        "instead of segmenting (one IMAGE only); up to 10%% grey is background, from 90%% subject",
    )
    portrait.add_argument(
        "--ignore-edits",
        action="store_true",
        help="segment even when the app saved corrections beside the photo (IMAGE.petseg.png)",
    )
    return parser


def _check_usage(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Combinations argparse cannot express; parser.error exits with status 2."""
    if args.command != "portrait":
        return
    if args.output is None and args.out_dir is None and not args.in_place:
        parser.error("portrait: give -o FILE, --out-dir DIR or --in-place")
    if args.matte is not None and len(args.images) > 1:
        parser.error("portrait: --matte takes one IMAGE; run once per photo")
    if args.output is not None:
        if len(args.images) > 1:
            parser.error("portrait: -o takes one IMAGE; use --out-dir DIR for several")
        if args.output.suffix.lower() not in WRITABLE:
            parser.error(
                f"portrait: -o {args.output}: end the name with one of {', '.join(WRITABLE)}"
            )


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class CliRun:
    """One ``petseg`` command line, parsed and checked: everything the run needs, typed."""

    command: str  # "segment" | "portrait"
    images: tuple[Path, ...]
    model: Path | None = None  # None: the bundled model
    tta: bool = False
    overwrite: bool = False
    out_dir: Path | None = None
    format: str = "alpha"  # segment: "alpha" | "oxford" | "overlay"
    output: Path | None = None  # portrait -o FILE (one image)
    in_place: bool = False
    blur: float = 50.0
    sharpen: float = 30.0
    quality: int = 95
    matte: Path | None = None  # portrait --matte FILE (one image)
    ignore_edits: bool = False  # portrait: do not use the app's sidecar

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> CliRun:
        common = dict(
            command=args.command,
            images=tuple(args.images),
            model=args.model,
            tta=args.tta,
            overwrite=args.overwrite,
            out_dir=args.out_dir,
        )
        if args.command == "segment":
            return cls(**common, format=args.format)
        return cls(
            **common,
            output=args.output,
            in_place=args.in_place,
            blur=args.blur,
            sharpen=args.sharpen,
            quality=args.quality,
            matte=args.matte,
            ignore_edits=args.ignore_edits,
        )


def parse(argv: Sequence[str] | None = None) -> CliRun:
    """argv -> the checked plan; usage errors, --help and --version raise SystemExit."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_usage(parser, args)
    return CliRun.from_args(args)


# --------------------------------------------------------------------------- planning


@dataclass
class Job:
    source: Path
    target: Path
    problem: str | None = None  # a reason to skip it, found before any work


def plan_jobs(plan: CliRun) -> list[Job]:
    """Pair each input with its output and find what must not happen: writing over an input
    (needs --in-place), over an existing file (needs --overwrite), or twice to one file."""
    jobs = [Job(source, _target(plan, source)) for source in plan.images]
    inputs = Inputs(plan.images)
    claimed: dict[Path, Path] = {}
    for job in jobs:
        onto_input = inputs.find(job.target)
        key = job.target.resolve()
        if onto_input is not None and not plan.in_place:
            fix = (
                "pass --in-place to replace it"
                if plan.command == "portrait"
                else "choose another --out-dir"
            )
            what = "this photo" if onto_input == job.source else f"the input photo {onto_input}"
            job.problem = f"{job.source}: the output {job.target} would replace {what}; {fix}"
        elif key in claimed:
            job.problem = (
                f"{job.source}: its output {job.target} is also the output of {claimed[key]}; "
                "rename one photo or run them separately"
            )
        elif onto_input is None and not plan.overwrite and job.target.exists():
            job.problem = (
                f"{job.source}: the output {job.target} already exists; "
                "pass --overwrite to replace it"
            )
        claimed.setdefault(key, job.source)
    return jobs


def _target(plan: CliRun, source: Path) -> Path:
    if plan.command == "segment":
        suffix = ".jpg" if plan.format == "overlay" else ".png"
        return plan.out_dir / f"{source.stem}{suffix}"
    if plan.output is not None:
        return plan.output
    if plan.out_dir is None:  # --in-place alone
        return source
    suffix = source.suffix.lower() if source.suffix.lower() in WRITABLE else ".jpg"
    return plan.out_dir / f"{source.stem}_portrait{suffix}"


def _prepare_out_dir(folder: Path | None) -> None:
    if folder is None:
        return
    if folder.exists() and not folder.is_dir():
        raise PetsegError(f"{folder}: is a file, not a folder; choose a folder for --out-dir")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PetsegError(
            f"{folder}: the output folder cannot be created ({exc.strerror or exc}); "
            "choose another --out-dir"
        ) from None


# --------------------------------------------------------------------------- the work


def _write_portrait(plan: CliRun, photo: LoadedImage, alpha: np.ndarray, target: Path) -> None:
    from petseg_gui.effects import PortraitParams, render
    from petseg_gui.imaging import save_image

    edited = render(photo.pixels, alpha, PortraitParams(blur=plan.blur, sharpen=plan.sharpen))
    save_image(
        target,
        edited,
        quality=plan.quality,
        exif=photo.exif,
        icc_profile=photo.icc_profile,
        overwrite=plan.overwrite or plan.in_place,
    )


def run(plan: CliRun, stderr: TextIO) -> int:
    """Process every photo; returns the exit status. Nothing here raises to the user."""
    jobs = plan_jobs(plan)
    progress = Progress(len(jobs), stderr)
    stop = StopFlag(progress.line)
    written = failed = 0
    try:
        with stop.installed():
            for job in jobs:
                if job.problem:
                    failed += 1
                    progress.line(f"error: {job.problem}")
            pending = any(not job.problem for job in jobs)
            if pending:
                _prepare_out_dir(plan.out_dir)
                model = _Model(plan, stderr)
                if needs_model(plan, jobs):
                    model.get()  # now: a model that cannot be loaded stops the run at once
            if pending and plan.command == "segment":
                # Pipelined: the next photos are decoded and segmented while one is written.
                from petseg_gui.cli_segment import segment_all

                done, errors = segment_all(plan, model.get(), jobs, progress, stop, stderr)
                written, failed = written + done, failed + errors
            elif pending:
                for index, job in enumerate(jobs):
                    if job.problem:
                        continue
                    if stop.requested:
                        break
                    progress.start(index, job.source)
                    if _run_one(plan, model, job, progress, stderr):
                        written += 1
                        progress.written(index, job.source, job.target)
                    else:
                        failed += 1
    except PetsegError as error:  # the output folder or the model: nothing can be done
        progress.line(f"error: {' '.join(str(error).split())}")
        return EXIT_FAILED
    except KeyboardInterrupt:  # the second Ctrl-C, or one before the handler was set
        stop.requested = True
    progress.finish()
    summary = f"{written} written, {failed} failed"
    if stop.requested:
        left = len(jobs) - written - failed
        progress.line(f"{summary}, {left} left: stopped by Ctrl-C")
        return EXIT_INTERRUPTED
    progress.line(summary)
    return EXIT_FAILED if failed else EXIT_OK


def _open_segmenter(plan: CliRun, stderr: TextIO) -> Segmenter:
    from petseg_gui.cli_segment import segment_workers

    with native_stderr_captured(stderr):
        from petseg_gui.inference import Segmenter  # LiteRT (or TensorFlow): only now

        # segment pipelines photos (cli_segment): one interpreter per photo in flight.
        workers = segment_workers(len(plan.images)) if plan.command == "segment" else 1
        segmenter = Segmenter(plan.model, tta=plan.tta, workers=workers)
        segmenter.load()
    if segmenter.notice:
        print(f"note: {segmenter.notice}", file=stderr)
    return segmenter


class _Model:
    """The segmenter, opened once, when the first photo needs it (none when every photo has a
    given matte or the app's corrections)."""

    def __init__(self, plan: CliRun, stderr: TextIO) -> None:
        self._plan, self._stderr, self._segmenter = plan, stderr, None

    def get(self) -> Segmenter:
        if self._segmenter is None:
            self._segmenter = _open_segmenter(self._plan, self._stderr)
        return self._segmenter


def _run_one(plan: CliRun, model: _Model, job: Job, progress: Progress, stderr: TextIO) -> bool:
    """Load, give the portrait look, write one photo (``segment`` runs in cli_segment); on
    failure say why on one line and return False."""
    from petseg_gui.imaging import load_image

    try:
        photo = load_image(job.source)
        alpha = portrait_matte(plan, job.source, photo.pixels, model, progress.line)
        _write_portrait(plan, photo, alpha, job.target)
    except (PetsegError, MemoryError) as error:
        progress.line(f"error: {failure_text(job.source, error)}")
        return False
    except Exception as error:  # a bug: name it on one line, go on with the other photos
        if os.environ.get("PETSEG_DEBUG"):
            traceback.print_exc(file=stderr)
        progress.line(
            f"error: {job.source}: internal error ({type(error).__name__}: "
            f"{' '.join(str(error).split())}); please report it (PETSEG_DEBUG=1 shows details)"
        )
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (never raises SystemExit)."""
    try:
        plan = parse(argv)
    except SystemExit as exit_:  # --help, --version, usage errors
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    return run(plan, sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
