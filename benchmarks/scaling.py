"""How OPTIMA's main-HPO wall time grows with the number of events, against the compute floor of the same trials.

Usage: .venv/bin/python benchmarks/scaling.py [--events 20000 200000 2000000] [--trials 4] [--epochs 3]
       [--batch-size 4096] [--architecture 2 32 | --searched-architecture] [--max-overhead 0.15]
       [--work .run/bench-scaling]

Per events size, in order:

1. **Data**: ``events_<N>.parquet`` in the work folder, written by ``make_original_dataset.make_frame`` (14 float32
   variables, 4 of them noise, weights, ``target``) unless it is there already (the files are kept).
2. **OPTIMA**: ``optima run`` (default CPUs: one trial slot per CPU, one CPU per trial) of the run-config template
   ``benchmarks/configs/scaling.py`` with this size's inputs, a fresh output folder, ``--trials`` trials of exactly
   ``--epochs`` epochs (no ASHA; early stopping cannot fire) and a fixed ``--batch-size``. By default every trial
   has the same network (``--architecture LAYERS UNITS``, 2 x 32) and only the learning rate is searched, so the
   trials cost the same and "floor x trials / slots" is a packing the slots can reach; with
   ``--searched-architecture`` the layers (1-3) and units (16-64) are searched too, and trials of different cost
   started in the searcher's order cannot in general fill both slots to the end (see the packed floor below).
   The main-HPO time is the ``hpo`` phase of stage ``main_hyperopt`` in the run's ``optima_run.json``
   (``optima_core.engine.phases``): from the Tuner's start to its last trial, Ray's start-up excluded. The
   run-config has no switch to skip what follows (selection, cross-validation of the best trial, evaluation); those
   phases run but are not counted.
3. **Compute floor**: in a fresh Python process (so that the 2M-event tensors go away with it), for every trial of
   the run's ``main_hyperopt/trials.json`` (its hyperparameters and epochs run), the same built-in
   ``optima_lightning.mlp.LitModel`` is built and its input normalisation fitted (``DefaultDataModule``, as a trial
   does), then trained in a plain PyTorch loop (``lightning_epoch.plain_epoch``: shuffled batches of the trial's
   batch size, the loss of ``training_step``, fused Adam) with ``torch.set_num_threads(1)``, each epoch followed by
   a validation pass (weighted mean loss in 64k-event batches, as ``validation_step`` under the built-in loaders).
   The training / validation sizes are those the run's manifest reports (``inputs.classes``; the events are the
   first rows of the same Parquet file). The floor of the HPO is the sum of the per-trial times divided by the
   run's parallel trial slots (``resources.concurrent_trials``), i.e. perfect packing of the trials onto the slots.
   The table also gives the floor packed the way Tune starts the trials: in the run's order, each on the first
   slot that is free.

   The trials are measured the way the HPO runs them: in ``--floor-processes`` plain processes at the same time
   (default: one per trial slot of the run; trial ``i`` in process ``i mod N``), so that both share the CPUs'
   caches and memory bandwidth alike; ``--floor-processes 1`` measures them one after the other in one process.
   This is done ``--floor-repeats`` times (default 2), right after the HPO, and each trial's times are averaged:
   on a shared VM one measurement of the floor was seen to move by 15 % between runs, more than the overhead it is
   meant to show.

It prints a table per size (HPO wall time, floor, ratio, overhead = HPO / floor - 1) and exits with status 1 when the
overhead at the largest size is above ``--max-overhead`` (or a run fails). Per size it also prints the two parts of
the overhead: the median epoch after each trial's first (Tune's ``time_this_iter_s``) against the floor's, and the
trials' first epochs (set-up, and on a new worker its start and imports) against the floor's build plus first
epoch. Other processes on the CPUs distort both times; the load average is printed. Results go into
benchmarks/RESULTS.md by hand, with the machine state.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lightning_epoch import StandInInputHandler, load_average, plain_epoch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CONFIG_TEMPLATE = HERE / "configs" / "scaling.py"
MAIN_HPO_STAGE = "main_hyperopt"
HPO_PHASE = "hpo"
#: A run that takes longer is stopped and counted as failed.
RUN_TIMEOUT_S = 3 * 3600


# -- the OPTIMA run --------------------------------------------------------------------------------------------------


def dataset(work: Path, events: int) -> Path:
    """The cached Parquet file of ``events`` events (written on first use)."""
    path = work / f"events_{events}.parquet"
    if not path.exists():
        from make_original_dataset import make_frame

        make_frame(events, seed=14).to_parquet(path, index=False)
    return path


def write_config(work: Path, events: int, settings: dict[str, Any]) -> Path:
    """The template with its ``^name = ...$`` lines replaced by ``settings`` (each name must be in the template)."""
    text = CONFIG_TEMPLATE.read_text()
    for key, value in settings.items():
        text, count = re.subn(rf"^{key}\s*=.*$", f"{key} = {value!r}", text, flags=re.MULTILINE)
        if count != 1:
            raise ValueError(f"{CONFIG_TEMPLATE} has no single line '{key} = ...'")
    path = work / f"config_{events}.py"
    path.write_text(text)
    return path


def packed_floor(trial_seconds: list[float], slots: int) -> float:
    """Wall time of the trials run in their order, each on the first free one of ``slots`` slots."""
    free_at = [0.0] * slots
    for seconds in trial_seconds:
        first = min(range(slots), key=free_at.__getitem__)
        free_at[first] += seconds
    return max(free_at)


def run_optima(work: Path, events: int, options: argparse.Namespace) -> tuple[Path, float]:
    """Run OPTIMA on ``events`` events; ``(output folder of the run, wall seconds of the whole command)``."""
    output_path = work / "out" / str(events)
    shutil.rmtree(output_path, ignore_errors=True)
    settings = {
        "inputs_file": str(dataset(work, events)),
        "output_path": str(output_path),
        "num_samples_main": options.trials,
        "max_epochs": options.epochs,
        "early_stopping_patience": options.epochs + 1,
        "BATCH_SIZE": options.batch_size,
        "ARCHITECTURE": None if options.searched_architecture else tuple(options.architecture),
    }
    config = write_config(work, events, settings)
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "MPLBACKEND": "Agg"}
    env.setdefault("MPLCONFIGDIR", str(work / "mpl"))
    log = work / f"optima_{events}.log"
    start = time.perf_counter()
    with log.open("w") as stream:
        command = [str(Path(sys.executable).parent / "optima"), "run", str(config)]
        code = subprocess.run(
            command, stdout=stream, stderr=subprocess.STDOUT, env=env, timeout=RUN_TIMEOUT_S
        ).returncode
    wall_s = time.perf_counter() - start
    if code != 0:
        raise RuntimeError(f"optima run failed (exit status {code}); see {log}")
    return output_path / "scaling", wall_s


def hpo_seconds(run: Path) -> float:
    """The main-HPO phase's seconds from the run's manifest."""
    phases = json.loads((run / "optima_run.json").read_text())["phases"]
    found = [p["seconds"] for p in phases if p["phase"] == HPO_PHASE and p["stage"] == MAIN_HPO_STAGE]
    if len(found) != 1:
        raise RuntimeError(f"{run / 'optima_run.json'} has {len(found)} '{HPO_PHASE}' phases of {MAIN_HPO_STAGE}")
    return float(found[0])


def trial_epoch_seconds(run: Path) -> list[list[float]]:
    """Tune's ``time_this_iter_s`` of every epoch of every main-HPO trial (one list per trial; the first epoch
    includes the trial's set-up, and on a new worker its start and imports)."""
    trials = []
    for results in sorted((run / MAIN_HPO_STAGE / "tune" / "trials").glob("*/result.json")):
        rows = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
        trials.append([float(row["time_this_iter_s"]) for row in rows])
    return trials


