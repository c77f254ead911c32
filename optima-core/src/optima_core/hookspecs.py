"""Every hook OPTIMA calls, declared once.

Hook and argument names are the run-config hook names of the original OPTIMA, so a function or class of that
name defined in a run-config is a valid implementation (the run-config is registered as the highest-priority
plugin, see :mod:`optima_core.plugins.runconfig`). Built-in behaviour is provided by plugins too: the core's own
(:mod:`optima_core.builtin`) and the backend packages (``optima-keras``, ``optima-lightning``, ...).

Conventions
-----------
* Builder hooks are ``firstresult``: the first implementation that returns something other than ``None`` wins;
  returning ``None`` means "not mine, ask the next plugin". The run-config is asked first, third-party plugins
  next, built-ins last.
* Class-valued hooks (``InputHandler``, ``LitModel``, ``LightningDataset``, ``DataLoader``, ``DataModule``) take
  no arguments and return a *class*; OPTIMA instantiates it with the constructor arguments documented on the
  hook. A run-config provides one simply by defining a class of that name.
* Hooks whose natural result is a side effect (``plot_input_data``) return ``True`` once handled; a run-config
  function returning ``None`` there is treated as handled.
* Registration hooks (``optima_register_*``) are not run-config hooks. They are called once when the plugin
  manager is built; each returns a list of named descriptors (:mod:`optima_core.plugins.descriptors`). Things are
  chosen by these names, never by registration order; two plugins registering the same name is an error naming both
  (a figure may be replaced explicitly, see ``optima_register_plots``).
"""

from __future__ import annotations

from typing import Any

import pluggy

PROJECT_NAME = "optima"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# ---------------------------------------------------------------------------------------------------------------
# Registration: named backends, clusters, variable-importance evaluators and plot producers
# ---------------------------------------------------------------------------------------------------------------


@hookspec
def optima_register_backends() -> list[Any] | None:
    """Return the training backends this plugin provides, as :class:`BackendDescriptor` objects.

    Called once, when the plugin manager is built. ``model_type`` in the run-config selects a backend by its
    descriptor's name (``'Keras'``, ``'Lightning'``). The descriptor also states the backend's facts (required
    frameworks and hooks, the hooks that replace its built-in model, that model's mutatable hyperparameters and
    scalings), which validation and the stages read. Return an empty list (or nothing) to register none.
    """


@hookspec
def optima_register_clusters() -> list[Any] | None:
    """Return the clusters this plugin provides, as :class:`ClusterDescriptor` objects.

    Called once, when the plugin manager is built. ``optima run --cluster NAME`` selects a cluster by its
    descriptor's name; ``local`` (this machine) and ``custom`` (a ``CustomCluster`` class loaded from
    ``--cluster_config``) are provided by the core. A descriptor's target is a factory (a class, usually) called
    without arguments, or with ``cluster_config=`` when ``--cluster_config`` is given; it returns a
    :class:`~optima_core.clusters.target.RunTarget`, typically a :class:`~optima_core.clusters.base.Cluster`.
    """


@hookspec
def optima_register_variable_importance_evaluators() -> list[Any] | None:
    """Return the variable-importance evaluators this plugin provides, as :class:`EvaluatorDescriptor` objects.

    Called once, when the plugin manager is built. The run-config parameter ``variable_optimization_mode``
    selects an evaluator by its descriptor's name (``'shuffle'``, ``'retrain'``, ``'hybrid'``, ``'custom'``, or a
    name a third-party plugin registers).
    """


@hookspec
def optima_register_plots() -> list[Any] | None:
    """Return the plot producers this plugin provides, as :class:`PlotDescriptor` objects.

    Called once, when the plugin manager is built. Stages ask for every figure by name, so that a plugin can add
    or replace a figure without touching the stages. optima-plots registers ``'input_data'``,
    ``'output_distributions'``, ``'roc_curves'``, ``'evaluation'``, ``'metric_histories'``, ``'search_overview'``
    ``'variable_selection'`` and ``'variable_selection_stability'``; each is called as the function optima-plots registers under that name (see its
    docstring), e.g. ``input_data(dataset, outdir, variables, scalings, labels)``.

    To replace a figure another plugin registers, return ``PlotDescriptor(name, target, replaces=True)``: the
    stages then call yours, and ``optima plugins`` shows it as replacing the other provider. A figure registered
    twice without ``replaces=True`` (or replaced twice) is an error naming both plugins.
    """


