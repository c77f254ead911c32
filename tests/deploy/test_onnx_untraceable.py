"""A run-config model the ONNX exporters cannot capture: the run succeeds and says why there is no bundle."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_optima, write_run_config
from engine_helpers import BACKENDS

pytestmark = [pytest.mark.slow, pytest.mark.overlap, pytest.mark.lightning]

#: The built-in MLP, but predicting event by event in a Python loop: TorchScript's tracer unrolls the loop for the
#: tracing batch (the check against the model's predictions on more events catches that), and torch.export cannot
#: follow a loop over the (dynamic) batch axis.
EVENT_BY_EVENT_MODEL = """
import torch
from optima_lightning.mlp import LitModel as BuiltinMLP

class LitModel(BuiltinMLP):
    def forward(self, inputs):
        return torch.cat([super(LitModel, self).forward(row[None, :]) for row in inputs])
"""


def test_an_untraceable_model_gives_a_clear_message_and_the_run_succeeds(tmp_path: Path, events_path: Path) -> None:
    for module in (*BACKENDS["Lightning"].frameworks, "onnxruntime", "onnxscript"):
        pytest.importorskip(module)
    config = write_run_config(
        tmp_path,
        events_path,
        "Lightning",
        extra=EVENT_BY_EVENT_MODEL,
        crossvalidation_for_fixed_hps=False,
        max_epochs=1,
    )
    result = run_optima("run", str(config))
    assert result.exit_code == 0, result.output
    (models,) = list((tmp_path / "out").glob("*/models"))
    assert (models / "model.ckpt").is_file() and (models / "evaluation.json").is_file()
    assert not (models / "onnx").exists()
    (line,) = [line for line in result.output.splitlines() if "ONNX" in line]
    assert "[fixed] ONNX export skipped: the model LitModel (model.ckpt) cannot be exported to ONNX: " in line, line
    assert "torch.onnx (TorchScript): ValueError: the exported graph does not run on 512 held-out events" in line, line
