"""petseg_gui.inference: model folder checks, photo -> full-resolution alpha + trimap."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from tiny_model import synthetic_photo, synthetic_subject_mask

from petseg_gui.errors import PetsegError
from petseg_gui.inference import (
    Cancelled,
    RefineParams,
    Segmentation,
    Segmenter,
    bundled_model_dir,
    read_card,
)
from petseg_gui.inference.known_edge import hair_scene, ideal_probabilities
from petseg_gui.inference.letterbox import LetterboxPlan
from petseg_gui.inference.matting import (
    BACKGROUND,
    BOUNDARY,
    SUBJECT,
    apply_at_full_resolution,
    downscale,
    guide_factor,
    refine,
    trimap_from_alpha,
)
from petseg_gui.inference.tiling import TilePlan, tile_starts


@pytest.fixture(scope="module")
def segmenter(tiny_model_dir: Path) -> Segmenter:
    seg = Segmenter(tiny_model_dir)
    seg.load()
    return seg


@pytest.fixture(scope="module")
def letterbox_segmenter(tiny_model_dir: Path) -> Segmenter:
    return Segmenter(tiny_model_dir, strategy="letterbox")


def copy_model(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def edit_card(folder: Path, **changes: object) -> None:
    card = json.loads((folder / "model.json").read_text())
    for key, value in changes.items():
        if value is None:
            card.pop(key, None)
        else:
            card[key] = value
    (folder / "model.json").write_text(json.dumps(card))


# -- loading ---------------------------------------------------------------------------------


def test_bundled_model_dir_is_resources_model() -> None:
    from resources import MODEL_DIR

    assert bundled_model_dir() == Path(MODEL_DIR)
    assert Segmenter().model_dir == Path(MODEL_DIR)


def test_load_is_lazy_and_card_needs_no_model(tiny_model_dir: Path) -> None:
    seg = Segmenter(tiny_model_dir)
    assert not seg.loaded
    assert seg.card["input_size"] == 64  # the card alone, read without loading the model
    assert not seg.loaded
    seg.predict(synthetic_photo(40, 50))  # the first predict loads
    assert seg.loaded


def test_loaded_model_runs_through_the_folder(segmenter: Segmenter, tiny_model_dir: Path) -> None:
    assert segmenter.loaded
    assert segmenter.card == read_card(tiny_model_dir)
    assert segmenter.input_size == 64


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ("no_folder", "model folder not found"),
        ("no_keras", "model.keras: file missing"),
        ("no_card", "model.json: model card missing"),
        ("bad_json", "model.json: not valid JSON"),
        ("not_object", "must be a JSON object"),
        ("missing_key", "lacks required keys sha256"),
        ("wrong_format", "not a petseg model card"),
        ("newer_version", "made by a newer petseg"),
        ("bad_size", "input_size must be an integer"),
        ("bad_classes", "classes must be"),
        ("sha_mismatch", "model.keras does not match its card: re-export the model"),
        ("corrupt_keras", "model.keras: cannot be loaded"),
    ],
)
def test_broken_model_folders_say_what_is_wrong(
    tiny_model_dir: Path, tmp_path: Path, breakage: str, message: str
) -> None:
    folder = copy_model(tiny_model_dir, tmp_path / "model")
    if breakage == "no_folder":
        folder = tmp_path / "nowhere"
    elif breakage == "no_keras":
        (folder / "model.keras").unlink()
    elif breakage == "no_card":
        (folder / "model.json").unlink()
    elif breakage == "bad_json":
        (folder / "model.json").write_text('{"format": "petseg-model",')
    elif breakage == "not_object":
        (folder / "model.json").write_text("[1, 2]")
    elif breakage == "missing_key":
        edit_card(folder, sha256=None)
    elif breakage == "wrong_format":
        edit_card(folder, format="something-else")
    elif breakage == "newer_version":
        edit_card(folder, format_version=2)
    elif breakage == "bad_size":
        edit_card(folder, input_size="64")
    elif breakage == "bad_classes":
        edit_card(folder, classes=["background", "subject", "boundary"])
    elif breakage == "sha_mismatch":
        with (folder / "model.keras").open("ab") as handle:
            handle.write(b"\0")
    elif breakage == "corrupt_keras":
        (folder / "model.keras").write_bytes(b"not a zip file at all")
        edit_card(folder, sha256=__import__("hashlib").sha256(b"not a zip file at all").hexdigest())

    with pytest.raises(PetsegError) as info:
        Segmenter(folder).load()
    text = str(info.value)
    assert message in text
    assert "\n" not in text
    assert str(folder) in text  # names the folder (or the file inside it)


def _folder_with_model(folder: Path, model) -> Path:
    import hashlib

    folder.mkdir()
    model.save(folder / "model.keras")
    card = {
        "format": "petseg-model",
        "format_version": 1,
        "input_size": 64,
        "classes": ["subject", "background", "boundary"],
        "sha256": hashlib.sha256((folder / "model.keras").read_bytes()).hexdigest(),
    }
    (folder / "model.json").write_text(json.dumps(card))
    return folder


def test_model_of_another_size_than_its_card_is_refused(tmp_path: Path) -> None:
    from tiny_model import build_tiny_model

    folder = _folder_with_model(tmp_path / "m", build_tiny_model(32))
    with pytest.raises(PetsegError, match="model input is .* but the card says 64x64"):
        Segmenter(folder).load()


def test_model_without_three_output_channels_is_refused(tmp_path: Path) -> None:
    import keras

    inputs = keras.Input((64, 64, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(2, 1)(inputs))
    folder = _folder_with_model(tmp_path / "m", model)
    with pytest.raises(PetsegError, match="outputs 2 channels, expected 3"):
        Segmenter(folder).load()


# -- predictions -----------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(240, 320), (320, 240), (31, 500), (500, 31), (1, 300)])
@pytest.mark.parametrize("strategy", ["letterbox", "tiles"])
def test_outputs_are_at_the_photos_resolution(
    segmenter: Segmenter, letterbox_segmenter: Segmenter, shape: tuple[int, int], strategy: str
) -> None:
    seg = letterbox_segmenter if strategy == "letterbox" else segmenter
    assert seg.strategy == strategy
    result = seg.predict(synthetic_photo(*shape))
    assert isinstance(result, Segmentation)
    assert result.alpha.shape == shape and result.alpha.dtype == np.float32
    assert result.trimap.shape == shape and result.trimap.dtype == np.uint8
    assert 0.0 <= result.alpha.min() and result.alpha.max() <= 1.0
    assert set(np.unique(result.trimap)) <= {SUBJECT, BACKGROUND, BOUNDARY}
    probs = result.probabilities
    assert probs.dtype == np.float32 and probs.ndim == 3 and probs.shape[2] == 3
    np.testing.assert_allclose(probs.sum(axis=2), 1.0, atol=1e-5)
    # Working resolution keeps the photo's aspect ratio (no squashing into the square).
    h, w = probs.shape[:2]
    assert abs(h / w - shape[0] / shape[1]) <= 1.0 / min(h, w) + 1e-6


def test_letterbox_keeps_aspect_and_fills_the_square() -> None:
    plan = LetterboxPlan.fit(300, 400, 64)
    assert plan.shape == (48, 64) and (plan.top, plan.left) == (8, 0)
    image = np.random.default_rng(0).random((48, 64, 3), dtype=np.float32)
    square = plan.batch(image)
    assert square.shape == (1, 64, 64, 3)
    np.testing.assert_array_equal(plan.merge(square), image)
    # Reflect padding: the row above the photo mirrors its second row.
    np.testing.assert_array_equal(square[0, 7], image[1])


def test_tiles_cover_the_image_and_blend_to_the_identity() -> None:
    assert tile_starts(100, 64, 48) == [0, 36]
    assert tile_starts(64, 64, 48) == [0]
    # Default: short side = model size, a 4:3 photo is two overlapping tiles, no mirror border.
    plan = TilePlan.fit(300, 400, 64)
    assert plan.shape == (64, 85) and plan.origins == ((0, 0), (0, 21)) and plan.margin == 0
    plan = TilePlan.fit(300, 500, 64, scale=2.0, mirror=True)
    assert min(plan.shape) == 128 and plan.margin == 8
    assert len(plan.origins) > 4
    image = np.random.default_rng(1).random((*plan.shape, 3), dtype=np.float32)
    # Merging the tiles' own pixels must give the image back: weights are normalised.
    np.testing.assert_allclose(plan.merge(plan.batch(image)), image, atol=1e-5)


def test_synthetic_subject_is_found(segmenter: Segmenter) -> None:
    photo = synthetic_photo()
    truth = synthetic_subject_mask()
    result = segmenter.predict(photo)
    inner = _erode(truth, 8)
    outer = ~_dilate(truth, 8)
    assert result.alpha[inner].mean() > 0.97
    assert result.alpha[outer].mean() < 0.03
    assert np.mean(result.trimap[inner] == SUBJECT) > 0.95
    assert np.mean(result.trimap[outer] == BACKGROUND) > 0.95
    iou = np.sum((result.alpha > 0.5) & truth) / np.sum((result.alpha > 0.5) | truth)
    assert iou > 0.95


def _erode(mask: np.ndarray, steps: int) -> np.ndarray:
    import cv2

    return cv2.erode(mask.astype(np.uint8), np.ones((2 * steps + 1,) * 2, np.uint8)) > 0


def _dilate(mask: np.ndarray, steps: int) -> np.ndarray:
    import cv2

    return cv2.dilate(mask.astype(np.uint8), np.ones((2 * steps + 1,) * 2, np.uint8)) > 0


def _known_edge_alphas(params: RefineParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(truth, refined, plain bilinear) for a hair scene seen by a perfect 64 px model (10 photo
    pixels per model pixel, like a 224 px model on a 2 MP photo)."""
    photo, truth = hair_scene(480, 640, strands=80)
    plan = LetterboxPlan.fit(480, 640, 64)
    probs = ideal_probabilities(truth, *plan.shape)
    k = guide_factor(480, 640, max(plan.shape), params)
    guide = downscale(photo, k)
    refined, _ = refine(photo, guide, k, probs, params)
    plain, _ = refine(photo, guide, k, probs, params, enabled=False)
    return truth, refined, plain


