"""``apply(models_json, dataframe)``: the outputs of an ONNX bundle for every event, with onnxruntime only.

Each event is evaluated by the fold model that held it out in the run (``models.json``'s ``applies_to``; see
:mod:`optima_core.deploy.assignment`); an event no model is assigned to gets the mean of all models' outputs.
The dataframe holds the raw input variables (unscaled: the scaling and normalisation are inside the graphs) and
the event-number column; a pandas DataFrame with the original's column group ``features`` works too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from optima_core.deploy.assignment import fold_per_event
from optima_core.deploy.bundle import read_bundle
from optima_core.errors import OptimaUserError


def _columns(frame: Any) -> Any:
    columns: Any = getattr(frame, "columns", None)
    if getattr(columns, "nlevels", 1) > 1 and "features" in columns.get_level_values(0):
        return frame["features"]
    return frame


def _column(frame: Any, name: str, what: str, path: Path) -> np.ndarray:
    try:
        return np.asarray(frame[name])
    except (KeyError, IndexError, ValueError) as error:
        available = list(getattr(frame, "columns", getattr(frame, "keys", lambda: [])()))[:20]
        raise OptimaUserError(
            f"the data given to the ONNX bundle {path} have no column {name!r} ({what}); columns: {available}"
        ) from error


def _session(path: Path) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _run(session: Any, inputs: np.ndarray) -> np.ndarray:
    name = session.get_inputs()[0].name
    return np.asarray(session.run(None, {name: inputs})[0])


def apply(models_json: str | Path, dataframe: Any, *, event_numbers: Any = None) -> np.ndarray:
    """Outputs ``[events, outputs]`` of the bundle ``models_json`` (the file or its folder) for every row.

    ``event_numbers`` replaces the dataframe's event-number column (``models.json``'s ``event_number_column``).
    Needs onnxruntime (``pip install onnxruntime``), not the framework the models were trained with.
    """
    try:
        import onnxruntime  # noqa: F401 - fail early with an install hint
    except ImportError as error:
        raise OptimaUserError("optima_core.deploy.apply needs onnxruntime: pip install onnxruntime") from error
    bundle = read_bundle(models_json)
    frame = _columns(dataframe)
    path = bundle.folder
    inputs = np.stack([_column(frame, str(v), "an input variable", path) for v in bundle.input_vars], axis=1)
    inputs = np.ascontiguousarray(inputs, dtype=np.float32)
    if event_numbers is None:
        column = bundle.content["event_number_column"]
        needed = len(bundle.models) > 1 and bundle.assignment.get("kind") != "all"
        event_numbers = _column(frame, column, "the event numbers", path) if needed else np.zeros(len(inputs))
    event_numbers = np.asarray(event_numbers).astype(np.int64).reshape(-1)
    if len(event_numbers) != len(inputs):
        raise OptimaUserError(
            f"{len(event_numbers)} event numbers for {len(inputs)} events given to the ONNX bundle {path}"
        )
    sessions = [_session(path / model["file"]) for model in bundle.models]
    which = fold_per_event(path, bundle.content, event_numbers)
    outputs: np.ndarray | None = None
    for index, session in enumerate(sessions):
        rows = np.flatnonzero(which == index)
        if len(rows):
            part = _run(session, inputs[rows])
            outputs = np.zeros((len(inputs), *part.shape[1:]), np.float32) if outputs is None else outputs
            outputs[rows] = part
    rest = np.flatnonzero(which < 0)
    if len(rest):
        mean = np.mean([_run(session, inputs[rest]) for session in sessions], axis=0)
        outputs = np.zeros((len(inputs), *mean.shape[1:]), np.float32) if outputs is None else outputs
        outputs[rest] = mean
    if outputs is None:  # no events
        return _run(sessions[0], inputs)
    return outputs
