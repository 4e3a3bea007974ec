"""Where training data comes from: the three sources, folder layouts, pair checks and splits.

- ``"oxford_iiit_pet"``: tensorflow-datasets (see ``tfds_source``).
- ``"oxford_folder"``: the official Oxford-IIIT Pet tarballs unpacked: ``images/*.jpg``,
  ``annotations/trimaps/*.png`` and the split lists ``annotations/trainval.txt`` / ``test.txt``.
  Only ids in the lists are used when the lists exist (trainval -> train, test -> validation);
  without them every photo is used and split like a mask folder.
- ``"mask_folder"``: ``images/`` + ``masks/`` (binary masks, matched by file stem).

Masks without a photo are ignored, and listed in the problems as such (not an error: a folder
of masks often holds spares). Hidden files (``._x.png`` from macOS archives) are not data.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from model_training.errors import TrainingError

from . import masks
from .photos import MASK_EXTENSIONS, PHOTO_EXTENSIONS, check_aspect, photo_size, read_mask
from .problems import BadFile

TFDS_NAME = "oxford_iiit_pet"
KINDS = ("tfds", "oxford_folder", "mask_folder")
_LAYOUTS = (
    "a folder with images/ + masks/ (binary masks), the Oxford-IIIT Pet folder "
    "(images/ + annotations/trimaps/), or oxford_iiit_pet (tensorflow-datasets)"
)


@dataclass
class Example:
    """One photo/mask pair found on disk."""

    id: str
    image_path: Path
    mask_path: Path


def resolve_source(source: str | Path) -> str:
    """``"tfds"``, ``"oxford_folder"`` or ``"mask_folder"``; TrainingError for anything else."""
    text = str(source)
    if text in (TFDS_NAME, "tfds", f"tfds:{TFDS_NAME}"):
        return "tfds"
    root = Path(text).expanduser()
    if not root.exists():
        raise TrainingError(f"{root}: no such folder; pass {_LAYOUTS}")
    if not root.is_dir():
        raise TrainingError(f"{root}: not a folder; pass {_LAYOUTS}")
    if (root / "annotations" / "trimaps").is_dir():
        kind = "oxford_folder"
    elif (root / "masks").is_dir():
        kind = "mask_folder"
    else:
        raise TrainingError(f"{root}: neither training-data layout; expected {_LAYOUTS}")
    if not (root / "images").is_dir():
        raise TrainingError(f"{root / 'images'}: missing; put the photos in images/")
    return kind


def mask_dir(root: Path, kind: str) -> Path:
    return root / "annotations" / "trimaps" if kind == "oxford_folder" else root / "masks"


def list_pairs(
    root: Path, kind: str, *, skip_bad: bool
) -> tuple[list[Example], list[tuple[str, str]], dict[str, list[str]] | None]:
    """Pairs by file stem (no file is decoded), problems, and the Oxford split lists if any.

    A photo without a mask (or an id listed without its files) raises unless ``skip_bad``.
    """
    photos = _by_stem(root / "images", PHOTO_EXTENSIONS)
    if not photos:
        raise TrainingError(
            f"{root / 'images'}: no photos ({', '.join(PHOTO_EXTENSIONS)}); put the photos there"
        )
    mask_folder = mask_dir(root, kind)
    mask_files = _by_stem(mask_folder, (".png",) if kind == "oxford_folder" else MASK_EXTENSIONS)
    lists = _oxford_lists(root) if kind == "oxford_folder" else None
    wanted = list(dict.fromkeys(lists["train"] + lists["validation"])) if lists else sorted(photos)

    problems: list[tuple[str, str]] = []
    examples: list[Example] = []
    for stem in wanted:
        if stem not in photos:
            problem = BadFile(root / "images" / f"{stem}.jpg", "is listed but missing; put it back")
        elif stem not in mask_files:
            problem = BadFile(
                photos[stem],
                f"has no mask {mask_folder.name}/{stem}.png; add the mask or remove the photo",
            )
        else:
            examples.append(Example(stem, photos[stem], mask_files[stem]))
            continue
        if not skip_bad:
            raise problem.to_error()
        problems.append(problem.as_pair())
    if lists is None:
        for stem in sorted(mask_files.keys() - photos.keys()):
            problems.append((str(mask_files[stem]), "has no photo in images/; ignored"))
    return examples, problems, lists


def scan_folder(
    source: str | Path, *, skip_bad: bool = False
) -> tuple[list[Example], list[tuple[str, str]]]:
    """Check a training folder without loading it: every photo has a mask (matched by stem),
    files are readable images, aspect ratios agree within 2%, mask values are as expected.

    Returns the good pairs and the problems as (file, reason). Raises TrainingError on the
    first bad pair unless ``skip_bad``. Photos are checked by header only (fast); a photo
    whose pixels are damaged further in is caught when ``load_data`` decodes it.
    """
    kind = resolve_source(source)
    if kind == "tfds":
        raise TrainingError(
            f"{source}: a tensorflow-datasets name, not a folder; nothing to scan on disk"
        )
    root = Path(str(source)).expanduser()
    examples, problems, _ = list_pairs(root, kind, skip_bad=skip_bad)
    with ThreadPoolExecutor(max_workers=4) as pool:
        # PIL decodes with the GIL released, so threads overlap the mask decoding.
        results = list(pool.map(lambda ex: _pair_problem(ex, kind), examples))
    good = []
    for example, problem in zip(examples, results, strict=True):
        if problem is None:
            good.append(example)
        elif not skip_bad:
            raise problem.to_error()
        else:
            problems.append(problem.as_pair())
    if not good:
        raise TrainingError(f"{root}: no usable photo/mask pairs; see the problems above")
    return good, problems


def _pair_problem(example: Example, kind: str) -> BadFile | None:
    try:
        check_pair(example, kind)
    except BadFile as problem:
        return problem
    return None


def check_pair(example: Example, kind: str) -> None:
    """Raise BadFile if the pair cannot be used (photo header, mask values, aspect ratio)."""
    size = photo_size(example.image_path)
    mask = read_mask(example.mask_path, palette_indices=kind == "oxford_folder")
    check_aspect(size, mask.shape[:2], example.mask_path)
    interpret_mask(mask, kind, example.mask_path)


def interpret_mask(mask, kind: str, path: Path):
    """Class indices (Oxford) or a bool subject mask (mask folder); BadFile on odd values."""
    try:
        if kind == "oxford_folder":
            return masks.oxford_classes(mask)
        return masks.binary_subject(mask)
    except masks.MaskValueError as err:
        raise BadFile(path, str(err)) from None


def split_ids(ids: list[str], validation_split: float, seed: int) -> tuple[list[str], list[str]]:
    """Deterministic (train, validation) ids. The order is a hash of (seed, id), so it is the
    same on every machine and Python/NumPy version, and adding photos to a folder moves at most
    a few existing ids across the split instead of reshuffling them all."""
    if not 0.0 <= validation_split < 1.0:
        raise TrainingError(
            f"validation split {validation_split}: must be at least 0 and below 1 (e.g. 0.2)"
        )
    order = sorted(ids, key=lambda i: hashlib.sha256(f"{seed}:{i}".encode()).hexdigest())
    count = round(len(ids) * validation_split)
    if validation_split > 0 and len(ids) >= 2:
        count = min(max(count, 1), len(ids) - 1)  # neither part empty
    validation = set(order[:count])
    return [i for i in ids if i not in validation], [i for i in ids if i in validation]


def _by_stem(folder: Path, extensions: tuple[str, ...]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in extensions:
            continue
        if path.stem in found:
            raise TrainingError(
                f"{path}: another file in {folder.name}/ has the same name "
                f"({found[path.stem].name}); keep one, masks are matched by name"
            )
        found[path.stem] = path
    return found


def _oxford_lists(root: Path) -> dict[str, list[str]] | None:
    """Ids from annotations/trainval.txt and test.txt (lines "Abyssinian_100 1 1 1"), or None
    when neither list exists."""
    files = {"train": "trainval.txt", "validation": "test.txt"}
    paths = {part: root / "annotations" / name for part, name in files.items()}
    if not any(p.is_file() for p in paths.values()):
        return None
    lists = {}
    for part, path in paths.items():
        if not path.is_file():
            raise TrainingError(f"{path}: missing; restore it from annotations.tar.gz")
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        lists[part] = [ln.split()[0] for ln in lines if ln.strip() and not ln.startswith("#")]
    return lists
