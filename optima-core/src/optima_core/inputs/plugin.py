"""Hook implementations of the built-in input pipeline (registered as a core built-in plugin).

Import-light: the implementations import NumPy, pandas, pyarrow, uproot or Ray only when they are called.
"""

from __future__ import annotations

from typing import Any

from optima_core.hookspecs import hookimpl


@hookimpl
def get_experiment_inputs(
    run_config: Any,
    input_handler: Any,
    output_dir: Any,
    inputs_for_crossvalidation: bool,
    disable_printing: bool,
) -> Any:
    """Load (``get_inputs``), check, plot (``plot_input_data``) and split (``get_training_data``) the inputs.

    Returns ``(train, val[, test])`` EventData, or with ``inputs_for_crossvalidation`` the same tuple of per-fold
    lists. See :mod:`optima_core.inputs.pipeline`.
    """
    from optima_core.inputs.pipeline import current_hooks, prepare_experiment_inputs

    return prepare_experiment_inputs(
        current_hooks(),
        run_config,
        input_handler,
        output_dir,
        bool(inputs_for_crossvalidation),
        bool(disable_printing),
    )


@hookimpl
def get_inputs(run_config: Any, nevts: Any, input_vars_list: Any, disable_printing: bool) -> Any:
    """Read ``inputs_file`` (Pickle, Parquet or ROOT, by suffix) into an EventData with normalised weights.

    See :mod:`optima_core.inputs.loading` (columns, ``max_num_events``) and :mod:`optima_core.inputs.weights`
    (normalisation, ``max_event_weight``, negative weights).
    """
    from optima_core.inputs.loading import load_event_data

    return load_event_data(run_config, nevts, input_vars_list, bool(disable_printing))


@hookimpl
def get_training_data(
    dataset: Any,
    splitting_cond: Any,
    do_kfold: bool,
    shuffle: bool,
    fixed_test_dataset: bool,
    disable_printing: bool,
) -> Any:
    """Split an EventData (or a Ray Dataset, converted first) into ``(train, val[, test])``.

    ``splitting_cond``:

    * random splitting -- ``RandomSplit(validation_fraction, test_fraction=None, seed=42)`` or plain fractions
      ``0.2`` / ``(0.2,)`` / ``(0.2, 0.2)`` (validation[, testing]; seed 42). Set sizes are ``round(G * fraction)``
      of the ``G`` event-number groups (events, when event numbers are unique).
    * event-number splitting -- ``(validation_condition[, testing_condition])``: callables mapping the
      ``EventNumber`` array to a boolean mask, e.g. ``EventNumberCondition(N, offset)`` for
      ``(event_number + offset) % N == 0``; or ``EventNumberSplit(validation, test=None, seed=42)``.
    * custom folds -- a list of such tuples, one per fold (``do_kfold=False`` uses the first).

    ``do_kfold`` returns one list per set, one entry per fold. Random: ``k = round(1 / validation_fraction)``
    rotating parts; a fixed testing set (``fixed_test_dataset``) is drawn first and the rest cut into ``k =
    round((1 - test_fraction) / validation_fraction)`` parts; a rotating testing set is the part after the
    validation part. Event numbers (``EventNumberCondition``): ``k = N`` folds with the offsets advancing by the fold
    index, or ``k = N - 1`` with a fixed testing set (the validation offset skips the testing residue).
    ``shuffle`` permutes the events inside every set (seeded). Deterministic for a given seed; fewer events than
    folds or an empty set raise ``InputDataError``. Details: :mod:`optima_core.inputs.splitting`.
    """
    from optima_core.inputs.splitting import split_event_data
    from optima_core.inputs.store import as_event_data

    data = as_event_data(dataset, what="the dataset given to get_training_data")
    return split_event_data(data, splitting_cond, bool(do_kfold), bool(shuffle), bool(fixed_test_dataset))