def epoch_summary(trial_epochs: list[list[float]], floor: dict[str, Any]) -> str:
    """Where the HPO's time differs from the floor's: the epochs after each trial's first against the floor's, and
    each trial's first epoch against the floor's build plus one epoch."""
    later = [s for epochs in trial_epochs for s in epochs[1:]]
    floor_later = [s for epochs in floor["epoch_seconds"] for s in epochs[1:]]
    if not later or not floor_later:
        return "epochs: too few to compare"
    firsts = sorted(epochs[0] for epochs in trial_epochs if epochs)
    floor_first = statistics.median(b + e[0] for b, e in zip(floor["builds"], floor["epoch_seconds"], strict=True))
    trial_median, floor_median = statistics.median(later), statistics.median(floor_later)
    return (
        f"epochs after the first: trials {trial_median:.2f} s, floor {floor_median:.2f} s "
        f"({(trial_median / floor_median - 1) * 100:+.1f}%, medians); first epochs: trials "
        f"{', '.join(f'{s:.2f}' for s in firsts)} s, floor's build + first epoch {floor_first:.2f} s"
    )


# -- the compute floor (run in its own process: --floor-of RUN PARQUET) ------------------------------------------------


def split_sizes(manifest: dict[str, Any]) -> tuple[int, int]:
    """Training and validation events of a run, from its manifest's ``inputs.classes``."""
    classes = manifest["inputs"]["classes"]
    return tuple(sum(entry["events"] for entry in classes[split]) for split in ("train", "val"))  # type: ignore[return-value]


