"""``make_pipeline``: cache, shuffle, augment, batch and prefetch a ``load_data`` dataset.

Augmentation (training only; validation is never augmented):
- "none".
- "flip": a horizontal flip of half the examples (the paper's only augmentation).
- "full": a random square crop of 60-100% of the side, resized to the model size (bilinear for
  the image, nearest for the mask), a horizontal flip, and colour jitter (brightness, contrast,
  saturation, hue). No vertical flips: photographed people and pets are upright.

Geometry is applied to image and mask with the same random numbers. Randomness comes from
stateless ops fed by one seeded random stream (``tf.data.Dataset.random``), so a seed gives the
same batches on every run (with parallel maps), and every epoch draws new numbers.

Plain tf.data, nothing tied to a device: the trainer hands it to ``fit`` or to
``strategy.experimental_distribute_dataset``.
"""

from __future__ import annotations

from typing import Any

from model_training.errors import TrainingError

AUGMENTATIONS = ("none", "flip", "full")
MIN_CROP = 0.6  # smallest crop side, as a share of the cached image's side
BRIGHTNESS = 0.15  # max added brightness (images in [0, 1])
CONTRAST = (0.8, 1.2)
SATURATION = (0.8, 1.2)
HUE = 0.04  # max hue shift, in turns (about 14 degrees: skin stays skin)
MAX_SHUFFLE_BUFFER = 4096  # a buffer holds elements: 4096 x 280^2 x 3 bytes = 1 GB at most


def make_pipeline(
    ds: Any,
    *,
    batch_size: int,
    training: bool,
    augment: str = "flip",
    seed: int = 0,
    image_size: int | None = None,
) -> Any:
    """Batched, prefetched dataset of (image float32 NxSxSx3, mask uint8 NxSxSx1).

    ``image_size`` (S): output side; default the input's own side. A larger input (see
    ``loading.full_augment_size``) is cropped ("full") or resized down to S.

    The decoded examples are cached in memory as uint8 (4x smaller than float32: the
    tensorflow-datasets Oxford train split at 224 px is 550 MB instead of 2.2 GB); exact for
    folder sources, within 1/510 for resampled images.
    """
    import tensorflow as tf

    _check_batch_size(batch_size)
    ds = prepare_examples(ds, training=training, augment=augment, seed=seed, image_size=image_size)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def mix_sources(
    parts: list[tuple[Any, int, float]], *, batch_size: int, seed: int = 0
) -> tuple[Any, int | None]:
    """One batched training stream from several ``prepare_examples`` datasets.

    ``parts``: (unbatched dataset, its photo count, its weight). A photo of a source with
    weight w is drawn w times as often as one of weight 1: source i is sampled with probability
    proportional to w_i x n_i (``tf.data.Dataset.sample_from_datasets``), each source repeating
    (and reshuffling) on its own. An epoch is sum(w_i x n_i) examples.

    Returns (dataset, steps per epoch). One source is passed through unchanged and finite
    (steps None: one pass is an epoch, exactly as without mixing).
    """
    import math

    import tensorflow as tf

    _check_batch_size(batch_size)
    if len(parts) == 1:
        return parts[0][0].batch(batch_size).prefetch(tf.data.AUTOTUNE), None
    shares = [count * weight for _, count, weight in parts]
    total = sum(shares)
    mixed = tf.data.Dataset.sample_from_datasets(
        [ds.repeat() for ds, _, _ in parts],
        weights=[share / total for share in shares],
        seed=seed,
        stop_on_empty_dataset=False,
    )
    steps = max(1, math.ceil(total / batch_size))
    return mixed.batch(batch_size).prefetch(tf.data.AUTOTUNE), steps


