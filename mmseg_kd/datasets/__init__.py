"""Data: the transform that lets unlabeled images join a distillation's training set, the procedural demo scenes
(``procedural_cityscapes``) and the miniature dataset layouts of the tests (``miniature_layouts``).

Layering: the top of the package besides ``analysis``. Importing it registers :class:`AddIgnoredLabelMap` in
mmseg's ``TRANSFORMS``.
"""
from mmseg_kd.datasets.ignored_label_map import AddIgnoredLabelMap

__all__ = ['AddIgnoredLabelMap']
