"""Evaluation of Keras models: the loaded model the core evaluates, and the built-in ``get_loss`` and
``get_native_metric_values`` on a whole ``tf.data.Dataset``, batch by batch.

Batches are ``(inputs, targets)`` or ``(inputs, targets, sample_weight)``. Both hooks answer ``None`` when the
run-config's ``model_type`` is not ``'Keras'``, so the Lightning backend's implementations are asked instead.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np
from keras import ops

from optima_core.backends import LoadedModel
from optima_core.inputs.dataset import EventData
from optima_keras.backend import dataset_predictions, tensorflow_dataset
from optima_keras.plugin import is_keras_run


def _split(batch: Any) -> tuple[Any, Any, Any]:
    if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
        raise ValueError(
            "the built-in get_loss/get_native_metric_values expect batches (inputs, targets) or "
            "(inputs, targets, sample_weight); define them in the run-config for other batch structures"
        )
    return batch[0], batch[1], batch[2] if len(batch) == 3 else None


#: ``(targets, predictions, sample_weight)`` of every batch of a split a loaded model has predicted whole
#: (:meth:`KerasLoadedModel.predict_events`), kept with the model they came from for as long as the dataset lives.
#: The evaluation predicts each split for its figures and then asks ``get_loss`` (and the native metrics) about the
#: same dataset; a loaded model's inference is deterministic, so those read these instead of predicting again.
_predicted: weakref.WeakKeyDictionary[Any, tuple[weakref.ref[Any], list[tuple[Any, Any, Any]]]] = (
    weakref.WeakKeyDictionary()
)


def predicted_batches(model: keras.Model, dataset: Any) -> Iterator[tuple[Any, Any, Any]]:
    """Yield ``(targets, predictions, sample_weight or None)`` for every batch of ``dataset`` (inference mode)."""
    known = _predicted.get(dataset)
    if known is not None and known[0]() is model:
        yield from known[1]
        return
    # predict_on_batch runs the model's own traced predict function, kept on the model between calls: much faster
    # than an eager call per batch, and no tf.function retracing per call (which TensorFlow warns about).
    for batch in dataset:
        x, y, w = _split(batch)
        yield y, model.predict_on_batch(x), w


def _per_event_loss_function(loss: Any) -> Any:
    """A callable ``(y_true, y_pred) -> per-event loss`` for the loss a model was compiled with."""
    if isinstance(loss, (str, dict)):
        loss = keras.losses.get(loss)
    if isinstance(loss, keras.losses.Loss):
        return loss.call  # the unreduced values; __call__ would average over the batch
    if callable(loss):
        return loss
    raise ValueError(
        f"cannot compute the loss of a model compiled with loss {loss!r} (several outputs?); "
        "define get_loss in the run-config"
    )


def weighted_mean_loss(model: keras.Model, dataset: Any) -> float:
    """``sum(w * l) / sum(w)`` over every event of ``dataset``, ``l`` the per-event loss and ``w`` its weight.

    Events of batches without weights count with ``w = 1``. Only the loss the model was compiled with is
    included, not the regularisation penalties (Keras' own ``val_loss`` adds them, and with sample weights divides
    by the number of events instead of their sum of weights). Accumulated in float64; ``nan`` if ``sum(w) == 0``.
    """
    if getattr(model, "loss", None) is None:
        raise ValueError("the model is not compiled with a loss; call compile_model first")
    loss_fn = _per_event_loss_function(model.loss)
    total, weight_sum = 0.0, 0.0
    for y, pred, w in predicted_batches(model, dataset):
        pred = ops.convert_to_tensor(pred)
        y = ops.cast(y, pred.dtype)
        if len(y.shape) == len(pred.shape) - 1:
            y = ops.expand_dims(y, -1)
        values = np.asarray(loss_fn(y, pred), dtype=np.float64)
        values = values.reshape(values.shape[0], -1).mean(axis=1) if values.ndim > 1 else values.reshape(-1)
        weights = np.ones_like(values) if w is None else np.asarray(w, dtype=np.float64).reshape(-1)
        total += float(np.sum(weights * values))
        weight_sum += float(np.sum(weights))
    return total / weight_sum if weight_sum != 0 else float("nan")


def _as_python(value: Any) -> Any:
    array = np.asarray(value, dtype=np.float64)
    return float(array) if array.size == 1 else array.tolist()


def metric_values(metrics: list[Any], model: keras.Model, dataset: Any) -> list[Any]:
    """Reset ``metrics``, update them with every batch of ``dataset`` (with its weights if present), return results.

    Each result is a Python float (a list of floats for a metric whose result is not a scalar).
    """
    for metric in metrics:
        metric.reset_state()
    for y, pred, w in predicted_batches(model, dataset):
        for metric in metrics:
            metric.update_state(y, pred, sample_weight=w)
    return [_as_python(metric.result()) for metric in metrics]


def get_loss(run_config: Any, model_config: Any, model: Any, dataset: Any, input_handler: Any) -> float | None:
    """Hook ``get_loss``: the weighted mean loss of ``model`` on ``dataset`` (see :func:`weighted_mean_loss`).

    Returns ``None`` (not mine) unless ``run_config.model_type`` is ``'Keras'``.
    """
    if not is_keras_run(run_config):
        return None
    return weighted_mean_loss(model, dataset)


def get_native_metric_values(
    run_config: Any,
    native_metrics: list[Any],
    model_config: Any,
    model: Any,
    dataset_or_dataloader: Any,
    input_handler: Any,
) -> list[Any] | None:
    """Hook ``get_native_metric_values``: the values of ``native_metrics`` on one dataset, in their order.

    Sample weights are passed to the metrics whenever the batches carry them; to evaluate metrics without
    weights, pass a dataset without a weight element. Returns ``None`` (not mine) unless ``model_type`` is 'Keras'.
    """
    if not is_keras_run(run_config):
        return None
    return metric_values(list(native_metrics), model, dataset_or_dataloader)


class KerasLoadedModel(LoadedModel):
    """An exported Keras model with the run's datasets as ``build_tensorflow_dataset`` makes them."""

    def __init__(
        self, model: Any, run_config: Any, hooks: Any, input_handler: Any, model_config: dict[str, Any], data: Any
    ) -> None:
        super().__init__(model)
        self.run_config, self.hooks, self.input_handler = run_config, hooks, input_handler
        # build_tensorflow_dataset needs a batch size; a model loaded without its hyperparameters predicts in 1024s
        self.model_config, self.data = {"batch_size": 1024, **(model_config or {})}, data
        self._datasets: dict[str, Any] = {}

    def _tensorflow_dataset(self, data: Any) -> Any:
        return tensorflow_dataset(self.hooks, data, self.input_handler, self.run_config, self.model_config)

    def predict_events(self, data: EventData) -> np.ndarray:
        """The outputs for the inputs of every batch ``build_tensorflow_dataset`` makes of ``data``.

        For one of the model's own splits the batches' targets, weights and outputs are also kept for
        :func:`predicted_batches` (the evaluation's loss and metrics on the same dataset).
        """
        split = next((name for name, events in (self.data or {}).items() if events is data), None)
        if split is None:
            return dataset_predictions(self.model, self._tensorflow_dataset(data))
        dataset = self.dataset(split)
        outputs: list[np.ndarray] = []
        kept: list[tuple[Any, Any, Any]] | None = []
        for batch in dataset:
            outputs.append(np.asarray(self.model.predict_on_batch(batch[0])))
            if kept is not None:
                try:
                    _, targets, weights = _split(batch)
                except ValueError:  # a run-config's own batch structure: the hooks predict it themselves
                    kept = None
                else:
                    kept.append((targets, outputs[-1], weights))
        if kept is not None:
            _predicted[dataset] = (weakref.ref(self.model), kept)
        return np.concatenate(outputs) if outputs else np.empty((0,))

    def dataset(self, split: str, weighted: bool = True) -> Any:
        if split not in self._datasets:
            self._datasets[split] = self._tensorflow_dataset(self.data[split])
        dataset = self._datasets[split]
        if not weighted and isinstance(dataset.element_spec, tuple) and len(dataset.element_spec) == 3:
            return dataset.map(lambda x, y, w: (x, y))
        return dataset

    def metric_objects(self, specs: list[tuple[str, Any, dict[str, Any]]]) -> list[Any]:
        return [metric_class(name=name, **kwargs) for name, metric_class, kwargs in specs]
