# ruff: noqa: N816 - OPTIMA's parameter names
"""The run-config template of ``benchmarks/scaling.py``: main HPO of the built-in Lightning MLP, fixed work per trial.

A fixed number of trials (``num_samples_main``), each trained for exactly ``max_epochs`` epochs: no ASHA, and an
early-stopping patience above the epochs, so neither can end a trial early. No input scaling (the compute floor
builds the model with identity scalings), no input plots (they would be drawn while the trials run) and no ONNX
export. ``benchmarks/scaling.py`` rewrites the ``^name = ...$`` lines of ``inputs_file``, ``output_path``,
``num_samples_main``, ``max_epochs``, ``early_stopping_patience``, ``BATCH_SIZE`` and ``ARCHITECTURE`` per events
size.

    python benchmarks/make_original_dataset.py --events 20000 --parquet /tmp/optima-scaling/events.parquet
    optima run benchmarks/configs/scaling.py     # after setting inputs_file / output_path below
"""

perform_variable_opt = False
perform_main_hyperopt = True
perform_PBT_hyperopt = False

model_type = "Lightning"

inputs_file = "/tmp/optima-scaling/events.parquet"
output_path = "/tmp/optima-scaling/out"
output_name = "scaling"
use_exact_name = True

input_vars = [
    "pt_lep1",
    "pt_lep2",
    "eta_lep1",
    "eta_lep2",
    "m_ll",
    "met",
    "dphi_ll",
    "n_jets",
    "ht",
    "pt_ratio",
    "noise_1",
    "noise_2",
    "noise_3",
    "noise_4",
]
produce_inputs_plots = False
evaluation_class_labels = ["Signal", "Background"]

max_epochs = 3
early_stopping_patience = 4
num_samples_main = 4
use_ASHAScheduler = False
export_onnx = False
random_seed = 42

BATCH_SIZE = 4096
#: ``(layers, units)``: every trial has this network, only the learning rate is searched, so all trials cost the
#: same; ``None``: layers and units are searched too (trials of different cost).
ARCHITECTURE = (2, 32)
search_space = {
    "batch_size": BATCH_SIZE,
    "num_layers": (
        {"type": "range", "bounds": [1, 3], "value_type": "int"} if ARCHITECTURE is None else ARCHITECTURE[0]
    ),
    "units": (
        {"type": "range", "bounds": [16, 64], "value_type": "int", "sampling": "log"}
        if ARCHITECTURE is None
        else ARCHITECTURE[1]
    ),
    "learning_rate": {"type": "range", "bounds": [3e-4, 1e-2], "sampling": "log"},
}