def validation_pass(model: Any, tensors: tuple[Any, ...], batch_size: int) -> float:
    """Seconds of one pass over the validation tensors: the weighted mean loss, as ``validation_step`` computes it."""
    import torch

    from optima_lightning.data import EVALUATION_BATCH_SIZE

    model.eval()
    start = time.perf_counter()
    size = max(batch_size, EVALUATION_BATCH_SIZE)
    total = torch.zeros(()), torch.zeros(())
    with torch.inference_mode():
        for first in range(0, len(tensors[0]), size):
            _, _, loss, weights = model.event_losses(tuple(t[first : first + size] for t in tensors))
            total = total[0] + (loss * weights).sum(), total[1] + weights.sum()
    float(total[0] / total[1])
    return time.perf_counter() - start


def floor_trial(
    config: dict[str, Any], epochs: int, data: dict[str, dict[str, Any]], variables: list[str]
) -> dict[str, Any]:
    """One trial in plain PyTorch: build + normalisation fit, then ``epochs`` x (training + validation).
    ``{"seconds": total, "build": seconds of the build and fit, "epochs": seconds of each epoch}``."""
    import torch

    from optima_lightning.data import DefaultDataModule, tensors_of
    from optima_lightning.mlp import LitModel

    torch.manual_seed(0)
    start = time.perf_counter()
    handler = StandInInputHandler(variables)
    module = DefaultDataModule(None, config, handler, dataset_train=data["train"], dataset_val=data["val"], seed=0)
    module.setup("fit")
    model = LitModel(model_config=config, input_vars=variables, metrics=[], weighted_metrics=[])
    model.prepare(handler, module, first_prepare=True)
    build = time.perf_counter() - start
    train, val = tensors_of(data["train"]), tensors_of(data["val"])
    generator = torch.Generator().manual_seed(0)
    epoch_seconds = [
        plain_epoch(model, train, int(config["batch_size"]), generator)
        + validation_pass(model, val, int(config["batch_size"]))
        for _ in range(epochs)
    ]
    return {"seconds": build + sum(epoch_seconds), "build": build, "epochs": epoch_seconds}


