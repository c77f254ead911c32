"""``OPTIMA.lightning``: the original's Lightning modules (:mod:`OPTIMA.lightning.inputs`)."""