# ---------------------------------------------------------------------------------------------------------------
# Inputs: bookkeeping of input variables, loading, splitting, input plots, backend-native datasets
# ---------------------------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def InputHandler() -> type | None:  # noqa: N802 - the run-config name
    """Return the class that keeps track of the input variables and their non-linear scalings.

    Called by the orchestrator once per run, before inputs are loaded; the class is instantiated as
    ``InputHandler(run_config)`` and must provide ``get_vars()``, ``set_vars(vars)``, ``get_nonlinear_scaling()``
    and ``copy()``. The core provides the built-in :class:`optima_core.builtin.input_handler.InputHandler`.
    ``None``: not mine (the next plugin is asked; the core's built-in always answers).
    """


@hookspec(firstresult=True)
def get_experiment_inputs(
    run_config: Any,
    input_handler: Any,
    output_dir: Any,
    inputs_for_crossvalidation: bool,
    disable_printing: bool,
) -> Any:
    """Prepare all inputs of one stage: load, split and (optionally) plot them.

    Called by each stage before training (and by cross-validation with ``inputs_for_crossvalidation=True``).
    Returns ``(dataset_train, dataset_val)`` or ``(dataset_train, dataset_val, dataset_test)``; for
    cross-validation each entry is a list with one dataset per fold. The built-in implementation calls
    ``get_inputs``, ``get_training_data`` and ``plot_input_data``; a replacement need not. ``None``: not mine.
    """


@hookspec(firstresult=True)
def get_inputs(run_config: Any, nevts: Any, input_vars_list: Any, disable_printing: bool) -> Any:
    """Load the input dataset (at most ``nevts`` events, only ``input_vars_list``) and return it.

    Called by the built-in ``get_experiment_inputs``. The result holds the columns ``Input`` and ``Target``, and
    usually ``Weight``, ``ScaledWeight`` and ``EventNumber``. ``None``: not mine.
    """


@hookspec(firstresult=True)
def get_training_data(
    dataset: Any,
    splitting_cond: Any,
    do_kfold: bool,
    shuffle: bool,
    fixed_test_dataset: bool,
    disable_printing: bool,
) -> Any:
    """Split ``dataset`` into training, validation and (optionally) testing sets.

    Called by the built-in ``get_experiment_inputs``. ``splitting_cond`` is either the requested fractions or a
    callable selecting events by event number. Returns the same structure as ``get_experiment_inputs``
    (one split, or lists of folds when ``do_kfold``). ``None``: not mine.
    """


@hookspec(firstresult=True)
def plot_input_data(run_config: Any, dataset: Any, outdir: Any, input_vars_list: Any) -> bool | None:
    """Draw the distribution of every input variable for every class into ``outdir``.

    Called by the built-in ``get_experiment_inputs`` when ``produce_inputs_plots`` is true. Return ``True`` once
    the plots are written; ``None``: not mine (the next plugin is asked).
    """


@hookspec(firstresult=True)
def build_tensorflow_dataset(ray_dataset: Any, input_handler: Any, run_config: Any, model_config: Any) -> Any:
    """Convert one dataset into a batched ``tf.data.Dataset`` for Keras.

    Called by the Keras backend for training, evaluation and metric computation. Batches must be
    ``(inputs, targets)`` or ``(inputs, targets, sample_weight)`` unless ``get_loss`` and
    ``get_native_metric_values`` are replaced as well. ``None``: not mine.
    """


@hookspec(firstresult=True)
def LightningDataset() -> type | None:  # noqa: N802 - the run-config name
    """Return the class that turns a dataset into a torch dataset for Lightning.

    Called by the Lightning backend's data module in ``setup()``; instantiated as
    ``LightningDataset(ray_dataset, model_config)``. ``None``: use the built-in in-memory tensor dataset.
    """


@hookspec(firstresult=True)
def DataLoader() -> type | None:  # noqa: N802 - the run-config name
    """Return the class that wraps a torch dataset into batches for Lightning.

    Called by the Lightning backend's data module; instantiated as ``DataLoader(dataset, model_config)``.
    ``None``: use the built-in loader (whole batches sliced from in-memory tensors).
    """


@hookspec(firstresult=True)
def DataModule() -> type | None:  # noqa: N802 - the run-config name
    """Return the ``LightningDataModule`` subclass used for training and prediction.

    Called by the Lightning backend for every model; instantiated as ``DataModule(run_config=..., model_config=...,
    input_handler=..., dataset_train=..., dataset_val=..., dataset_test=..., dataset_predict=...)``.
    ``None``: use the backend's default data module.
    """


