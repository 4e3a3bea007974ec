"""The loss and the accuracy metric, both blind to unknown pixels (label 3).

A source whose trimap value 3 means "the labelling models disagreed" (``class3=unknown`` in
``petseg_gui.contract.data_sources``) carries label 3 after the -1 shift. Those pixels teach
nothing and are measured nowhere: the loss gives them no gradient, the accuracy skips them. On
data without label 3 both equal Keras' SparseCategoricalCrossentropy(from_logits=True) and
sparse categorical accuracy, so the paper's recipe is unchanged.

Registered with Keras so that checkpoints (which keep the compiled loss) load on resume.
"""

from __future__ import annotations

import keras
from keras import ops

UNKNOWN = 3


@keras.saving.register_keras_serializable(package="petseg")
def masked_sparse_categorical_crossentropy(y_true, y_pred):
    """Per-pixel cross-entropy from logits; 0 (and no gradient) where the label is unknown."""
    labels = ops.cast(ops.squeeze(y_true, axis=-1) if len(y_true.shape) == 4 else y_true, "int32")
    known = labels < UNKNOWN
    safe = ops.where(known, labels, ops.zeros_like(labels))
    loss = keras.losses.sparse_categorical_crossentropy(safe, y_pred, from_logits=True)
    return ops.where(known, loss, ops.zeros_like(loss))


@keras.saving.register_keras_serializable(package="petseg")
class KnownPixelAccuracy(keras.metrics.Metric):
    """Pixel accuracy (argmax of the logits) over pixels whose label is known."""

    def __init__(self, name: str = "accuracy", **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.correct = self.add_variable(shape=(), initializer="zeros", name="correct")
        self.counted = self.add_variable(shape=(), initializer="zeros", name="counted")

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        # sample_weight (the boundary weight) is ignored on purpose: accuracy counts pixels.
        labels = ops.cast(ops.reshape(y_true, ops.shape(y_pred)[:-1]), "int32")
        known = ops.cast(labels < UNKNOWN, "float32")
        hits = ops.cast(ops.equal(ops.argmax(y_pred, axis=-1), labels), "float32") * known
        self.correct.assign_add(ops.sum(hits))
        self.counted.assign_add(ops.sum(known))

    def result(self):
        return ops.divide_no_nan(self.correct, self.counted)

    def reset_state(self) -> None:
        self.correct.assign(0.0)
        self.counted.assign(0.0)
