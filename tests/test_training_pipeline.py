"""model_training.data: the tf.data pipeline (augmentation, batching) and the tfds source."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from model_training.data import load_data, make_pipeline, tfds_source
from model_training.errors import TrainingError

# Class -> a pure colour, so the class of every pixel can be read back from the image.
CLASS_COLOURS = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8)


def colour_coded(count: int, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random blocky class maps (uint8 N x size x size x 1) and images painted by class."""
    import cv2

    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 3, (count, 5, 5), dtype=np.uint8)
    masks = np.stack(
        [cv2.resize(b, (size, size), interpolation=cv2.INTER_NEAREST_EXACT) for b in blocks]
    )
    return CLASS_COLOURS[masks], masks[..., None]


def as_dataset(images: np.ndarray, masks: np.ndarray):
    """What load_data returns: unbatched (float32 image in [0, 1], uint8 mask)."""
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((images, masks))
    return data.map(lambda i, m: (tf.cast(i, tf.float32) / 255.0, m))


def collect(pipeline) -> tuple[np.ndarray, np.ndarray]:
    batches = [(i.numpy(), m.numpy()) for i, m in pipeline]
    return np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])


def interior(masks: np.ndarray) -> np.ndarray:
    """Pixels whose 3x3 neighbourhood has one label (bilinear resampling mixes colours at
    class edges; everywhere else the colour must say the class)."""
    m = np.pad(masks[..., 0], ((0, 0), (1, 1), (1, 1)), mode="edge")
    h, w = masks.shape[1:3]
    same = np.ones(masks.shape[:3], bool)
    for dy in range(3):
        for dx in range(3):
            same &= m[:, dy : dy + h, dx : dx + w] == masks[..., 0]
    return same


def test_full_augmentation_keeps_image_and_mask_aligned():
    images, masks = colour_coded(24, 40)
    pipeline = make_pipeline(
        as_dataset(images, masks), batch_size=8, training=True, augment="full", image_size=32
    )
    out_images, out_masks = collect(pipeline)
    assert out_images.shape == (24, 32, 32, 3) and out_images.dtype == np.float32
    assert out_masks.shape == (24, 32, 32, 1) and out_masks.dtype == np.uint8
    assert set(np.unique(out_masks).tolist()) <= {0, 1, 2}  # nearest: no in-between labels
    assert 0.0 <= out_images.min() and out_images.max() <= 1.0
    inside = interior(out_masks)
    assert inside.mean() > 0.5
    colour_class = out_images.argmax(axis=-1)
    assert (colour_class[inside] == out_masks[..., 0][inside]).mean() > 0.995
    # It did augment: colours were jittered and the geometry changed (not a plain resize).
    red = out_images[(out_masks[..., 0] == 0) & inside]
    assert red[:, 0].std() > 0.01 or red[:, 1:].max() > 0.05
    plain = collect(
        make_pipeline(as_dataset(images, masks), batch_size=8, training=False, image_size=32)
    )[1]
    unchanged = {m.tobytes() for m in plain} | {m[:, ::-1].tobytes() for m in plain}
    assert sum(m.tobytes() not in unchanged for m in out_masks) > 12


def test_flip_happens_half_the_time_seeded_and_keeps_alignment():
    count = 200
    images = np.zeros((count, 8, 8, 3), np.uint8)
    images[:, :, :4] = CLASS_COLOURS[0]  # left half subject (red), right half background
    images[:, :, 4:] = CLASS_COLOURS[1]
    masks = np.ones((count, 8, 8, 1), np.uint8)
    masks[:, :, :4] = 0

    def flips(pipeline) -> list[np.ndarray]:
        """Per epoch: which examples came out flipped; checks the mask flipped with them."""
        epochs = []
        for _ in range(2):
            out_images, out_masks = collect(pipeline)
            flipped = out_images[:, 0, 0, 1] > 0.5  # green on the left
            assert np.array_equal(flipped, out_masks[:, 0, 0, 0] == 1)
            epochs.append(flipped)
        return epochs

    data = as_dataset(images, masks)
    first = flips(make_pipeline(data, batch_size=64, training=True, augment="flip", seed=5))
    again = flips(make_pipeline(data, batch_size=64, training=True, augment="flip", seed=5))
    other = flips(make_pipeline(data, batch_size=64, training=True, augment="flip", seed=6))
    for epoch in first:
        assert 0.35 < epoch.mean() < 0.65
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))  # seeded
    assert not np.array_equal(first[0], first[1])  # new draws every epoch
    assert not np.array_equal(first[0], other[0])


def test_validation_pipeline_is_never_augmented():
    images, masks = colour_coded(10, 16, seed=1)
    for augment in ("flip", "full"):
        pipeline = make_pipeline(
            as_dataset(images, masks), batch_size=4, training=False, augment=augment
        )
        shapes = [tuple(i.shape) for i, _ in pipeline]
        assert shapes == [(4, 16, 16, 3), (4, 16, 16, 3), (2, 16, 16, 3)]
        out_images, out_masks = collect(pipeline)
        np.testing.assert_array_equal(out_masks, masks)  # same order, untouched
        np.testing.assert_array_equal(out_images, images / np.float32(255.0))


def test_training_without_augmentation_shuffles_only():
    images, masks = colour_coded(12, 16, seed=2)
    out_images, out_masks = collect(
        make_pipeline(as_dataset(images, masks), batch_size=5, training=True, augment="none")
    )
    assert not np.array_equal(out_masks, masks)  # shuffled ...
    key = lambda a: sorted(x.tobytes() for x in a)  # noqa: E731
    assert key(out_masks) == key(masks)  # ... but the same examples, unchanged
    assert key((out_images * 255).round().astype(np.uint8)) == key(images)