def test_refined_alpha_follows_the_true_edge_better_than_upsampling() -> None:
    truth, refined, plain = _known_edge_alphas(RefineParams())
    band = _dilate((truth > 0.02) & (truth < 0.98), 6)
    err_refined = np.abs(refined - truth)[band].mean()
    err_plain = np.abs(plain - truth)[band].mean()
    assert err_refined < 0.9 * err_plain, (err_refined, err_plain)
    # ... and stays a matte: soft at the edge, untouched beyond the filter's reach (two windows
    # of 2 model pixels = 40 photo pixels).
    assert np.mean((refined[band] > 0.05) & (refined[band] < 0.95)) > 0.1
    assert np.abs(refined - truth)[~_dilate(band, 42)].max() < 0.01


def test_colour_guide_beats_grey_when_subject_and_background_share_brightness() -> None:
    truth, colour, _ = _known_edge_alphas(RefineParams(color_guide=True))
    _, grey, _ = _known_edge_alphas(RefineParams(color_guide=False))
    assert np.abs(colour - truth).mean() < np.abs(grey - truth).mean()


@pytest.mark.parametrize("refined", [True, False])
def test_predict_writes_into_the_arrays_it_is_given(tiny_model_dir: Path, refined: bool) -> None:
    # The segmenter's child hands its shared block over: the result must land there.
    segmenter = Segmenter(tiny_model_dir, refine=refined)
    photo = synthetic_photo()
    fresh = segmenter.predict(photo)
    alpha = np.full(photo.shape[:2], -1.0, np.float32)
    trimap = np.full(photo.shape[:2], 9, np.uint8)
    given = segmenter.predict(photo, out=(alpha, trimap))
    assert given.alpha is alpha and given.trimap is trimap
    np.testing.assert_array_equal(alpha, fresh.alpha)
    np.testing.assert_array_equal(trimap, fresh.trimap)


