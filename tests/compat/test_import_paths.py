"""The original's documented import paths resolve to this project's implementations, lazily and import-light;
names it does not provide fail with an ImportError naming the replacement."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest

MODULES = (
    "OPTIMA",
    "OPTIMA.lightning.inputs",
    "OPTIMA.keras.model",
    "OPTIMA.hardware_configs.common",
    "OPTIMA.hardware_configs.TU_Dresden",
    "OPTIMA.hardware_configs.helpers",
    "OPTIMA.builtin.inputs",
    "OPTIMA.core.variable_optimization",
)
HEAVY = ("torch", "tensorflow", "keras", "lightning", "ray", "optuna", "matplotlib", "numpy")


def test_importing_every_module_imports_no_framework() -> None:
    probe = (
        "import importlib, json, sys\n"
        f"for name in {list(MODULES)!r}: importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {list(HEAVY)!r})))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == []


def test_the_probe_sees_a_resolved_name_import_its_framework() -> None:
    """The control of the test above: resolving a Lightning name does import torch."""
    pytest.importorskip("optima_lightning")
    probe = (
        "import sys\nfrom OPTIMA.lightning.inputs import LightningDataset\n"
        "print('torch' in sys.modules, LightningDataset.__module__)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "optima_lightning.compat"]


def test_names_resolve_to_the_implementations() -> None:
    pytest.importorskip("optima_slurm")
    from OPTIMA.builtin.inputs import InputHandler, get_inputs
    from OPTIMA.hardware_configs.common import Cluster, ClusterJob, SLURMCluster, SLURMClusterJob
    from OPTIMA.hardware_configs.TU_Dresden import Barnard

    from optima_core.builtin.input_handler import InputHandler as CoreInputHandler
    from optima_core.clusters import base
    from optima_core.inputs.loading import load_event_data
    from optima_slurm import cluster

    assert Cluster is base.Cluster and ClusterJob is base.ClusterJob
    assert issubclass(SLURMCluster, cluster.SLURMCluster) and issubclass(SLURMClusterJob, base.ClusterJob)
    assert InputHandler is CoreInputHandler and get_inputs is load_event_data
    barnard = Barnard()
    assert (barnard.name, barnard.site.cpus_per_node, barnard.site.ray_temp_dir) == ("barnard", 104, "/dev/shm/ray")


def test_adapters_have_the_documented_signatures() -> None:
    from OPTIMA.core.variable_optimization import evaluate_vars_retrain, evaluate_vars_shuffle

    documented = [
        "model_config", "models_with_inputs", "run_config", "metric", "input_handler", "var_sets_to_try",
        "training_func", "get_ShufflerAndPredictor_pool", "delete_ShufflerAndPredictor_pool", "temp_output_path",
        "num_repeats", "cpus_per_model", "gpus_per_model", "placement_group", "custom_metrics", "composite_metrics",
        "native_metrics", "weighted_native_metrics", "rng", "return_models_with_inputs",
    ]  # fmt: skip
    for function in (evaluate_vars_shuffle, evaluate_vars_retrain):
        assert list(inspect.signature(function).parameters) == documented
    if _has("optima_keras") and _has("tensorflow"):
        from OPTIMA.keras.model import build_model, compile_model, update_model

        assert list(inspect.signature(build_model).parameters) == [
            "model_config",
            "input_handler",
            "train_data",
            "seed",
        ]
        compile_parameters = inspect.signature(compile_model).parameters
        assert list(compile_parameters)[2:] == [
            "metrics", "weighted_metrics", "input_handler", "train_data", "first_compile"
        ]  # fmt: skip
        assert compile_parameters["first_compile"].default is True
        assert inspect.signature(update_model).parameters["train_data"].default is None


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def test_get_models_with_inputs_pairs_each_model_with_its_validation_set() -> None:
    from OPTIMA.core.variable_optimization import get_models_with_inputs

    models = [("fold0.ckpt", ["train0", "val0", "test0"]), ("fold1.ckpt", ["train1", "val1"])]
    assert get_models_with_inputs(models, ("a", "b")) == [
        ("fold0.ckpt", ["a", "b"], "val0"),
        ("fold1.ckpt", ["a", "b"], "val1"),
    ]


@pytest.mark.parametrize(
    ("module", "name", "replacement"),
    [
        ("OPTIMA.lightning.inputs", "get_dataloader", "define a DataLoader class in the run-config"),
        ("OPTIMA.hardware_configs.helpers", "get_cluster", "optima run --cluster NAME"),
        ("OPTIMA.core.variable_optimization", "perform_variable_optimization", "perform_variable_opt = True"),
        ("OPTIMA.keras.model", "export_builtin_keras_to_lwtnn", "finalize_model"),
    ],
)
def test_a_name_not_provided_says_what_replaces_it(module: str, name: str, replacement: str) -> None:
    with pytest.raises(ImportError) as raised:
        exec(f"from {module} import {name}", {})
    message = str(raised.value)
    assert f"{module}.{name} of the original OPTIMA is not provided here" in message
    assert replacement in message


def test_an_unknown_name_is_a_plain_import_error() -> None:
    with pytest.raises(ImportError, match="cannot import name 'LightningDatset'"):
        exec("from OPTIMA.lightning.inputs import LightningDatset", {})


def test_a_missing_backend_is_named_with_its_install_hint() -> None:
    probe = (
        "import sys\nsys.modules['optima_lightning'] = None\n"
        "try:\n    from OPTIMA.lightning.inputs import DefaultDataModule\n"
        "except ImportError as error:\n    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "OPTIMA.lightning.inputs.DefaultDataModule is provided by optima-lightning, which is not installed" in (
        result.stdout
    )


def test_the_evaluators_refuse_a_call_outside_a_variable_selection() -> None:
    from OPTIMA.core.variable_optimization import evaluate_vars_shuffle

    from optima_core.errors import OptimaUserError

    with pytest.raises(OptimaUserError, match="called outside a variable selection: expected a call from"):
        evaluate_vars_shuffle({}, [("fold0.ckpt", ["a"], None)], None, "loss", None, {"all": ["a"]})
