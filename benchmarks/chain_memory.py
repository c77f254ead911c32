"""Peak memory of a full OPTIMA chain, and that it does not grow with the number of trials.

Usage: .venv/bin/python benchmarks/chain_memory.py [--events 20000] [--limit-mib 2098] [--work .run/bench-memory]

Runs ``optima run`` (default CPUs) on the whole chain: input-variable selection in ``hybrid`` mode (shuffle
iterations, then retraining), the main HPO with ASHA, Population Based Training, and the cross-validation and
evaluation after each stage. Two models: the built-in Lightning MLP (``model_type = "Lightning"``) and a
``LitModel`` written in the run-config from scratch, as the reference documents it. Each model runs twice: with the
base numbers of trials, epochs and selection repeats, and with all of them doubled (``2x``), so that anything that
grows per trial or per iteration shows as a higher peak.

The data are ``make_original_dataset.py``'s sample (``events`` events, 14 float32 variables of which 4 are noise,
about 1 % negative background weights), written as Parquet into the work folder.

Measured (``process_tree.py``): wall time and the process tree's peak RSS (the driver, Ray's raylet and GCS, every
Ray worker), with its split by process role at the peak, and the tree's peak PSS (shared pages counted once). Checks (on RSS, the issue's measure): every run exits with status 0, every RSS peak is
at most ``--limit-mib``, and the 2x peak of each model is at most ``--max-growth`` (default 10 %) above its base peak;
exit status 1 if a check fails.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from make_original_dataset import VARIABLES
from process_tree import TreeRun, environment, run_measured

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATASET_SCRIPT = HERE / "make_original_dataset.py"

#: The chain's numbers of trials, epochs and selection repeats; ``2x`` doubles each of them.
BASE_SCALE = {
    "num_samples_variableOpt": 2,
    "num_samples_main": 4,
    "num_samples_PBT": 3,
    "max_epochs": 6,
    "num_repeats": 2,
}

CONFIG = """\
perform_variable_opt = True
perform_main_hyperopt = True
perform_PBT_hyperopt = True
model_type = "Lightning"
inputs_file = {inputs_file!r}
output_path = {output_path!r}
output_name = "chain"
input_vars = {variables!r}
input_scaling = {{"pt_lep1": ("log10", (1.0, 0.0)), "pt_lep2": ("log10", (1.0, 0.0)), "met": ("sqrt", (1.0, 0.0))}}
evaluation_class_labels = ["Signal", "Background"]
random_seed = 42

variable_optimization_mode = "hybrid"
num_samples_variableOpt = {num_samples_variableOpt}
num_repeats = {num_repeats}
num_repeats_hybrid_retrain = 1
num_repeats_for_reevaluation = 1
var_opt_patience = 2

num_samples_main = {num_samples_main}
num_samples_PBT = {num_samples_PBT}
max_epochs = {max_epochs}
early_stopping_patience = 3
ASHA_grace_period = 2
perturbation_interval = 2
burn_in_period = 2

