"""The default Lightning data stack: whole batches sliced from in-memory tensors, no per-sample indexing.

A ``torch.utils.data.DataLoader`` over a ``TensorDataset`` fetches every event separately and collates them,
which costs more than the forward pass of a small MLP. :class:`TensorBatches` instead slices whole batches out
of tensors that share memory with the arrays in Ray's object store (no copy per trial). Batches are
``(inputs, targets, weights)`` or ``(inputs, targets)`` when the dataset has no weights. A last batch of a
single event is merged into the one before it (BatchNorm cannot train on one event); with a run-config
``LightningDataset`` and the built-in ``DataLoader``, that single event is dropped from the training epoch instead.

Run-config overrides follow the reference: a ``LightningDataset`` class builds the torch dataset from
``(dataset, model_config)``, a ``DataLoader`` class wraps it as ``DataLoader(dataset, model_config)``, and a
``DataModule`` class replaces all of this.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sized
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch

#: Batch size of the built-in loaders for validation, testing and prediction (one forward pass per 64k events).
EVALUATION_BATCH_SIZE = 65536


def as_tensor(array: Any) -> torch.Tensor:
    """A float32/int64 tensor sharing memory with ``array`` where possible (read-only arrays are never written)."""
    array = np.asarray(array)
    if array.dtype == np.float64:
        array = array.astype(np.float32)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(array)


def tensors_of(data: Mapping[str, Any]) -> tuple[torch.Tensor, ...]:
    """``(inputs, targets[, weights])`` tensors of an event dataset (columns Input, Target, Weight)."""
    tensors = [as_tensor(data["Input"]), as_tensor(data["Target"])]
    if "Weight" in data:
        tensors.append(as_tensor(data["Weight"]).reshape(-1))
    return tuple(tensors)


class TensorBatches:
    """An iterable of batches sliced from tensors; reshuffled every epoch with its own seeded generator."""

    def __init__(self, tensors: tuple[torch.Tensor, ...], batch_size: int, shuffle: bool, seed: int = 0) -> None:
        self.tensors = tensors
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def bounds(self) -> list[tuple[int, int]]:
        """``(start, stop)`` of every batch; a last batch of one event is merged into the one before it."""
        n = len(self.tensors[0])
        starts = list(range(0, n, self.batch_size))
        if len(starts) > 1 and n - starts[-1] == 1:
            starts.pop()
        return [(start, stop) for start, stop in zip(starts, [*starts[1:], n], strict=True)]

    def __len__(self) -> int:
        return len(self.bounds())

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        if self.shuffle:
            order = torch.randperm(len(self.tensors[0]), generator=self.generator)
            for start, stop in self.bounds():
                yield tuple(t[order[start:stop]] for t in self.tensors)
        else:
            for start, stop in self.bounds():
                yield tuple(t[start:stop] for t in self.tensors)


class DefaultDataModule(pl.LightningDataModule):
    """Serves the train/val/test/predict splits, through run-config LightningDataset/DataLoader classes if given."""

    def __init__(
        self,
        run_config: Any,
        model_config: dict[str, Any],
        input_handler: Any,
        dataset_train: Any = None,
        dataset_val: Any = None,
        dataset_test: Any = None,
        dataset_predict: Any = None,
        dataset_class: type | None = None,
        loader_class: type | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.run_config = run_config
        self.model_config = model_config
        self.input_handler = input_handler
        self.datasets = {"train": dataset_train, "val": dataset_val, "test": dataset_test, "predict": dataset_predict}
        self.dataset_class = dataset_class
        self.loader_class = loader_class
        self.seed = seed
        self._prepared: dict[str, Any] = {}

    def setup(self, stage: str | None = None) -> None:
        for split, dataset in self.datasets.items():
            if dataset is not None and split not in self._prepared:
                if self.dataset_class is not None:
                    self._prepared[split] = self.dataset_class(dataset, self.model_config)
                else:
                    self._prepared[split] = tensors_of(dataset)

    def loader(self, split: str, shuffle: bool = False) -> Any:
        """Batches of ``split``; ``shuffle`` only applies to the built-in tensor batching."""
        self.setup()
        if split not in self._prepared:
            raise ValueError(f"the data module has no '{split}' dataset")
        prepared = self._prepared[split]
        if self.loader_class is not None:
            return self.loader_class(prepared, self.model_config)
        batch_size = int(self.model_config["batch_size"])
        if self.dataset_class is not None:
            size = len(prepared) if isinstance(prepared, Sized) else 0  # an iterable dataset has no length
            single_last = size > batch_size and size % batch_size == 1
            return torch.utils.data.DataLoader(
                prepared, batch_size=batch_size, shuffle=shuffle, drop_last=shuffle and single_last
            )
        if split != "train" or not shuffle:  # evaluation and prediction need no small batches (weighted means)
            batch_size = max(batch_size, EVALUATION_BATCH_SIZE)
        return TensorBatches(prepared, batch_size, shuffle, seed=self.seed)

    def train_dataloader(self) -> Any:
        return self.loader("train", shuffle=True)

    def val_dataloader(self) -> Any:
        return self.loader("val")

    def test_dataloader(self) -> Any:
        return self.loader("test")

    def predict_dataloader(self) -> Any:
        return self.loader("predict")