def floor_main(run: Path, parquet: Path, indices: list[int] | None = None) -> None:
    """Print the plain-PyTorch seconds and epochs of the trials of ``run`` (those at ``indices``, default all) and
    its trial slots, as JSON."""
    import numpy as np
    import pandas as pd
    import torch

    torch.set_num_threads(1)
    manifest = json.loads((run / "optima_run.json").read_text())
    variables = list(manifest["inputs"]["variables"])
    n_train, n_val = split_sizes(manifest)
    frame = pd.read_parquet(parquet, columns=[*variables, "Weight", "target"]).iloc[: n_train + n_val]
    columns = {
        "Input": frame[variables].to_numpy(np.float32),
        "Target": frame["target"].to_numpy(np.float32).reshape(-1, 1),
        "Weight": frame["Weight"].to_numpy(np.float32),
    }
    data = {
        "train": {key: value[:n_train] for key, value in columns.items()},
        "val": {key: value[n_train:] for key, value in columns.items()},
    }
    trials = json.loads((run / MAIN_HPO_STAGE / "trials.json").read_text())
    if indices is not None:
        trials = [trials[index] for index in indices]
    measured = [floor_trial(dict(trial["config"]), int(trial["epochs"]), data, variables) for trial in trials]
    print(
        json.dumps(
            {
                "trials": [m["seconds"] for m in measured],
                "builds": [m["build"] for m in measured],
                "epoch_seconds": [m["epochs"] for m in measured],
                "epochs": [int(trial["epochs"]) for trial in trials],
                "slots": manifest["resources"]["concurrent_trials"],
            }
        )
    )


def floor_once(run: Path, parquet: Path, processes: int) -> dict[str, Any]:
    """The floor of ``run``'s trials measured in ``processes`` fresh processes at the same time (trial ``i`` in
    process ``i mod processes``), merged back into the run's trial order."""
    trial_count = len(json.loads((run / MAIN_HPO_STAGE / "trials.json").read_text()))
    shares = [list(range(first, trial_count, processes)) for first in range(min(processes, trial_count))]
    # Output goes to files, not pipes: a process whose pipe filled up while another's was read would wait, and its
    # trials would be timed with that wait in them.
    merged: dict[str, Any] = {key: [None] * trial_count for key in ("trials", "builds", "epoch_seconds", "epochs")}
    with contextlib.ExitStack() as files:
        started = []
        for share in shares:
            stdout, stderr = (files.enter_context(tempfile.TemporaryFile("w+")) for _ in range(2))
            arguments = ["--floor-of", str(run), str(parquet), "--floor-trials", *map(str, share)]
            process = subprocess.Popen([sys.executable, __file__, *arguments], stdout=stdout, stderr=stderr, text=True)
            started.append((share, process, stdout, stderr))
            files.callback(process.kill)  # a no-op for a process that has ended; stops the others if one failed
        parts = []
        for share, process, stdout, stderr in started:
            process.wait()
            stdout.seek(0)
            stderr.seek(0)
            if process.returncode != 0:
                raise RuntimeError(f"the floor of {run} (trials {share}) failed:\n{stderr.read()[-3000:]}")
            parts.append((share, json.loads(stdout.read().strip().splitlines()[-1])))
    for share, part in parts:
        merged["slots"] = part["slots"]
        for position, index in enumerate(share):
            for key in ("trials", "builds", "epoch_seconds", "epochs"):
                merged[key][index] = part[key][position]
    return merged


def floor_of(run: Path, parquet: Path, processes: int | None, repeats: int) -> dict[str, Any]:
    """The floor of ``run`` measured ``repeats`` times (each in ``processes`` processes at once; default: the run's
    trial slots), every trial's times averaged over the repeats; ``"repeats"`` keeps each repeat's trial seconds."""
    manifest = json.loads((run / "optima_run.json").read_text())
    processes = processes or int(manifest["resources"]["concurrent_trials"])
    measured = [floor_once(run, parquet, processes) for _ in range(repeats)]

    def mean(values: list[Any]) -> Any:
        if isinstance(values[0], list):
            return [mean(list(column)) for column in zip(*values, strict=True)]
        return sum(values) / len(values)

    floor = {key: mean([m[key] for m in measured]) for key in ("trials", "builds", "epoch_seconds")}
    return {
        **floor,
        "epochs": measured[0]["epochs"],
        "slots": measured[0]["slots"],
        "processes": processes,
        "repeats": [m["trials"] for m in measured],
    }