def test_larger_cached_images_come_out_at_image_size():
    images, masks = colour_coded(6, 40, seed=3)
    for augment in ("none", "flip"):
        out_images, out_masks = collect(
            make_pipeline(
                as_dataset(images, masks),
                batch_size=6,
                training=True,
                augment=augment,
                image_size=32,
            )
        )
        assert out_images.shape == (6, 32, 32, 3)
        assert set(np.unique(out_masks).tolist()) <= {0, 1, 2}


def test_bad_pipeline_arguments_are_user_errors():
    data = as_dataset(*colour_coded(2, 8))
    with pytest.raises(TrainingError, match="augmentation 'rotate'"):
        make_pipeline(data, batch_size=2, training=True, augment="rotate")
    with pytest.raises(TrainingError, match="batch size 0"):
        make_pipeline(data, batch_size=0, training=True)


def test_pipeline_works_under_tf_distribute():
    import tensorflow as tf

    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    pipeline = make_pipeline(
        as_dataset(*colour_coded(8, 16)), batch_size=4, training=True, augment="full"
    )
    images, masks = next(iter(strategy.experimental_distribute_dataset(pipeline)))
    assert tuple(images.shape) == (4, 16, 16, 3) and tuple(masks.shape) == (4, 16, 16, 1)


# --- tensorflow-datasets source ---------------------------------------------------------------


def _fake_oxford(count: int):
    """A stand-in for the tfds builder's examples: photos of varying sizes with Oxford trimaps
    (1 pet, 2 background, 3 border) whose colours encode the class."""
    import tensorflow as tf

    def as_dataset_fn(self, split, **kwargs):
        def examples():
            for i in range(count):
                images, masks = colour_coded(1, 30 + 7 * i, seed=10 + i)
                yield {
                    "image": images[0],
                    "segmentation_mask": masks[0] + 1,
                    "label": i,
                    "species": 0,
                    "file_name": f"Breed_{i}.jpg",
                    "head_bbox": np.zeros(4, np.float32),
                }

        signature = {
            "image": tf.TensorSpec((None, None, 3), tf.uint8),
            "segmentation_mask": tf.TensorSpec((None, None, 1), tf.uint8),
            "label": tf.TensorSpec((), tf.int64),
            "species": tf.TensorSpec((), tf.int64),
            "file_name": tf.TensorSpec((), tf.string),
            "head_bbox": tf.TensorSpec((4,), tf.float32),
        }
        dataset = tf.data.Dataset.from_generator(examples, output_signature=signature)
        return dataset.apply(tf.data.experimental.assert_cardinality(count))

    return as_dataset_fn


def test_tfds_source_loads_resized_trimaps(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds

    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    # Not prepared on disk, so the loader would probe the download host first: the mock
    # stands in for the download, so the network counts as there.
    monkeypatch.setattr(tfds_source, "unreachable_reason", lambda: None)
    with tfds.testing.mock_data(as_dataset_fn=_fake_oxford(5)):
        splits = load_data("oxford_iiit_pet", image_size=24)
        assert (splits.train_count, splits.validation_count) == (5, 5)
        assert splits.description["kind"] == "tfds"
        images, masks = collect(make_pipeline(splits.train, batch_size=2, training=True))
        val_images, val_masks = collect(
            make_pipeline(splits.validation, batch_size=4, training=False)
        )
        evaluation = load_data("oxford_iiit_pet", image_size=24, split="test")
        assert (evaluation.train_count, evaluation.validation_count) == (0, 5)
    assert images.shape == (5, 24, 24, 3) and images.dtype == np.float32
    assert masks.shape == (5, 24, 24, 1) and masks.dtype == np.uint8
    assert set(np.unique(val_masks).tolist()) == {0, 1, 2}  # trimap - 1, nearest
    inside = interior(val_masks)
    assert (val_images.argmax(-1)[inside] == val_masks[..., 0][inside]).mean() > 0.99


def test_tfds_unavailable_names_the_folder_alternative(monkeypatch):
    import tensorflow_datasets as tfds

    def offline(*args, **kwargs):
        raise OSError("Failed to resolve 'www.robots.ox.ac.uk'\nmore lines")

    monkeypatch.setattr(tfds, "load", offline)
    monkeypatch.setattr(tfds_source, "unreachable_reason", lambda: None)
    with pytest.raises(TrainingError) as caught:
        load_data("oxford_iiit_pet", image_size=24)
    message = str(caught.value)
    assert "\n" not in message and "Failed to resolve" in message
    assert "--data /path/to/oxford-iiit-pet" in message and "annotations/" in message


def test_tfds_without_network_fails_fast_before_downloading(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds

    def must_not_download(*args, **kwargs):
        raise AssertionError("tfds.load was called although the host is unreachable")

    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(tfds, "load", must_not_download)
    # A port on this machine that nothing listens on: refused at once, like an offline host.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free_port = sock.getsockname()[1]
    monkeypatch.setattr(tfds_source, "DOWNLOAD_HOST", ("127.0.0.1", free_port))
    with pytest.raises(TrainingError) as caught:
        load_data("oxford_iiit_pet", image_size=24)
    message = str(caught.value)
    assert "needs a network" in message and "127.0.0.1" in message
    assert "--data /path/to/oxford-iiit-pet" in message and "\n" not in message