def test_alpha_is_soft_at_a_soft_subject_edge(segmenter: Segmenter) -> None:
    # The tiny model finds bright pixels; a blurred bright disc has a soft, known edge.
    import cv2

    yy, xx = np.mgrid[0:200, 0:260]
    disc = (((yy - 100) / 60.0) ** 2 + ((xx - 130) / 70.0) ** 2 <= 1).astype(np.float32)
    soft = cv2.GaussianBlur(disc, (0, 0), 2.5)
    photo = np.repeat((30 + 200 * soft)[..., None], 3, axis=2).astype(np.uint8)
    alpha = segmenter.predict(photo).alpha
    edge = (soft > 0.1) & (soft < 0.9)
    assert np.mean((alpha[edge] > 0.05) & (alpha[edge] < 0.95)) > 0.5
    assert alpha[soft > 0.99].min() > 0.9 and alpha[soft < 0.01].max() < 0.1


@pytest.fixture(scope="module")
def lopsided_model_dir(tmp_path_factory) -> Path:
    """Like the tiny model, but each pixel is judged by the pixel 4 to its left: a model that is
    not mirror-symmetric, as a trained one is not exactly."""
    import keras

    inputs = keras.Input((64, 64, 3))
    layer = keras.layers.Conv2D(3, (1, 9), padding="same")
    model = keras.Model(inputs, layer(inputs))
    kernel = np.zeros((1, 9, 3, 3), np.float32)
    kernel[0, 0, :, 0] = 20.0 / 3
    kernel[0, 0, :, 1] = -20.0 / 3
    layer.set_weights([kernel, np.array([-10.0, 10.0, -4.0], np.float32)])
    return _folder_with_model(tmp_path_factory.mktemp("lopsided") / "m", model)


