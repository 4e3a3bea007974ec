"""Which picture each pane shows: one pure decision, made from a small snapshot of the state.

``PaneControl`` (pane_control.py) takes the snapshot, calls :func:`choose` and puts the chosen
pictures on screen; nothing else decides. No Qt here, so the rules are tested on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Picture(Enum):
    NOTE = "note"  # no picture yet: a note ("Segmenting...", "No model ...")
    PHOTO_PREVIEW = "photo preview"  # the screen-sized photo
    PHOTO_FULL = "photo full"  # the photo's real pixels
    RESULT_PREVIEW = "result preview"  # the latest preview render
    RESULT_FULL = "result full"  # the cached full-resolution render
    TRIMAP_PREVIEW = "trimap preview"  # the overlay on the screen-sized photo
    TRIMAP_FULL = "trimap full"  # the cached full-resolution overlay


@dataclass(frozen=True)
class PaneState:
    """What the choice depends on (a photo is open)."""

    zoomed_in: bool  # the view shows photo pixels larger than the preview's
    comparing: bool  # compare is held: the result pane shows the photo
    rendered: bool  # a preview render of the current matte exists
    effect_on: bool  # the latest render's params have the effect enabled
    full_result: bool  # a full-resolution render for those params is cached
    has_matte: bool
    full_trimap: bool  # a full-resolution overlay for the opacity slider's value is cached


@dataclass(frozen=True)
class PaneChoice:
    original: Picture
    trimap: Picture
    result: Picture
    result_note: str  # the note in the result pane's header


def choose(state: PaneState) -> PaneChoice:
    """Previews while fitted (the preview covers the pane); zoomed in past the preview's
    resolution, real pixels where they exist: the photo at once, the result and the overlay
    once their full-resolution versions for the current settings have arrived."""
    photo = Picture.PHOTO_FULL if state.zoomed_in else Picture.PHOTO_PREVIEW
    if state.comparing:
        result = photo
    elif not state.rendered:
        result = Picture.NOTE
    elif state.zoomed_in and state.full_result:
        result = Picture.RESULT_FULL
    elif not state.effect_on:
        result = photo  # effect off: the photo, as sharp as zoomed
    else:
        result = Picture.RESULT_PREVIEW
    if not state.has_matte:
        trimap = Picture.NOTE
    elif state.zoomed_in and state.full_trimap:
        trimap = Picture.TRIMAP_FULL
    else:
        trimap = Picture.TRIMAP_PREVIEW
    if state.comparing:
        note = "original (comparing)"
    elif state.rendered and not state.effect_on:
        note = "effect off"
    else:
        note = ""
    return PaneChoice(photo, trimap, result, note)
