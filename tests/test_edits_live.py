"""The app's matte under correction (edits.live): a stroke computed on a private crop equals
the stroke on the whole matte, apply/undo are exact for matte and trimap, live painting stays
on the preview copy."""

from __future__ import annotations

import numpy as np
from tiny_model import synthetic_photo, synthetic_subject_mask

from petseg_gui.edits import Stroke, stroke_patch
from petseg_gui.edits.live import MatteEdit, edited_trimap
from petseg_gui.preview import downscale


def make_edit() -> MatteEdit:
    rgb = synthetic_photo(480, 640)
    alpha = synthetic_subject_mask(480, 640).astype(np.float32)
    return MatteEdit(rgb, downscale(rgb, 320), alpha, edited_trimap(alpha), alpha.copy())


def test_a_stroke_on_its_crop_equals_the_stroke_on_the_whole_matte() -> None:
    edit = make_edit()
    for stroke in (
        Stroke("add", 20.0, ((30.0, 400.0), (120.0, 430.0), (200.0, 470.0))),
        Stroke("remove", 35.5, ((320.0, 240.0), (330.0, 250.0))),
        Stroke("add", 12.0, ((639.0, 0.0),)),  # a corner
    ):
        whole = stroke_patch(edit.alpha, edit.rgb, stroke)
        cropped = edit.stroke_job(stroke).run()
        assert (cropped.y0, cropped.x0) == (whole.y0, whole.x0)
        assert np.array_equal(cropped.after, whole.after)
        assert np.array_equal(cropped.before, whole.before)


def test_apply_and_undo_are_exact_and_bump_the_version() -> None:
    edit = make_edit()
    alpha, trimap = edit.alpha.copy(), edit.trimap.copy()
    patch = edit.stroke_job(Stroke("remove", 30.0, ((320.0, 240.0), (320.0, 300.0)))).run()
    applied = edit.apply(patch)
    assert edit.version == 1 and not np.array_equal(edit.alpha, alpha)
    assert edit.trimap[240, 320] == 1  # background now
    edit.undo(applied)
    assert np.array_equal(edit.alpha, alpha) and np.array_equal(edit.trimap, trimap)
    edit.redo(applied)
    assert edit.alpha[240, 320] == 0.0 and edit.version == 3
    edit.apply(edit.reset_patch())
    assert np.array_equal(edit.alpha, edit.model_alpha)
    assert edit.reset_patch() is None


def test_live_painting_writes_only_the_preview_copy() -> None:
    edit = make_edit()
    alpha = edit.alpha.copy()
    before = edit.preview_alpha.copy()
    bounds = edit.paint(Stroke("add", 20.0, ((40.0, 420.0), (80.0, 420.0))))
    assert bounds is not None
    assert edit.preview_overlay(bounds, 0.5).shape == (
        bounds[2] - bounds[0],
        bounds[3] - bounds[1],
        3,
    )
    assert np.array_equal(edit.alpha, alpha)
    changed = edit.preview_alpha != before
    assert changed.any() and edit.preview_alpha[210, 30] > 0.9  # preview pixels (half size)
    assert edit.preview_trimap[210, 30] == 0


def test_a_small_patch_brings_the_preview_copy_up_to_date_at_once() -> None:
    edit = make_edit()
    patch = edit.stroke_job(Stroke("remove", 30.0, ((320.0, 240.0), (320.0, 300.0)))).run()
    edit.apply(patch)
    assert not edit.preview_stale
    synced = edit.preview_alpha.copy()
    edit.sync_preview()  # the whole matte downscaled again: what the rectangle must equal
    assert np.abs(synced - edit.preview_alpha).max() < 1e-6  # float rounding of the crop's resize
    assert synced[135, 160] == 0.0  # photo (320, 270), preview (160, 135): removed


def test_a_large_patch_leaves_the_preview_to_the_next_matte(monkeypatch) -> None:
    from petseg_gui.edits import live

    edit = make_edit()
    monkeypatch.setattr(live, "SYNC_NOW_PIXELS", 100)
    before = edit.preview_alpha.copy()
    edit.apply(edit.reset_patch() or live.MattePatch.between(edit.alpha, edit.alpha * 0))
    assert edit.preview_stale and np.array_equal(edit.preview_alpha, before)
    assert edit.adopt_preview(downscale(edit.alpha, 320))
    assert not edit.preview_stale and edit.preview_alpha.max() == 0.0
    assert not edit.adopt_preview(np.zeros((7, 7), np.float32))  # another size: refused


