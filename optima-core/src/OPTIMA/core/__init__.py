"""``OPTIMA.core``: the original's engine modules (:mod:`OPTIMA.core.variable_optimization`)."""
