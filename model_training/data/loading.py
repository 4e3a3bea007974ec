"""``load_data``: any source -> resized, un-augmented, unbatched train/validation datasets.

Folder sources are decoded once, up front, in threads: every bad file is found before the
first epoch (not at epoch 7), and later epochs never touch a JPEG. The decoded arrays are uint8
in memory (240 people photos at 280 px: 56 MB); ``make_pipeline`` caches what it reads.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from model_training.errors import TrainingError
from petseg_gui.contract.data_sources import CLASS3_BOUNDARY, CLASS3_MODES, CLASS3_UNKNOWN

from . import masks
from .letterbox import letterbox
from .photos import check_aspect, read_mask, read_photo
from .problems import BadFile
from .sources import Example, interpret_mask, list_pairs, resolve_source, split_ids

SPLITS = ("train", "validation", "test", "all")
AUTO_BOUNDARY = "1% of the photo's shorter side, at least 2 px, at the photo's resolution"


@dataclass
class DataSplits:
    """Unbatched, un-augmented datasets of (image float32 HxWx3 in [0, 1], mask uint8 HxWx1
    with values 0 subject, 1 background, 2 boundary).

    For ``load_data(split="train")`` these are the training and validation parts. For any other
    split (evaluation) the chosen part is in ``validation`` and ``train`` is empty.
    """

    train: Any  # tf.data.Dataset
    validation: Any  # tf.data.Dataset
    train_count: int
    validation_count: int
    skipped: list[tuple[str, str]] = field(default_factory=list)
    description: dict = field(default_factory=dict)


def load_data(
    source: str,
    *,
    image_size: int,
    validation_split: float = 0.2,
    seed: int = 0,
    skip_bad: bool = False,
    boundary_width: int | None = None,
    split: str = "train",
    train_image_size: int | None = None,
    class3: str = CLASS3_BOUNDARY,
) -> DataSplits:
    """Load ``source`` ("oxford_iiit_pet" or a folder, see ``sources``) at ``image_size``.

    ``split``: "train" gives train + validation (for training). "validation", "test", "train"
    or "all" are for evaluation: that part comes back in ``.validation``, ``.train`` is empty.
    For a mask folder "validation"/"train" are the seeded parts and "test"/"all" every pair (a
    folder kept for testing is all test); Oxford sources use their lists (test = validation).

    ``boundary_width``: width in pixels of the derived boundary band (mask folders only), at
    the photo's own resolution; default ``masks.default_boundary_width``.

    ``train_image_size``: side at which training images are kept (default ``image_size``).
    For "full" augmentation pass ``full_augment_size(image_size)`` so random crops have
    detail, and give ``make_pipeline`` ``image_size``.

    ``class3``: "boundary" (the Oxford band, class 2) or "unknown": the band becomes label 3,
    which the loss and the metrics leave out (pseudo-labels where their makers disagreed).
    """
    if split not in SPLITS:
        raise TrainingError(f"split {split!r}: choose one of {', '.join(SPLITS)}")
    if image_size < 8:
        raise TrainingError(f"image size {image_size}: must be at least 8 pixels (e.g. 224)")
    train_size = train_image_size or image_size
    kind = resolve_source(source)
    if class3 not in CLASS3_MODES:
        raise TrainingError(f"class3={class3}: use one of {', '.join(CLASS3_MODES)}")
    if boundary_width is not None and kind != "mask_folder":
        raise TrainingError(
            f"{source}: the boundary width applies only to a folder of binary masks "
            "(Oxford trimaps carry their own border); leave it out"
        )
    if boundary_width is not None and boundary_width < 0:
        raise TrainingError(f"boundary width {boundary_width}: must be 0 or more pixels")
    description: dict = {
        "source": str(source),
        "kind": kind,
        "split": split,
        "seed": seed,
        "image_size": image_size,
        "train_image_size": train_size,
        "boundary_width": boundary_width,
        "geometry": "letterbox: longer side fitted, centred, mirrored fill",
        "class3": class3,
    }
    if kind == "tfds":
        splits = _load_tfds(split, image_size, train_size, description)
    else:
        splits = _load_folder(
            Path(str(source)).expanduser(),
            kind,
            split=split,
            sizes=(train_size, image_size),
            validation_split=validation_split,
            seed=seed,
            skip_bad=skip_bad,
            boundary_width=boundary_width,
            description=description,
        )
    if class3 == CLASS3_UNKNOWN:
        splits.train = splits.train.map(_band_to_unknown)
        splits.validation = splits.validation.map(_band_to_unknown)
    return splits


def _band_to_unknown(image, mask):
    """Label 2 (the band) becomes 3 (unknown): no loss, no metric."""
    import tensorflow as tf

    return image, tf.where(mask == masks.BOUNDARY, tf.constant(masks.UNKNOWN, mask.dtype), mask)


def full_augment_size(image_size: int) -> int:
    """Training-image side for "full" augmentation: 1.25 x, so a crop of 80% of the picture
    is still at the model's resolution (smaller crops upsample a little, as any zoom does)."""
    return round(1.25 * image_size)


def _load_tfds(split: str, image_size: int, train_size: int, description: dict) -> DataSplits:
    from .tfds_source import TFDS_SPLITS, load_tfds_split

    if split == "train":
        train, train_count = load_tfds_split("train", train_size)
        validation, validation_count = load_tfds_split("validation", image_size)
    else:
        validation, validation_count = load_tfds_split(split, image_size)
        train, train_count = validation.take(0), 0
    description.update(
        dataset="Oxford-IIIT Pet (tensorflow-datasets oxford_iiit_pet)",
        train_part="tfds train" if split == "train" else None,
        validation_part=f"tfds {TFDS_SPLITS['validation' if split == 'train' else split]}",
        train_count=train_count,
        validation_count=validation_count,
    )
    return DataSplits(train, validation, train_count, validation_count, [], description)


