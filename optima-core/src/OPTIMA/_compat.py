"""The machinery of the ``OPTIMA`` compatibility modules: names resolved on first use, or refused with a hint.

A compatibility module calls :func:`export` with two tables and assigns the returned ``__getattr__``/``__dir__``:

* ``provided``: ``name -> "package.module:attribute"``, imported when the name is first looked up (PEP 562);
* ``replaced``: ``name -> what replaces it``; looking one up raises an ``ImportError`` with that text.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

#: The distribution providing each implementation package, for the install hint.
DISTRIBUTIONS = {
    "optima_lightning": "optima-lightning",
    "optima_keras": "optima-keras",
    "optima_slurm": "optima-slurm",
    "optima_core": "optima-core",
}


def _load(module_name: str, name: str, target: str) -> Any:
    module_path, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_path)
    except ModuleNotFoundError as error:
        package = module_path.split(".")[0]
        missing = (error.name or "").split(".")[0]
        if missing != package:
            raise
        distribution = DISTRIBUTIONS.get(package, package)
        raise ImportError(
            f"{module_name}.{name} is provided by {distribution}, which is not installed: "
            f"pip install ./{distribution} (in the OPTIMA repository)",
            name=module_name,
        ) from error
    return getattr(module, attribute)


def export(
    module_name: str, namespace: dict[str, Any], provided: Mapping[str, str], replaced: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for the module ``module_name`` whose globals are ``namespace``."""

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module attribute hook of PEP 562
        if name in provided:
            value = _load(module_name, name, provided[name])
            namespace[name] = value  # later look-ups do not come here again
            return value
        if name in replaced:
            raise ImportError(
                f"{module_name}.{name} of the original OPTIMA is not provided here: {replaced[name]}",
                name=module_name,
            )
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    def __dir__() -> list[str]:  # noqa: N807
        return sorted({*namespace, *provided})

    return __getattr__, __dir__
