"""Segmenter: a model folder in, a full-resolution soft alpha matte + trimap out.

One photo goes:  uint8 photo --(integer area downscale)--> guide image (~512 px)
  --(letterbox or tiles)--> model batch --(forward, softmax)--> probabilities (working res)
  --(guided filter at guide res, applied at full res)--> alpha, trimap.

Threading: ``load`` is guarded by a lock, so a GUI may call ``load``/``predict`` from a worker
thread while the main thread only reads ``card``. ``predict`` may be called from several
threads at once (the forward pass is serialised per interpreter); with ``workers=N`` the
LiteRT forward gets N interpreters sharing the cores, which is what the CLI's pipeline uses.
The GUI segments from one worker at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from petseg_gui.inference.letterbox import LetterboxPlan
from petseg_gui.inference.matting import RefineParams, downscale, guide_factor, refine
from petseg_gui.inference.model_folder import LoadedModel, load_model_folder, read_card
from petseg_gui.inference.tiling import SinglePassPlan, TilePlan, WholePhotoPlan

Plan = LetterboxPlan | TilePlan | SinglePassPlan | WholePhotoPlan

Strategy = Literal["letterbox", "tiles"]
STRATEGIES: tuple[str, ...] = ("letterbox", "tiles")
# Tiles per forward call: large enough to use the batch dimension, small enough that a
# cancelled photo stops within a few hundred milliseconds.
TILE_BATCH = 4
# Photos of at most this many pixels take one forward pass (SinglePassPlan) instead of two
# tiles: 0.25 MP, so web-sized photos segment in about one forward while camera photos keep the
# tiles' quality (docs/INFERENCE.md has the IoU of both).
SINGLE_PASS_PIXELS = 250_000


class Cancelled(Exception):  # noqa: N818 (the GUI reads it as "you asked me to stop", not an error)
    """Raised by ``Segmenter.predict`` when its ``cancelled()`` callback returned True."""


@dataclass
class Segmentation:
    alpha: np.ndarray  # float32 H x W in [0, 1], photo resolution, edge-refined
    trimap: np.ndarray  # uint8 H x W: 0 subject, 1 background, 2 boundary
    probabilities: np.ndarray  # float32 h x w x 3 at the model's working resolution


def check_photo(rgb: np.ndarray) -> None:
    """What ``predict`` takes (a programming error otherwise: ValueError)."""
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3 or 0 in rgb.shape:
        raise ValueError(f"expected a uint8 H x W x 3 RGB photo, got {rgb.dtype} {rgb.shape}")


def bundled_model_dir() -> Path:
    """The model folder shipped inside the package (``resources/model``)."""
    from resources import MODEL_DIR

    return Path(MODEL_DIR)


class ModelFacts:
    """What a segmenter tells of its model: the card from ``model.json`` before loading, then
    from the loaded model (``_model``: anything with ``card``, ``runtime`` and ``notice``, a
    ``LoadedModel`` here, what the child process said in ``SegmenterProcess``)."""

    model_dir: Path
    _model: Any = None
    _card: dict | None = None

    @property
    def card(self) -> dict:
        """The checked ``model.json`` (read on first access, without loading TensorFlow)."""
        if self._model is not None:
            return self._model.card
        if self._card is None:
            self._card = read_card(self.model_dir)
        return self._card

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def runtime(self) -> str | None:
        """The runtime that runs the model once loaded: LiteRT, or TensorFlow."""
        return self._model.runtime if self._model is not None else None

    @property
    def notice(self) -> str | None:
        """One line for the user when loading took the slow path (no model.tflite)."""
        return self._model.notice if self._model is not None else None


class Segmenter(ModelFacts):
    """Segments photos with the model in ``model_dir`` (None: the bundled model).

    ``strategy``: "tiles" (default: short side at ``tile_scale`` x the model size; one pass
    over the whole photo when model.tflite takes any size, else overlapping squares, two for a
    4:3 photo) or "letterbox" (the whole photo in one square: one forward, fewer model
    pixels). ``tta``: also run the mirrored photo and average the probabilities (doubles the
    batch). ``refine``: False gives plain bilinear upsampling (the baseline).
    ``workers``: how many threads will call ``predict`` at once (the CLI's pipeline); their
    forward passes then run side by side on the cores instead of one after another.
    docs/INFERENCE.md has the measurements behind the defaults.
    """

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        tta: bool = False,
        strategy: Strategy = "tiles",
        tile_scale: float = 1.0,
        refine: bool = True,
        params: RefineParams | None = None,
        single_pass_pixels: int = SINGLE_PASS_PIXELS,
        workers: int = 1,
    ) -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, not {strategy!r}")
        if not tile_scale > 0:
            raise ValueError(f"tile_scale must be positive, not {tile_scale!r}")
        self.model_dir = Path(model_dir) if model_dir is not None else bundled_model_dir()
        self.tta = tta
        self.strategy: Strategy = strategy
        self.tile_scale = tile_scale
        self.refine = refine
        self.params = params or RefineParams()
        self.single_pass_pixels = single_pass_pixels
        self.workers = workers
        self._card: dict | None = None
        self._model: LoadedModel | None = None
        self._lock = threading.Lock()

    @property
    def input_size(self) -> int:
        return int(self.card["input_size"])

    def load(self) -> None:
        """Check the folder, load the model and warm it up (else done by the first predict).

        Raises ``PetsegError`` naming the file and the fix."""
        with self._lock:
            if self._model is None:
                # Warm up with the squares a 4:3 photo needs, so the first photo pays no set-up.
                # (A flexible model.tflite takes a whole 4:3 photo in one pass instead; the
                # first such photo re-plans the interpreter for that shape, ~30 ms once.)
                batch = (2 if self.strategy == "tiles" else 1) * (2 if self.tta else 1)
                self._model = load_model_folder(
                    self.model_dir, warmup_batch=batch, workers=self.workers
                )
                self._card = self._model.card

    def warm_up_for(self, height: int, width: int) -> None:
        """Run the model once, on zeros, as a photo of ``height`` x ``width`` will run it (the
        app does this after loading, for a 12 MP landscape photo, the commonest). A flexible
        model.tflite plans every new input shape, ~30 ms during which LiteRT holds the GIL: done
        here, in the loading worker, instead of stalling the GUI thread when that photo opens."""
        self.load()
        with self._lock:
            model = self._model
            plan = self._plan(height, width, model.input_size, flexible=model.flexible)
            model.forward(plan.batch(np.zeros((*plan.shape, 3), np.float32)))

    def predict(
        self,
        rgb: np.ndarray,
        *,
        cancelled: Callable[[], bool] | None = None,
        out: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> Segmentation:
        """Segment one uint8 RGB photo (H x W x 3). ``cancelled`` is polled between stages and
        between tile batches; when it returns True, ``Cancelled`` is raised. ``out``: the
        (alpha, trimap) arrays to write the result into (float32 and uint8 H x W, C-contiguous;
        partly written when cancelled), which the Segmentation then holds."""
        check_photo(rgb)

        def check() -> None:
            if cancelled is not None and cancelled():
                raise Cancelled("segmentation cancelled")

        check()
        self.load()
        model = self._model
        assert model is not None
        check()
        height, width = rgb.shape[:2]
        plan = self._plan(height, width, model.input_size, flexible=model.flexible)
        k = guide_factor(height, width, max(plan.shape), self.params)
        guide = downscale(rgb, k)
        probabilities = self._probabilities(model, plan, guide, check)
        check()
        alpha, trimap = refine(
            rgb, guide, k, probabilities, self.params, enabled=self.refine, check=check, out=out
        )
        return Segmentation(alpha=alpha, trimap=trimap, probabilities=probabilities)

    def _plan(self, height: int, width: int, size: int, *, flexible: bool = False) -> Plan:
        """How the photo meets the model. ``flexible``: the model takes any multiple-of-32
        sides, so a photo that needs several tiles takes one WholePhotoPlan pass instead (the
        tiles' scale, 0.7x their forward time for a 4:3 photo); small photos still take the
        cheaper SinglePassPlan square, the one shape an older square-only file takes."""
        if self.strategy == "tiles":
            tiles = TilePlan.fit(height, width, size, scale=self.tile_scale)
            small = height * width <= self.single_pass_pixels and self.tile_scale == 1.0
            if small and len(tiles.origins) > 1:
                return SinglePassPlan.fit(height, width, size)
            if flexible and len(tiles.origins) > 1:
                return WholePhotoPlan.fit(height, width, size, scale=self.tile_scale)
            return tiles
        return LetterboxPlan.fit(height, width, size)

    def _probabilities(
        self,
        model: LoadedModel,
        plan: Plan,
        guide: np.ndarray,
        check: Callable[[], None],
    ) -> np.ndarray:
        image = plan.working_image(guide)
        batch = plan.batch(image)
        count = len(batch)
        if self.tta:
            # Mirror the photo, not the padded square: then a mirror-symmetric photo gets an
            # exactly mirror-symmetric result even when the padding is lopsided by a pixel.
            batch = np.concatenate([batch, plan.batch(np.ascontiguousarray(image[:, ::-1]))])
        chunk = TILE_BATCH if isinstance(plan, TilePlan) else len(batch)
        outputs = []
        for start in range(0, len(batch), chunk):
            check()
            outputs.append(model.forward(batch[start : start + chunk]))
        out = np.concatenate(outputs) if len(outputs) > 1 else outputs[0]
        probabilities = plan.merge(out[:count])
        if self.tta:
            mirrored = plan.merge(out[count:])[:, ::-1]
            probabilities = (probabilities + mirrored) * np.float32(0.5)
        return np.ascontiguousarray(probabilities, dtype=np.float32)
