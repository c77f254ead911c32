# ruff: noqa: N816 - the original's parameter names
"""An ORIGINAL-format run-config for the speed benchmarks (issue 14): it runs unchanged in the original OPTIMA.

The built-in Keras MLP on 20,000 events with 14 variables (4 of them noise), written by
``benchmarks/make_original_dataset.py``; a main HPO of 6 trials with at most 15 epochs and ASHA, then the
cross-validation and evaluation of the best-value and best-fit trials. Only names the original knows are used.
``inputs_file`` and ``output_path`` are replaced per run by ``benchmarks/vs_original.py`` (``^name = ...$`` lines).

    python benchmarks/make_original_dataset.py --events 20000 --pickle /tmp/bench/data.pkl
    optima run benchmarks/configs/original_format.py     # after setting inputs_file / output_path below
"""

perform_variable_opt = False
perform_main_hyperopt = True
perform_PBT_hyperopt = False

model_type = "Keras"

inputs_file = "/tmp/optima-bench/original_dataset.pkl"
output_path = "/tmp/optima-bench/out"
output_name = "original_format"

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
input_scaling = {
    "pt_lep1": ("log10", (1.0, 0.0)),
    "pt_lep2": ("log10", (1.0, 0.0)),
    "ht": ("log10", (1.0, 0.0)),
    "met": ("sqrt", (1.0, 0.0)),
}
evaluation_class_labels = ["Signal", "Background"]

max_epochs = 15
early_stopping_patience = 4
num_samples_main = 6
use_ASHAScheduler = True
ASHA_grace_period = 4
ASHA_max_t = 15
random_seed = 42

search_space = {
    "batch_size": 256,
    "num_layers": {"type": "range", "bounds": [1, 3], "value_type": "int"},
    "units": {"type": "range", "bounds": [16, 64], "value_type": "int", "sampling": "log"},
    "learning_rate": {"type": "range", "bounds": [3e-4, 1e-2], "sampling": "log"},
    "dropout": {"type": "range", "bounds": [0.0, 0.2]},
}
