"""The interface between the core's training loop and a framework backend (Keras, Lightning, ...).

The core owns the epoch logic (metrics, early stopping, overtraining, checkpoint cadence, reporting); a backend
only knows its framework: build or restore a model, run the framework's own fit loop and call back after every
epoch, predict, compute its native metrics, save. Backends are registered by name through
``optima_register_backends`` and selected by the run-config's ``model_type``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

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
    def native_metric_values(self, split: str) -> dict[str, float]:
        """Backend-native (and, if :attr:`weights_metrics_natively`, weighted) metrics on ``split``, prefixed."""

    @abstractmethod
    def loss(self, split: str) -> float:
        """The loss on ``split`` with the current weights (event-weighted mean)."""

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
    def load_predictor(
        cls, path: Path, run_config: Any, hooks: Any, input_handler: Any, data: Any
    ) -> Callable[[np.ndarray], np.ndarray]:
        """Load an exported model file and return ``predict(inputs) -> outputs`` (batched, no gradients).

        ``data`` is one split dict (``train``/``val``/``test``) the model was trained with, for backends whose
        models need a data module to be rebuilt.
        """

    def close(self) -> None:  # noqa: B027 - optional hook for backends holding resources
        """Release framework resources held for this model."""
