"""Lightning's per-batch signature check, answered once per function (``optima_lightning.hook_signatures``).

The remembered check must give Lightning's own answer for every kind of hook (with and without ``batch_idx``, any
name for it, ``*args``, decorated, bound and unbound), ask Lightning only once per function and question, and leave
unhashable hooks to the original; training under the trials' Trainer must still hand ``batch_idx`` to the steps
that take it and not to those that do not.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

lightning = pytest.importorskip("lightning")
torch = pytest.importorskip("torch")

from lightning.pytorch.loops import evaluation_loop, training_epoch_loop  # noqa: E402
from lightning.pytorch.utilities import signature_utils  # noqa: E402

from optima_lightning import hook_signatures  # noqa: E402
from optima_lightning.backend import trainer_arguments  # noqa: E402

pytestmark = [pytest.mark.lightning, pytest.mark.filterwarnings("ignore:.*does not have many workers:UserWarning")]


def wrapped(function: Any) -> Any:
    """A decorator that keeps ``__wrapped__``, as ``functools.wraps`` sets it."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    return wrapper


class Hooks:
    def with_index(self, batch: Any, batch_idx: int) -> None: ...
    def with_other_name(self, batch: Any, index: int) -> None: ...
    def batch_only(self, batch: Any) -> None: ...
    def star_args(self, *args: Any) -> None: ...
    def keyword_only(self, batch: Any, *, batch_idx: int = 0) -> None: ...
    @wrapped
    def decorated(self, batch: Any) -> None: ...
    @wrapped
    def decorated_with_index(self, batch: Any, batch_idx: int = 0) -> None: ...


QUESTIONS = [
    {"param": "batch_idx", "min_args": 2},
    {"param": "batch_idx"},
    {"param": "batch_idx", "explicit": True},
    {"param": "dataloader_iter", "explicit": True},
]
HOOK_NAMES = ["with_index", "with_other_name", "batch_only", "star_args", "keyword_only", "decorated"]
HOOK_NAMES += ["decorated_with_index"]


@pytest.mark.parametrize("name", HOOK_NAMES)
@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: "-".join(map(str, q.values())))
def test_the_remembered_answer_is_lightnings_own(name: str, question: dict[str, Any]) -> None:
    original = signature_utils.is_param_in_hook_signature
    remembered = hook_signatures.remembering(original)
    for hook in (getattr(Hooks(), name), getattr(Hooks, name)):
        expected = original(hook, **question)
        assert remembered(hook, **question) is expected
        assert remembered(hook, **question) is expected  # from memory the second time


def test_lightning_is_asked_once_per_function_and_question() -> None:
    asked: list[tuple[str, str]] = []

    def check(hook_fx: Any, param: str, explicit: bool = False, min_args: int | None = None) -> bool:
        asked.append((hook_fx.__name__, param))
        return signature_utils.is_param_in_hook_signature(hook_fx, param, explicit=explicit, min_args=min_args)

    remembered = hook_signatures.remembering(check)
    for _ in range(50):  # a new bound method per step, as Lightning's getattr(model, "training_step") gives
        assert remembered(Hooks().with_index, "batch_idx", min_args=2) is True
        assert remembered(Hooks().batch_only, "batch_idx", min_args=2) is False
    remembered(Hooks().with_index, "dataloader_iter", explicit=True)
    assert asked == [("with_index", "batch_idx"), ("batch_only", "batch_idx"), ("with_index", "dataloader_iter")]


def test_an_unhashable_hook_is_checked_every_time() -> None:
    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

        def __call__(self, batch: Any, batch_idx: int) -> None: ...

    calls = []

    def check(hook_fx: Any, param: str, explicit: bool = False, min_args: int | None = None) -> bool:
        calls.append(hook_fx)
        return True

    remembered = hook_signatures.remembering(check)
    hook = Unhashable()
    assert remembered(hook, "batch_idx", min_args=2) and remembered(hook, "batch_idx", min_args=2)
    assert calls == [hook, hook]


def test_the_trials_trainer_arguments_put_it_into_both_loops_once() -> None:
    trainer_arguments(1)
    trainer_arguments(1)
    for module in (training_epoch_loop, evaluation_loop):
        check = module.is_param_in_hook_signature
        assert check.remembers is signature_utils.is_param_in_hook_signature  # wrapped once, not twice


class Steps(lightning.LightningModule):
    """A user module from scratch whose steps record what Lightning passes them."""

    def __init__(self, with_index: bool) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.received: list[tuple[str, int]] = []
        if not with_index:
            self.training_step = self.training_step_without_index  # type: ignore[method-assign]
            self.validation_step = self.validation_step_without_index  # type: ignore[method-assign]

    def loss(self, batch: Any) -> Any:
        x, y = batch
        return ((self.weight * x - y) ** 2).mean()

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        self.received.append(("train", batch_idx))
        return self.loss(batch)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self.received.append(("val", batch_idx))

    def training_step_without_index(self, batch: Any) -> Any:
        self.received.append(("train", -1))
        return self.loss(batch)

    def validation_step_without_index(self, batch: Any) -> None:
        self.received.append(("val", -1))

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD(self.parameters(), lr=0.1)


@pytest.mark.parametrize("with_index", [True, False])
def test_steps_get_batch_idx_exactly_when_they_take_it(with_index: bool) -> None:
    x = torch.linspace(-1, 1, 12)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, 2 * x), batch_size=4)
    model = Steps(with_index)
    trainer = lightning.Trainer(**trainer_arguments(2))
    trainer.fit(model, train_dataloaders=loader, val_dataloaders=loader)
    expected_index = [0, 1, 2] if with_index else [-1, -1, -1]
    per_epoch = [("train", i) for i in expected_index] + [("val", i) for i in expected_index]
    assert model.received == per_epoch * 2
