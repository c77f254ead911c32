"""Every run-config parameter: name, default, section, what it accepts, and a one-line description.

This table is the single source of truth for defaults (``optima check`` prints it resolved). Names and defaults
follow the original OPTIMA so that its run-configs run unchanged. Cross-parameter rules (e.g. validation plus
test fraction below 1) live in :mod:`optima_core.config.validation`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from optima_core.config import checks as c


@dataclass(frozen=True)
class Derived:
    """A default taken from another parameter after all values are merged (e.g. ``ASHA_max_t`` = ``max_epochs``)."""

    source: str

    def __repr__(self) -> str:
        return f"<value of {self.source}>"


REQUIRED = object()  # the parameter has no default: the run-config must set it


@dataclass(frozen=True)
class Parameter:
    name: str
    default: Any
    section: str
    check: c.Check
    doc: str

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


def _metric_entry(value: Any) -> bool:
    """``("name", (MetricClass, {kwargs}))``."""
    return (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], (tuple, list))
        and len(value[1]) == 2
        and callable(value[1][0])
        and isinstance(value[1][1], dict)
    )


def _custom_metric_entry(value: Any) -> bool:
    """``("name", callable)``."""
    return isinstance(value, (tuple, list)) and len(value) == 2 and isinstance(value[0], str) and callable(value[1])


def _composite_entry(value: Any) -> bool:
    """``("name", ("metric_a", "metric_b", ...), callable)``."""
    return (
        isinstance(value, (tuple, list))
        and len(value) == 3
        and isinstance(value[0], str)
        and isinstance(value[1], (tuple, list))
        and len(value[1]) > 0
        and all(isinstance(n, str) for n in value[1])
        and callable(value[2])
    )


def _callback_entry(value: Any) -> bool:
    """``(CallbackClass, {kwargs})``."""
    return isinstance(value, (tuple, list)) and len(value) == 2 and callable(value[0]) and isinstance(value[1], dict)


def _entries(predicate: Any, text: str) -> c.Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, (list, tuple)):
            return f"a list of {text}"
        return None if all(predicate(v) for v in value) else f"a list of {text}"

    return check


def _max_num_events(value: Any) -> str | None:
    text = "a positive integer, np.inf (all events), or a list with one positive integer per class"
    if isinstance(value, (list, tuple)):
        ok = len(value) > 0 and all(c.integer(1)(v) is None or v == math.inf for v in value)
        return None if ok else text
    return None if c.integer(1)(value) is None or value == math.inf else text


def _input_vars(value: Any) -> str | None:
    text = "a non-empty list of variable names (strings) or index tuples, without duplicates"
    if not isinstance(value, (list, tuple)) or not value:
        return text
    if not all(isinstance(v, str) or (isinstance(v, tuple) and all(isinstance(i, int) for i in v)) for v in value):
        return text
    return None if len(set(value)) == len(value) else text


def _input_scaling(value: Any) -> str | None:
    text = "a dict {variable: (scale_type, (scale, offset))}, e.g. {'pt': ('log10', (1.0, 0.0))}"
    if not isinstance(value, dict):
        return text
    for key, entry in value.items():
        if not isinstance(key, (str, tuple)):
            return text
        if not (
            isinstance(entry, (tuple, list))
            and len(entry) == 2
            and isinstance(entry[0], str)
            and isinstance(entry[1], (tuple, list))
            and len(entry[1]) == 2
            and all(c.number()(x) is None for x in entry[1])
        ):
            return text
    return None


def _predict_batch_size(value: Any) -> str | None:
    ok = c.integer(1)(value) is None or (c.integer()(value) is None and value == -1)
    return None if ok else "-1 (the whole dataset at once) or a positive integer"


def _search_space_shape(value: Any) -> str | None:
    return None if isinstance(value, dict) else "a dict {hyperparameter: fixed value or search-space dict}"


#: Parameters whose value may be a function (a run-config ``def``/``lambda`` of that name is the value, not code).
FUNCTION_PARAMETERS = frozenset({"tune_callbacks"})


def _is_tune_callback(value: Any) -> bool:
    """An instance of a ``ray.tune.Callback`` subclass, told by its classes' names (Ray is not imported here)."""
    return not isinstance(value, type) and any(
        k.__name__ == "Callback" and k.__module__.startswith("ray.tune") for k in type(value).__mro__
    )


