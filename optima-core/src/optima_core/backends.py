"""The interface between the core's training loop and a framework backend (Keras, Lightning, ...).

The core owns the epoch logic (metrics, early stopping, overtraining, checkpoint cadence, reporting); a backend
only knows its framework: build or restore a model, run the framework's own fit loop and call back after every
epoch, predict, save, and load an exported model for the evaluation (:class:`LoadedModel`). Backends are registered by name through
``optima_register_backends`` and selected by the run-config's ``model_type``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from optima_core.inputs.dataset import EventData

if TYPE_CHECKING:
    from optima_core.training.job import TrainingJob

#: Called by the backend after every epoch with the 0-based epoch index and the framework's logs, already
#: renamed to OPTIMA's names (``train_loss``, ``val_loss``, ``train_<metric>``, ``val_<metric>``). Returns True
#: when training must stop.
EndOfEpoch = Callable[[int, dict[str, float]], bool]


class TrainingBackend(ABC):
    """One model of one trial, trained by a framework."""

    #: The name ``model_type`` selects.
    name: ClassVar[str] = ""
    #: True if the backend applies event weights to ``weighted_native_metrics`` itself (Keras can, Lightning not).
    weights_metrics_natively: ClassVar[bool] = False
    #: File suffix of exported models ('.keras', '.ckpt').
    model_suffix: ClassVar[str] = ""

    def __init__(self, job: TrainingJob) -> None:
        self.job = job

    @abstractmethod
    def build(self) -> None:
        """Create a new model for ``job.model_config`` (hooks: build_model/compile_model or LitModel)."""

    @abstractmethod
    def restore(self, checkpoint_dir: Path) -> None:
        """Load the model and its optimizer state from a directory written by :meth:`save_checkpoint`."""

    @abstractmethod
    def mutate(self, model_config: dict[str, Any]) -> None:
        """Apply changed mutatable hyperparameters to the current model without losing its training state."""

    @abstractmethod
    def fit(self, initial_epoch: int, max_epochs: int, end_of_epoch: EndOfEpoch) -> None:
        """Train epochs ``initial_epoch`` .. ``max_epochs - 1``, calling ``end_of_epoch`` after each."""

    @abstractmethod
    def predict(self, split: str) -> np.ndarray:
        """Model outputs for every event of ``split`` ('train', 'val', 'test'), in event order, without gradients."""

    @abstractmethod
    def save_checkpoint(self, directory: Path) -> None:
        """Write everything needed to continue training (weights, optimizer state) into ``directory``."""

    @abstractmethod
    def export(self, path_without_suffix: Path) -> Path:
        """Save the model for use after the run (``.keras``/``.ckpt``); returns the file written."""

    @abstractmethod
    def get_weights(self) -> Any:
        """An in-memory copy of the model weights (to return to the best epoch)."""

    @abstractmethod
    def set_weights(self, weights: Any) -> None:
        """Load weights from :meth:`get_weights`."""

    @classmethod
    @abstractmethod
    def load_model(
        cls, path: Path, run_config: Any, hooks: Any, input_handler: Any, model_config: dict[str, Any], data: Any
    ) -> LoadedModel:
        """Load an exported model file for prediction and evaluation.

        ``data`` maps the splits (``train``/``val``/``test``) the model was trained with to their datasets, for
        backends whose models need a data module to be rebuilt and for :meth:`LoadedModel.dataset`.
        """

    def close(self) -> None:  # noqa: B027 - optional hook for backends holding resources
        """Release framework resources held for this model."""


class LoadedModel(ABC):
    """An exported model loaded for evaluation: its predictions, and what ``get_loss`` and
    ``get_native_metric_values`` receive (the framework's model, its native datasets and metric objects)."""

    def __init__(self, model: Any) -> None:
        #: The framework's model object (a Keras model, a LightningModule), as the hooks receive it.
        self.model = model

    @abstractmethod
    def predict_events(self, data: EventData) -> np.ndarray:
        """Model outputs for the events of ``data``, in event order, without gradients.

        The events are batched by the run's data pipeline (the run-config's ``build_tensorflow_dataset`` or
        ``LightningDataset``/``DataLoader``/``DataModule``, else the built-in one), so user model code gets the
        batches ``(inputs, targets[, weights])`` the reference documents, with the events' own targets and weights.
        """

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """Model outputs for bare ``inputs``: :meth:`predict_events` of events with zero targets and unit weights."""
        inputs = np.asarray(inputs)
        zeros, ones = np.zeros(len(inputs), np.float32), np.ones(len(inputs), np.float32)
        return self.predict_events(EventData({"Input": inputs, "Target": zeros, "Weight": ones}))

    @abstractmethod
    def dataset(self, split: str, weighted: bool = True) -> Any:
        """The backend-native dataset (Keras) or dataloader (Lightning) of ``split`` for the hooks.

        ``weighted=False`` leaves the event weights out where the framework's metrics would use them.
        """

    @abstractmethod
    def metric_objects(self, specs: list[tuple[str, Any, dict[str, Any]]]) -> list[Any]:
        """Initialised framework metric objects for ``(name, MetricClass, kwargs)`` specs, in order."""