# ---------------------------------------------------------------------------------------------------------------
# Models: building, compiling, mutating; backend-specific loss and metric evaluation
# ---------------------------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def build_model(model_config: Any, input_handler: Any, train_data: Any) -> Any:
    """Build a new, uncompiled Keras model for the hyperparameters in ``model_config``.

    Called by the Keras backend at the start of every trial (not when restoring from a checkpoint).
    ``train_data`` is the training ``tf.data.Dataset``. ``None``: not mine.
    """


@hookspec(firstresult=True)
def compile_model(
    model: Any,
    model_config: Any,
    metrics: Any,
    weighted_metrics: Any,
    input_handler: Any,
    train_data: Any,
    first_compile: bool,
) -> Any:
    """Compile ``model`` (optimizer, loss, metrics) and return it.

    Called by the Keras backend after ``build_model`` (``first_compile=True``) and after restoring or mutating a
    model (``first_compile=False``; the optimizer state must survive). ``None``: not mine.
    """


@hookspec(firstresult=True)
def update_model(model: Any, model_config: Any, input_handler: Any, train_data: Any) -> Any:
    """Apply mutated hyperparameters (other than the compile ones) to a restored Keras model and return it.

    Called by the Keras backend after a model is restored from a checkpoint, e.g. when Population Based Training
    perturbs a trial. ``None``: not mine.
    """


@hookspec(firstresult=True)
def get_loss(run_config: Any, model_config: Any, model: Any, dataset: Any, input_handler: Any) -> Any:
    """Return the scalar loss of ``model`` on one backend-native ``dataset``.

    Called by the built-in evaluation for each split; the value is the loss in ``evaluation.txt``/``.json``. The
    built-in implementations (one per backend) return ``None`` for models of another backend. ``None``: not mine.
    """


@hookspec(firstresult=True)
def get_native_metric_values(
    run_config: Any,
    native_metrics: Any,
    model_config: Any,
    model: Any,
    dataset_or_dataloader: Any,
    input_handler: Any,
) -> Any:
    """Return the values of the initialised ``native_metrics`` on one dataset (Keras) or dataloader (Lightning).

    Called by the built-in evaluation for each split (without event weights for ``native_metrics``; with them for
    ``weighted_native_metrics`` where the backend's metrics take weights). Returns one scalar or a list in the
    order of ``native_metrics``. ``None``: not mine.
    """


@hookspec(firstresult=True)
def LitModel() -> type | None:  # noqa: N802 - the run-config name
    """Return the ``LightningModule`` subclass to train when ``model_type`` is ``'Lightning'``.

    Called by the Lightning backend for every new model; instantiated as
    ``LitModel(model_config=..., input_vars=..., metrics=..., weighted_metrics=...)``, then ``prepare(input_handler,
    data_module, first_prepare)`` is called. ``optima-lightning`` provides a built-in MLP. ``None``: not mine.
    """


# ---------------------------------------------------------------------------------------------------------------
# Trial selection and evaluation
# ---------------------------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def fit_function(df: Any, metric_to_fit: str, metric_to_fit_op: Any, overtraining_conditions: Any) -> Any:
    """Fit the history of one metric of one trial and return a callable ``f(epoch) -> value``.

    Called by the best-fit trial selection for every trial and every metric. ``df`` holds one row per epoch with
    column ``training_iteration``; ``metric_to_fit_op`` is ``'min'``/``'max'`` for the target metric and ``None``
    otherwise. Returning ``None`` from the built-in means the trial cannot be fitted (too few epochs).
    """


@hookspec(firstresult=True)
def evaluate(
    run_config: Any,
    model_path: Any,
    model_config: Any,
    dataset_split: Any,
    input_handler: Any,
    fig_dir: Any,
    native_metrics: Any,
    weighted_native_metrics: Any,
    custom_metrics: Any,
    composite_metrics: Any,
    class_labels: Any,
    cpus: Any,
    print_results: bool,
    return_unfilled: bool,
) -> Any:
    """Evaluate one trained model: plots into ``fig_dir`` and the values of the loss and every metric.

    Called by each stage for every cross-validation model. Returns the filled results text, or with
    ``return_unfilled=True`` a tuple ``(template_with_{}_placeholders, values)`` so that values can be averaged
    over folds. ``None``: not mine.
    """


