"""Lightning imported and trained without ``torch._dynamo``, ``scipy.signal`` and matplotlib, every behaviour kept.

Each check runs in a fresh interpreter (the modules in question are loaded once per process), importing the plugin
first as a run does. ``REAL`` is the expression "the real module of that name is loaded" (a stand-in does not count).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

pytestmark = pytest.mark.lightning

#: For the checks that Lightning and a fit leave ``torch._dynamo`` out: torchvision, which Lightning imports where
#: it is installed, imports ``torch._dynamo`` itself (the real package then replaces the stand-in, as it should).
without_torchvision = pytest.mark.skipif(
    importlib.util.find_spec("torchvision") is not None, reason="torchvision is installed and imports torch._dynamo"
)


def _run(code: str, **environment: str) -> Any:
    """Run ``code`` in a new interpreter; it prints one JSON value as its last line, which is returned."""
    env = {**os.environ, **environment}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


REAL = "(type(sys.modules.get(name)).__name__ == 'module')"

_LOADED = f"""
    import json, sys
    import optima_lightning.plugin
    import lightning.pytorch, pytorch_lightning, torchmetrics
    print(json.dumps({{name: {REAL} for name in ("torch._dynamo", "scipy.signal", "sympy", "matplotlib")}}))
"""


@without_torchvision
def test_lightning_imports_without_dynamo_and_scipy_signal() -> None:
    assert _run(_LOADED) == {"torch._dynamo": False, "scipy.signal": False, "sympy": False, "matplotlib": False}


def test_the_dynamo_stand_in_comes_with_torch() -> None:
    """A process that imports no torch (a Keras run loads every plugin) gets no ``torch._dynamo`` entry at all."""
    result = _run(
        """
        import json, sys
        import optima_lightning.plugin
        before = ["torch" in sys.modules, "torch._dynamo" in sys.modules]
        import torch
        print(json.dumps(before + [type(sys.modules["torch._dynamo"]).__name__]))
        """
    )
    assert result == [False, False, "_StandIn"]


def test_switched_off_imports_them_as_lightning_does() -> None:
    assert _run(_LOADED, OPTIMA_LEAN_IMPORTS="0") == {
        "torch._dynamo": True,
        "scipy.signal": True,
        "sympy": True,
        "matplotlib": True,
    }


def test_torchmetrics_plots_with_the_real_matplotlib_after_the_lean_import() -> None:
    """torchmetrics' plotting module was imported with stand-ins for matplotlib; its figures, type checks and style
    context are matplotlib's own once something plots."""
    result = _run(
        """
        import json, sys
        import optima_lightning.plugin
        import torch
        from torchmetrics.classification import BinaryAccuracy
        from torchmetrics.utilities import plot
        before = "matplotlib" in sys.modules
        import matplotlib
        matplotlib.use("Agg")
        matplotlib.rcParams["lines.linewidth"] = 7.0
        metric = BinaryAccuracy()
        metric.update(torch.tensor([0.2, 0.8, 0.6]), torch.tensor([0, 1, 0]))
        figure, axes = metric.plot()
        import matplotlib.axes, matplotlib.colors, matplotlib.figure, matplotlib.pyplot as plt
        with plot.style_change(["default"]):
            inside = matplotlib.rcParams["lines.linewidth"]
        print(json.dumps([
            before,
            all(type(sys.modules[name]).__name__ == "module" for name in
                ("matplotlib", "matplotlib.axes", "matplotlib.colors", "matplotlib.pyplot")),
            isinstance(figure, matplotlib.figure.Figure), isinstance(axes, matplotlib.axes.Axes),
            isinstance(axes, plot._AX_TYPE), isinstance(figure, plot._AX_TYPE),
            issubclass(matplotlib.colors.ListedColormap, plot._CMAP_TYPE.__args__[0]),
            plot.plt.subplots is plt.subplots, plot.matplotlib.axes.Axes is matplotlib.axes.Axes,
            inside, matplotlib.rcParams["lines.linewidth"],
        ]))
        """
    )
    assert result == [False, True, True, True, True, False, True, True, True, 1.5, 7.0]


def test_matplotlib_imported_before_lightning_is_left_as_it_is() -> None:
    result = _run(
        """
        import json, sys
        import matplotlib, matplotlib.pyplot as plt
        import optima_lightning.plugin
        import torchmetrics
        from torchmetrics.utilities import plot
        print(json.dumps([plot.plt is plt, plot._AX_TYPE is matplotlib.axes.Axes]))
        """
    )
    assert result == [True, True]


def test_scipy_signal_imported_later_is_the_real_module_with_torchmetrics_alias() -> None:
    result = _run(
        """
        import json
        import optima_lightning.plugin
        import torchmetrics
        import scipy.signal
        from optima_lightning.lean_import import _StandIn
        print(json.dumps([isinstance(scipy.signal, _StandIn), scipy.signal.hamming is scipy.signal.windows.hamming,
                          hasattr(scipy.signal, "butter")]))
        """
    )
    assert result == [False, True, True]


@without_torchvision
def test_compiled_modules_are_recognised_and_unwrapped() -> None:
    result = _run(
        """
        import json, sys
        import optima_lightning.plugin
        import torch
        import lightning.pytorch as pl
        from lightning.fabric.wrappers import _unwrap_compiled
        from lightning.pytorch.utilities.compile import from_compiled, to_uncompiled

        class Model(pl.LightningModule):
            def __init__(self):
                super().__init__()
                self.layer = torch.nn.Linear(3, 1)

            def forward(self, x):
                return self.layer(x)

        model = Model()
        before = [_unwrap_compiled(model)[0] is model, type(sys.modules["torch._dynamo"]).__name__ == "module"]
        compiled = torch.compile(model, backend="eager")
        after = [to_uncompiled(compiled) is model, _unwrap_compiled(compiled)[0] is model,
                 isinstance(from_compiled(compiled), Model)]
        print(json.dumps(before + after))
        """
    )
    assert result == [True, False, True, True, True]


