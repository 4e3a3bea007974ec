"""A ``model.tflite`` with a free height and width (issue 12): the trainer exports and checks it,
the app covers a whole photo with one forward pass, and the alpha is the tiles' alpha; an older
square-only file still segments, with tiles."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from tiny_model import synthetic_photo, write_tiny_model

from petseg_gui.inference import Segmenter
from petseg_gui.inference.model_folder import load_model_folder
from petseg_gui.inference.tiling import TilePlan, WholePhotoPlan


@pytest.fixture(scope="module")
def square_only_dir(tmp_path_factory) -> Path:
    """The tiny model with a model.tflite as exported before issue 12: 64 x 64 input only."""
    from model_training.tflite import export_folder

    folder = write_tiny_model(tmp_path_factory.mktemp("square_only"))
    export_folder(folder, flexible=False)
    return folder


def _counting(seg: Segmenter) -> list[tuple[int, ...]]:
    """Record the shape of every batch the segmenter's model runs."""
    seg.load()
    calls: list[tuple[int, ...]] = []
    forward = seg._model.forward  # noqa: SLF001

    def counted(batch):
        calls.append(batch.shape)
        return forward(batch)

    seg._model = dataclasses.replace(seg._model, forward=counted)  # noqa: SLF001
    return calls


def test_card_records_a_flexible_export(tiny_tflite_model_dir: Path) -> None:
    record = json.loads((tiny_tflite_model_dir / "model.json").read_text())["tflite"]
    assert record["input_shape"] == [None, None, None, 3]
    assert [64, 64] in record["check"]["shapes"] and [64, 96] in record["check"]["shapes"]
    assert record["check"]["max_abs_logit_difference"] < 1e-3
    assert load_model_folder(tiny_tflite_model_dir).flexible


def test_square_only_export_is_recorded_as_such(square_only_dir: Path) -> None:
    record = json.loads((square_only_dir / "model.json").read_text())["tflite"]
    assert record["input_shape"] == [None, 64, 64, 3]
    assert record["check"]["shapes"] == [[64, 64]]
    model = load_model_folder(square_only_dir)
    assert model.runtime == "LiteRT" and not model.flexible
    with pytest.raises(ValueError, match="64 px squares"):
        model.forward(np.zeros((1, 64, 96, 3), np.float32))


def test_one_pass_covers_the_photo_with_the_tiles_alpha(
    tiny_tflite_model_dir: Path, square_only_dir: Path
) -> None:
    photo = synthetic_photo(240, 320)
    whole = Segmenter(tiny_tflite_model_dir, single_pass_pixels=0)
    tiles = Segmenter(square_only_dir, single_pass_pixels=0)
    whole_calls, tile_calls = _counting(whole), _counting(tiles)
    assert isinstance(whole._plan(240, 320, 64, flexible=True), WholePhotoPlan)  # noqa: SLF001
    assert isinstance(tiles._plan(240, 320, 64, flexible=False), TilePlan)  # noqa: SLF001
    fast, reference = whole.predict(photo), tiles.predict(photo)
    assert whole_calls == [(1, 64, 96, 3)]  # 240 x 320 at 64 px: 64 x 85, rounded to 96
    assert tile_calls == [(2, 64, 64, 3)]  # the old way: two overlapping squares
    assert fast.alpha.shape == reference.alpha.shape == photo.shape[:2]
    assert np.abs(fast.alpha - reference.alpha).mean() < 0.01
    assert np.mean((fast.alpha > 0.5) == (reference.alpha > 0.5)) > 0.99
    # Small photos keep the one square they took before (the CLI's web-sized photos).
    small = Segmenter(tiny_tflite_model_dir)
    small_calls = _counting(small)
    small.predict(photo)
    assert small_calls == [(1, 64, 64, 3)]


