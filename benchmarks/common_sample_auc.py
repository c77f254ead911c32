"""Test ROC AUC of a cross-validation's fold models on one common, independent sample, in either tool's venv.

Each tool reports the test AUC on its own test split, and the two tools split the same events differently: with 4,000
test events the AUC's sampling error (about 0.002 at AUC 0.975) is larger than the differences between good models.
``vs_original.py`` therefore also scores both tools' best-value fold models on the same fresh events (the benchmark's
generator, another seed: events neither tool trained, validated or tested on), with the same AUC definition:
weighted by ``Weight``, events with negative weights left out (as both tools' evaluations do). The value is the mean
over the fold models, as both tools average their folds.

Runs under the original's venv (numpy 1, TensorFlow 2.15, its ``.keras`` files with its custom layers) and under
ours (numpy 2, the ONNX bundle through onnxruntime), so it needs only numpy besides the model loader; the AUC is
computed here rather than taken from either tool.

    python benchmarks/common_sample_auc.py --sample fresh.npz --original-keras 'results/best_value/*.keras'
    python benchmarks/common_sample_auc.py --sample fresh.npz --onnx 'crossvalidation/best_value/onnx/*.onnx'

Prints one JSON line: ``{"aucs": [per model], "mean": ...}``.
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
from collections.abc import Callable
from typing import Any

import numpy as np


def weighted_roc_auc(targets: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> float:
    """Area under the weighted ROC curve (1 = signal); negative weights dropped; tied scores form one step."""
    keep = weights >= 0
    targets, scores, weights = targets[keep], scores[keep], weights[keep]
    order = np.argsort(-scores, kind="mergesort")
    targets, scores, weights = targets[order], scores[order], weights[order]
    true_positive = np.cumsum(weights * (targets == 1))
    false_positive = np.cumsum(weights * (targets != 1))
    step_end = np.r_[np.diff(scores) != 0, True]
    tpr = np.r_[0.0, true_positive[step_end]] / true_positive[-1]
    fpr = np.r_[0.0, false_positive[step_end]] / false_positive[-1]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def original_keras_predictor(path: str) -> Callable[[np.ndarray], np.ndarray]:
    """A fold model of the original (Keras 2 ``.keras`` with its own layers, e.g. the non-linear normalisation)."""
    import tensorflow as tf
    from OPTIMA.keras import tools

    custom = {name: value for name, value in vars(tools).items() if isinstance(value, type)}
    model = tf.keras.models.load_model(path, custom_objects=custom, compile=False)
    return lambda inputs: np.asarray(model.predict(inputs, batch_size=4096, verbose=0))


def onnx_predictor(path: str) -> Callable[[np.ndarray], np.ndarray]:
    """A model of OPTIMA's ONNX bundle: raw input variables in, class probabilities out."""
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda inputs: np.asarray(session.run(None, {name: inputs})[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", required=True, help="npz with Input, target, Weight (make_original_dataset --npz)")
    kind = parser.add_mutually_exclusive_group(required=True)
    kind.add_argument("--original-keras", metavar="GLOB", help="the original's fold models")
    kind.add_argument("--onnx", metavar="GLOB", help="OPTIMA's ONNX fold models")
    args = parser.parse_args()
    pattern = args.original_keras or args.onnx
    paths = sorted(glob.glob(pattern))
    if not paths:
        print(f"no model matches {pattern}", file=sys.stderr)
        return 1
    load: Callable[[str], Any] = original_keras_predictor if args.original_keras else onnx_predictor
    sample = np.load(args.sample)
    inputs = sample["Input"].astype(np.float32)
    aucs = []
    for path in paths:
        scores = load(path)(inputs).reshape(len(inputs), -1)[:, 0]
        aucs.append(weighted_roc_auc(sample["target"], scores, sample["Weight"]))
    print(json.dumps({"aucs": aucs, "mean": float(np.mean(aucs))}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
