"""Score alpha mattes written by `petseg segment --format alpha` against binary masks.

This is the bundled model's measure (docs/INTERFACES.md section 5): foreground IoU at each photo's
own resolution, where a matte pixel is subject when its alpha is above one half. It reads files
only, so it scores the app's whole path (letterbox or tiling, upsampling, edge refinement, TTA)
without importing the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model_training.errors import TrainingError


@dataclass(frozen=True)
class MatteScore:
    id: str
    intersection: int
    union: int

    @property
    def iou(self) -> float:
        # An empty prediction of an empty mask is a perfect answer, not a division by zero.
        return 1.0 if self.union == 0 else self.intersection / self.union


def _read_gray(path: Path) -> np.ndarray:
    import cv2

    if not path.is_file():
        raise TrainingError(f"{path}: file not found; write the mattes with `petseg segment`")
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise TrainingError(f"{path}: cannot be read as an image; write it again")
    return image


def score_one(
    mask_path: Path, matte_path: Path, *, photo_shape: tuple[int, int], trimap: bool = False
) -> MatteScore:
    """IoU of one matte (at the photo's resolution) against its mask (any resolution).

    ``trimap``: the mask is an Oxford-style trimap (1 subject, 2 background, 3 band or unknown);
    its value-3 pixels are left out, as in the issue's and the Oxford benchmark's measure."""
    import cv2

    matte = _read_gray(matte_path)
    if matte.shape != photo_shape:
        raise TrainingError(
            f"{matte_path}: matte is {matte.shape[1]}x{matte.shape[0]} but its photo is "
            f"{photo_shape[1]}x{photo_shape[0]}; mattes must be at the photo's resolution"
        )
    mask = _read_gray(mask_path)
    if mask.shape != photo_shape:
        # Masks in the people set are stored at other resolutions: nearest keeps them binary.
        mask = cv2.resize(mask, photo_shape[::-1], interpolation=cv2.INTER_NEAREST)
    if trimap:
        counted = mask != 3
        truth, predicted = (mask == 1)[counted], (matte > 127)[counted]
    else:
        truth, predicted = mask > 127, matte > 127
    return MatteScore(
        id=matte_path.stem,
        intersection=int(np.count_nonzero(truth & predicted)),
        union=int(np.count_nonzero(truth | predicted)),
    )


def _photo_shape(path: Path) -> tuple[int, int]:
    from PIL import Image, ImageOps

    with Image.open(path) as image:
        # Mattes follow the EXIF-rotated photo, so the size must too.
        width, height = ImageOps.exif_transpose(image).size
    return height, width


def score_folder(data_dir: Path, mattes_dir: Path, ids: list[str]) -> dict:
    """Per-photo and pooled foreground IoU for ``ids`` of an images/ + masks/ folder, or of an
    Oxford-layout folder (annotations/trimaps/, value 3 left out)."""
    trimaps = (data_dir / "annotations" / "trimaps").is_dir()
    masks_dir = data_dir / "annotations" / "trimaps" if trimaps else data_dir / "masks"
    scores = []
    for photo_id in ids:
        photos = sorted((data_dir / "images").glob(f"{photo_id}.*"))
        if not photos:
            raise TrainingError(f"{data_dir / 'images'}: no photo named {photo_id}.*")
        scores.append(
            score_one(
                masks_dir / f"{photo_id}.png",
                mattes_dir / f"{photo_id}.png",
                photo_shape=_photo_shape(photos[0]),
                trimap=trimaps,
            )
        )
    if not scores:
        raise TrainingError("no photos to score: pass ids with --ids or --ids-from-card")
    ious = np.array([s.iou for s in scores])
    return {
        "photos": len(scores),
        "foreground_iou_per_image_mean": float(ious.mean()),
        "foreground_iou_per_image_median": float(np.median(ious)),
        "foreground_iou_pooled": sum(s.intersection for s in scores)
        / max(1, sum(s.union for s in scores)),
        "worst": sorted(((s.id, round(s.iou, 4)) for s in scores), key=lambda t: t[1])[:5],
        "per_image": {s.id: s.iou for s in scores},
    }


def read_ids(ids_path: Path) -> list[str]:
    """Ids one per line (blank lines ignored)."""
    try:
        ids = [line.strip() for line in ids_path.read_text().splitlines() if line.strip()]
    except OSError as err:
        raise TrainingError(f"{ids_path}: cannot be read ({err.strerror}); fix the path") from None
    if not ids:
        raise TrainingError(f"{ids_path}: lists no ids; write one id per line")
    return ids


def validation_ids_from_card(model_dir: Path, data_dir: Path | None = None) -> list[str]:
    """The held-out ids a model folder was trained without: its ``validation_ids.txt``, or for a
    model of several sources the file of the source whose folder is ``data_dir``."""
    ids_path = model_dir / "validation_ids.txt"
    if ids_path.is_file():
        return read_ids(ids_path)
    sources = _card_sources(model_dir)
    wanted = Path(data_dir).resolve() if data_dir is not None else None
    for source in sources:
        folder = source.get("folder")
        if wanted is not None and folder and Path(folder).resolve() == wanted:
            if not source.get("validation_ids_file"):
                break
            return read_ids(model_dir / source["validation_ids_file"])
    names = ", ".join(str(s.get("folder") or s.get("source")) for s in sources) or "none"
    raise TrainingError(
        f"{model_dir}: no held-out ids for {data_dir} (its sources: {names}); "
        "pass the ids with --ids FILE"
    )


def _card_sources(model_dir: Path) -> list[dict]:
    import json

    try:
        card = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    data = (card.get("training") or {}).get("data") or {}
    return list(data.get("sources") or [data])