def _tune_callbacks(value: Any) -> str | None:
    text = (
        "a list of ray.tune.Callback instances (e.g. [MLflowLoggerCallback(...)]), or a function of the stage name "
        "returning such a list"
    )
    if callable(value) and not isinstance(value, type):
        return None
    if not isinstance(value, (list, tuple)):
        return text
    bad = [v for v in value if not _is_tune_callback(v)]
    if bad:
        first = bad[0]
        what = f"the class {first.__name__} (not an instance)" if isinstance(first, type) else f"{first!r:.60}"
        return f"{text}; {what} is not one"
    return None


def _class_files(value: Any) -> str | None:
    """``{class label: pattern or [patterns]}`` (ROOT files per class; checked further by the validation)."""
    text = "a dict {class label: [ROOT file patterns]}"
    if not isinstance(value, dict) or not value or not all(isinstance(k, str) for k in value):
        return text
    for patterns in value.values():
        items = [patterns] if isinstance(patterns, str) else patterns
        if not isinstance(items, (list, tuple)) or not items or not all(isinstance(p, str) for p in items):
            return text
    return None


GENERAL = "General"
OUTPUT = "Output"
INPUTS = "Inputs"
EVALUATION = "Evaluation"
TRAINING = "Training"
HPO = "Hyperparameter optimization"
OPTUNA = "Bayesian optimization (Optuna)"
PBT = "Population Based Training"
SELECTION = "Trial selection"
CROSSVAL = "Cross-validation"
VAROPT = "Input variable selection"
CLUSTER = "Cluster setup"

#: The default search space: the built-in MLP's main hyperparameters, with a fixed batch size.
DEFAULT_SEARCH_SPACE: dict[str, Any] = {
    "batch_size": 64,
    "num_layers": {"type": "range", "bounds": [1, 4], "value_type": "int"},
    "units": {"type": "range", "bounds": [8, 128], "value_type": "int", "sampling": "log"},
    "learning_rate": {"type": "range", "bounds": [1e-4, 1e-2], "sampling": "log"},
    "dropout": {"type": "range", "bounds": [0.0, 0.3]},
}

_P = Parameter
_bool = c.boolean
_METRICS = _entries(_metric_entry, "('name', (MetricClass, {kwargs})) tuples")
_CUSTOM = _entries(_custom_metric_entry, "('name', callable) tuples")
_COMPOSITE = _entries(_composite_entry, "('name', ('metric_a', ...), callable) tuples")