def prepare_examples(
    ds: Any,
    *,
    training: bool,
    augment: str = "flip",
    seed: int = 0,
    image_size: int | None = None,
) -> Any:
    """``make_pipeline`` before batching: cache, shuffle and augment (training) or resize."""
    import tensorflow as tf

    if augment not in AUGMENTATIONS:
        raise TrainingError(f"augmentation {augment!r}: choose one of {', '.join(AUGMENTATIONS)}")
    side = ds.element_spec[0].shape[0]
    size = image_size or side
    if size is None:
        raise ValueError("make_pipeline needs image_size for a dataset of unknown image size")

    autotune = tf.data.AUTOTUNE
    ds = ds.map(_to_uint8, num_parallel_calls=autotune).cache()
    if training:
        count = int(ds.cardinality())
        buffer = min(count, MAX_SHUFFLE_BUFFER) if count > 0 else MAX_SHUFFLE_BUFFER // 4
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    if training and augment != "none":
        # One [2]-shaped stateless seed per element, fresh every epoch.
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip((ds, seeds))
        step = full_augment if augment == "full" else flip_augment
        return ds.map(lambda pair, s: step(*pair, s, size), num_parallel_calls=autotune)
    return ds.map(lambda image, mask: _resized(image, mask, size), num_parallel_calls=autotune)


def _check_batch_size(batch_size: int) -> None:
    if batch_size < 1:
        raise TrainingError(f"batch size {batch_size}: must be at least 1")


def _to_uint8(image, mask):
    import tensorflow as tf

    return tf.cast(tf.round(tf.clip_by_value(image, 0.0, 1.0) * 255.0), tf.uint8), mask


def _to_float(image):
    import tensorflow as tf

    return tf.cast(image, tf.float32) / 255.0


def _resized(image, mask, size: int):
    """float32 image and uint8 mask at size x size (a no-op when already there)."""
    import tensorflow as tf

    image = _to_float(image)
    if image.shape[0] != size or image.shape[1] != size:
        image = tf.image.resize(image, (size, size), antialias=True)
        mask = tf.image.resize(mask, (size, size), method="nearest")
    return image, mask


def flip_augment(image, mask, seed, size: int):
    """The paper's augmentation: a horizontal flip of image and mask together, half the time."""
    import tensorflow as tf

    image, mask = _resized(image, mask, size)
    return _flip(image, mask, tf.cast(seed, tf.int64))


def _flip(image, mask, seed):
    import tensorflow as tf

    flip = tf.random.stateless_uniform([], seed) < 0.5
    return tf.cond(
        flip,
        lambda: (tf.reverse(image, [1]), tf.reverse(mask, [1])),
        lambda: (image, mask),
    )


def full_augment(image, mask, seed, size: int):
    """Random crop + resize, flip and colour jitter; the mask follows every geometric step."""
    import tensorflow as tf

    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 7)
    side = tf.random.stateless_uniform([], seeds[0], MIN_CROP, 1.0)
    top_left = tf.random.stateless_uniform([2], seeds[1]) * (1.0 - side)
    box = tf.concat([top_left, top_left + side], 0)[None]  # [[y1, x1, y2, x2]], normalised
    image = tf.image.crop_and_resize(_to_float(image)[None], box, [0], (size, size))[0]
    # Nearest neighbour: the mask keeps only the labels it had, no in-between values.
    mask = tf.image.crop_and_resize(
        tf.cast(mask, tf.float32)[None], box, [0], (size, size), method="nearest"
    )[0]
    image, mask = _flip(image, tf.cast(tf.round(mask), tf.uint8), seeds[2])
    image = tf.image.stateless_random_brightness(image, BRIGHTNESS, seeds[3])
    image = tf.image.stateless_random_contrast(image, *CONTRAST, seeds[4])
    image = tf.image.stateless_random_saturation(image, *SATURATION, seeds[5])
    image = tf.image.stateless_random_hue(image, HUE, seeds[6])
    image = tf.ensure_shape(tf.clip_by_value(image, 0.0, 1.0), (size, size, 3))
    return image, tf.ensure_shape(mask, (size, size, 1))
