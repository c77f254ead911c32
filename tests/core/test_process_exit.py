"""``optima run`` ends its process without tearing the imported modules down, and loses nothing by it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from optima_core.cli.process_exit import exit_code

SCRIPT = textwrap.dedent(
    """
    import atexit, logging, sys, threading, time
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    from optima_core.cli.process_exit import exit_without_teardown

    out = Path(sys.argv[1])

    class TornDown:
        def __del__(self):
            print("torn down", flush=True)

    KEPT = TornDown()  # a module global: only the teardown of the modules would delete it

    def late_thread():
        time.sleep(0.3)
        (out / "thread.txt").write_text("thread")

    threading.Thread(target=late_thread).start()  # not a daemon: the exit waits for it
    pool = ThreadPoolExecutor(1)
    pool.submit(lambda: (time.sleep(0.3), (out / "pool.txt").write_text("pool")))
    atexit.register(lambda: (out / "atexit.txt").write_text("atexit"))
    handler = logging.FileHandler(out / "log.txt")  # flushed and closed by logging's atexit handler
    logging.getLogger("x").addHandler(handler)
    logging.getLogger("x").error("logged")
    sys.stdout.write("unflushed output")
    exit_without_teardown(3)
    """
)


def test_exit_waits_for_threads_runs_atexit_flushes_and_skips_the_teardown(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 3, done.stderr
    assert (tmp_path / "thread.txt").read_text() == "thread"
    assert (tmp_path / "pool.txt").read_text() == "pool"
    assert (tmp_path / "atexit.txt").read_text() == "atexit"
    assert (tmp_path / "log.txt").read_text() == "logged\n"
    assert done.stdout == "unflushed output"  # flushed; and the module global was never torn down
    assert "torn down" not in done.stdout


@pytest.mark.parametrize(("code", "status"), [(None, 0), (0, 0), (2, 2), ("a message", 1)])
def test_exit_code_is_that_of_sys_exit(code: object, status: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code(SystemExit(code)) == status
    if isinstance(code, str):
        assert capsys.readouterr().err.strip() == code
