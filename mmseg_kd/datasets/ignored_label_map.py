"""``AddIgnoredLabelMap``: the label map of an unlabeled image, every pixel ``ignore_index``.

An unlabeled training image enters mmseg's pipeline like a labeled one, with this transform where the labeled
pipeline has ``LoadAnnotations``: the later transforms (resize, crop, flip, pad) and ``PackSegInputs`` treat the map
as any label map, so unlabeled and labeled images mix in one batch. In a batch, the student's own losses skip its
pixels (cross-entropy with ``avg_non_ignore=True`` averages over labeled pixels only) and the distillation losses
that do not read labels use them all. ``docs/unlabeled_images.md`` shows the config::

    unlabeled_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='AddIgnoredLabelMap'),           # instead of dict(type='LoadAnnotations')
        dict(type='RandomResize', ...), dict(type='RandomCrop', ...), dict(type='RandomFlip', prob=0.5),
        dict(type='PackSegInputs'),
    ]
    unlabeled = dict(type='CityscapesDataset', data_root=..., data_prefix=dict(img_path='leftImg8bit/train'),
                     ann_file='unlabeled.txt', pipeline=unlabeled_pipeline)   # no seg_map_path

mmseg's datasets list no label file for an image when ``data_prefix`` has no ``seg_map_path``; an image that has
one is refused here, since its labels would silently be thrown away.
"""
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from mmseg_kd.utils.user_input_error import UserInputError


@TRANSFORMS.register_module()
class AddIgnoredLabelMap(BaseTransform):
    """Give an image without annotations a label map of ``ignore_index`` at every pixel.

    Required keys: ``img`` (H, W, C). Added keys: ``gt_seg_map`` (H, W) uint8, filled with ``ignore_index``;
    ``'gt_seg_map'`` appended to ``seg_fields``.

    Args:
        ignore_index: the label of ignored pixels, the ``ignore_index`` of the student's decode heads and losses
            (255 in mmseg). Must fit in uint8, as mmseg's label maps.
    """

    def __init__(self, ignore_index: int = 255):
        if isinstance(ignore_index, bool) or not isinstance(ignore_index, int) or not 0 <= ignore_index <= 255:
            raise UserInputError(f'AddIgnoredLabelMap: ignore_index must be an integer in 0..255 (a uint8 label map, '
                                 f'as mmseg loads them), got {ignore_index!r}')
        self.ignore_index = ignore_index

    def transform(self, results: dict) -> dict:
        if results.get('seg_map_path'):
            raise UserInputError(
                f"AddIgnoredLabelMap: {results.get('img_path')} has a label file ({results['seg_map_path']}), whose "
                'labels this transform would throw away. Use it only on datasets without annotations: leave '
                "seg_map_path out of the dataset's data_prefix (or use LoadAnnotations for labeled images).")
        height, width = results['img'].shape[:2]
        results['gt_seg_map'] = np.full((height, width), self.ignore_index, np.uint8)
        results.setdefault('seg_fields', []).append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(ignore_index={self.ignore_index})'