@hookspec
def finalize_model(
    run_config: Any,
    dataset_split: Any,
    results_dir: Any,
    model_dir: Any,
    model_info: Any,
    input_handler: Any,
) -> None:
    """Do extra work with one finished cross-validation model (e.g. export it to another format).

    Called by each stage for every cross-validation model after it is saved; every implementation is called
    (there is no built-in). ``model_info`` holds ``'name'``, ``'split'`` and ``'config'``. Return value ignored.
    """


# ---------------------------------------------------------------------------------------------------------------
# Input-variable selection
# ---------------------------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def create_variable_sets_to_try(
    model_config: Any,
    models_with_inputs: Any,
    metric: Any,
    all_vars: Any,
    vars_remaining: Any,
) -> Any:
    """Return a dict ``{label: [variables]}`` of the variable sets to evaluate in one selection iteration.

    Called by the variable-selection stage at the start of every iteration. The built-in returns every
    leave-one-out subset of ``vars_remaining``. ``None``: not mine.
    """


@hookspec(firstresult=True)
def shuffle_input_var(
    run_config: Any,
    input_handler: Any,
    model_config: Any,
    dataset: Any,
    vars_to_shuffle: Any,
) -> Any:
    """Return a copy of ``dataset`` in which the columns of ``vars_to_shuffle`` are permuted across events.

    Called by the ``shuffle`` evaluator for every candidate set and repeat. ``None``: not mine.
    """


@hookspec(firstresult=True)
def evaluate_variable_importance(
    run_config: Any,
    model_config: Any,
    models_with_inputs: Any,
    variable_sets: Any,
    metric: Any,
    num_repeats: Any,
    input_handler: Any,
    output_dir: Any,
    cpus: Any,
    return_models_with_inputs: bool,
    var_sets_to_try: Any,
    temp_output_path: Any,
    cpus_per_model: Any,
    gpus_per_model: Any,
    training_func: Any,
    get_ShufflerAndPredictor_pool: Any,  # noqa: N803 - the original's name
    delete_ShufflerAndPredictor_pool: Any,  # noqa: N803 - the original's name
    placement_group: Any,
    custom_metrics: Any,
    composite_metrics: Any,
    native_metrics: Any,
    weighted_native_metrics: Any,
    rng: Any,
) -> Any:
    """Evaluate the target metric for each variable set; used when ``variable_optimization_mode='custom'``.

    Called by the variable-selection stage once per iteration. Returns ``{label: metric values}``, or with
    ``return_models_with_inputs=True`` a tuple ``(metrics, models_with_inputs_by_var_set)``. ``None``: not mine.

    An implementation takes any subset of the arguments by name. Besides OPTIMA's (``variable_sets``,
    ``output_dir``, ``cpus``) it gets those of the original's ``evaluate_vars_shuffle``/``evaluate_vars_retrain``
    (``var_sets_to_try`` = ``variable_sets``, ``temp_output_path`` = ``output_dir``, ``cpus_per_model``,
    ``gpus_per_model``, the run-config's ``custom_metrics``/``composite_metrics``/``native_metrics``/
    ``weighted_native_metrics``, a seeded numpy ``rng``; ``training_func``, the two pool factories and
    ``placement_group`` are ``None``: OPTIMA schedules on its own), so a function written for the original can pass
    its arguments on to ``OPTIMA.core.variable_optimization.evaluate_vars_shuffle`` unchanged.
    """


# ---------------------------------------------------------------------------------------------------------------
# Experiment tracking: Ray Tune callbacks (MLflow, Weights & Biases, TensorBoard, ...)
# ---------------------------------------------------------------------------------------------------------------


@hookspec
def optima_tune_callbacks(run_config: Any, stage: Any) -> list[Any] | None:
    """Return Ray Tune callbacks (``ray.tune.Callback`` instances) to add to the Tuner of ``stage``.

    Called every time a stage starts Ray Tune: its trials, and each cross-validation of its selected trials.
    ``stage`` is the stage's folder name (``'variable_opt_hyperopt'``, ``'variable_selection'``,
    ``'main_hyperopt'``, ``'PBT'``, or ``'fixed'`` for training with fixed hyperparameters). Every
    implementation is called and the lists are concatenated, after the run-config parameter
    ``tune_callbacks``; return ``None`` or an empty list to add none. A plugin-only hook: a run-config sets
    ``tune_callbacks`` (a list, or a function of the stage name) instead.
    """
