"""Cached teacher logits in mmseg's training pipeline, aligned pixel for pixel with the augmented image.

Two steps, in the training pipeline of a distillation whose teacher is ``teacher=dict(..., cache=DIR)``::

    dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(2048, 1024), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='LoadCachedTeacherLogits', cache=DIR),     # right after the resize
    dict(type='RandomCrop', crop_size=(512, 1024), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputsWithTeacherLogits'),         # in place of PackSegInputs

How the map follows the image. ``LoadCachedTeacherLogits`` reads the image's cached map and the resize's
``scale_factor``, and adds a coordinate field to ``seg_fields``: at every pixel of the resized image, its own row and
column, stored as ``-(index + 1)``. mmseg's crop and flip move this field exactly as they move the label map (and a
``Pad`` in the pipeline fills it with a non-negative value). ``PackSegInputsWithTeacherLogits`` reads back, per axis,
the affine map from the final image to the resized image (an offset, and a sign for a flip; anything else, e.g. a
rotation, is refused), and samples the cached map bilinearly at the centres of the teacher's output pixels::

    output pixel u (stride s)  ──►  image pixel y = (u + 0.5) s - 0.5  ──►  resized image r = sign * y + offset
        ──►  original image o = (r + 0.5) / scale_factor - 0.5  ──►  cache q = (o + 0.5) H_ref / (H_orig s) - 0.5

(half-pixel centres, as cv2's and PyTorch's bilinear resampling with ``align_corners=False``), giving a
(C, ceil(H / s), ceil(W / s)) float32 map in ``data_sample.gt_teacher_logits``, the size of the teacher's own
output on the crop. Pixels from outside the image (a pipeline ``Pad``, a rotation's corners) are refused; the
padding of the data preprocessor is the distiller's concern. Photometric transforms do not touch the map: the cache
saw the undistorted image.
"""
import math
from typing import Dict, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmcv.transforms import BaseTransform
from mmengine.structures import PixelData
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS

from mmseg_kd.datasets.teacher_logit_cache import TeacherCacheError, read_logit_map, read_manifest
from mmseg_kd.utils.user_input_error import UserInputError

COORDINATE_FIELD = 'teacher_logit_coordinates'
CACHED_KEYS = ('cached_teacher_logits', 'cached_teacher_entry', 'cached_teacher_scale_factor',
               'cached_teacher_stride', 'cached_teacher_cache')


class TeacherLogitAlignmentError(UserInputError):
    """The pipeline moved the image's pixels in a way the cached teacher map cannot follow."""


@TRANSFORMS.register_module()
class LoadCachedTeacherLogits(BaseTransform):
    """Load the cached teacher logits of the image and start following its geometric transforms.

    Place it right after the resize (``RandomResize``/``Resize``) and before the crop and flip.

    Required keys: ``img_path``, ``img`` (H, W, 3) as resized; ``scale_factor`` (w, h) if a resize ran.
    Added keys: ``cached_teacher_logits`` (C, h, w) float16 (float32 from a top-k cache), ``cached_teacher_entry``
    (its manifest entry), ``cached_teacher_scale_factor``, ``cached_teacher_stride``, ``cached_teacher_cache`` (the
    folder), and the coordinate field (H, W, 2) float32, appended to ``seg_fields``.

    Args:
        cache: the cache folder written by ``tools/cache_teacher.py``.
    """

    def __init__(self, cache: str):
        if not isinstance(cache, str):
            raise UserInputError(f'LoadCachedTeacherLogits: cache must be the path of a teacher cache folder, got '
                                 f'{cache!r}')
        self.cache = cache
        self.manifest = read_manifest(cache)

    def transform(self, results: Dict) -> Dict:
        image_path = results['img_path']
        name = image_path.replace('\\', '/').rsplit('/', 1)[-1]
        entry = self.manifest['images'].get(name)
        if entry is None:
            raise TeacherCacheError(f'teacher cache {self.cache!r} has no logits for {image_path}: it was made for '
                                    'other images. Run tools/cache_teacher.py on this config to complete it.')
        stored_shape = tuple(results['ori_shape'])
        if tuple(entry['image_shape']) != stored_shape:
            raise TeacherCacheError(f"teacher cache {self.cache!r}: {image_path} is {list(stored_shape)}, the cache "
                                    f"was made from a {entry['image_shape']} image of that name. Write the cache "
                                    'again with tools/cache_teacher.py --out NEW_DIR.')
        results['cached_teacher_logits'] = read_logit_map(self.cache, entry, image_path)
        results['cached_teacher_entry'] = entry
        results['cached_teacher_scale_factor'] = tuple(results.get('scale_factor', (1.0, 1.0)))
        results['cached_teacher_stride'] = self.manifest['output_stride']
        results['cached_teacher_cache'] = self.cache
        height, width = results['img'].shape[:2]
        rows, columns = np.meshgrid(np.arange(height, dtype=np.float32), np.arange(width, dtype=np.float32),
                                    indexing='ij')
        results[COORDINATE_FIELD] = -np.stack([rows, columns], axis=-1) - 1
        results.setdefault('seg_fields', []).append(COORDINATE_FIELD)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(cache={self.cache!r})'


