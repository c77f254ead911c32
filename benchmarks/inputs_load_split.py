"""Load + weight + split a 2-million-event Parquet file: time and peak memory of the built-in input pipeline.

Usage: .venv/bin/python benchmarks/inputs_load_split.py [--events 2000000] [--variables 20] [--max-event-weight 10]

Writes a Parquet file (float32 variables, lognormal weights, event numbers, a binary target) into a temporary
folder, then measures in a fresh subprocess (so writing the file does not count): the built-in loader
(``load_event_data``: read, select, normalise weights, duplicate heavy events) and the built-in random split
with shuffling (``split_event_data``, as ``get_experiment_inputs`` calls it). Peak memory is the process's peak
RSS minus its RSS after the imports, compared with the raw input array (events x variables x 4 bytes).
Checks: peak memory < 3x the raw array, load + split < 30 s. Exit status 1 if a check fails.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MAX_MEMORY_RATIO = 3.0
MAX_SECONDS = 30.0


def write_file(path: Path, n_events: int, n_variables: int, seed: int = 1) -> None:
    """Write the file in row groups, so that generating it needs little memory."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    numbers = rng.permutation(n_events).astype(np.int64)
    chunk = 250_000
    writer = None
    for start in range(0, n_events, chunk):
        n = min(chunk, n_events - start)
        target = (rng.random(n) < 0.4).astype(np.int8)
        columns = {
            f"var_{i:02d}": rng.normal(target * 0.3 * (i % 3), 1.0, n).astype(np.float32) for i in range(n_variables)
        }
        columns["Weight"] = (rng.lognormal(0.0, 0.6, n) * np.where(target == 1, 0.02, 0.5)).astype(np.float32)
        columns["EventNumber"] = numbers[start : start + n]
        columns["target"] = target
        table = pa.table(columns)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def measure(path: Path, max_event_weight: float) -> dict[str, float]:
    """Runs in the subprocess: load and split once, report times and memory."""
    import numpy  # noqa: F401 - the libraries the loader uses count as baseline, not as data
    import pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    from optima_core.config.loader import RunConfig
    from optima_core.config.parameters import defaults
    from optima_core.inputs.loading import load_event_data
    from optima_core.inputs.splitting import RandomSplit, split_event_data

    config = RunConfig({**defaults(), "inputs_file": str(path), "max_event_weight": max_event_weight})
    baseline = rss_bytes()
    start = time.perf_counter()
    data = load_event_data(config, math.inf, None, disable_printing=True)
    loaded = time.perf_counter()
    train, val, test = split_event_data(data, RandomSplit(0.2, 0.2, 42), shuffle=True)
    done = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    raw = data["Input"].nbytes
    return {
        "events_loaded": len(data),
        "variables": len(data.variables),
        "load_s": loaded - start,
        "split_s": done - loaded,
        "total_s": done - start,
        "raw_mib": raw / 2**20,
        "baseline_rss_mib": baseline / 2**20,
        "peak_rss_mib": peak / 2**20,
        "peak_increase_mib": (peak - baseline) / 2**20,
        "memory_ratio": (peak - baseline) / raw,
        "sets": [len(train), len(val), len(test)],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--variables", type=int, default=20)
    parser.add_argument("--max-event-weight", type=float, default=10.0)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.measure:
        print(json.dumps(measure(options.measure, options.max_event_weight)))
        return 0

    with tempfile.TemporaryDirectory(prefix="optima-bench-") as folder:
        path = Path(folder) / "events.parquet"
        start = time.perf_counter()
        write_file(path, options.events, options.variables)
        print(
            f"wrote {options.events} events x {options.variables} variables "
            f"({path.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - start:.1f} s"
        )
        command = [
            sys.executable,
            __file__,
            "--measure",
            str(path),
            "--max-event-weight",
            str(options.max_event_weight),
        ]
        run = subprocess.run(command, capture_output=True, text=True, check=False)
        if run.returncode != 0:
            print(run.stderr, file=sys.stderr)
            return 2
        result = json.loads(run.stdout)

    print(f"loaded {result['events_loaded']} events (incl. copies of heavy events), {result['variables']} variables")
    print(f"load + weights {result['load_s']:.2f} s, split {result['split_s']:.2f} s, total {result['total_s']:.2f} s")
    print(
        f"raw input array {result['raw_mib']:.0f} MiB; RSS after imports {result['baseline_rss_mib']:.0f} MiB, "
        f"peak {result['peak_rss_mib']:.0f} MiB: +{result['peak_increase_mib']:.0f} MiB = "
        f"{result['memory_ratio']:.2f}x the raw array"
    )
    print(f"sets (train, val, test): {result['sets']}")
    ok_memory = result["memory_ratio"] < MAX_MEMORY_RATIO
    ok_time = result["total_s"] < MAX_SECONDS
    print(
        f"memory < {MAX_MEMORY_RATIO:g}x raw: {'OK' if ok_memory else 'FAIL'}; "
        f"time < {MAX_SECONDS:g} s: {'OK' if ok_time else 'FAIL'}"
    )
    return 0 if ok_memory and ok_time else 1


if __name__ == "__main__":
    sys.exit(main())
