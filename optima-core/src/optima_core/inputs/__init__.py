"""OPTIMA's built-in input pipeline: load, check, weight, split and share the input data.

Modules, one job each:

* :mod:`~optima_core.inputs.dataset` -- :class:`EventData`, the in-memory dataset (named NumPy columns).
* :mod:`~optima_core.inputs.readers` -- column access to Pickle, Parquet and ROOT files (format by suffix).
* :mod:`~optima_core.inputs.loading` -- the built-in ``get_inputs``: columns, ``max_num_events``, weights.
* :mod:`~optima_core.inputs.weights` -- per-class normalisation, ``max_event_weight`` duplication, the
  negative-weight policy.
* :mod:`~optima_core.inputs.checks` -- the bad-data checks, each raising one :class:`InputDataError`.
* :mod:`~optima_core.inputs.splitting` -- the built-in ``get_training_data``: random, event-number and k-fold splits.
* :mod:`~optima_core.inputs.pipeline` -- the built-in ``get_experiment_inputs`` (load, check, plot, split).
* :mod:`~optima_core.inputs.output_writes` -- the input plots, held until the run's output folder exists.
* :mod:`~optima_core.inputs.store` -- what input hooks return (Ray Dataset, column dict) converted to EventData.
* :mod:`~optima_core.inputs.memory` -- hand freed buffers back to the OS between the memory-heavy steps.
* :mod:`~optima_core.inputs.settings` -- run-config values with the built-in defaults as fallback.
* :mod:`~optima_core.inputs.errors` -- :class:`InputDataError` (a ``ConfigError``: the CLI prints it plainly).
* :mod:`~optima_core.inputs.plugin` -- the hook implementations (import-light).

Importing this package imports nothing heavy; import the submodule you need.
"""