search_space = {{
    "batch_size": 256,
    "num_layers": {{"type": "range", "bounds": [1, 3], "value_type": "int"}},
    "units": {{"type": "range", "bounds": [16, 64], "value_type": "int", "sampling": "log"}},
    "learning_rate": {{"type": "range", "bounds": [3e-4, 1e-2], "sampling": "log", "supports_mutation": True}},
    "dropout": {{"type": "range", "bounds": [0.0, 0.2]}},
}}
"""

#: A ``LitModel`` written from the reference's description (not derived from the built-in one).
LIT_MODEL = '''
import lightning.pytorch as pl
import torch


class LitModel(pl.LightningModule):
    """An MLP standardising its inputs with statistics taken once from the training data."""

    def __init__(self, model_config, input_vars, metrics, weighted_metrics):
        super().__init__()
        self.save_hyperparameters()
        self.model_config = model_config
        width, units = len(input_vars), model_config["units"]
        self.register_buffer("offset", torch.zeros(width))
        self.register_buffer("scale", torch.ones(width))
        layers, inputs = [], width
        for _ in range(model_config["num_layers"]):
            layers += [torch.nn.Linear(inputs, units), torch.nn.SiLU(), torch.nn.Dropout(model_config["dropout"])]
            inputs = units
        self.net = torch.nn.Sequential(*layers, torch.nn.Linear(inputs, 1))

    def prepare(self, input_handler, data_module, first_prepare):
        if first_prepare:
            inputs = torch.cat([batch[0] for batch in data_module.train_dataloader()])
            self.offset = inputs.mean(dim=0)
            self.scale = inputs.std(dim=0) + 1e-6

    def forward(self, inputs):
        return torch.sigmoid(self.net((inputs - self.offset) / self.scale))

    def _loss(self, batch):
        x, y, w = batch if len(batch) == 3 else (*batch, None)
        losses = torch.nn.functional.binary_cross_entropy(self(x), y.reshape(-1, 1).float(), reduction="none")
        w = torch.ones_like(losses) if w is None else w.reshape(-1, 1)
        return (w * losses).sum() / w.sum()

    def training_step(self, batch, batch_idx):
        loss = self._loss(batch)
        self.log("train_loss", loss, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", self._loss(batch), on_step=False, on_epoch=True)

    def predict_step(self, batch, batch_idx, dataloader_idx=0):
        return self(batch[0])

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.model_config["learning_rate"])
'''


@dataclass
class Row:
    model: str
    scale: str
    run: TreeRun


def write_config(work: Path, dataset: Path, model: str, factor: int) -> tuple[Path, Path]:
    """The chain's run-config for ``model`` with every count multiplied by ``factor``; returns it and its output."""
    name = f"{model}_{factor}x"
    output = work / "out" / name
    numbers = {key: value * factor for key, value in BASE_SCALE.items()}
    text = CONFIG.format(inputs_file=str(dataset), output_path=str(output), variables=VARIABLES, **numbers)
    if model == "LitModel":
        text += LIT_MODEL
    path = work / f"config_{name}.py"
    path.write_text(text)
    return path, output


def measure(work: Path, dataset: Path, model: str, factor: int) -> Row:
    config, output = write_config(work, dataset, model, factor)
    subprocess.run(["rm", "-rf", output], check=True)
    command = [str(ROOT / ".venv" / "bin" / "optima"), "run", str(config)]
    log = work / f"{model}_{factor}x.log"
    run = run_measured(command, work, environment(work), log)
    return Row(model, f"{factor}x", run)


def print_row(row: Row) -> None:
    roles = ", ".join(f"{role} {mib:.0f}" for role, mib in row.run.peak_by_role_mib.items() if mib >= 20)
    print(
        f"{row.model:<10} {row.scale:>3} exit {row.run.exit_code} wall {row.run.wall_s:7.1f} s "
        f"peak RSS {row.run.peak_mib:6.0f} MiB, PSS {row.run.peak_pss_mib:6.0f} MiB  ({roles})",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=ROOT / ".run" / "bench-memory")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--models", nargs="+", default=["Lightning", "LitModel"], choices=["Lightning", "LitModel"])
    parser.add_argument("--factors", nargs="+", type=int, default=[1, 2])
    parser.add_argument(
        "--limit-mib", type=float, default=2.2e9 / 2**20, help="largest acceptable RSS peak (MiB; default 2.2 GB)"
    )
    parser.add_argument("--max-growth", type=float, default=0.10, help="largest acceptable growth of 2x over 1x")
    args = parser.parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    dataset = work / f"dataset_{args.events}.parquet"
    if not dataset.exists():
        subprocess.run([sys.executable, DATASET_SCRIPT, "--events", str(args.events), "--parquet", dataset], check=True)

    rows = []
    for model in args.models:
        for factor in args.factors:
            rows.append(measure(work, dataset, model, factor))
            print_row(rows[-1])

    failures = [f"{row.model} {row.scale}: exit status {row.run.exit_code}" for row in rows if row.run.exit_code]
    failures += [
        f"{row.model} {row.scale}: peak {row.run.peak_mib:.0f} MiB > {args.limit_mib:.0f} MiB"
        for row in rows
        if row.run.peak_mib > args.limit_mib
    ]
    for model in args.models:
        peaks = {row.scale: row.run.peak_mib for row in rows if row.model == model}
        if "1x" in peaks and "2x" in peaks and peaks["2x"] > peaks["1x"] * (1 + args.max_growth):
            failures.append(f"{model}: 2x peak {peaks['2x']:.0f} MiB grew over 1x peak {peaks['1x']:.0f} MiB")
    print("\n" + ("\n".join(failures) if failures else f"all peaks <= {args.limit_mib:.0f} MiB, no growth with 2x"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
