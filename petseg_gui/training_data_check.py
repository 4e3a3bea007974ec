"""A quick look at a local training folder before a run starts (Qt-free, no TensorFlow).

The app must not import ``model_training`` (it is a separate program); the rules both must agree
on (extensions, the EXIF-aware size of a photo, the aspect tolerance) come from
``petseg_gui.contract.photos``, which the trainer uses too. Enough to refuse an obviously wrong
folder at once: count the image/mask pairs and name what is wrong. The trainer still checks every
file in depth. Reads thousands of headers for a large folder: call it off the UI thread.

Layouts:
- ``images/`` + ``masks/``: masks share the image's stem, any image format (binary 0/255).
- Oxford-IIIT Pet: ``images/*.jpg`` + ``annotations/trimaps/<stem>.png``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from petseg_gui.contract.photos import (
    MASK_EXTENSIONS,
    OXFORD_MASK_EXTENSIONS,
    PHOTO_EXTENSIONS,
    PhotoFileError,
    aspect_problem,
    by_stem,
    photo_size,
)

MIN_PAIRS = 4  # fewer cannot be split into training and validation sets
MAX_LISTED = 8  # problems listed by name; the rest are counted


@dataclass
class DataCheck:
    folder: Path
    layout: str = ""  # "images+masks", "oxford" or "" when unrecognised
    pairs: int = 0
    problems: list[str] = field(default_factory=list)
    more_problems: int = 0  # problems not listed one by one

    @property
    def ok(self) -> bool:
        return not self.problems and self.pairs >= MIN_PAIRS

    def summary(self) -> str:
        """One line for the dialog."""
        kind = {"oxford": "Oxford-IIIT Pet layout", "images+masks": "images/ + masks/"}.get(
            self.layout, "unrecognised layout"
        )
        count = f"{self.pairs} image/mask pair{'s' if self.pairs != 1 else ''}"
        if self.ok:
            return f"{count} found ({kind})."
        n = len(self.problems) + self.more_problems
        return f"{count} ({kind}); {n} problem{'s' if n != 1 else ''}:"

    def add(self, problem: str) -> None:
        if len(self.problems) < MAX_LISTED:
            self.problems.append(problem)
        else:
            self.more_problems += 1


def check_data_folder(
    folder: str | Path,
    *,
    max_inspected: int = 3000,
    cancelled: Callable[[], bool] | None = None,
) -> DataCheck:
    """Count pairs and list problems. Up to ``max_inspected`` pairs, image headers (not pixels)
    are read to catch unreadable files and masks whose shape does not match their photo; a
    larger folder (the full Oxford set) is only counted, to keep the check quick. ``cancelled``
    is polled between files: a newer request makes this one stale, so it stops early."""
    root = Path(folder)
    check = DataCheck(root)
    if not root.is_dir():
        check.add(f"{root}: not a folder; choose the folder that holds images/")
        return check
    images_dir = root / "images"
    if (root / "annotations" / "trimaps").is_dir():
        check.layout, masks_dir = "oxford", root / "annotations" / "trimaps"
    elif (root / "masks").is_dir():
        check.layout, masks_dir = "images+masks", root / "masks"
    else:
        check.add(f"{root}: no masks/ or annotations/trimaps/ folder beside images/")
        return check
    if not images_dir.is_dir():
        check.add(f"{images_dir}: missing; put the photos there")
        return check

    images, image_clashes = by_stem(images_dir, PHOTO_EXTENSIONS)
    mask_extensions = OXFORD_MASK_EXTENSIONS if check.layout == "oxford" else MASK_EXTENSIONS
    masks, mask_clashes = by_stem(masks_dir, mask_extensions)
    for path in image_clashes + mask_clashes:
        check.add(f"{path.name}: another file in {path.parent.name}/ has the same name; keep one")
    for stem in sorted(images.keys() - masks.keys()):
        check.add(f"{images[stem].name}: no mask in {masks_dir.name}/")
    for stem in sorted(masks.keys() - images.keys()):
        check.add(f"{masks[stem].name}: a mask without a photo in images/")
    paired = sorted(images.keys() & masks.keys())
    check.pairs = len(paired)
    if check.pairs <= max_inspected:
        for stem in paired:
            if cancelled is not None and cancelled():
                break
            problem = _pair_problem(images[stem], masks[stem])
            if problem:
                check.add(problem)
                check.pairs -= 1
    if check.pairs < MIN_PAIRS and not check.problems:
        check.add(f"{root}: only {check.pairs} pairs; at least {MIN_PAIRS} are needed")
    return check


def _pair_problem(image: Path, mask: Path) -> str | None:
    sizes = []
    for path in (image, mask):
        try:
            sizes.append(photo_size(path))  # the header only, EXIF orientation applied
        except PhotoFileError as err:
            return f"{path.name}: {err.reason}"
    if min(*sizes[0], *sizes[1]) <= 0:
        return f"{image.name}: empty image"
    problem = aspect_problem(sizes[0], sizes[1])
    return f"{mask.name}: {problem}" if problem else None