def axis_map(indices: np.ndarray, axis: str) -> Tuple[int, int]:
    """``(sign, offset)`` with ``indices[i] == sign * i + offset`` for every i (sign +1, or -1 after a flip).

    Args:
        indices: (N,) the resized image's index at each pixel of the final image along one axis.
        axis: 'rows' or 'columns', for the error message.

    Raises:
        TeacherLogitAlignmentError: the indices are not an offset and possibly flipped copy of 0..N-1.
    """
    positions = np.arange(len(indices))
    for sign in (1, -1):
        offset = int(indices[0])
        if np.array_equal(indices, sign * positions + offset):
            return sign, offset
    raise TeacherLogitAlignmentError(
        f'the {axis} of the image were moved by a transform between LoadCachedTeacherLogits and '
        'PackSegInputsWithTeacherLogits other than RandomCrop and RandomFlip (a resize, rotation or pad?): the '
        'cached teacher map can follow only crops and flips there. Put LoadCachedTeacherLogits right after the '
        'resize, and keep rotations out of a cached-teacher pipeline.')


def source_grid(output_size: int, stride: float, sign: int, offset: int, scale: float, cache_scale: float):
    """Positions, in cache pixels (half-pixel centres), of the ``output_size`` output pixels along one axis.

    Args:
        output_size: number of output pixels (stride ``stride`` on the final image).
        stride: the teacher's output stride.
        sign, offset: the final image's pixel i is the resized image's pixel ``sign * i + offset``.
        scale: the resize's scale factor (resized / original size) along this axis.
        cache_scale: cache pixels per original image pixel along this axis.

    Returns:
        (output_size,) float64.
    """
    image = (np.arange(output_size) + 0.5) * stride - 0.5
    resized = sign * image + offset
    original = (resized + 0.5) / scale - 0.5
    return (original + 0.5) * cache_scale - 0.5


def aligned_teacher_logits(logits: np.ndarray, coordinates: np.ndarray, scale_factor: Tuple[float, float],
                           entry: Dict, stride: int) -> torch.Tensor:
    """The cached ``logits`` resampled onto the teacher's output grid of the final (augmented) image.

    Args:
        logits: (C, h, w) the cached map of the whole image at the reference scale.
        coordinates: (H, W, 2) the coordinate field after the pipeline (``-(index + 1)`` of the resized image).
        scale_factor: (w, h) of the resize before ``LoadCachedTeacherLogits``.
        entry: the image's manifest entry (``image_shape``, ``reference_shape``).
        stride: the teacher's output stride.

    Returns:
        (C, ceil(H / stride), ceil(W / stride)) float32.
    """
    if (coordinates >= 0).any():
        raise TeacherLogitAlignmentError(
            'the final image has pixels from outside the original image (a rotation fills its corners): the '
            'cached teacher map has no values there. Keep rotations out of a cached-teacher pipeline.')
    rows = axis_map(-coordinates[:, 0, 0] - 1, 'rows')
    columns = axis_map(-coordinates[0, :, 1] - 1, 'columns')
    rows_match = (coordinates[:, :, 0] == coordinates[:, :1, 0]).all()
    if not (rows_match and (coordinates[:, :, 1] == coordinates[:1, :, 1]).all()):
        raise TeacherLogitAlignmentError('a transform after LoadCachedTeacherLogits mixed rows and columns (a '
                                         'rotation?): the cached teacher map can follow only crops and flips.')
    height, width = coordinates.shape[:2]
    channels, cache_height, cache_width = logits.shape
    original_height, original_width = entry['image_shape']
    reference_height, reference_width = entry['reference_shape']
    y = source_grid(math.ceil(height / stride), stride, *rows, scale_factor[1],
                    reference_height / (original_height * stride))
    x = source_grid(math.ceil(width / stride), stride, *columns, scale_factor[0],
                    reference_width / (original_width * stride))
    grid_y, grid_x = np.meshgrid((y + 0.5) / cache_height * 2 - 1, (x + 0.5) / cache_width * 2 - 1, indexing='ij')
    grid = torch.from_numpy(np.stack([grid_x, grid_y], axis=-1)).float()[None]
    sampled = F.grid_sample(torch.from_numpy(logits.astype(np.float32))[None], grid, mode='bilinear',
                            padding_mode='border', align_corners=False)
    return sampled[0]


@TRANSFORMS.register_module()
class PackSegInputsWithTeacherLogits(PackSegInputs):
    """mmseg's ``PackSegInputs`` that also packs the cached teacher map, aligned with the final image, as
    ``data_sample.gt_teacher_logits`` (``PixelData``, data (C, ceil(H / s), ceil(W / s)) float32, metainfo ``cache``:
    the folder it came from).

    Args:
        meta_keys: as ``PackSegInputs``.
    """

    def transform(self, results: Dict) -> Dict:
        if COORDINATE_FIELD not in results:
            raise UserInputError(f"PackSegInputsWithTeacherLogits: {results.get('img_path')} has no cached teacher "
                                 'logits: put LoadCachedTeacherLogits(cache=DIR) right after the resize.')
        coordinates = results.pop(COORDINATE_FIELD)
        if coordinates.shape[:2] != results['img'].shape[:2]:
            raise TeacherLogitAlignmentError(
                f"the image is {list(results['img'].shape[:2])} but the map that follows it is "
                f'{list(coordinates.shape[:2])}: a transform after LoadCachedTeacherLogits changed the image alone '
                '(a Pad adds pixels outside the image, where the cached teacher map has no values). Leave the padding '
                'to the data preprocessor and use a crop no larger than the smallest resized image.')
        results['seg_fields'] = [key for key in results.get('seg_fields', []) if key != COORDINATE_FIELD]
        logits, entry, scale_factor, stride, cache = (results.pop(key) for key in CACHED_KEYS)
        packed = super().transform(results)
        packed['data_samples'].gt_teacher_logits = PixelData(
            data=aligned_teacher_logits(logits, coordinates, scale_factor, entry, stride), metainfo=dict(cache=cache))
        return packed
