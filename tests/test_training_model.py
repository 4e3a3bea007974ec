"""The U-Net: the paper's parameter count, its contract (input range, logits), freezing and
fine-tuning, offline ImageNet weights, mixed precision and a step under MirroredStrategy."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from model_training.errors import TrainingError
from model_training.model import (
    build_unet,
    imagenet_weights_file,
    parse_decoder_filters,
    set_encoder_trainable,
)

ROOT = Path(__file__).resolve().parents[1]
SMALL = (16, 16, 8, 8)  # a slim decoder: these tests are about structure, not capacity


def test_paper_parameter_count_at_224() -> None:
    model = build_unet(224, encoder_weights=None)
    assert model.count_params() == 6_504_227  # the paper's Table 2
    assert model.output.shape == (None, 224, 224, 3)


def test_input_is_0_1_and_normalised_inside() -> None:
    import keras

    model = build_unet(64, encoder_weights=None, decoder_filters=SMALL)
    rescale = model.get_layer("to_mobilenet_range")
    out = keras.ops.convert_to_numpy(rescale(np.array([[0.0, 0.5, 1.0]], np.float32)))
    np.testing.assert_allclose(out, [[-1.0, 0.0, 1.0]])
    logits = model.predict(np.zeros((2, 64, 64, 3), np.float32), verbose=0)
    assert logits.shape == (2, 64, 64, 3) and logits.dtype == np.float32


def test_encoder_frozen_by_default_and_fine_tune_keeps_batchnorm_frozen() -> None:
    import keras

    model = build_unet(64, encoder_weights=None, decoder_filters=SMALL)
    encoder = model.get_layer("encoder")
    frozen_trainable = len(model.trainable_weights)
    assert not encoder.trainable
    assert not any(w.trainable for w in encoder.weights)

    set_encoder_trainable(model, True)
    batchnorms = [la for la in encoder.layers if isinstance(la, keras.layers.BatchNormalization)]
    convs = [la for la in encoder.layers if isinstance(la, keras.layers.Conv2D)]
    assert batchnorms and all(not la.trainable for la in batchnorms)
    assert all(la.trainable for la in convs)
    assert len(model.trainable_weights) > frozen_trainable

    # A frozen BatchNorm runs in inference mode: training=True must not change its output.
    probe = np.random.default_rng(0).uniform(-1, 1, (2, 64, 64, 3)).astype(np.float32)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(encoder(probe, training=True)[-1]),
        keras.ops.convert_to_numpy(encoder(probe, training=False)[-1]),
        rtol=1e-5,
        atol=1e-5,
    )


def test_imagenet_weights_load_offline() -> None:
    import keras

    if not imagenet_weights_file(64).is_file():
        pytest.skip("MobileNetV2 weights not in $KERAS_HOME/models")
    model = build_unet(64, encoder_weights="imagenet", decoder_filters=SMALL)
    reference = keras.applications.MobileNetV2(
        input_shape=(64, 64, 3), include_top=False, weights="imagenet"
    )
    np.testing.assert_array_equal(
        model.get_layer("encoder").get_layer("Conv1").get_weights()[0],
        reference.get_layer("Conv1").get_weights()[0],
    )


@pytest.mark.parametrize("size", [0, 48, 100])
def test_image_size_must_be_a_multiple_of_32(size: int) -> None:
    with pytest.raises(TrainingError, match="multiple of 32"):
        build_unet(size, encoder_weights=None)


def test_decoder_filters_option() -> None:
    assert parse_decoder_filters("512,256,128,64") == (512, 256, 128, 64)
    for bad in ("1,2,3", "a,b,c,d", "8,8,8,0"):
        with pytest.raises(TrainingError, match="--decoder-filters"):
            parse_decoder_filters(bad)
    slim = build_unet(224, encoder_weights=None, decoder_filters=(256, 128, 64, 32))
    assert slim.count_params() < 6_504_227


def test_mixed_precision_keeps_float32_logits() -> None:
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = build_unet(64, encoder_weights=None, decoder_filters=SMALL)
    finally:
        keras.config.set_dtype_policy(previous)
    assert model.get_layer("up0_conv").compute_dtype == "float16"
    assert model.output.dtype == "float32"


MIRRORED_STEP = textwrap.dedent(
    """
    import numpy as np
    import tensorflow as tf

    # Two logical CPUs; must happen before TensorFlow initialises its devices.
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2
    )
    from model_training.model import build_unet, compile_unet

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        model = build_unet(32, encoder_weights=None, decoder_filters=(8, 8, 8, 8))
        compile_unet(model, 1e-3)
    images = np.random.default_rng(0).random((4, 32, 32, 3)).astype("float32")
    masks = (images.mean(-1, keepdims=True) > 0.5).astype("uint8")
    before = [w.numpy().copy() for w in model.trainable_weights]
    data = tf.data.Dataset.from_tensor_slices((images, masks)).batch(4)
    history = model.fit(data, epochs=1, verbose=0)
    changed = any(
        not np.array_equal(b, w.numpy()) for b, w in zip(before, model.trainable_weights)
    )
    print("REPLICAS", strategy.num_replicas_in_sync, "CHANGED", changed,
          "FINITE", bool(np.isfinite(history.history["loss"][0])))
    """
)


def test_one_training_step_under_mirrored_strategy_on_two_cpus() -> None:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", MIRRORED_STEP],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "REPLICAS 2 CHANGED True FINITE True" in done.stdout


@pytest.mark.parametrize(
    ("tf_config", "chief"),
    [
        (None, True),
        ('{"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 0}}', True),
        ('{"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 1}}', False),
        ('{"cluster": {"chief": ["c:1"], "worker": ["a:1"]}, "task": {"type": "worker", '
         '"index": 0}}', False),
        ('{"cluster": {"chief": ["c:1"], "worker": ["a:1"]}, "task": {"type": "chief", '
         '"index": 0}}', True),
    ],
)  # fmt: skip
def test_only_the_chief_writes_the_output(monkeypatch, tf_config, chief) -> None:
    from model_training.distribute import is_chief

    if tf_config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    assert is_chief() is chief


def test_auto_strategy_is_one_device_on_this_machine(monkeypatch) -> None:
    import tensorflow as tf

    from model_training.distribute import choose_strategy

    monkeypatch.delenv("TF_CONFIG", raising=False)
    if len(tf.config.list_logical_devices("GPU")) > 1:
        pytest.skip("several GPUs: auto picks MirroredStrategy")
    assert choose_strategy("auto").num_replicas_in_sync == 1
    with pytest.raises(TrainingError, match="--strategy"):
        choose_strategy("bogus")