PARAMETERS: tuple[Parameter, ...] = (
    # General
    _P("perform_variable_opt", REQUIRED, GENERAL, _bool, "Run the pre-HPO and the input-variable selection."),
    _P("perform_main_hyperopt", REQUIRED, GENERAL, _bool, "Run the main hyperparameter optimization (Optuna)."),
    _P("perform_PBT_hyperopt", REQUIRED, GENERAL, _bool, "Run the Population Based Training fine-tuning."),
    _P("model_type", "Keras", GENERAL, c.string, "Training backend by name: 'Keras' or 'Lightning'."),
    _P("random_seed", 42, GENERAL, c.integer(0, 2**32 - 1), "Seed that makes the optimization reproducible."),
    _P("conventional_batch_axis", True, GENERAL, _bool, "The first axis of inputs and outputs is the batch axis."),
    _P("fixed_input_shape", True, GENERAL, _bool, "Input batches may be concatenated for custom metrics."),
    _P("fixed_output_shape", True, GENERAL, _bool, "Prediction batches may be concatenated for custom metrics."),
    # Output
    _P("output_name", "OPTIMA_defaults", OUTPUT, c.string, "Name of the output folder."),
    _P("output_path", "DNN_storage", OUTPUT, c.string, "Folder in which the output folder is created."),
    _P("use_exact_name", False, OUTPUT, _bool, "Do not prefix the output folder name with the stages run."),
    # Inputs
    _P(
        "inputs_file",
        None,
        INPUTS,
        c.optional(c.any_of(c.string, _class_files, text="a file path, or a dict {class label: [ROOT file patterns]}")),
        "Path to the input data file, or {class label: ['dir/*.root:tree', ...]} (ROOT files per class).",
    ),
    _P("input_vars", None, INPUTS, c.optional(_input_vars), "Input variables given to the model (None: all)."),
    _P("input_scaling", None, INPUTS, c.optional(_input_scaling), "Per-variable (scale_type, (scale, offset))."),
    _P("produce_inputs_plots", True, INPUTS, _bool, "Plot the input distributions."),
    _P("use_testing_dataset", True, INPUTS, _bool, "Split off a testing dataset."),
    _P("fixed_testing_dataset", True, INPUTS, _bool, "Keep the testing dataset fixed across cross-validation folds."),
    _P("use_eventNums_splitting", False, INPUTS, _bool, "Split by (event_number + offset) % N == 0."),
    _P("eventNums_splitting_N", 5, INPUTS, c.integer(2), "The N of the event-number splitting."),
    _P("eventNums_splitting_offset_val", 0, INPUTS, c.integer(0), "Offset selecting the validation events."),
    _P("eventNums_splitting_offset_test", 1, INPUTS, c.integer(0), "Offset selecting the testing events."),
    _P(
        "validation_fraction",
        0.2,
        INPUTS,
        c.number(0, 1, min_inclusive=False, max_inclusive=False),
        "Fraction of events for validation.",
    ),
    _P(
        "test_fraction",
        0.2,
        INPUTS,
        c.number(0, 1, min_inclusive=False, max_inclusive=False),
        "Fraction of events for testing.",
    ),
    _P("max_num_events", math.inf, INPUTS, _max_num_events, "Events to load: a number, one per class, or np.inf."),
    _P(
        "max_event_weight",
        math.inf,
        INPUTS,
        c.number(0, min_inclusive=False, allow_inf=True),
        "Duplicate events above this weight relative to the median.",
    ),
    _P(
        "inputs_tree_name",
        None,
        INPUTS,
        c.optional(c.string),
        "ROOT input files: the TTree to read (None: the file's only tree).",
    ),
    _P(
        "inputs_cut",
        None,
        INPUTS,
        c.optional(c.string),
        "ROOT files per class: an uproot cut expression selecting events, e.g. '(nJet >= 1) & (MET > 20)'.",
    ),
    _P(
        "inputs_padding_value",
        0.0,
        INPUTS,
        c.number(),
        "ROOT jagged branches: the value of 'Branch[:, k]' for events with k entries or fewer.",
    ),
    _P(
        "target_columns",
        None,
        INPUTS,
        c.optional(
            c.any_of(
                c.string,
                c.sequence_of(c.string, "", min_length=1),
                text="a column name or a non-empty list of column names",
            )
        ),
        "Target column (binary 0/1) or one-hot columns (None: 'target' or 'targets'; pickles: the 'targets' group).",
    ),
    _P(
        "weight_column",
        None,
        INPUTS,
        c.optional(c.string),
        "Column holding the event weights (None: 'Weight' or 'weight').",
    ),
    _P(
        "event_number_column",
        "EventNumber",
        INPUTS,
        c.string,
        "Column holding the event numbers (needed for use_eventNums_splitting).",
    ),
    # Evaluation
    _P("monitor_name", "val_loss", EVALUATION, c.string, "Target metric of the optimization and of early stopping."),
    _P("monitor_op", "min", EVALUATION, c.one_of("min", "max"), "Minimize or maximize the target metric."),
    _P("native_metrics", [], EVALUATION, _METRICS, "Backend-native metrics (unweighted)."),
    _P("weighted_native_metrics", [], EVALUATION, _METRICS, "Backend-native metrics with event weights."),
    _P("custom_metrics", [], EVALUATION, _CUSTOM, "Metrics computed from (input_batch, y_pred_batch)."),
    _P("composite_metrics", [], EVALUATION, _COMPOSITE, "Metrics combining other metrics."),
    _P("overtraining_conditions", [], EVALUATION, _COMPOSITE, "Conditions that return True when overtraining."),
    _P("predict_batch_size", -1, EVALUATION, _predict_batch_size, "Batch size for custom-metric predictions."),
    _P(
        "evaluation_class_labels",
        ["Signal", "Background"],
        EVALUATION,
        c.sequence_of(c.string, "a list of class names (strings)", min_length=1),
        "Class names used in plots.",
    ),
    _P(
        "plot_label",
        "Simulation",
        EVALUATION,
        c.string,
        "Label above physics plots: 'Simulation', or experiment and status, e.g. 'ATLAS Internal' ('' for none).",
    ),
    _P(
        "plot_lumi_text",
        None,
        EVALUATION,
        c.optional(c.string),
        "Luminosity / energy text above physics plots, e.g. '140 fb$^{-1}$ (13 TeV)' (None for none).",
    ),
    # Training
    _P("max_epochs", 200, TRAINING, c.integer(1), "Maximum number of epochs per training."),
    _P("early_stopping_patience", 6, TRAINING, c.integer(0), "Epochs without improvement before stopping."),
    _P("overtraining_patience", 6, TRAINING, c.integer(0), "Epochs with overtraining before stopping."),
    _P(
        "callbacks",
        [],
        TRAINING,
        _entries(_callback_entry, "(CallbackClass, {kwargs}) tuples"),
        "Backend-native training callbacks.",
    ),
    _P("checkpoint_frequency", 1, TRAINING, c.integer(1), "Epochs between checkpoints."),
    _P(
        "crossvalidation_for_fixed_hps",
        True,
        TRAINING,
        _bool,
        "With fixed hyperparameters, cross-validate (else one model).",
    ),
    # Hyperparameter optimization
    _P("optimize_on_best_value", False, HPO, _bool, "Judge a trial by its best (else its last) valid epoch."),
    _P("restore_on_best_checkpoint", False, HPO, _bool, "Resume trials from the best (else the last) checkpoint."),
    _P("num_samples_variableOpt", 1, HPO, c.integer(1), "Trials of the pre-HPO before variable selection."),
    _P("num_samples_main", 1, HPO, c.integer(1), "Trials of the main HPO."),
    _P("num_samples_PBT", 4, HPO, c.integer(1), "Population size of Population Based Training."),
    _P(
        "search_space",
        DEFAULT_SEARCH_SPACE,
        HPO,
        _search_space_shape,
        "Hyperparameters: fixed values or search-space dicts.",
    ),
    _P(
        "tune_callbacks",
        [],
        HPO,
        _tune_callbacks,
        "Ray Tune callbacks added to every stage's Tuner (MLflow, W&B, ...), or a function of the stage name.",
    ),
    _P("use_TPESampler", True, OPTUNA, _bool, "Optuna TPE (else random sampling)."),
    _P("use_multivariate_TPE", False, OPTUNA, _bool, "Multivariate (else independent) TPE."),
    _P("use_ASHAScheduler", True, OPTUNA, _bool, "Prune trials with ASHA."),
    _P("ASHA_grace_period", 15, OPTUNA, c.integer(1), "Epochs before ASHA may prune."),
    _P(
        "ASHA_max_t",
        Derived("max_epochs"),
        OPTUNA,
        c.integer(1),
        "End point of the ASHA reduction (default: max_epochs).",
    ),
    _P("ASHA_reduction_factor", 2, OPTUNA, c.integer(2), "ASHA keeps 1/factor of the trials at each rung."),
    _P(
        "use_fit_results_for_PBT",
        True,
        PBT,
        _bool,
        "Fix non-mutatable hyperparameters from best-fit (else best-value).",
    ),
    _P("perturbation_interval", 6, PBT, c.integer(1), "Epochs between perturbations."),
    _P("burn_in_period", 6, PBT, c.integer(0), "Epochs before the first perturbation."),
    # Trial selection
    _P(
        "check_overtraining_with_fit",
        True,
        SELECTION,
        _bool,
        "Give fitted (else raw) values to the overtraining conditions.",
    ),
    _P("fit_min_R_squared", 0.9, SELECTION, c.number(maximum=1.0), "Minimum R² of every fit for best-fit selection."),
    # Cross-validation
    _P("use_early_stopping_for_crossvalidation", False, CROSSVAL, _bool, "Use early stopping in cross-validation."),
    _P(
        "use_OT_conditions_for_crossvalidation",
        False,
        CROSSVAL,
        _bool,
        "Evaluate overtraining conditions in cross-validation.",
    ),
    _P("reuse_seed_for_crossvalidation", False, CROSSVAL, _bool, "Reuse the optimization's seed for all folds."),
    _P("fixed_seed_for_crossvalidation", False, CROSSVAL, _bool, "Use one new seed for all folds."),
    _P("export_onnx", True, CROSSVAL, _bool, "Export the fold models as ONNX (where the exporters are installed)."),
    # Input variable selection
    _P("var_metric", "loss", VAROPT, c.string, "Metric judging variable sets: 'loss' or a metric name."),
    _P("var_metric_op", "min", VAROPT, c.one_of("min", "max"), "Minimize or maximize var_metric."),
    _P(
        "variable_optimization_mode",
        "hybrid",
        VAROPT,
        c.string,
        "Evaluator by name: 'shuffle', 'retrain', 'hybrid', 'custom', ...",
    ),
    _P(
        "acceptance_criterion",
        "improvement",
        VAROPT,
        c.one_of("threshold", "improvement", "degradation"),
        "When an iteration is accepted.",
    ),
    _P("max_rel_change", 0.5, VAROPT, c.number(), "Allowed relative degradation for the 'threshold' criterion."),
    _P("var_opt_patience", 3, VAROPT, c.integer(1), "Consecutive rejected iterations before stopping."),
    _P("choose_best_var_set", True, VAROPT, _bool, "Return the best (else the last accepted) variable set."),
    _P("hybrid_revert_to_best_before_switch", True, VAROPT, _bool, "Hybrid: revert to the best set before retraining."),
    _P("num_repeats", 5, VAROPT, c.integer(1), "Evaluations per variable set and iteration."),
    _P("num_repeats_hybrid_retrain", 1, VAROPT, c.integer(1), "Evaluations per set in the hybrid retrain phase."),
    _P("reevaluate_candidate_to_drop", True, VAROPT, _bool, "Re-evaluate the best candidate before deciding."),
    _P("retrain_for_reevaluation", True, VAROPT, _bool, "Re-evaluate by retraining."),
    _P("num_repeats_for_reevaluation", 2, VAROPT, c.integer(1), "Evaluations in the re-evaluation."),
    _P("use_median_for_averages", False, VAROPT, _bool, "Median and MAD (else mean and std) over folds."),
    _P(
        "use_fit_results_for_varOpt", True, VAROPT, _bool, "Base the selection on the best-fit (else best-value) trial."
    ),
    # Cluster
    _P("path_to_setup_file", None, CLUSTER, c.optional(c.string), "Script sourced on cluster nodes to set up Python."),
)

PARAMETERS_BY_NAME: dict[str, Parameter] = {p.name: p for p in PARAMETERS}


def defaults() -> dict[str, Any]:
    """Fresh copies of the built-in defaults (required parameters and derived defaults excluded)."""
    import copy

    return {
        p.name: copy.deepcopy(p.default) for p in PARAMETERS if not p.required and not isinstance(p.default, Derived)
    }
