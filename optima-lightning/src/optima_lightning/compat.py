"""The Lightning names of the original's ``OPTIMA.lightning.inputs`` (imported from there, see :mod:`OPTIMA`).

* :class:`LightningDataset` -- tensors held in memory, served as whole batches: item ``i`` is batch ``i``, so wrap
  it in a ``DataLoader`` with ``batch_size=None``. Unlike the original, the last partial batch is kept (a last
  batch of one event joins the one before it: BatchNorm cannot train on one event), so predictions cover every event.
* :class:`DefaultDataModule` -- the built-in data module with the original's constructor; like the original it
  builds its datasets and loaders with the run-config's ``LightningDataset`` and ``DataLoader`` classes when the
  run-config defines them, so a run-config ``DataModule`` can subclass it.
"""

from __future__ import annotations

from typing import Any

import torch

from optima_lightning import data


class LightningDataset(torch.utils.data.Dataset):
    """Batches sliced from in-memory ``inputs``, ``targets`` and optional ``weights`` (tensors or arrays)."""

    def __init__(self, inputs: Any, targets: Any, weights: Any = None, batch_size: int = 1) -> None:
        if int(batch_size) < 1:
            from optima_core.errors import OptimaUserError

            raise OptimaUserError(f"LightningDataset: batch_size = {batch_size!r}: expected an integer >= 1")
        tensors = [data.as_tensor(inputs), data.as_tensor(targets)]
        if weights is not None:
            tensors.append(data.as_tensor(weights).reshape(-1))
        self.inputs, self.targets = tensors[0], tensors[1]
        self.weights = tensors[2] if weights is not None else None
        self.batch_size = int(batch_size)
        self._batches = data.TensorBatches(tuple(tensors), self.batch_size, shuffle=False)
        self._bounds = self._batches.bounds()

    def __len__(self) -> int:
        return len(self._bounds)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        start, stop = self._bounds[index]
        return tuple(t[start:stop] for t in self._batches.tensors)


def _defined_in_run_config(run_config: Any, name: str) -> type | None:
    """The class ``name`` the run-config module itself defines (an imported one does not count, as for hooks)."""
    module = getattr(run_config, "module", None) or run_config
    value = getattr(module, name, None)
    if isinstance(value, type) and value.__module__ == getattr(module, "__name__", None):
        return value
    return None


class DefaultDataModule(data.DefaultDataModule):
    """The built-in data module, constructed as the original documents."""

    def __init__(
        self,
        run_config: Any,
        model_config: dict[str, Any],
        input_handler: Any = None,
        dataset_train: Any = None,
        dataset_val: Any = None,
        dataset_test: Any = None,
        dataset_predict: Any = None,
    ) -> None:
        seed = getattr(run_config, "random_seed", 0)
        super().__init__(
            run_config,
            model_config,
            input_handler,
            dataset_train=dataset_train,
            dataset_val=dataset_val,
            dataset_test=dataset_test,
            dataset_predict=dataset_predict,
            dataset_class=_defined_in_run_config(run_config, "LightningDataset"),
            loader_class=_defined_in_run_config(run_config, "DataLoader"),
            seed=int(seed) if isinstance(seed, int) else 0,
        )