def _load_folder(
    root: Path,
    kind: str,
    *,
    split: str,
    sizes: tuple[int, int],
    validation_split: float,
    seed: int,
    skip_bad: bool,
    boundary_width: int | None,
    description: dict,
) -> DataSplits:
    examples, skipped, lists = list_pairs(root, kind, skip_bad=skip_bad)
    by_id = {ex.id: ex for ex in examples}
    if lists is not None:  # the official Oxford split
        parts = {
            "train": [i for i in lists["train"] if i in by_id],
            "validation": [i for i in lists["validation"] if i in by_id],
        }
        split_rule = "annotations/trainval.txt -> train, annotations/test.txt -> validation"
    else:
        train_ids, validation_ids = split_ids(sorted(by_id), validation_split, seed)
        parts = {"train": train_ids, "validation": validation_ids}
        split_rule = f"{validation_split:.0%} of the pairs by a hash of (seed, id)"
    if split == "train":
        wanted = {"train": parts["train"], "validation": parts["validation"]}
    else:
        chosen = {
            "train": parts["train"],
            "validation": parts["validation"],
            "test": parts["validation"] if lists is not None else sorted(by_id),
            "all": parts["train"] + parts["validation"] if lists is not None else sorted(by_id),
        }[split]
        wanted = {"train": [], "validation": chosen}

    width_rule = boundary_width if boundary_width is not None else AUTO_BOUNDARY
    loaded = {}
    for part, size in zip(("train", "validation"), sizes, strict=True):
        items = [by_id[i] for i in wanted[part]]
        images, labels, ids, bad = _decode_all(items, kind, size, boundary_width, skip_bad)
        skipped.extend(bad)
        loaded[part] = (images, labels, ids)
    if not loaded["train"][2] and not loaded["validation"][2]:
        raise TrainingError(f"{root}: no usable photo/mask pairs; fix or replace the files")

    description.update(
        folder=str(root.resolve()),
        split_rule=split_rule,
        validation_split=validation_split if lists is None else None,
        boundary=("Oxford trimaps" if kind == "oxford_folder" else f"derived: {width_rule}"),
        train_count=len(loaded["train"][2]),
        validation_count=len(loaded["validation"][2]),
        validation_ids=loaded["validation"][2],
        skipped_count=len(skipped),
    )
    train = _dataset(*loaded["train"][:2], sizes[0])
    validation = _dataset(*loaded["validation"][:2], sizes[1])
    return DataSplits(
        train,
        validation,
        len(loaded["train"][2]),
        len(loaded["validation"][2]),
        skipped,
        description,
    )


def load_pair(
    example: Example, kind: str, size: int, boundary_width: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """(RGB uint8 size x size x 3, classes uint8 size x size) for one pair, letterboxed;
    BadFile if bad.

    For binary masks the boundary band is drawn at the photo's own resolution, before any
    resizing, so it covers the same share of the picture on a 200 px and a 2000 px photo.
    """
    import cv2

    rgb, photo_hw = read_photo(example.image_path, size)
    raw = read_mask(example.mask_path, palette_indices=kind == "oxford_folder")
    check_aspect(photo_hw, raw.shape[:2], example.mask_path)
    classes = interpret_mask(raw, kind, example.mask_path)
    if kind == "mask_folder":
        subject = classes.astype(np.uint8)
        if subject.shape != photo_hw:
            subject = cv2.resize(subject, photo_hw[::-1], interpolation=cv2.INTER_NEAREST_EXACT)
        width = boundary_width
        if width is None:
            width = masks.default_boundary_width(*photo_hw)
        classes = masks.trimap_from_binary(subject.astype(bool), width)
    return rgb, letterbox(classes, size, nearest=True, photo_shape=photo_hw)


def _decode_all(
    items: list[Example], kind: str, size: int, boundary_width: int | None, skip_bad: bool
) -> tuple[np.ndarray, np.ndarray, list[str], list[tuple[str, str]]]:
    """Decode pairs in threads (PIL and OpenCV release the GIL); in list order, so the error
    raised for the first bad file is the same on every run."""

    def work(example: Example):
        try:
            return load_pair(example, kind, size, boundary_width)
        except BadFile as problem:
            return problem

    images = np.empty((len(items), size, size, 3), np.uint8)
    labels = np.empty((len(items), size, size, 1), np.uint8)
    ids: list[str] = []
    bad: list[tuple[str, str]] = []
    pool = ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1))
    try:
        for example, result in zip(items, pool.map(work, items), strict=True):
            if isinstance(result, BadFile):
                if not skip_bad:
                    raise result.to_error()
                bad.append(result.as_pair())
                continue
            images[len(ids)], labels[len(ids), ..., 0] = result
            ids.append(example.id)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return images[: len(ids)], labels[: len(ids)], ids, bad


def _dataset(images: np.ndarray, labels: np.ndarray, size: int):
    """A dataset over in-memory uint8 arrays, converted to float32 [0, 1] per element.

    from_generator rather than from_tensor_slices: the arrays are not copied into the graph
    as constants (which fails past 2 GB and is copied again by tf.distribute)."""
    import tensorflow as tf

    def elements():
        yield from zip(images, labels, strict=True)

    signature = (
        tf.TensorSpec((size, size, 3), tf.uint8),
        tf.TensorSpec((size, size, 1), tf.uint8),
    )
    dataset = tf.data.Dataset.from_generator(elements, output_signature=signature)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(images)))
    return dataset.map(lambda image, mask: (tf.cast(image, tf.float32) / 255.0, mask))
