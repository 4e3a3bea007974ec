"""The paper's U-Net: a MobileNetV2 encoder (ImageNet weights) and a pix2pix-style decoder.

At 224 px with the default decoder it has exactly 6,504,227 parameters (the paper's Table 2).
The model takes float32 RGB in [0, 1]; a Rescaling layer inside maps it to the [-1, 1] that
MobileNetV2 was trained on, so callers never have to know the encoder's normalisation.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from model_training.errors import TrainingError

if TYPE_CHECKING:
    import keras

NUM_CLASSES = 3
DEFAULT_DECODER_FILTERS: tuple[int, ...] = (512, 256, 128, 64)
# The encoder activations the decoder joins, deepest last (the TensorFlow segmentation tutorial).
SKIP_LAYERS: tuple[str, ...] = (
    "block_1_expand_relu",  # S/2
    "block_3_expand_relu",  # S/4
    "block_6_expand_relu",  # S/8
    "block_13_expand_relu",  # S/16
    "block_16_project",  # S/32
)
ENCODER_NAME = "encoder"
# Keras only ships no-top MobileNetV2 weights for these sizes; any other size uses the 224 file
# (a no-top encoder's weights do not depend on the input size).
_KERAS_WEIGHT_SIZES = (96, 128, 160, 192, 224)


def check_image_size(image_size: int) -> None:
    """Five stride-2 stages: the side must be a multiple of 32 for the skips to line up."""
    if image_size < 32 or image_size % 32:
        raise TrainingError(
            f"--image-size {image_size}: the U-Net needs a multiple of 32 (e.g. 128 or 224)"
        )


def imagenet_weights_file(image_size: int) -> Path:
    """Where Keras looks for the MobileNetV2 ImageNet weights before trying to download them.

    Keras reads $KERAS_HOME once, when it is imported; ask it where it looks when it can tell.
    """
    rows = image_size if image_size in _KERAS_WEIGHT_SIZES else 224
    try:
        from keras.src.backend.config import keras_home  # private, hence the fallback

        home = Path(keras_home())
    except ImportError:
        home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    return home / "models" / f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{rows}_no_top.h5"


def _encoder_backbone(image_size: int, encoder_weights: str | Path | None) -> keras.Model:
    import keras

    weights: str | None
    if encoder_weights is None or str(encoder_weights).lower() == "none":
        weights = None
    elif str(encoder_weights) == "imagenet":
        weights = "imagenet"
    else:
        path = Path(encoder_weights)
        if not path.is_file():
            raise TrainingError(
                f"{path}: encoder weights file not found; give a MobileNetV2 no-top .h5 file, "
                "'imagenet' or 'none'"
            )
        weights = str(path)
    try:
        with warnings.catch_warnings():
            # Keras warns that sizes other than 96..224 get the 224 px weights: a no-top
            # encoder's weights do not depend on the input size, so that is exactly right.
            warnings.filterwarnings("ignore", message=".*will be loaded as the default")
            return keras.applications.MobileNetV2(
                input_shape=(image_size, image_size, 3), include_top=False, weights=weights
            )
    except Exception as err:  # download failure offline, wrong file: one line for the user
        if weights == "imagenet":
            expected = imagenet_weights_file(image_size)
            raise TrainingError(
                f"{expected}: MobileNetV2 ImageNet weights not found and could not be downloaded; "
                "set KERAS_HOME to a folder whose models/ holds that file, or use "
                "--encoder-weights none|PATH"
            ) from err
        raise TrainingError(
            f"{weights}: not usable as MobileNetV2 no-top weights ({type(err).__name__}); "
            "use --encoder-weights imagenet|none|PATH to a matching .h5 file"
        ) from err


def build_unet(
    image_size: int,
    *,
    encoder_weights: str | Path | None = "imagenet",
    decoder_filters: Sequence[int] = DEFAULT_DECODER_FILTERS,
    encoder_trainable: bool = False,
) -> keras.Model:
    """The paper's U-Net for square ``image_size`` inputs (float32 RGB in [0, 1]).

    Output: logits (N, S, S, 3), classes 0 subject, 1 background, 2 boundary. Under a
    mixed_float16 policy the last layer stays float32 so the logits and the loss are stable.
    """
    import keras

    check_image_size(image_size)
    decoder_filters = _checked_filters(tuple(decoder_filters), ",".join(map(str, decoder_filters)))

    backbone = _encoder_backbone(image_size, encoder_weights)
    encoder = keras.Model(
        backbone.input,
        [backbone.get_layer(name).output for name in SKIP_LAYERS],
        name=ENCODER_NAME,
    )
    set_encoder_trainable(encoder, encoder_trainable)

    inputs = keras.Input((image_size, image_size, 3), name="image")
    # [0, 1] -> [-1, 1], what keras.applications.mobilenet_v2.preprocess_input does.
    x = keras.layers.Rescaling(2.0, offset=-1.0, name="to_mobilenet_range")(inputs)
    *skips, x = encoder(x)
    for index, (filters, skip) in enumerate(zip(decoder_filters, reversed(skips), strict=True)):
        # pix2pix.upsample without dropout: transposed conv (no bias, BN follows) + BN + ReLU.
        x = keras.layers.Conv2DTranspose(
            filters, 3, strides=2, padding="same", use_bias=False, name=f"up{index}_conv"
        )(x)
        x = keras.layers.BatchNormalization(name=f"up{index}_bn")(x)
        x = keras.layers.ReLU(name=f"up{index}_relu")(x)
        x = keras.layers.Concatenate(name=f"up{index}_concat")([x, skip])
    logits = keras.layers.Conv2DTranspose(
        NUM_CLASSES, 3, strides=2, padding="same", dtype="float32", name="logits"
    )(x)
    return keras.Model(inputs, logits, name="unet_mobilenetv2")


def set_encoder_trainable(model: keras.Model, trainable: bool) -> None:
    """Freeze or unfreeze the encoder; its BatchNorm layers always stay frozen.

    A frozen BatchNormalization runs in inference mode in Keras 3, which keeps the ImageNet
    statistics when fine-tuning on a small data set (the usual transfer-learning advice).
    Accepts the U-Net or the encoder itself.
    """
    import keras

    encoder = model if model.name == ENCODER_NAME else model.get_layer(ENCODER_NAME)
    encoder.trainable = trainable
    if trainable:
        for layer in encoder.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False


def encoder_is_trainable(model: keras.Model) -> bool:
    return bool(model.get_layer(ENCODER_NAME).trainable)


def compile_unet(model: keras.Model, learning_rate: float, decay_steps: int | None = None) -> None:
    """The paper's optimiser, loss and metric; loss and accuracy skip unknown pixels (label 3,
    see ``losses``), which the paper's data does not have. ``decay_steps``: the rate follows a
    cosine from ``learning_rate`` down to 0 over that many steps (else it stays constant)."""
    import keras

    if decay_steps:
        learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps)
    from model_training.losses import KnownPixelAccuracy, masked_sparse_categorical_crossentropy

    model.compile(
        optimizer=keras.optimizers.Adam(
            learning_rate=learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-8
        ),
        loss=masked_sparse_categorical_crossentropy,
        metrics=[KnownPixelAccuracy()],
    )


def parse_decoder_filters(text: str) -> tuple[int, ...]:
    """'512,256,128,64' -> (512, 256, 128, 64), with a one-line error for anything else."""
    try:
        filters = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        filters = ()
    return _checked_filters(filters, text)


def _checked_filters(filters: tuple[int, ...], text: str) -> tuple[int, ...]:
    if len(filters) != len(SKIP_LAYERS) - 1 or min(filters, default=0) < 1:
        raise TrainingError(
            f"--decoder-filters {text}: give {len(SKIP_LAYERS) - 1} comma-separated positive "
            "numbers, e.g. 512,256,128,64"
        )
    return tuple(int(f) for f in filters)