# -- driver ------------------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, nargs="+", default=[20_000, 200_000, 2_000_000])
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument(
        "--architecture", type=int, nargs=2, default=[2, 32], metavar=("LAYERS", "UNITS"), help="of every trial"
    )
    parser.add_argument(
        "--searched-architecture", action="store_true", help="search layers and units too (trials of unequal cost)"
    )
    parser.add_argument("--max-overhead", type=float, default=0.15, help="at the largest size: HPO / floor - 1")
    parser.add_argument("--work", type=Path, default=ROOT / ".run" / "bench-scaling")
    parser.add_argument(
        "--floor-processes", type=int, default=None, help="plain processes at once (default: the run's trial slots)"
    )
    parser.add_argument("--floor-repeats", type=int, default=2, help="measurements of the floor, averaged")
    parser.add_argument("--floor-of", nargs=2, type=Path, metavar=("RUN", "PARQUET"), help=argparse.SUPPRESS)
    parser.add_argument("--floor-trials", type=int, nargs="+", default=None, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.floor_of:
        floor_main(*options.floor_of, indices=options.floor_trials)
        return 0
    if options.floor_repeats < 1 or (options.floor_processes is not None and options.floor_processes < 1):
        parser.error("--floor-repeats and --floor-processes must be at least 1")

    work = options.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    layers, units = options.architecture
    network = "searched layers and units" if options.searched_architecture else f"{layers} x {units} units"
    print(
        f"{options.trials} trials x {options.epochs} epochs, batch size {options.batch_size}, {network}; "
        f"load average {load_average()}",
        flush=True,
    )
    rows = []
    for events in sorted(options.events):
        run, wall_s = run_optima(work, events, options)
        hpo_s = hpo_seconds(run)
        floor = floor_of(run, dataset(work, events), options.floor_processes, options.floor_repeats)
        trials = floor["trials"]
        floor_s = sum(trials) / floor["slots"]
        epochs = "/".join(str(e) for e in sorted(set(floor["epochs"])))  # epochs run: all --epochs unless one failed
        packed_s = packed_floor(trials, floor["slots"])
        rows.append((events, len(trials), epochs, hpo_s, floor_s, floor["slots"], packed_s))
        per_trial = ", ".join(f"{s:.2f}" for s in trials)
        repeats = "; ".join(f"{sum(seconds) / floor['slots']:.1f} s" for seconds in floor["repeats"])
        print(
            f"{events} events: optima run {wall_s:.1f} s, main HPO {hpo_s:.1f} s; plain trials {per_trial} s on "
            f"{floor['slots']} slots (mean of {len(floor['repeats'])} measurements in {floor['processes']} "
            f"processes at once, floors {repeats}); load average {load_average()}",
            flush=True,
        )
        print(f"{events} events: {epoch_summary(trial_epoch_seconds(run), floor)}", flush=True)

    print()
    print(
        "| events | trials | epochs | main-HPO wall time | floor x trials / slots | ratio HPO/floor | overhead "
        "| floor packed in the run's order | overhead against it |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for events, trials, epochs, hpo_s, floor_s, slots, packed_s in rows:
        ratio = hpo_s / floor_s
        print(
            f"| {events:,} | {trials} | {epochs} | {hpo_s:.1f} s | {floor_s:.1f} s ({slots} slots) | {ratio:.2f}x | "
            f"{(ratio - 1) * 100:+.0f}% | {packed_s:.1f} s | {(hpo_s / packed_s - 1) * 100:+.0f}% |"
        )
    overhead = rows[-1][3] / rows[-1][4] - 1
    passed = overhead <= options.max_overhead
    print(
        f"\noverhead at {rows[-1][0]:,} events: {overhead * 100:+.1f}% (at most {options.max_overhead * 100:g}%): "
        f"{'OK' if passed else 'FAIL'}; load average at the end {load_average()}"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
