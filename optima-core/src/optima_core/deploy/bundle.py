"""``models.json``: what an ONNX bundle of fold models holds, and how to read it back.

::

    {"input_vars": ["pt", "eta", ...],          # the raw input variables, in the order of the ONNX input's columns
     "input_name": "inputs", "output_names": ["outputs"],   # the graph's tensor names (float32 [events, ...])
     "output_columns": ["Signal"],              # what each output column is (evaluation_class_labels)
     "k": 3,                                    # number of fold models
     "models": [{"file": "model_fold0.onnx", "fold": 0, "applies_to": "(EventNumber + 1) % 3 == 0",
                 "condition": {"n": 3, "offset": 1}}, ...],
     "event_number_column": "EventNumber",
     "applies_to": "(EventNumber + 1 + fold) % 3 == 0",    # the rule, in words, as the run split the events
     "assignment": {"kind": "event_number" | "table" | "all", "table": "event_folds.npz", "otherwise": "mean"},
     "opset": 18, "optima_version": "0.1.0", "exporter": "torch.onnx (dynamo)", "label": "best_value"}

``assignment.kind``: ``event_number``: the model whose ``condition`` ``(EventNumber + offset) % n == 0`` holds;
``table``: the fold listed for the event number in ``table`` (``event_number``/``fold`` arrays); ``all``: no rule.
An event no model is assigned to gets the mean of all models' outputs (``otherwise``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optima_core.errors import OptimaUserError

MODELS_FILE = "models.json"
ONNX_FOLDER = "onnx"
INPUT_NAME = "inputs"
OUTPUT_NAME = "outputs"
#: The ONNX opset of the exported graphs (torch's dynamo exporter and tf2onnx both support it).
OPSET = 18


@dataclass(frozen=True)
class Bundle:
    """A ``models.json`` read back, with the folder its files are in."""

    folder: Path
    content: dict[str, Any]

    @property
    def input_vars(self) -> list[str]:
        return list(self.content["input_vars"])

    @property
    def models(self) -> list[dict[str, Any]]:
        return list(self.content["models"])

    @property
    def assignment(self) -> dict[str, Any]:
        return dict(self.content.get("assignment") or {"kind": "all", "otherwise": "mean"})


def read_bundle(path: str | Path) -> Bundle:
    """The bundle of ``path`` (a ``models.json`` or the folder holding it); clear errors for anything missing."""
    path = Path(path)
    if path.is_dir():
        path = path / MODELS_FILE
    if not path.is_file():
        raise OptimaUserError(f"the ONNX bundle '{path}' does not exist: expected a models.json written by OPTIMA")
    try:
        content = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise OptimaUserError(f"the ONNX bundle '{path}' cannot be read: {error}") from error
    missing = [key for key in ("input_vars", "models", "event_number_column") if key not in content]
    if missing:
        raise OptimaUserError(f"the ONNX bundle '{path}' has no {', '.join(missing)}: expected a models.json of OPTIMA")
    for model in content["models"]:
        if not (path.parent / model["file"]).is_file():
            raise OptimaUserError(f"the ONNX bundle '{path}' names {model['file']}, which is not in {path.parent}")
    return Bundle(path.parent, content)


def write_bundle(folder: Path, content: dict[str, Any]) -> Path:
    """Write ``models.json`` into ``folder``; returns its path."""
    path = folder / MODELS_FILE
    path.write_text(json.dumps(content, indent=2, default=str) + "\n")
    return path
