"""Which tf.distribute strategy to train under (see docs/TRAINING.md, "Several GPUs")."""

from __future__ import annotations

import json
import os

from model_training.errors import TrainingError

STRATEGIES = ("auto", "default", "mirrored", "multiworker")


def choose_strategy(name: str = "auto"):
    """``auto``: MultiWorkerMirrored when TF_CONFIG names a cluster, Mirrored over all GPUs when
    there are several, else the default (one device) strategy."""
    import tensorflow as tf

    if name not in STRATEGIES:
        raise TrainingError(f"--strategy {name}: use one of {', '.join(STRATEGIES)}")
    if name == "auto":
        if os.environ.get("TF_CONFIG"):
            name = "multiworker"
        elif len(tf.config.list_logical_devices("GPU")) > 1:
            name = "mirrored"
        else:
            name = "default"
    if name == "multiworker":
        try:
            json.loads(os.environ.get("TF_CONFIG") or "")
        except ValueError:
            raise TrainingError(
                "TF_CONFIG: not set or not JSON; --strategy multiworker needs the cluster spec "
                "(see docs/TRAINING.md)"
            ) from None
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def is_chief() -> bool:
    """Whether this process writes the output: always, except a non-chief worker of a
    multi-worker cluster (TF_CONFIG). The chief is task "chief", else worker 0."""
    try:
        config = json.loads(os.environ.get("TF_CONFIG") or "{}")
        task = config.get("task") or {}
        kind, index = task.get("type", "worker"), int(task.get("index", 0))
    except (ValueError, AttributeError, TypeError):
        return True  # choose_strategy reports a malformed TF_CONFIG
    if "chief" in (config.get("cluster") or {}):
        return kind == "chief"
    return kind == "worker" and index == 0


def describe_strategy(strategy) -> dict:
    return {
        "strategy": type(strategy).__name__,
        "replicas": int(strategy.num_replicas_in_sync),
    }
