"""mmseg-kd: knowledge distillation for semantic segmentation on mmsegmentation 1.x.

Importing the package registers the distiller, the losses, the loss-weight schedules and the transform of
unlabeled images in mmseg's registries, and allow-lists the few mmengine/numpy types of training checkpoints for
torch's weights-only loading (so ``--resume`` works on torch >= 2.6 with safe loading left on).
"""
from mmseg_kd import datasets, distillers, engine, layers, losses, schedules  # noqa: F401  (registers the modules)
from mmseg_kd.checkpoint import allow_mmengine_checkpoint_types

__version__ = '0.1.0'

allow_mmengine_checkpoint_types()
