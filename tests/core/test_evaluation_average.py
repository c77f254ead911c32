"""Averaging evaluation results over cross-validation folds: mean ± sample std, median ± scaled MAD, templates."""

from __future__ import annotations

import re

import numpy as np
import pytest

from optima_core.evaluation import MAD_SCALE, average_results, format_with_spread, placeholder_count

TEMPLATE = "Loss:\n  training: {}\n  validation: {}\nROC AUC {{one-vs-rest}}:\n  Signal: {}"
FOLDS = [[0.512, 0.55, 0.81], [0.498, 0.57, 0.83], [0.505, 0.53, 0.79], [0.520, 0.61, 0.84], [0.490, 0.56, 0.80]]
NUMBER = r"([-+0-9.]+) ± ([0-9.]+)"


def parsed(text: str) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in re.findall(NUMBER, text)]


def test_mean_and_std_match_numpy() -> None:
    text = average_results([(TEMPLATE, values) for values in FOLDS], use_median=False)
    assert text.startswith("Loss:\n  training: ") and "ROC AUC {one-vs-rest}:" in text
    columns = np.array(FOLDS).T
    results = parsed(text)
    assert len(results) == 3
    for (mean, std), column in zip(results, columns, strict=True):
        assert std == pytest.approx(np.std(column, ddof=1), rel=0.05)  # 2 significant digits, sample std
        assert mean == pytest.approx(np.mean(column), abs=std / 10)
        assert std > 0


def test_median_and_scaled_mad_match_numpy() -> None:
    text = average_results([(TEMPLATE, values) for values in FOLDS], use_median=True)
    for (median, mad), column in zip(parsed(text), np.array(FOLDS).T, strict=True):
        expected_mad = MAD_SCALE * np.median(np.abs(column - np.median(column)))
        assert mad == pytest.approx(expected_mad, rel=0.05)
        assert median == pytest.approx(np.median(column), abs=mad / 10)
    assert abs(MAD_SCALE - 1.4826) < 1e-12


def test_mismatched_templates_and_value_counts_raise() -> None:
    with pytest.raises(ValueError, match="fold 1 differs"):
        average_results([(TEMPLATE, FOLDS[0]), (TEMPLATE.replace("Signal", "Higgs"), FOLDS[1])], use_median=False)
    with pytest.raises(ValueError, match="2 values for 3 placeholders"):
        average_results([(TEMPLATE, FOLDS[0]), (TEMPLATE, FOLDS[1][:2])], use_median=False)
    with pytest.raises(ValueError, match="at least one fold"):
        average_results([], use_median=True)


def test_significant_digits_and_special_values() -> None:
    assert format_with_spread(0.693147, 0.001234) == "0.6931 ± 0.0012"
    assert format_with_spread(123.456, 7.89) == "123.5 ± 7.9"
    assert format_with_spread(12345.6, 789.0) == "12346 ± 789"
    assert format_with_spread(1.234e-5, 5.6e-7) == "(1.234 ± 0.056)e-05"
    assert format_with_spread(0.5, 0.0) == "0.5 ± 0"
    assert format_with_spread(float("nan"), float("nan")) == "nan ± nan"
    single = average_results([(TEMPLATE, FOLDS[0])], use_median=False)
    assert single == "Loss:\n  training: 0.512 ± 0\n  validation: 0.55 ± 0\nROC AUC {one-vs-rest}:\n  Signal: 0.81 ± 0"


def test_booleans_and_format_specs() -> None:
    template = "Overtrained: {}\nAUC: {:.3f}"
    assert placeholder_count(template) == 2
    text = average_results([(template, [True, 0.8]), (template, [False, 0.9]), (template, [True, 0.7])], False)
    fraction, spread = parsed(text)[0]
    assert fraction == pytest.approx(2 / 3, abs=0.01) and spread == pytest.approx(np.std([1, 0, 1], ddof=1), rel=0.05)
    assert text.endswith("AUC: 0.80 ± 0.10")
