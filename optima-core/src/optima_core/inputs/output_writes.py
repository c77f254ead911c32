"""Writes into a run's output folder made before the folder exists (the input plots), held until it does.

``optima run`` loads and checks the inputs before it creates the output folder, so that bad data never leave a
folder behind that refuses the rerun (issue 13). The built-in ``get_experiment_inputs`` hands its input plots to
:func:`write_to_output`: inside :func:`holding_output_writes` they wait for the engine to run them once the folder
exists; anywhere else (a hook called directly, with an existing folder) they are written at once.

A run that optimizes loads its inputs twice (split for the trials, and per fold for the cross-validation), and each
load asks for the same input plots. A held write given a ``key`` replaces the one held under that key before, so
the files are written once, by the last request, as they would have been after being written twice.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_held: ContextVar[dict[object, Callable[[], object]] | None] = ContextVar("optima_held_output_writes", default=None)


def write_to_output(write: Callable[[], object], key: Hashable | None = None) -> None:
    """Call ``write`` now, or, while the output folder does not exist yet, once it does (once per ``key``)."""
    held = _held.get()
    if held is None:
        write()
    else:
        held[object() if key is None else key] = write  # a key held before keeps its place in the order


@contextmanager
def holding_output_writes() -> Iterator[list[Callable[[], object]]]:
    """Collect the writes :func:`write_to_output` receives in the block, in order, instead of running them.

    The list is filled when the block ends.
    """
    held: dict[object, Callable[[], object]] = {}
    writes: list[Callable[[], object]] = []
    token = _held.set(held)
    try:
        yield writes
    finally:
        _held.reset(token)
        writes.extend(held.values())
