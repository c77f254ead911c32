"""Writes into a run's output folder made before the folder exists (the input plots), held until it does.

``optima run`` loads and checks the inputs before it creates the output folder, so that bad data never leave a
folder behind that refuses the rerun (issue 13). The built-in ``get_experiment_inputs`` hands its input plots to
:func:`write_to_output`: inside :func:`holding_output_writes` they wait for the engine to run them once the folder
exists; anywhere else (a hook called directly, with an existing folder) they are written at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_held: ContextVar[list[Callable[[], object]] | None] = ContextVar("optima_held_output_writes", default=None)


def write_to_output(write: Callable[[], object]) -> None:
    """Call ``write`` now, or, while the output folder does not exist yet, once it does."""
    held = _held.get()
    if held is None:
        write()
    else:
        held.append(write)


@contextmanager
def holding_output_writes() -> Iterator[list[Callable[[], object]]]:
    """Collect the writes :func:`write_to_output` receives in the block, in order, instead of running them."""
    held: list[Callable[[], object]] = []
    token = _held.set(held)
    try:
        yield held
    finally:
        _held.reset(token)
