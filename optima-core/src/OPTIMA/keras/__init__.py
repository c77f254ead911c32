"""``OPTIMA.keras``: the original's Keras modules (:mod:`OPTIMA.keras.model`)."""
