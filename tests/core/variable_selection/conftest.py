"""The pre-HPO every variable-selection module works on, trained once per test session.

2 trials and a 3-fold cross-validation of the small Lightning MLP on the known-truth dataset (5 informative, 5 noise
variables). The tests only read its fold models; every selection writes into its own output folder.
"""

from __future__ import annotations

from typing import Any

import pytest
from vs_helpers import make_context, write_run_config


@pytest.fixture(scope="session")
def pre_hpo(tmp_path_factory: pytest.TempPathFactory) -> Any:
    pytest.importorskip("optima_lightning")
    from optima_core.engine.hpo import HpoStage
    from optima_core.engine.ray_session import ray_session

    context = make_context(write_run_config(tmp_path_factory.mktemp("pre_hpo"), "shuffle"))
    with ray_session(context.plan):
        return HpoStage("variable_opt_hyperopt", 2).run(context, None)
