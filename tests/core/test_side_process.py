"""Work off a run's critical path runs in a low-priority side process, which never outlives the driver."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from optima_core.engine.side_process import SideProcessError, call, side_processes_allowed


def test_outside_the_engine_block_a_call_runs_here() -> None:
    assert call("os:getpid") == os.getpid()
    assert call(os.getpid) == os.getpid()


def test_inside_the_block_a_named_function_runs_in_a_side_process_at_the_lowest_priority() -> None:
    with side_processes_allowed():
        assert call("os:getpid") != os.getpid()
        assert call("os:nice", 0) == 19  # os.nice(0) answers the process's niceness
        assert call(os.getpid) == os.getpid()  # not importable by name: runs here
    assert call("os:getpid") == os.getpid()  # the block is over


def test_the_side_process_keeps_its_imports_out_of_the_garbage_collections() -> None:
    """The function's module is imported with collections paused and then frozen: the figures' collections scan
    only what the drawing makes, not matplotlib's modules."""
    with side_processes_allowed():
        # everything the process holds after its imports: about 10,000 objects, fewer when the modules come from
        # bytecode caches; 0 without the freeze
        assert call("gc:get_freeze_count") > 2_000
        assert call("gc:isenabled") is True


def test_the_block_holds_for_its_thread_only() -> None:
    seen: list[int] = []
    with side_processes_allowed():
        thread = threading.Thread(target=lambda: seen.append(call("os:getpid")))
        thread.start()
        thread.join()
    assert seen == [os.getpid()]


def test_arguments_and_results_travel_both_ways() -> None:
    import numpy as np

    values = np.arange(200_000, dtype=np.float32)  # larger than a pipe's buffer
    with side_processes_allowed():
        assert call("numpy:sum", values, dtype=np.float64) == float(values.sum(dtype=np.float64))


def test_an_error_of_the_function_is_raised_with_the_side_process_traceback() -> None:
    with side_processes_allowed(), pytest.raises(json.JSONDecodeError) as raised:
        call("json:loads", "{not json")
    assert "raised in the side process running json:loads" in "".join(raised.value.__notes__)


def test_a_side_process_that_dies_without_answering_is_an_error_naming_it() -> None:
    with side_processes_allowed(), pytest.raises(SideProcessError, match=r"os:_exit ended with exit status 3"):
        call("os:_exit", 3)


DRIVER = """
import os, sys, threading, time
from optima_core.engine.side_process import call, side_processes_allowed

def work():
    with side_processes_allowed():
        call("time:sleep", 120)

threading.Thread(target=work, daemon=True).start()
time.sleep(120)
"""


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def niceness(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
    except (OSError, IndexError, ValueError):
        return None


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead and waiting to be reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the side process dies with its driver on Linux")
def test_a_killed_driver_takes_its_side_process_with_it() -> None:
    driver = subprocess.Popen([sys.executable, "-c", textwrap.dedent(DRIVER)])
    try:
        deadline = time.monotonic() + 30
        while not (children := children_of(driver.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert children, "the side process did not start"
        (child,) = children
        while niceness(child) != 19 and time.monotonic() < deadline:
            time.sleep(0.05)  # running its work: past its start-up
        assert niceness(child) == 19
    finally:
        driver.send_signal(signal.SIGKILL)
        driver.wait()
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)
