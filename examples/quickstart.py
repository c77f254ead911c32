"""OPTIMA quickstart: tune the built-in Lightning MLP on the bundled signal/background sample.

Run it with ``optima run examples/quickstart.py`` (or ``make demo``). Every parameter not set here keeps its
default; ``optima check examples/quickstart.py`` prints them all.
"""

from pathlib import Path

# Which stages to run: a short main hyperparameter optimization, no variable selection, no PBT.
perform_variable_opt = False
perform_main_hyperopt = True
perform_PBT_hyperopt = False

model_type = "Lightning"  # the built-in MLP of optima-lightning; no model code needed

inputs_file = str(Path(__file__).parent / "data" / "quickstart.parquet")
input_vars = ["pt_lep1", "pt_lep2", "eta_lep1", "eta_lep2", "m_ll", "met", "dphi_ll", "n_jets"]
input_scaling = {"pt_lep1": ("log10", (1.0, 0.0)), "pt_lep2": ("log10", (1.0, 0.0)), "met": ("sqrt", (1.0, 0.0))}
evaluation_class_labels = ["Signal", "Background"]

output_path = "DNN_storage"
output_name = "quickstart"

max_epochs = 12
early_stopping_patience = 4
ASHA_grace_period = 4
num_samples_main = 6

search_space = {
    "batch_size": 256,
    "num_layers": {"type": "range", "bounds": [1, 3], "value_type": "int"},
    "units": {"type": "range", "bounds": [16, 64], "value_type": "int", "sampling": "log"},
    "learning_rate": {"type": "range", "bounds": [3e-4, 1e-2], "sampling": "log"},
    "dropout": {"type": "range", "bounds": [0.0, 0.2]},
}
