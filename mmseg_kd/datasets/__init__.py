"""What mmseg lacks for datasets: loading steps that report bad files and the transform that lets unlabeled images
join a distillation's training set, and the steps that load a teacher cache's logits and align them with the
augmented image (``cached_teacher_logits``; the cache's files: ``teacher_logit_cache``), registered in mmseg's
``TRANSFORMS``; the walks over dataset configs (``dataset_configs``: datasets inside wrappers, class count, image
suffix, the training input size); the generated demo data (``procedural_cityscapes``, imported by the tools that write
it) and the labeled/unlabeled split lists (``label_split``).

Layering: a leaf: it imports nothing of ``mmseg_kd`` but ``utils``. The checks that know losses or runners (the
unlabeled-images check, the dataset scan) are in ``engine``.
"""
from mmseg_kd.datasets.cached_teacher_logits import LoadCachedTeacherLogits, PackSegInputsWithTeacherLogits
from mmseg_kd.datasets.checked_loading import BadDataError, CheckedLoadAnnotations, CheckedLoadImageFromFile
from mmseg_kd.datasets.ignored_label_map import AddIgnoredLabelMap

__all__ = ['AddIgnoredLabelMap', 'BadDataError', 'CheckedLoadAnnotations', 'CheckedLoadImageFromFile',
           'LoadCachedTeacherLogits', 'PackSegInputsWithTeacherLogits']
