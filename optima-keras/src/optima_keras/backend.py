"""The Keras backend: trains a Keras 3 model with ``model.fit`` inside OPTIMA's epoch loop.

Models come from the ``build_model``/``compile_model`` hooks (the run-config's or the built-in MLP), datasets from
``build_tensorflow_dataset``, mutations from ``update_model`` + ``compile_model(first_compile=False)``. A Keras
callback hands each finished epoch to the core. Checkpoints and exported models are ``.keras`` files; Keras
applies event weights to ``weighted_native_metrics`` itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from optima_core.backends import EndOfEpoch, TrainingBackend

CHECKPOINT_FILE = "model.keras"


def tensorflow_dataset(hooks: Any, data: Any, input_handler: Any, run_config: Any, model_config: Any) -> Any:
    """The ``tf.data.Dataset`` the ``build_tensorflow_dataset`` hook (the run-config's or the built-in) makes of ``data``."""
    dataset = hooks.build_tensorflow_dataset(
        ray_dataset=data, input_handler=input_handler, run_config=run_config, model_config=model_config
    )
    if dataset is None:
        raise RuntimeError("no build_tensorflow_dataset implementation returned a dataset")
    return dataset


def build_optimizer(model: Any) -> None:
    """Create the compiled optimizer's variables (Adam's moments, ...) now, before ``fit`` traces its training step.

    Keras otherwise creates them inside the first call of the traced step, and TensorFlow traces a function that
    creates variables a second time: about 0.5 s more per new model (five epochs of the built-in MLP on 12,000
    training events). The variables start at the same values either way, so the training does not change.
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and not getattr(optimizer, "built", True):
        optimizer.build(model.trainable_variables)


def dataset_predictions(model: Any, dataset: Any) -> np.ndarray:
    """The model's outputs for the inputs ``batch[0]`` of every batch of ``dataset``, concatenated (inference mode).

    Through ``predict_on_batch``: the model's traced predict function, kept on the model between calls, about 5x
    faster than an eager call per batch (which ran every layer op by op).
    """
    outputs = [np.asarray(model.predict_on_batch(batch[0])) for batch in dataset]
    return np.concatenate(outputs) if outputs else np.empty((0,))


class KerasBackend(TrainingBackend):
    """Trains Keras models for OPTIMA."""

    name = "Keras"
    weights_metrics_natively = True
    model_suffix = ".keras"

    def __init__(self, job: Any) -> None:
        super().__init__(job)
        self.model: Any = None
        self._datasets: dict[str, Any] = {}

    def _dataset(self, split: str) -> Any:
        if split not in self._datasets:
            job = self.job
            self._datasets[split] = tensorflow_dataset(
                job.hooks, job.data[split], job.input_handler, job.run_config, job.model_config
            )
        return self._datasets[split]

    def _metric_objects(self) -> tuple[list[Any], list[Any]]:
        plan = self.job.metrics
        native = [cls(name=name, **kwargs) for name, cls, kwargs in plan.native]
        weighted = [cls(name=name, **kwargs) for name, cls, kwargs in plan.weighted_native]
        return native, weighted

    def _compile(self, first_compile: bool) -> None:
        from optima_keras.compile import grouped_steps

        job = self.job
        native, weighted = self._metric_objects()
        compiled = job.hooks.compile_model(
            model=self.model,
            model_config=job.model_config,
            metrics=native,
            weighted_metrics=weighted,
            input_handler=job.input_handler,
            train_data=self._dataset("train"),
            first_compile=first_compile,
        )
        self.model = compiled if compiled is not None else self.model
        if job.run_config.callbacks and grouped_steps(self.model):
            # the run-config's callbacks see every batch (the built-in compile groups steps: optima_keras.compile)
            self.model.steps_per_execution = 1

    def build(self) -> None:
        import keras

        job = self.job
        keras.utils.set_random_seed(job.seed % 2**32)
        self.model = job.hooks.build_model(
            model_config=job.model_config, input_handler=job.input_handler, train_data=self._dataset("train")
        )
        if self.model is None:
            raise RuntimeError("no build_model implementation returned a model")
        self._compile(first_compile=True)

    def restore(self, checkpoint_dir: Path) -> None:
        import keras

        from optima_keras.models import load_model  # registers OPTIMA's serialisable classes first

        keras.utils.set_random_seed(self.job.seed % 2**32)
        self.model = load_model(Path(checkpoint_dir) / CHECKPOINT_FILE)
        self._compile(first_compile=False)

    def mutate(self, model_config: dict[str, Any]) -> None:
        job = self.job
        job.model_config = dict(model_config)
        updated = job.hooks.update_model(
            model=self.model,
            model_config=job.model_config,
            input_handler=job.input_handler,
            train_data=self._dataset("train"),
        )
        self.model = updated if updated is not None else self.model
        self._compile(first_compile=False)

    def fit(self, initial_epoch: int, max_epochs: int, end_of_epoch: EndOfEpoch) -> None:
        import keras

        class _EpochCallback(keras.callbacks.Callback):
            def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
                renamed = {}
                for key, value in (logs or {}).items():
                    renamed[key if key.startswith("val_") else f"train_{key}"] = float(value)
                if end_of_epoch(epoch, renamed):
                    self.model.stop_training = True

        callbacks = [_EpochCallback()] + [cls(**kwargs) for cls, kwargs in self.job.run_config.callbacks]
        build_optimizer(self.model)
        train = self._dataset("train").shuffle(64, seed=self.job.seed % 2**32, reshuffle_each_iteration=True)
        self.model.fit(
            train,
            validation_data=self._dataset("val"),
            epochs=max_epochs,
            initial_epoch=initial_epoch,
            callbacks=callbacks,
            verbose=0,
        )

    def predict(self, split: str) -> np.ndarray:
        return dataset_predictions(self.model, self._dataset(split))

    def save_checkpoint(self, directory: Path) -> None:
        self.model.save(Path(directory) / CHECKPOINT_FILE)

    def export(self, path_without_suffix: Path) -> Path:
        path = Path(path_without_suffix).with_suffix(self.model_suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.model.save(path)
        return path

    @classmethod
    def load_model(
        cls, path: Path, run_config: Any, hooks: Any, input_handler: Any, model_config: dict[str, Any], data: Any
    ) -> Any:
        from optima_keras.evaluation import KerasLoadedModel
        from optima_keras.models import load_model

        return KerasLoadedModel(load_model(Path(path)), run_config, hooks, input_handler, model_config, data)

    def get_weights(self) -> Any:
        return [np.copy(w) for w in self.model.get_weights()]

    def set_weights(self, weights: Any) -> None:
        self.model.set_weights(weights)