@without_torchvision
@pytest.mark.parametrize("first", ["lightning", "torch"])
def test_the_dynamo_stand_in_stays_whichever_is_imported_first(first: str) -> None:
    """A trial worker imports its backend's frameworks in the descriptor's order, ``lightning`` first: torch is
    then imported inside Lightning's import, while the temporary stand-ins are in place. The stand-in must stay
    afterwards all the same, so that an optimizer's step does not load ``torch._dynamo`` (and sympy)."""
    result = _run(
        f"""
        import json, sys
        import optima_lightning.plugin
        import {first}
        import lightning, torch, torchmetrics
        name = "torch._dynamo"
        after_import = {REAL}
        model = torch.nn.Linear(3, 1)
        optimizer = torch.optim.Adam(model.parameters())
        model(torch.zeros(2, 3)).sum().backward()
        optimizer.step()
        print(json.dumps([after_import, name in sys.modules, {REAL}, "sympy" in sys.modules]))
        """
    )
    assert result == [False, True, False, False]


@without_torchvision
def test_training_runs_without_dynamo_and_compiles_afterwards() -> None:
    """A fit logs through the ``_ResultCollection`` methods Lightning wraps with ``disable`` and steps torch
    optimizers (their methods wrapped with ``disable``, ``graph_break`` in every step) without loading
    ``torch._dynamo``. A ``torch.compile`` afterwards loads it; an optimizer made before then steps through the real
    ``disable``, and another fit logs through the same methods as before."""
    result = _run(
        f"""
        import json, sys
        import optima_lightning.plugin
        import torch
        import lightning.pytorch as pl

        class Model(pl.LightningModule):
            def __init__(self, optimizer):
                super().__init__()
                self.layer = torch.nn.Linear(3, 1)
                self.optimizer = optimizer

            def forward(self, x):
                return self.layer(x)

            def training_step(self, batch, batch_idx):
                loss = self(batch[0]).pow(2).mean()
                self.log("train_loss", loss, on_epoch=True)
                return loss

            def configure_optimizers(self):
                return self.optimizer(self.parameters(), lr=0.1)

        def fit(model):
            torch.manual_seed(0)
            data = torch.utils.data.TensorDataset(torch.randn(64, 3))
            trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                                 enable_model_summary=False)
            trainer.fit(model, torch.utils.data.DataLoader(data, batch_size=16))
            return trainer

        def real(*names):
            return [{REAL} for name in names]

        sgd, adam = Model(torch.optim.SGD), Model(torch.optim.Adam)
        weights = adam.layer.weight.detach().clone()
        metrics = [sorted(fit(sgd).callback_metrics), sorted(fit(adam).callback_metrics)]
        trained = not torch.equal(weights, adam.layer.weight)
        eager = real("torch._dynamo", "sympy")
        layer = torch.nn.Linear(3, 1)
        optimizer = torch.optim.Adam(layer.parameters(), lr=0.1)  # its methods wrapped before the compilation
        before = layer.weight.detach().clone()
        torch.compile(layer, backend="eager")(torch.randn(8, 3)).pow(2).mean().backward()
        optimizer.step()
        stepped = not torch.equal(before, layer.weight)
        metrics.append(sorted(fit(Model(torch.optim.Adam)).callback_metrics))
        print(json.dumps([metrics, trained, eager, stepped, real("torch._dynamo")]))
        """
    )
    logged = ["train_loss", "train_loss_epoch", "train_loss_step"]
    assert result == [[logged, logged, logged], True, [False, False], True, [True]]


def test_submodules_of_dynamo_import_the_real_package_once() -> None:
    """Importing a submodule first (as the ONNX exporter does) replaces the stand-in by the real package; the
    submodule is the one the package loaded, with its own spec, and ``importlib.util.find_spec`` answers before."""
    result = _run(
        """
        import importlib.util, json, sys
        import optima_lightning.plugin
        import torch
        found = importlib.util.find_spec("torch._dynamo").origin.endswith("__init__.py")
        import torch._dynamo.config as config
        import torch._dynamo
        print(json.dumps([found, type(sys.modules["torch._dynamo"]).__name__, torch._dynamo.config is config,
                          sys.modules["torch._dynamo.config"] is config,
                          config.__spec__.origin.endswith("config.py"), type(config.__spec__.loader).__name__]))
        """
    )
    assert result == [True, "module", True, True, True, "SourceFileLoader"]


@without_torchvision
def test_a_run_config_importing_lightning_itself_gets_the_lean_import(tmp_path: Any) -> None:
    """The run-config is executed before the plugin manager exists: the plugins are imported first."""
    config = tmp_path / "run_config.py"
    config.write_text(
        textwrap.dedent(
            """
            import lightning.pytorch as pl
            import torch

            model_type = "Lightning"


            class LitModel(pl.LightningModule):
                def __init__(self, model_config, input_vars, metrics, weighted_metrics):
                    super().__init__()
                    self.layer = torch.nn.Linear(len(input_vars), 1)
            """
        )
    )
    result = _run(
        f"""
        import json, sys
        from optima_core.config.loader import load_run_config
        run_config = load_run_config({str(config)!r})
        print(json.dumps([run_config.LitModel.__name__, "lightning" in sys.modules,
                          *[{REAL} for name in ("torch._dynamo", "scipy.signal")]]))
        """
    )
    assert result == ["LitModel", True, False, False]
