"""The Lightning backend as the engine sees it: its name and the frameworks it needs.

The training interface (build, train one epoch, evaluate, save, restore) is added with the trainable.
"""

from __future__ import annotations


class LightningBackend:
    """Trains Lightning models for OPTIMA."""

    name = "Lightning"
    frameworks = ("lightning", "torch", "torchmetrics")
