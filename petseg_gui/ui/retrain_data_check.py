"""A quick look at a local training folder before a run starts (Qt-free, no TensorFlow).

The app must not import ``model_training`` (it is a separate program), so this mirrors only the
layout rules the trainer documents, enough to refuse an obviously wrong folder at once: count the
image/mask pairs and name what is wrong. The trainer still checks every file in depth.

Layouts:
- ``images/`` + ``masks/``: masks share the image's stem, any image format (binary 0/255).
- Oxford-IIIT Pet: ``images/*.jpg`` + ``annotations/trimaps/<stem>.png``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
MASK_EXTENSIONS = (".png", ".bmp", ".tif", ".tiff", ".jpg", ".jpeg", ".webp")
MIN_PAIRS = 4  # fewer cannot be split into training and validation sets
MAX_LISTED = 8  # problems listed by name; the rest are counted
MAX_ASPECT_MISMATCH = 0.02  # the trainer refuses masks of another shape (data README)


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


def check_data_folder(folder: str | Path, *, max_inspected: int = 3000) -> DataCheck:
    """Count pairs and list problems. Up to ``max_inspected`` pairs, image headers (not pixels)
    are read to catch unreadable files and masks whose shape does not match their photo; a
    larger folder (the full Oxford set) is only counted, to keep the dialog responsive."""
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

    images = _by_stem(images_dir, IMAGE_EXTENSIONS)
    masks = _by_stem(masks_dir, (".png",) if check.layout == "oxford" else MASK_EXTENSIONS)
    for stem in sorted(images.keys() - masks.keys()):
        check.add(f"{images[stem].name}: no mask in {masks_dir.name}/")
    for stem in sorted(masks.keys() - images.keys()):
        check.add(f"{masks[stem].name}: a mask without a photo in images/")
    paired = sorted(images.keys() & masks.keys())
    check.pairs = len(paired)
    if check.pairs <= max_inspected:
        for stem in paired:
            problem = _pair_problem(images[stem], masks[stem])
            if problem:
                check.add(problem)
                check.pairs -= 1
    if check.pairs < MIN_PAIRS and not check.problems:
        check.add(f"{root}: only {check.pairs} pairs; at least {MIN_PAIRS} are needed")
    return check


def _by_stem(folder: Path, extensions: tuple[str, ...]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in folder.iterdir():
        # Hidden files (._x.jpg from macOS, .DS_Store) are not data.
        if path.suffix.lower() in extensions and not path.name.startswith(".") and path.is_file():
            found.setdefault(path.stem, path)
    return found


def _pair_problem(image: Path, mask: Path) -> str | None:
    from PIL import Image, UnidentifiedImageError

    sizes = []
    for path in (image, mask):
        try:
            with Image.open(path) as im:  # reads the header only
                sizes.append(im.size)
        except (OSError, UnidentifiedImageError, ValueError):
            return f"{path.name}: not a readable image; replace or remove it"
    (iw, ih), (mw, mh) = sizes
    if min(iw, ih, mw, mh) <= 0:
        return f"{image.name}: empty image"
    if abs(iw / ih - mw / mh) > MAX_ASPECT_MISMATCH * (iw / ih):
        return f"{mask.name}: {mw}x{mh} mask does not match its {iw}x{ih} photo's shape"
    return None
