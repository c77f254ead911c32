"""Signal handling of a run without Ray (the end-to-end Ctrl-C / SIGTERM tests are in tests/engine).

Inside ``interruptible()`` a stop signal raises ``RunInterrupted`` at once; inside a Tune experiment it first asks
Tune to stop (Tune's SIGUSR1 handler, installed by its ``fit``) and raises when the experiment has returned.
"""

from __future__ import annotations

import os
import signal

import pytest

from optima_core.engine.interruption import RunInterrupted, interruptible, tune_experiment


@pytest.mark.parametrize(("signum", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_signal_outside_tune_raises_run_interrupted(signum: int, exit_code: int) -> None:
    before = signal.getsignal(signum)
    with pytest.raises(RunInterrupted) as raised, interruptible():
        os.kill(os.getpid(), signum)
    assert raised.value.exit_code == exit_code
    assert signal.getsignal(signum) is before  # the handler of before the run is back


def test_a_stop_signal_during_a_tune_experiment_lets_it_stop_then_raises() -> None:
    stops: list[int] = []
    after_signal: list[str] = []
    with pytest.raises(RunInterrupted) as raised, interruptible(), tune_experiment():
        assert os.environ["TUNE_DISABLE_SIGINT_HANDLER"] == "1"  # SIGINT is left to OPTIMA
        signal.signal(signal.SIGUSR1, lambda signum, frame: stops.append(signum))  # as Tune's fit does
        os.kill(os.getpid(), signal.SIGTERM)
        after_signal.append("the experiment saved its state and returned")
    assert stops == [signal.SIGTERM]
    assert after_signal, "the signal did not wait for the experiment to return"
    assert raised.value.exit_code == 143


class _SignalledWhileCollected:
    """Sends SIGTERM from ``__del__``: the handler's exception is raised there, where Python only prints it."""

    def __del__(self) -> None:
        import time

        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.5)  # the handler runs during the sleep and its RunInterrupted is "ignored"


def test_a_stop_signal_whose_exception_python_swallowed_still_stops_the_next_experiment() -> None:
    """Seen in a SLURM job: SIGTERM arrived in an import-lock callback, the exception was ignored, and the run went
    on with its trials until SLURM killed it, without saying why."""
    started = []
    with pytest.raises(RunInterrupted) as stopped, interruptible():
        _SignalledWhileCollected().__class__  # noqa: B018 - created and collected at once
        with tune_experiment():
            started.append(True)
    assert stopped.value.signal_name == "SIGTERM"
    assert not started, "a Tune experiment started after a stop signal"
