"""The Trainer every trial trains under (``optima_lightning.backend.trainer_arguments``), with its cheap profiler.

The profiler must stay a drop-in for Lightning's default (records nothing, is a ``PassThroughProfiler``) while
every hook of a user's module and callbacks still runs, once per step as before.
"""

from __future__ import annotations

import collections
import contextlib

import pytest

lightning = pytest.importorskip("lightning")
torch = pytest.importorskip("torch")

from lightning.pytorch.profilers import PassThroughProfiler  # noqa: E402

from optima_lightning.backend import trainer_arguments  # noqa: E402

pytestmark = [pytest.mark.lightning, pytest.mark.filterwarnings("ignore:.*does not have many workers:UserWarning")]

STEPS = 7
PER_STEP_HOOKS = (
    "on_train_batch_start",
    "on_before_backward",
    "on_after_backward",
    "on_before_optimizer_step",
    "on_before_zero_grad",
    "on_train_batch_end",
)


class Line(lightning.LightningModule):
    """A user module written from scratch: one weight fitted to ``y = 2 x``."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.module_hooks: collections.Counter[str] = collections.Counter()

    def training_step(self, batch, batch_idx):
        x, y = batch
        return ((self.weight * x - y) ** 2).mean()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def on_train_batch_start(self, batch, batch_idx):
        self.module_hooks["on_train_batch_start"] += 1

    def on_train_batch_end(self, outputs, batch, batch_idx):
        self.module_hooks["on_train_batch_end"] += 1


class HookCounter(lightning.Callback):
    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()

    def on_train_batch_start(self, *args) -> None:
        self.calls["on_train_batch_start"] += 1

    def on_before_backward(self, *args) -> None:
        self.calls["on_before_backward"] += 1

    def on_after_backward(self, *args) -> None:
        self.calls["on_after_backward"] += 1

    def on_before_optimizer_step(self, *args) -> None:
        self.calls["on_before_optimizer_step"] += 1

    def on_before_zero_grad(self, *args) -> None:
        self.calls["on_before_zero_grad"] += 1

    def on_train_batch_end(self, *args) -> None:
        self.calls["on_train_batch_end"] += 1


def batches() -> torch.utils.data.DataLoader:
    x = torch.linspace(-1, 1, 8 * STEPS)
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, 2 * x), batch_size=8)


def test_the_profiler_records_nothing_and_stays_a_drop_in_for_the_default() -> None:
    profiler = trainer_arguments(1)["profiler"]
    assert isinstance(profiler, PassThroughProfiler)
    context = profiler.profile("[LightningModule]Line.training_step")
    assert isinstance(context, contextlib.nullcontext)
    with context as entered:
        assert entered is None
    assert profiler.profile("another action") is context  # one shared no-op, nothing allocated per hook
    assert profiler.summary() == ""


def test_every_hook_still_runs_once_per_step_under_the_trials_trainer() -> None:
    model, counter = Line(), HookCounter()
    trainer = lightning.Trainer(**trainer_arguments(3, callbacks=[counter], limit_val_batches=0))
    trainer.fit(model, train_dataloaders=batches())
    assert trainer.state.finished and trainer.current_epoch == 3
    assert counter.calls == {hook: 3 * STEPS for hook in PER_STEP_HOOKS}
    assert model.module_hooks == {"on_train_batch_start": 3 * STEPS, "on_train_batch_end": 3 * STEPS}
    assert 1.0 < model.weight.item() < 2.0  # trained from 0 towards the slope 2


def test_the_arguments_keep_lightnings_own_output_off_and_take_extras() -> None:
    arguments = trainer_arguments(5, use_gpu=True, default_root_dir="/somewhere")
    assert arguments["max_epochs"] == 5 and arguments["accelerator"] == "gpu" and arguments["devices"] == 1
    assert arguments["default_root_dir"] == "/somewhere"
    assert arguments["logger"] is False and arguments["enable_progress_bar"] is False
    assert arguments["enable_checkpointing"] is False and arguments["num_sanity_val_steps"] == 0
