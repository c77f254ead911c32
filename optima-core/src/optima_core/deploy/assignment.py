"""Which fold model applies to which event: the rule the run's split really followed, read from its folds.

Each event goes to the model that held it out: the fold whose *testing* set holds it (rotating testing sets), or
whose *validation* set holds it (no testing set, or a fixed testing set shared by every fold). Events held out by
every model (a fixed testing set) and events the run never saw (new data) get the mean of all models.

The rule is derived from the event numbers in the fold datasets themselves, so it is the split the run used
(offsets, rotation and, for random splits, the seeded permutation): with ``use_eventNums_splitting`` it is checked
to be ``(EventNumber + offset) % N == 0`` per fold and written as that formula; otherwise (random or custom splits)
the event numbers of every held-out set are written to a table, ``event_folds.npz``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

TABLE_FILE = "event_folds.npz"


def _event_numbers(data: Any) -> np.ndarray | None:
    if data is None or "EventNumber" not in data:
        return None
    return np.unique(np.asarray(data["EventNumber"], dtype=np.int64))


def held_out(folds: list[dict[str, Any]]) -> tuple[str, list[np.ndarray] | None, np.ndarray | None]:
    """``(set name, event numbers held out by each fold, event numbers held out by every fold or None)``."""
    tests = [_event_numbers(fold.get("test")) for fold in folds]
    vals = [_event_numbers(fold.get("val")) for fold in folds]
    if any(v is None for v in vals):
        return "none", None, None
    if all(t is not None for t in tests):
        present = [t for t in tests if t is not None]
        if len(folds) > 1 and all(np.array_equal(present[0], t) for t in present[1:]):
            return "validation", [v for v in vals if v is not None], present[0]  # a fixed testing set
        return "testing", present, None
    return "validation", [v for v in vals if v is not None], None


def _formula(offset: int | str, n: int) -> str:
    return f"(EventNumber + {offset}) % {n} == 0" if offset != 0 else f"EventNumber % {n} == 0"


def _offset(numbers: np.ndarray, every: np.ndarray, n: int) -> int | None:
    """The ``offset`` with ``numbers == every[(every + offset) % n == 0]``, or None when no offset describes them."""
    residues = np.unique(numbers % n)
    if len(residues) != 1:
        return None
    offset = int((-residues[0]) % n)
    return offset if np.array_equal(every[(every + offset) % n == 0], numbers) else None


def describe(run_config: Any, folds: list[dict[str, Any]], kept: list[int], folder: Path) -> dict[str, Any]:
    """``{"applies_to": text, "assignment": {...}, "conditions": {fold: {...}}}`` for the models of ``kept`` folds.

    Writes ``event_folds.npz`` into ``folder`` when the rule is a table.
    """
    if len(folds) == 1:
        return {"applies_to": "every event (a single model)", "assignment": {"kind": "all"}, "conditions": {}}
    name, sets, shared = held_out(folds)
    if sets is None:
        return {
            "applies_to": "no event numbers in the datasets: every event gets the mean of all models",
            "assignment": {"kind": "all", "otherwise": "mean"},
            "conditions": {},
        }
    everyone = np.unique(np.concatenate([*sets, *([shared] if shared is not None else [])]))
    shared_text = ""
    if shared is not None:
        shared_text = "; the fixed testing set (held out by every model) and any other event: the mean of all models"
    else:
        shared_text = "; any other event: the mean of all models"
    n = int(run_config.get("eventNums_splitting_N") or 0)
    if run_config.get("use_eventNums_splitting") and n > 1:
        candidates = everyone if shared is None else np.setdiff1d(everyone, shared)
        found = [_offset(sets[i], candidates, n) for i in kept]
        offsets = [o for o in found if o is not None]
        if len(offsets) == len(kept):
            conditions = {i: {"n": n, "offset": o} for i, o in zip(kept, offsets, strict=True)}
            first = offsets[0]
            rotating = len(kept) == len(folds) and all(o == (first + i) % n for i, o in zip(kept, offsets, strict=True))
            if rotating:
                rule = _formula(f"{first} + fold" if first else "fold", n)
            else:
                rule = "; ".join(f"fold {i}: {_formula(o, n)}" for i, o in zip(kept, offsets, strict=True))
            return {
                "applies_to": f"the model whose {name} set held the event: {rule}{shared_text}",
                "assignment": {"kind": "event_number", "otherwise": "mean"},
                "conditions": conditions,
            }
    numbers = np.concatenate([sets[i] for i in kept])
    fold_of = np.concatenate([np.full(len(sets[i]), i, dtype=np.int16) for i in kept])
    order = np.argsort(numbers, kind="stable")
    np.savez_compressed(folder / TABLE_FILE, event_number=numbers[order], fold=fold_of[order])
    seed = run_config.get("random_seed")
    return {
        "applies_to": (
            f"the model whose {name} set held the event in this run's split (random_seed {seed}): the fold listed "
            f"for its event number in {TABLE_FILE}{shared_text}"
        ),
        "assignment": {"kind": "table", "table": TABLE_FILE, "otherwise": "mean"},
        "conditions": {},
    }


def fold_per_event(bundle_folder: Path, content: dict[str, Any], event_numbers: np.ndarray) -> np.ndarray:
    """The index into ``content["models"]`` for every event, ``-1`` for "the mean of all models"."""
    models = content["models"]
    assignment = content.get("assignment") or {"kind": "all"}
    result = np.full(len(event_numbers), -1, dtype=np.int64)
    if len(models) == 1:
        return np.zeros(len(event_numbers), dtype=np.int64)
    kind = assignment.get("kind")
    event_numbers = np.asarray(event_numbers, dtype=np.int64)
    if kind == "event_number":
        for index, model in enumerate(models):
            condition = model.get("condition")
            if condition:
                result[(event_numbers + int(condition["offset"])) % int(condition["n"]) == 0] = index
    elif kind == "table":
        with np.load(bundle_folder / assignment["table"]) as table:
            numbers, folds = table["event_number"], table["fold"]
        index_of_fold = {int(model["fold"]): index for index, model in enumerate(models)}
        position = np.clip(np.searchsorted(numbers, event_numbers), 0, max(len(numbers) - 1, 0))
        found = (numbers[position] == event_numbers) if len(numbers) else np.zeros(len(event_numbers), dtype=bool)
        mapped = np.array([index_of_fold.get(int(f), -1) for f in folds], dtype=np.int64)
        result[found] = mapped[position[found]]
    return result
