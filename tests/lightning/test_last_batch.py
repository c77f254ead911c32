"""Issue 13, defect 8: a training set of size 1 (mod batch size) must train with BatchNorm (two hidden layers)."""

from __future__ import annotations

import types

import numpy as np
import pytest

lightning = pytest.importorskip("lightning")
torch = pytest.importorskip("torch")

from optima_core.builtin.input_handler import InputHandler  # noqa: E402
from optima_lightning.data import DefaultDataModule, TensorBatches  # noqa: E402
from optima_lightning.mlp import LitModel  # noqa: E402

pytestmark = [
    pytest.mark.lightning,
    pytest.mark.filterwarnings("ignore:.*does not have many workers:UserWarning"),
    pytest.mark.filterwarnings("ignore:You are trying to `self.log\\(\\)`:UserWarning"),
]

VARS = ["a", "b", "c"]
BATCH = 16
CONFIG = {"batch_size": BATCH, "num_layers": 2, "units": 8, "units_2": 4}


def events(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    generator = np.random.default_rng(seed)
    target = generator.integers(0, 2, size=(n, 1)).astype(np.float32)
    inputs = generator.normal(size=(n, len(VARS))).astype(np.float32) + target
    return {"Input": inputs, "Target": target, "Weight": np.ones(n, dtype=np.float32)}


class RunConfigDataset(torch.utils.data.Dataset):
    """A run-config ``LightningDataset`` in the reference's style: ``(dataset, model_config)``."""

    def __init__(self, dataset, model_config) -> None:
        self.x = torch.as_tensor(dataset["Input"])
        self.y = torch.as_tensor(dataset["Target"])

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index):
        return self.x[index], self.y[index]


def fit_one_epoch(n_train: int, dataset_class: type | None = None) -> LitModel:
    torch.manual_seed(0)
    handler = InputHandler(types.SimpleNamespace(input_vars=VARS, input_scaling={}))
    module = DefaultDataModule(
        None, CONFIG, handler, dataset_train=events(n_train), dataset_val=events(40, 1), dataset_class=dataset_class
    )
    module.setup("fit")
    model = LitModel(model_config=dict(CONFIG), input_vars=VARS, metrics=[], weighted_metrics=[])
    model.prepare(handler, module, True)
    trainer = lightning.Trainer(
        max_epochs=1,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    trainer.fit(model, datamodule=module)
    assert trainer.state.finished
    return model


@pytest.mark.parametrize("dataset_class", [None, RunConfigDataset], ids=["builtin", "run-config-dataset"])
def test_a_training_set_of_one_more_than_a_multiple_of_the_batch_size_trains(dataset_class) -> None:
    model = fit_one_epoch(5 * BATCH + 1, dataset_class)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_the_single_last_event_is_merged_into_the_previous_batch_and_every_event_is_used() -> None:
    n = 3 * BATCH + 1
    batches = TensorBatches((torch.arange(n),), BATCH, shuffle=True, seed=4)
    sizes = [len(b[0]) for b in batches]
    assert sizes == [BATCH, BATCH, BATCH + 1]
    assert len(batches) == 3
    assert sorted(torch.cat([b[0] for b in batches]).tolist()) == list(range(n))


@pytest.mark.parametrize(("n", "sizes"), [(2 * BATCH + 2, [BATCH, BATCH, 2]), (2 * BATCH, [BATCH, BATCH]), (1, [1])])
def test_other_last_batches_are_kept_as_they_are(n: int, sizes: list[int]) -> None:
    batches = TensorBatches((torch.arange(n),), BATCH, shuffle=False)
    assert [len(b[0]) for b in batches] == sizes
