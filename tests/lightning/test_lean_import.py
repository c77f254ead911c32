"""Lightning imported without ``torch._dynamo`` and ``scipy.signal``, with every behaviour they give it kept.

Each check runs in a fresh interpreter (the modules in question are loaded once per process), importing the plugin
first as a run does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

pytestmark = pytest.mark.lightning


def _run(code: str, **environment: str) -> Any:
    """Run ``code`` in a new interpreter; it prints one JSON value as its last line, which is returned."""
    env = {**os.environ, **environment}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


_LOADED = """
    import json, sys
    import optima_lightning.plugin
    import lightning.pytorch, pytorch_lightning, torchmetrics
    print(json.dumps({name: name in sys.modules for name in ("torch._dynamo", "scipy.signal", "sympy")}))
"""


def test_lightning_imports_without_dynamo_and_scipy_signal() -> None:
    assert _run(_LOADED) == {"torch._dynamo": False, "scipy.signal": False, "sympy": False}


def test_switched_off_imports_them_as_lightning_does() -> None:
    assert _run(_LOADED, OPTIMA_LEAN_IMPORTS="0") == {"torch._dynamo": True, "scipy.signal": True, "sympy": True}


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
        before = [_unwrap_compiled(model)[0] is model, "torch._dynamo" in sys.modules]
        compiled = torch.compile(model, backend="eager")
        after = [to_uncompiled(compiled) is model, _unwrap_compiled(compiled)[0] is model,
                 isinstance(from_compiled(compiled), Model)]
        print(json.dumps(before + after))
        """
    )
    assert result == [True, False, True, True, True]


def test_training_logs_through_the_methods_lightning_keeps_out_of_compilation() -> None:
    """``_ResultCollection`` methods are wrapped by the stand-in ``disable``; a fit logs through them, before and
    after the optimizer loads ``torch._dynamo``."""
    result = _run(
        """
        import json, sys
        import optima_lightning.plugin
        import torch
        import lightning.pytorch as pl

        class Model(pl.LightningModule):
            def __init__(self):
                super().__init__()
                self.layer = torch.nn.Linear(3, 1)

            def training_step(self, batch, batch_idx):
                loss = self.layer(batch[0]).pow(2).mean()
                self.log("train_loss", loss, on_epoch=True)
                return loss

            def configure_optimizers(self):
                return torch.optim.SGD(self.parameters(), lr=0.1)

        torch.manual_seed(0)
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(64, 3)), batch_size=16)
        trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                             enable_model_summary=False)
        trainer.fit(Model(), loader)
        print(json.dumps([sorted(trainer.callback_metrics), "torch._dynamo" in sys.modules]))
        """
    )
    assert result == [["train_loss", "train_loss_epoch", "train_loss_step"], True]


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
                          "torch._dynamo" in sys.modules, "scipy.signal" in sys.modules]))
        """
    )
    assert result == ["LitModel", True, False, False]