@pytest.mark.parametrize("strategy", ["tiles", "letterbox"])
def test_tta_gives_a_mirror_symmetric_alpha_for_a_symmetric_photo(
    lopsided_model_dir: Path, strategy: str
) -> None:
    half = synthetic_photo(120, 151, seed=3)  # odd width: lopsided letterbox padding
    photo = np.concatenate([half, half[:, -2::-1]], axis=1)  # 120 x 301, mirror-symmetric
    assert np.array_equal(photo, photo[:, ::-1])
    plain = Segmenter(lopsided_model_dir, strategy=strategy).predict(photo).alpha
    assert np.abs(plain - plain[:, ::-1]).max() > 0.1  # the model alone is lopsided
    result = Segmenter(lopsided_model_dir, tta=True, strategy=strategy).predict(photo)
    np.testing.assert_allclose(result.alpha, result.alpha[:, ::-1], atol=1e-4)
    np.testing.assert_allclose(result.probabilities.sum(axis=2), 1.0, atol=1e-5)


def test_cancel_raises_cancelled_at_any_stage(segmenter: Segmenter, tiny_model_dir: Path) -> None:
    photo = synthetic_photo()
    with pytest.raises(Cancelled):
        segmenter.predict(photo, cancelled=lambda: True)
    # Cancelling later (after several polls) also stops, including between tile batches
    # (tile_scale 3: 20 tiles, 5 batches; the 4th poll comes between the first two batches).
    for seg in (
        Segmenter(tiny_model_dir, strategy="letterbox"),
        Segmenter(tiny_model_dir, tile_scale=3.0),
    ):
        polls = []

        def cancelled(polls=polls) -> bool:
            polls.append(1)
            return len(polls) >= 4

        with pytest.raises(Cancelled):
            seg.predict(synthetic_photo(600, 800), cancelled=cancelled)
        assert len(polls) == 4
    # Not cancelled: the callback is polled and the result arrives.
    calls = []
    segmenter.predict(photo, cancelled=lambda: calls.append(1) and False)
    assert len(calls) >= 3


def test_non_rgb_input_is_a_programming_error(segmenter: Segmenter) -> None:
    with pytest.raises(ValueError, match="uint8 H x W x 3"):
        segmenter.predict(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="uint8 H x W x 3"):
        segmenter.predict(np.zeros((10, 10, 3), np.float32))


# -- matting pieces --------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["bilinear", "colour", "mixed"])
def test_full_resolution_strips_join_without_seams(case: str) -> None:
    # The strip-wise pass must equal one whole-image bilinear upsampling of a and b by k.
    import cv2

    rng = np.random.default_rng(2)
    gh, gw, k = 37, 23, 4
    b = rng.random((gh, gw), dtype=np.float32)
    a = rng.normal(0, 1, (gh, gw, 3)).astype(np.float32) if case != "bilinear" else None
    if case == "mixed":
        a[:, : gw // 2] = 0  # far from edges the colour term vanishes
        b[:20] = 0.25
    with_a = a is not None
    boundary = np.where(rng.random((gh, gw)) < 0.2, BOUNDARY, 0).astype(np.uint8)
    rgb = rng.integers(0, 256, (gh * k + 3, gw * k + 2, 3), dtype=np.uint8)  # + leftovers
    params = RefineParams(strip_rows=8)  # many strips of 2 guide rows
    alpha, trimap = apply_at_full_resolution(rgb, a, b, boundary, k, params)

    size = (gw * k, gh * k)
    expected = cv2.resize(b, size, interpolation=cv2.INTER_LINEAR)
    if with_a:
        a_up = cv2.resize(a, size, interpolation=cv2.INTER_LINEAR)
        expected += np.einsum("hwc,hwc->hw", a_up, rgb[: gh * k, : gw * k] / 255.0)
    expected = np.clip(expected, 0, 1)
    np.testing.assert_allclose(alpha[: gh * k, : gw * k], expected, atol=1e-5)
    # Leftover rows/columns repeat the last upsampled ones' coefficients.
    if not with_a:
        np.testing.assert_allclose(alpha[gh * k :, : gw * k], expected[-1:].repeat(3, 0), atol=1e-6)
    t_up = cv2.resize(boundary, size, interpolation=cv2.INTER_NEAREST)
    expected_t = trimap_from_alpha(expected.astype(np.float32), t_up, 0.1, 0.9)
    # Identical except where float rounding moves alpha across a threshold.
    assert np.mean(trimap[: gh * k, : gw * k] == expected_t) > 0.999


def test_trimap_thresholds_and_model_boundary() -> None:
    alpha = np.array([[0.0, 0.05, 0.5, 0.95, 1.0]], np.float32)
    boundary = np.array([[0, 0, 0, 0, BOUNDARY]], np.uint8)
    trimap = trimap_from_alpha(alpha, boundary, 0.1, 0.9)
    assert trimap.tolist() == [[BACKGROUND, BACKGROUND, BOUNDARY, SUBJECT, BOUNDARY]]