def test_whole_photo_plan_sides_are_multiples_of_32() -> None:
    assert WholePhotoPlan.fit(3000, 4000, 288).shape == (288, 384)  # 4:3: exact
    assert WholePhotoPlan.fit(4000, 3000, 288).shape == (384, 288)
    assert WholePhotoPlan.fit(2000, 3000, 288).shape == (288, 448)  # 3:2: 432, rounded up
    assert WholePhotoPlan.fit(1200, 1600, 224).shape == (224, 320)  # 299, rounded up
    assert WholePhotoPlan.fit(1000, 10000, 64).shape == (64, 640)  # a panorama: one long pass
    plan = WholePhotoPlan.fit(600, 800, 64)
    image = plan.working_image(synthetic_photo(600, 800))
    assert plan.batch(image).shape == (1, 64, 96, 3)


def test_flexible_forward_alternates_shapes(
    tiny_tflite_model_dir: Path, square_only_dir: Path
) -> None:
    flexible = load_model_folder(tiny_tflite_model_dir).forward
    square = load_model_folder(square_only_dir).forward
    rng = np.random.default_rng(3)
    shapes = [(1, 64, 64, 3), (1, 64, 96, 3), (2, 64, 64, 3), (1, 96, 64, 3), (1, 64, 96, 3)]
    for shape in shapes:
        batch = rng.random(shape, dtype=np.float32)
        got = flexible(batch)
        assert got.shape == shape
        # The tiny model is per pixel: any shape's answer is the squares' answer, pixel by pixel.
        expected = square(batch[:, :64, :64])
        np.testing.assert_allclose(got[:, :64, :64], expected, atol=1e-5)


def test_export_frees_nested_inputs_and_transposed_convolutions(tmp_path: Path) -> None:
    """A model shaped like the U-Net (a nested encoder, stride-2 convolutions, a transposed
    convolution whose output shape the square export fixes) exports flexible and matches Keras
    at a shape it was not built for."""
    import keras

    from model_training.tflite import flexible_copy, run_tflite, write_tflite

    inner_in = keras.Input((64, 64, 3))
    encoder = keras.Model(inner_in, keras.layers.Conv2D(4, 3, strides=2, padding="same")(inner_in))
    inputs = keras.Input((64, 64, 3))
    x = encoder(keras.layers.Rescaling(2.0, offset=-1.0)(inputs))
    x = keras.layers.Conv2DTranspose(3, 3, strides=2, padding="same")(x)
    model = keras.Model(inputs, x)
    record = write_tflite(model, tmp_path, 64)
    assert record["input_shape"] == [None, None, None, 3]
    batch = np.random.default_rng(0).random((1, 64, 96, 3), dtype=np.float32)
    expected = np.asarray(flexible_copy(model)(batch))
    got = run_tflite((tmp_path / "model.tflite").read_bytes(), batch)
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_square_only_file_in_a_copied_folder_still_segments(
    square_only_dir: Path, tmp_path: Path
) -> None:
    """A folder from before issue 12 (square-only model.tflite, its card without input_shape)
    loads and segments a camera-sized photo with tiles."""
    folder = tmp_path / "old"
    shutil.copytree(square_only_dir, folder)
    card = json.loads((folder / "model.json").read_text())
    del card["tflite"]["input_shape"], card["tflite"]["check"]["shapes"]
    (folder / "model.json").write_text(json.dumps(card))
    seg = Segmenter(folder)
    calls = _counting(seg)
    result = seg.predict(synthetic_photo(600, 800))
    assert calls == [(2, 64, 64, 3)] and result.alpha.shape == (600, 800)


def test_warm_up_for_a_shape_spares_that_photo_the_planning(
    tiny_tflite_model_dir: Path, monkeypatch
) -> None:
    from petseg_gui.inference.litert_forward import LiteRTForward

    replans: list[bool] = []
    original = LiteRTForward._interpreter_for

    def spy(self, lane, shape):
        replans.append(lane.shape != tuple(shape))
        return original(self, lane, shape)

    monkeypatch.setattr(LiteRTForward, "_interpreter_for", spy)
    photo = np.zeros((600, 800, 3), np.uint8)  # > 0.25 MP: one whole-photo pass, not a square
    cold = Segmenter(tiny_tflite_model_dir)
    cold.load()
    del replans[:]
    cold.predict(photo)
    assert replans == [True]  # loading warmed up squares: this shape is planned now

    warm = Segmenter(tiny_tflite_model_dir)
    warm.warm_up_for(600, 800)
    del replans[:]
    warm.predict(photo)
    assert replans == [False]