def test_consistent_reads_see_no_write_or_say_so() -> None:
    edit = make_edit()
    assert np.array_equal(edit.consistent(edit.alpha.copy), edit.alpha)
    patch = edit.stroke_job(Stroke("add", 20.0, ((40.0, 420.0), (80.0, 420.0)))).run()

    def read_while_writing():
        copy = edit.alpha.copy()
        edit.apply(patch)  # as the GUI thread would, between a worker's read and its check
        return copy

    assert edit.consistent(read_while_writing) is None
    edit.writes += 1  # a write under way
    assert edit.consistent(edit.alpha.copy) is None


def test_a_large_click_is_swapped_in_undone_and_redone_as_whole_arrays(monkeypatch) -> None:
    from test_edits_subject import A_CENTRE, scene

    from petseg_gui.edits import live

    rgb, matte_a, matte_b, _, _ = scene()
    both = np.maximum(matte_a, matte_b)

    def new_edit() -> MatteEdit:
        return MatteEdit(rgb, downscale(rgb, 200), both, edited_trimap(both), both.copy())

    # Written as a rectangle (the patch is below SWAP_PIXELS): the reference result.
    written = new_edit()
    plain = written.click(A_CENTRE)
    assert plain.whole is None
    written.apply(plain)

    monkeypatch.setattr(live, "SWAP_PIXELS", 100)
    edit = new_edit()
    start, start_copy = (edit.alpha, edit.trimap), (edit.alpha.copy(), edit.trimap.copy())
    prepared = edit.click(A_CENTRE)  # as in its worker: the whole arrays made there
    assert prepared.whole is not None
    applied = edit.apply(prepared)
    assert edit.alpha is prepared.whole[0] and edit.trimap is prepared.whole[1]  # no copy
    assert np.array_equal(edit.alpha, written.alpha)
    assert np.array_equal(edit.trimap, written.trimap)
    assert applied.patch is None  # an undo step keeps no rectangle copies besides the arrays
    assert edit.version == 1 and edit.writes == 2 and edit.preview_stale

    # A stroke on top, both undone, both redone: last in, first out keeps every array right.
    after_click = edit.alpha.copy()
    stroke = edit.stroke_job(Stroke("add", 20.0, ((290.0, 160.0), (300.0, 170.0)))).run()
    stroked = edit.apply(stroke)
    after_stroke = edit.alpha.copy(), edit.trimap.copy()
    assert not np.array_equal(after_stroke[0], after_click)
    edit.undo(stroked)
    assert np.array_equal(edit.alpha, after_click)
    edit.undo(applied)
    assert edit.alpha is start[0] and edit.trimap is start[1]
    assert np.array_equal(edit.alpha, start_copy[0]) and np.array_equal(edit.trimap, start_copy[1])
    edit.redo(applied)
    edit.redo(stroked)
    assert np.array_equal(edit.alpha, after_stroke[0])
    assert np.array_equal(edit.trimap, after_stroke[1])


def test_reset_is_prepared_for_a_worker_and_a_large_one_swapped_in(monkeypatch) -> None:
    from petseg_gui.edits import live

    monkeypatch.setattr(live, "SWAP_PIXELS", 100)
    edit = make_edit()
    edit.apply(edit.stroke_job(Stroke("remove", 30.0, ((320.0, 240.0), (320.0, 300.0)))).run())
    stroked = edit.alpha.copy(), edit.trimap.copy()
    prepared = edit.prepared_reset()
    assert prepared.whole is not None
    applied = edit.apply(prepared)
    assert np.array_equal(edit.alpha, edit.model_alpha)
    assert np.array_equal(edit.trimap, edited_trimap(edit.model_alpha))
    assert edit.prepared_reset() is None  # nothing left to reset
    edit.undo(applied)
    assert np.array_equal(edit.alpha, stroked[0]) and np.array_equal(edit.trimap, stroked[1])
