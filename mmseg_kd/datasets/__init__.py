"""What mmseg lacks for datasets: loading steps that report bad files and the transform that lets unlabeled images
join a distillation's training set, and the steps that load a teacher cache's logits and align them with the
augmented image (``cached_teacher_logits``; the cache's files: ``teacher_logit_cache``), registered in mmseg's
``TRANSFORMS``; the generated demo data (``procedural_cityscapes``, imported by the tools that write it), the
labeled/unlabeled split lists (``label_split``), the start-time check of a config with unlabeled images
(``unlabeled_images_check``) and the miniature dataset layouts of the tests (``miniature_layouts``).

Layering: with ``analysis``, the top of the package (it builds on ``engine`` and the layers below).
"""
from mmseg_kd.datasets.cached_teacher_logits import LoadCachedTeacherLogits, PackSegInputsWithTeacherLogits
from mmseg_kd.datasets.checked_loading import BadDataError, CheckedLoadAnnotations, CheckedLoadImageFromFile
from mmseg_kd.datasets.ignored_label_map import AddIgnoredLabelMap

__all__ = ['AddIgnoredLabelMap', 'BadDataError', 'CheckedLoadAnnotations', 'CheckedLoadImageFromFile',
           'LoadCachedTeacherLogits', 'PackSegInputsWithTeacherLogits']
