"""The built-in ``get_experiment_inputs``: load, check, plot and split the inputs of one stage.

It calls the three lower-level hooks through the plugin manager, so that a run-config or plugin replacing one of
them is used:

1. ``get_inputs(run_config, nevts=max_num_events, input_vars_list=input_handler.get_vars())``. The result may be
   an :class:`EventData` or a Ray Dataset (converted once). When the InputHandler has no variables yet, it is given
   the dataset's.
2. The bad-data checks (:mod:`optima_core.inputs.checks`) -- the loader's own, if it did not run them, and the
   scaling-domain check against ``input_handler.get_nonlinear_scaling()``.
3. ``plot_input_data(run_config, dataset, outdir=<output_dir>/inputs, input_vars_list)`` when
   ``produce_inputs_plots`` is true and an ``output_dir`` is given (nothing happens if no plugin draws plots).
   ``optima run`` calls this before the output folder exists; the plots are then drawn once it does
   (:mod:`optima_core.inputs.output_writes`).
4. ``get_training_data(dataset, splitting_cond, do_kfold=inputs_for_crossvalidation, shuffle=True,
   fixed_test_dataset)`` with the condition :func:`splitting_condition` builds from the run-config; the result's
   datasets are converted to EventData.

The hook's arguments, fixed by the reference, cannot carry the plugin manager: the hooks are those of the run's
manager, which the engine sets around the call (:func:`optima_core.plugins.active.using_manager`). Calling the
built-in outside such a block is an error that says so.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optima_core.inputs import checks
from optima_core.inputs.errors import data_error
from optima_core.inputs.output_writes import write_to_output
from optima_core.inputs.settings import setting
from optima_core.inputs.splitting import EventNumberCondition, EventNumberSplit, RandomSplit, describe_split
from optima_core.inputs.store import as_event_data, convert_split, is_ray_dataset

if TYPE_CHECKING:
    from optima_core.plugins.hooks import Hooks

log = logging.getLogger("optima.inputs")

INPUT_PLOTS_FOLDER = "inputs"


def current_hooks() -> Hooks:
    """The hooks of the run's plugin manager (set by the engine around ``get_experiment_inputs``)."""
    from optima_core.plugins.active import active_manager

    return active_manager("the built-in get_experiment_inputs").hooks


def splitting_condition(run_config: Any) -> RandomSplit | EventNumberSplit:
    """The ``splitting_cond`` the run-config describes (random fractions or event-number conditions)."""
    use_test = setting(run_config, "use_testing_dataset")
    seed = setting(run_config, "random_seed")
    if setting(run_config, "use_eventNums_splitting"):
        n = setting(run_config, "eventNums_splitting_N")
        validation = EventNumberCondition(n, setting(run_config, "eventNums_splitting_offset_val") % n)
        test = EventNumberCondition(n, setting(run_config, "eventNums_splitting_offset_test") % n) if use_test else None
        return EventNumberSplit(validation, test, seed)
    test_fraction = setting(run_config, "test_fraction") if use_test else None
    return RandomSplit(setting(run_config, "validation_fraction"), test_fraction, seed)


def prepare_experiment_inputs(
    hooks: Hooks,
    run_config: Any,
    input_handler: Any,
    output_dir: Any = None,
    inputs_for_crossvalidation: bool = False,
    disable_printing: bool = False,
) -> tuple[Any, ...]:
    """Steps 1-4 of the module docstring; returns ``(train, val[, test])`` EventData or per-fold lists."""
    variables = input_handler.get_vars()
    loaded = hooks.get_inputs(
        run_config=run_config,
        nevts=setting(run_config, "max_num_events"),
        input_vars_list=variables,
        disable_printing=disable_printing,
    )
    if loaded is None:
        raise data_error(None, "get_inputs", None, "a plugin or run-config function that loads the inputs")
    data = as_event_data(loaded, variables)
    if variables is None:
        input_handler.set_vars(list(data.variables))
    source = data.meta.get("source")
    labels = setting(run_config, "evaluation_class_labels")
    event_splitting = bool(setting(run_config, "use_eventNums_splitting"))
    if not data.meta.get("checked"):
        checks.check_event_data(data, source, labels, event_splitting)
    checks.check_scaling_domain(data, input_handler.get_nonlinear_scaling(), source)

    if setting(run_config, "produce_inputs_plots") and output_dir is not None:
        outdir = Path(output_dir) / INPUT_PLOTS_FOLDER
        variables_to_plot = input_handler.get_vars()

        def plot() -> None:
            handled = hooks.plot_input_data(
                run_config=run_config, dataset=data, outdir=outdir, input_vars_list=variables_to_plot
            )
            if handled is None and not disable_printing:
                log.info("no plugin draws input plots (install optima-plots); skipped")

        write_to_output(plot, key=("input plots", str(outdir)))  # the same plots for either kind of split

    use_test = setting(run_config, "use_testing_dataset")
    split = hooks.get_training_data(
        dataset=loaded if is_ray_dataset(loaded) else data,
        splitting_cond=splitting_condition(run_config),
        do_kfold=inputs_for_crossvalidation,
        shuffle=True,
        fixed_test_dataset=bool(use_test and setting(run_config, "fixed_testing_dataset")),
        disable_printing=disable_printing,
    )
    if split is None:
        raise data_error(None, "get_training_data", None, "a plugin or run-config function that splits the inputs")
    split = convert_split(split, data.variables)
    if not disable_printing:
        if inputs_for_crossvalidation:
            log.info("split into %d folds; fold 0: %s", len(split[0]), describe_split([s[0] for s in split]))
        else:
            log.info("split: %s", describe_split(split))
    return tuple(split)
