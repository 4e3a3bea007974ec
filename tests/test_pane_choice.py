"""The one decision of what each pane shows (pure: no Qt, no session)."""

from __future__ import annotations

import dataclasses

import pytest

from petseg_gui.ui.pane_choice import PaneState, Picture, choose

FITTED = PaneState(
    zoomed_in=False,
    comparing=False,
    rendered=True,
    effect_on=True,
    full_result=True,
    has_matte=True,
    full_trimap=True,
)
ZOOMED = dataclasses.replace(FITTED, zoomed_in=True)


def test_fitted_shows_previews_even_with_full_resolution_cached() -> None:
    choice = choose(FITTED)
    assert choice.original is Picture.PHOTO_PREVIEW
    assert choice.result is Picture.RESULT_PREVIEW
    assert choice.trimap is Picture.TRIMAP_PREVIEW
    assert choice.result_note == ""


def test_zoomed_in_shows_real_pixels_once_they_are_cached() -> None:
    choice = choose(ZOOMED)
    assert (choice.original, choice.result, choice.trimap) == (
        Picture.PHOTO_FULL,
        Picture.RESULT_FULL,
        Picture.TRIMAP_FULL,
    )
    waiting = choose(dataclasses.replace(ZOOMED, full_result=False, full_trimap=False))
    assert (waiting.original, waiting.result, waiting.trimap) == (
        Picture.PHOTO_FULL,  # the photo's pixels are there at once
        Picture.RESULT_PREVIEW,  # until the full render for these params arrives
        Picture.TRIMAP_PREVIEW,
    )


@pytest.mark.parametrize("state", [FITTED, ZOOMED])
def test_effect_off_shows_the_photo_at_the_zoom_level(state) -> None:
    off = choose(dataclasses.replace(state, effect_on=False, full_result=False))
    assert off.result is off.original
    assert off.result_note == "effect off"


@pytest.mark.parametrize("state", [FITTED, ZOOMED])
def test_compare_shows_the_photo_whatever_is_rendered(state) -> None:
    for rendered in (True, False):
        choice = choose(dataclasses.replace(state, comparing=True, rendered=rendered))
        assert choice.result is choice.original
        assert choice.result_note == "original (comparing)"


def test_before_segmentation_the_panes_show_a_note() -> None:
    choice = choose(dataclasses.replace(FITTED, rendered=False, has_matte=False))
    assert choice.result is Picture.NOTE and choice.trimap is Picture.NOTE
    assert choice.original is Picture.PHOTO_PREVIEW
