"""The backend-agnostic training loop: metrics, early stopping, overtraining, checkpoints, reporting."""
