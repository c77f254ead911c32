"""Helpers shared by the core tests (fixtures using them live in conftest.py)."""

from __future__ import annotations

import importlib
import os
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

#: A minimal valid Keras run-config; ``{inputs_file}`` is replaced by an existing (empty) file.
BASE_SETTINGS: dict[str, str] = {
    "perform_variable_opt": "False",
    "perform_main_hyperopt": "True",
    "perform_PBT_hyperopt": "False",
    "model_type": "'Keras'",
    "inputs_file": "{inputs_file}",
    "input_vars": "['pt', 'eta', 'phi']",
}


@dataclass
class FakeSite:
    """A folder on sys.path holding fake distributions; ``env`` runs subprocesses with the same path."""

    path: Path
    modules: set[str] = field(default_factory=set)

    def add_distribution(
        self,
        name: str,
        entry_points: dict[str, str],
        modules: dict[str, str],
        version: str = "1.0",
    ) -> None:
        """Create ``<name>-<version>.dist-info`` with entry points of group ``optima`` and the plugin modules."""
        dist_info = self.path / f"{name.replace('-', '_')}-{version}.dist-info"  # as wheels name it
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        lines = ["[optima]", *(f"{ep} = {target}" for ep, target in entry_points.items())]
        (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        for module, source in modules.items():
            (self.path / f"{module}.py").write_text(textwrap.dedent(source))
            self.modules.add(module)
        importlib.invalidate_caches()  # import and metadata finders may have listed the folder already

    def env(self, **extra: str) -> dict[str, str]:
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(self.path), *filter(None, [environment.get("PYTHONPATH", "")])]
        )
        environment.pop("OPTIMA_DISABLE_PLUGINS", None)
        environment.pop("OPTIMA_RAISE_PLUGIN_ERRORS", None)
        environment.update(extra)
        return environment


GOOD_PLUGIN = """
from optima_core.hookspecs import hookimpl
from optima_core.plugins.descriptors import BackendDescriptor


class FakeBackend:
    pass


@hookimpl
def optima_register_backends():
    return [BackendDescriptor("FakeNet", "fakeplug_good:FakeBackend", "a backend of the fake distribution")]


@hookimpl
def get_inputs(run_config, nevts, input_vars_list, disable_printing):
    return ("fakeplug", nevts)
"""

#: Writes a marker (when FAKEPLUG_MARKER is set) to prove it was imported, then fails.
BROKEN_PLUGIN = """
import os
from pathlib import Path

if os.environ.get("FAKEPLUG_MARKER"):
    Path(os.environ["FAKEPLUG_MARKER"]).write_text("imported")
raise RuntimeError("fakeplug_broken refuses to import")
"""

TYPO_PLUGIN = """
from optima_core.hookspecs import hookimpl


@hookimpl
def optima_register_backend():
    return []
"""

#: Registers the backend name 'Keras' for the core tests when optima-keras is not installed.
KERAS_STUB = """
from optima_core.hookspecs import hookimpl
from optima_core.plugins.descriptors import BackendDescriptor, Hyperparameter

ACTIVATIONS = (
    "celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish",
    "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish", "relu", "relu6", "selu", "sigmoid",
    "silu", "soft_shrink", "softmax", "softplus", "softsign", "sparse_plus", "sparse_sigmoid", "sparsemax",
    "squareplus", "swish", "tanh", "tanh_shrink", "threshold",
)
INITIALIZERS = (
    "auto", "constant", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "identity", "lecun_normal",
    "lecun_uniform", "normal", "one", "ones", "orthogonal", "random_normal", "random_uniform", "truncated_normal",
    "uniform", "variance_scaling", "zero", "zeros", "Constant", "GlorotNormal", "GlorotUniform", "HeNormal",
    "HeUniform", "Identity", "LecunNormal", "LecunUniform", "Ones", "Orthogonal", "RandomNormal", "RandomUniform",
    "TruncatedNormal", "VarianceScaling", "Zeros",
)
HYPERPARAMETERS = (
    Hyperparameter("num_layers", minimum=0, integer=True),
    Hyperparameter("units", minimum=1, integer=True),
    Hyperparameter("units_N", minimum=1, integer=True),
    Hyperparameter("activation", choices=ACTIVATIONS),
    Hyperparameter("kernel_initializer", choices=INITIALIZERS),
    Hyperparameter("bias_initializer", choices=INITIALIZERS),
    Hyperparameter("l1_lambda", minimum=0),
    Hyperparameter("l2_lambda", minimum=0),
    Hyperparameter("dropout", minimum=0, maximum=1, max_exclusive=True),
    Hyperparameter("learning_rate", minimum=0, min_exclusive=True),
    Hyperparameter("Adam_beta_1", minimum=0, maximum=1, max_exclusive=True),
    Hyperparameter("one_minus_Adam_beta_2", minimum=0, maximum=1, min_exclusive=True),
    Hyperparameter("Adam_epsilon", minimum=0),
    Hyperparameter("loss_function", choices=("BinaryCrossentropy", "CategoricalCrossentropy", "KLDivergence")),
    Hyperparameter("loss_weight_class_N", minimum=0),
)


class Backend:
    pass


@hookimpl
def optima_register_backends():
    return [
        BackendDescriptor(
            "Keras",
            "optima_keras_stub:Backend",
            "stand-in for optima-keras in the core tests, stating the same facts",
            model_hooks=("build_model", "compile_model"),
            mutatable=(
                "learning_rate",
                "Adam_beta_1",
                "one_minus_Adam_beta_2",
                "Adam_epsilon",
                "loss_function",
                "loss_weight_class_N",
                "l1_lambda",
                "l2_lambda",
                "dropout",
            ),
            scalings=("linear", "sqrt", "log10"),
            hyperparameters=HYPERPARAMETERS,
        )
    ]
"""
