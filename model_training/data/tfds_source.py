"""The Oxford-IIIT Pet dataset through tensorflow-datasets (the paper's data and split)."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from pathlib import Path
from typing import Any

from model_training.errors import TrainingError

from .letterbox import letterbox
from .sources import TFDS_NAME

# tfds split names per load_data split: its train split trains, its test split validates.
TFDS_SPLITS = {"train": "train", "validation": "test", "test": "test", "all": "train+test"}

OFFLINE_FIX = (
    "download images.tar.gz and annotations.tar.gz from "
    "https://www.robots.ox.ac.uk/~vgg/data/pets/, unpack both into one folder and pass "
    "--data /path/to/oxford-iiit-pet "
    "(the folder holding images/ and annotations/)"
)


# Where tensorflow-datasets 4.9's oxford_iiit_pet builder downloads from. Probed before a first
# download because tfds itself retries an unreachable host for minutes before it gives up.
DOWNLOAD_HOST = ("thor.robots.ox.ac.uk", 443)
PROBE_SECONDS = 8.0


def unreachable_reason(host: tuple[str, int] | None = None) -> str | None:
    """None when a TCP connection to ``host`` (the download host) opens in time, else why not."""
    host = host or DOWNLOAD_HOST
    outcome: list[str | None] = []

    def probe() -> None:
        try:
            socket.create_connection(host, timeout=PROBE_SECONDS).close()
            outcome.append(None)
        except OSError as err:
            outcome.append(f"cannot reach {host[0]}: {err.strerror or err}")

    # A thread, because name resolution has no timeout of its own.
    worker = threading.Thread(target=probe, daemon=True)
    worker.start()
    worker.join(PROBE_SECONDS + 1)
    return outcome[0] if outcome else f"cannot reach {host[0]}: no answer in {PROBE_SECONDS:g} s"


def _prepared(builder: Any) -> bool:
    """Whether tfds already has the dataset on disk (then no network is needed)."""
    return (Path(str(builder.data_dir)) / "dataset_info.json").is_file()


def load_tfds_split(split: str, size: int) -> tuple[Any, int]:
    """(dataset of (image float32 size x size x 3 in [0, 1], mask uint8 size x size x 1), count).

    Photos are letterboxed like a folder source's (``letterbox``: area resize, mirrored
    fill), masks with nearest neighbour, so no label falls between classes (the paper's
    bilinear mask resize did exactly that).
    """
    import tensorflow as tf

    try:
        import tensorflow_datasets as tfds

        if not _prepared(tfds.builder(TFDS_NAME)):
            reason = unreachable_reason()
            if reason is not None:
                raise TrainingError(
                    f"{TFDS_NAME}: needs a network to download it once (about 800 MB) and "
                    f"{reason}; {OFFLINE_FIX}"
                )
        # tfds prints "Downloading and preparing ..." on stdout, which the trainer's JSONL
        # progress protocol reserves for JSON lines.
        with contextlib.redirect_stdout(sys.stderr):
            dataset = tfds.load(TFDS_NAME, split=TFDS_SPLITS[split])
    except TrainingError:
        raise
    except Exception as err:  # no network, a missing tfds extra, a half-written cache ...
        cause = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise TrainingError(
            f"{TFDS_NAME}: tensorflow-datasets could not load it ({cause}); {OFFLINE_FIX}"
        ) from None
    count = int(dataset.cardinality())
    if count < 0:  # unknown: only possible for an unusual tfds build; count once
        count = int(dataset.reduce(0, lambda n, _: n + 1))

    def fit(image, mask):
        return (
            letterbox(image, size, nearest=False),
            letterbox(mask, size, nearest=True, photo_shape=image.shape[:2]),
        )

    def prepare(example):
        # The same numpy/OpenCV code as the folder sources (one rule for photo geometry);
        # it runs once per image, before make_pipeline's cache.
        image, mask = tf.numpy_function(
            fit, [example["image"], example["segmentation_mask"]], [tf.uint8, tf.uint8]
        )
        image = tf.ensure_shape(image, (size, size, 3))
        mask = tf.ensure_shape(mask, (size, size, 1))
        return tf.cast(image, tf.float32) / 255.0, mask - 1

    return dataset.map(prepare, num_parallel_calls=tf.data.AUTOTUNE), count
