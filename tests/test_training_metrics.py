"""The evaluation metrics against values worked out by hand on two 2x2 images."""

from __future__ import annotations

import numpy as np
import pytest

from model_training.metrics import SegmentationMetrics, format_table

# Class probabilities per pixel; logits = log(p) so softmax gives p back exactly.
# Image A, truth [[subject, background], [boundary, background]]:
#   (0,0) p=(.7,.2,.1): argmax subject, alpha .75 -> fg (truth fg: tp)
#   (0,1) p=(.6,.3,.1): argmax subject, alpha .65 -> fg (truth bg: fp)
#   (1,0) p=(.1,.2,.7): argmax boundary, truth boundary: left out of the foreground IoU
#   (1,1) p=(.6,.3,.1): argmax subject, alpha .65 -> fg (truth bg: fp)
# Image B, truth [[subject, subject], [background, boundary]]:
#   (0,0) p=(.2,.7,.1): argmax background, alpha .25 -> bg (truth fg: fn)
#   (0,1) p=(.4,.1,.5): argmax boundary, but alpha .65 -> fg (truth fg: tp)
#   (1,0) p=(.05,.15,.8): argmax boundary, alpha .45 -> bg (truth bg: tn)
#   (1,1) p=(.3,.6,.1): argmax background, truth boundary: left out
LABELS = np.array([[[0, 1], [2, 1]], [[0, 0], [1, 2]]], np.uint8)
PROBABILITIES = np.array(
    [
        [[[0.7, 0.2, 0.1], [0.6, 0.3, 0.1]], [[0.1, 0.2, 0.7], [0.6, 0.3, 0.1]]],
        [[[0.2, 0.7, 0.1], [0.4, 0.1, 0.5]], [[0.05, 0.15, 0.8], [0.3, 0.6, 0.1]]],
    ],
    np.float32,
)
LOGITS = np.log(PROBABILITIES)

# Confusion (rows truth, columns prediction), counted from the table above.
CONFUSION = [[1, 1, 1], [2, 0, 1], [0, 1, 1]]


def test_metrics_match_hand_computed_values() -> None:
    metrics = SegmentationMetrics()
    metrics.update(LABELS, LOGITS)
    result = metrics.result()

    assert result["confusion_matrix"] == CONFUSION
    assert result["pixel_accuracy"] == pytest.approx(2 / 8)
    # IoU = tp / (row + column - tp): subject 1/(3+3-1), background 0/(3+2), boundary 1/(2+3-1)
    assert result["per_class_iou"] == pytest.approx(
        {"subject": 1 / 5, "background": 0.0, "boundary": 1 / 4}
    )
    assert result["mean_iou"] == pytest.approx((1 / 5 + 0 + 1 / 4) / 3)
    # Pooled foreground: tp 2, fp 2, fn 1. Per image: A 1/(1+2), B 1/(1+1).
    assert result["foreground_iou"] == pytest.approx(2 / 5)
    assert result["foreground_iou_per_image_mean"] == pytest.approx((1 / 3 + 1 / 2) / 2)
    assert result["images"] == 2
    assert result["pixels"] == 8


def test_streaming_over_batches_equals_one_pass() -> None:
    streamed = SegmentationMetrics()
    streamed.update(LABELS[:1, ..., None], LOGITS[:1])  # (N, H, W, 1) labels, as the data gives
    streamed.update(LABELS[1:], LOGITS[1:])
    whole = SegmentationMetrics()
    whole.update(LABELS, LOGITS)
    assert streamed.result() == whole.result()


def test_image_without_any_foreground_counts_as_perfect_agreement() -> None:
    metrics = SegmentationMetrics()
    labels = np.ones((1, 2, 2), np.uint8)  # all background
    logits = np.log(np.tile(np.array([0.1, 0.8, 0.1], np.float32), (1, 2, 2, 1)))
    metrics.update(labels, logits)
    result = metrics.result()
    assert result["foreground_iou"] is None  # nothing pooled to measure
    assert result["foreground_iou_per_image_mean"] == 1.0
    assert result["per_class_iou"]["subject"] is None  # class absent from truth and prediction
    assert result["mean_iou"] == pytest.approx(1.0)


def test_out_of_range_labels_are_refused() -> None:
    with pytest.raises(ValueError, match="labels"):
        SegmentationMetrics().update(np.full((1, 2, 2), 4), LOGITS[:1])


def test_unknown_pixels_are_left_out_of_every_metric() -> None:
    # The same labels with some pixels marked unknown (3) must score exactly like the labels
    # with those pixels cut away: wrong predictions there cost nothing.
    logits = np.zeros((1, 1, 4, 3), np.float32)
    logits[0, 0, :, 0] = 5.0  # predicts subject everywhere
    labels = np.array([[[0, 1, 3, 3]]])
    metrics = SegmentationMetrics()
    metrics.update(labels, logits)
    result = metrics.result()
    assert result["pixels"] == 2
    assert result["pixel_accuracy"] == pytest.approx(0.5)
    assert result["foreground_iou"] == pytest.approx(0.5)
    reference = SegmentationMetrics()
    reference.update(labels[..., :2], logits[:, :, :2])
    assert reference.result()["confusion_matrix"] == result["confusion_matrix"]


def test_merged_metrics_pool_pixels_and_images() -> None:
    first, second, both = SegmentationMetrics(), SegmentationMetrics(), SegmentationMetrics()
    first.update(LABELS[:1], LOGITS[:1])
    second.update(LABELS[1:], LOGITS[1:])
    both.update(LABELS, LOGITS)
    first.merge(second)
    assert first.result() == both.result()


def test_table_shows_every_number() -> None:
    metrics = SegmentationMetrics()
    metrics.update(LABELS, LOGITS)
    table = format_table(metrics.result())
    assert "25.00%" in table  # pixel accuracy
    assert "40.00%" in table  # pooled foreground IoU
    assert "n/a" not in table
