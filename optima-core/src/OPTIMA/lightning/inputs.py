"""``OPTIMA.lightning.inputs``: the Lightning data stack the original documents for run-configs.

* ``LightningDataset`` -- in-memory tensors served as whole batches (item ``i`` is batch ``i``; wrap it in a
  ``DataLoader`` with ``batch_size=None``): :class:`optima_lightning.compat.LightningDataset`.
* ``DefaultDataModule`` -- the built-in data module with the documented constructor ``(run_config, model_config,
  input_handler=None, dataset_train=None, dataset_val=None, dataset_test=None, dataset_predict=None)``; it uses the
  run-config's ``LightningDataset``/``DataLoader`` classes as the original does, so a run-config's ``DataModule``
  may subclass it: :class:`optima_lightning.compat.DefaultDataModule`.
"""

from OPTIMA._compat import export

PROVIDED = {
    "LightningDataset": "optima_lightning.compat:LightningDataset",
    "DefaultDataModule": "optima_lightning.compat:DefaultDataModule",
}
REPLACED = {
    "get_dataset": "the data module builds the torch datasets; define a LightningDataset class in the run-config "
    "(constructor (dataset, model_config)) or subclass OPTIMA.lightning.inputs.DefaultDataModule",
    "get_dataloader": "the data module builds the loaders; define a DataLoader class in the run-config "
    "(constructor (dataset, model_config)) or subclass OPTIMA.lightning.inputs.DefaultDataModule",
}

__all__ = sorted(PROVIDED)
__getattr__, __dir__ = export(__name__, globals(), PROVIDED, REPLACED)
