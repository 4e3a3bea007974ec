"""The Subject tool (petseg_gui.edits.subject_pick): keep one of two objects, add the other,
grow a subject the model missed."""

from __future__ import annotations

import cv2
import numpy as np

from petseg_gui.edits import click_subject, grow_object, keep_object, objects

A_CENTRE, B_CENTRE = (100, 150), (290, 160)  # (x, y)


def scene(seed: int = 1):
    """A textured grey photo with an orange object A and a green object B; soft mattes of each."""
    rng = np.random.default_rng(seed)
    h, w = 300, 400
    rgb = np.clip(rng.normal(128, 20, (h, w, 3)), 0, 255).astype(np.uint8)
    a = np.zeros((h, w), np.uint8)
    cv2.ellipse(a, A_CENTRE, (50, 80), 0, 0, 360, 1, -1)
    b = np.zeros((h, w), np.uint8)
    cv2.ellipse(b, B_CENTRE, (55, 70), 0, 0, 360, 1, -1)
    rgb[a > 0] = np.clip(rng.normal((220, 120, 40), 12, (int(a.sum()), 3)), 0, 255)
    rgb[b > 0] = np.clip(rng.normal((40, 170, 60), 12, (int(b.sum()), 3)), 0, 255)
    matte_a = cv2.GaussianBlur(a.astype(np.float32), (0, 0), 2)
    matte_b = cv2.GaussianBlur(b.astype(np.float32), (0, 0), 2)
    return rgb, matte_a, matte_b, a > 0, b > 0


def test_click_keeps_one_of_two_objects_and_add_keeps_both() -> None:
    _, matte_a, matte_b, _, _ = scene()
    both = np.maximum(matte_a, matte_b)
    found = objects(both)
    assert found.count == 2
    assert found.at(A_CENTRE) != found.at(B_CENTRE) and found.at((5, 5)) == 0

    edited = both.copy()
    patch = keep_object(both, A_CENTRE, current=edited, found=found)
    patch.apply(edited)
    np.testing.assert_allclose(edited, matte_a, atol=1e-4)  # soft edge of A kept, B gone
    assert edited[B_CENTRE[1], B_CENTRE[0]] == 0.0

    patch_b = keep_object(both, B_CENTRE, add=True, current=edited, found=found)
    patch_b.apply(edited)
    np.testing.assert_allclose(edited, both, atol=1e-4)
    patch_b.revert(edited)  # undo works the same way as for strokes
    np.testing.assert_allclose(edited, matte_a, atol=1e-4)


def test_click_beside_objects_on_nothing_returns_none_for_keep() -> None:
    _, matte_a, _, _, _ = scene()
    assert keep_object(matte_a, (390, 10)) is None


def test_grow_finds_a_subject_the_model_missed() -> None:
    rgb, matte_a, _, a, b = scene()
    patch = grow_object(rgb, matte_a, B_CENTRE)
    grown = matte_a.copy()
    patch.apply(grown)
    fg = grown > 0.5
    iou_b = (fg & b).sum() / ((fg & ~a) | b).sum()
    assert iou_b > 0.9
    assert (fg & a).sum() / a.sum() > 0.99  # the existing subject stays (union)
    # A plain click of the Subject tool on nothing makes the grown object the only subject.
    only = matte_a.copy()
    click_subject(rgb, matte_a, matte_a, B_CENTRE).apply(only)
    assert (only > 0.5)[a].mean() < 0.01 and (only > 0.5)[b].mean() > 0.9


def test_a_click_on_what_an_edit_made_subject_keeps_it_and_add_changes_nothing() -> None:
    rgb, matte_a, _, a, b = scene()
    edited = matte_a.copy()
    grow_object(rgb, matte_a, B_CENTRE).apply(edited)  # B is subject now, the model's A too
    assert click_subject(rgb, matte_a, edited, B_CENTRE, add=True) is None
    only_b = edited.copy()
    click_subject(rgb, matte_a, edited, B_CENTRE).apply(only_b)
    assert (only_b > 0.5)[b].mean() > 0.9 and (only_b > 0.5)[a].mean() < 0.01
