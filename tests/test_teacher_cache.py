"""The offline teacher cache: the cached map follows the image through mmseg's real transforms (checked against the
image itself, whose pixels hold their own coordinates), the refusals, the cache tool's manifest and resume, and a
tiny training run from the cache through tools/train.py."""
import itertools
import math

import numpy as np
import pytest
from mmcv.transforms import Compose

from mmseg_kd.datasets.cached_teacher_logits import TeacherLogitAlignmentError
from mmseg_kd.datasets.teacher_logit_cache import CACHE_FORMAT, TeacherCacheError, write_logit_map, write_manifest

ORIGINAL = (48, 64)  # H, W of the stored image
REFERENCE = (96, 128)  # the teacher saw it at twice that size
STRIDE = 8
IMAGE = 'scene_leftImg8bit.png'


def coordinate_image():
    """(H, W, 3) float32: channel 0 the pixel's row, channel 1 its column, channel 2 zero."""
    rows, columns = np.meshgrid(np.arange(ORIGINAL[0]), np.arange(ORIGINAL[1]), indexing='ij')
    return np.stack([rows, columns, np.zeros_like(rows)], axis=-1).astype(np.float32)


def coordinate_cache(folder, stride=STRIDE, reference=REFERENCE):
    """A cache whose map holds, at each cache pixel, the original-image row and column of its centre."""
    height, width = reference[0] // stride, reference[1] // stride
    rows = ((np.arange(height) + 0.5) * stride) * ORIGINAL[0] / reference[0] - 0.5
    columns = ((np.arange(width) + 0.5) * stride) * ORIGINAL[1] / reference[1] - 0.5
    grid_rows, grid_columns = np.meshgrid(rows, columns, indexing='ij')
    logits = np.stack([grid_rows, grid_columns, np.zeros_like(grid_rows)]).astype(np.float32)
    entry = write_logit_map(str(folder), IMAGE, logits)
    entry.update(image_shape=list(ORIGINAL), reference_shape=list(reference))
    write_manifest(str(folder), dict(format=CACHE_FORMAT, output_stride=stride, images={IMAGE: entry},
                                     classes=['a', 'b', 'c'], num_classes=3, dtype='float16', complete=True))
    return str(folder)


def run_pipeline(steps, seed):
    np.random.seed(seed)
    image = coordinate_image()
    results = dict(img=image, img_path=f'/data/{IMAGE}', ori_shape=image.shape[:2], img_shape=image.shape[:2],
                   gt_seg_map=np.zeros(ORIGINAL, np.uint8), seg_fields=['gt_seg_map'], reduce_zero_label=False)
    return Compose(steps)(results)


def expected_from_image(image, stride):
    """The original coordinates at the centres of the (stride x stride) output blocks, read from the transformed
    coordinate image itself (mean of the 2x2 pixels around each block centre), and where that is trustworthy:
    inside the image, away from its borders (where bilinear resampling clamps)."""
    height, width = image.shape[1:]
    out_h, out_w = height // stride, width // stride
    centre = stride // 2
    rows = np.arange(out_h) * stride + centre - 1
    columns = np.arange(out_w) * stride + centre - 1
    block = sum(image[:2, rows[:, None] + dy, columns[None, :] + dx] for dy in (0, 1) for dx in (0, 1)) / 4
    inside = ((block[0] > 1) & (block[0] < ORIGINAL[0] - 2) & (block[1] > 1) & (block[1] < ORIGINAL[1] - 2))
    return block, inside


GEOMETRIC = {
    'none': [],
    'resize': [dict(type='RandomResize', scale=(64, 48), ratio_range=(1.0, 1.7), keep_ratio=True)],
    'fixed_resize': [dict(type='Resize', scale=(80, 60), keep_ratio=True)],
}
AFTER = {
    'crop': dict(type='RandomCrop', crop_size=(32, 40)),
    'hflip': dict(type='RandomFlip', prob=1.0, direction='horizontal'),
    'vflip': dict(type='RandomFlip', prob=1.0, direction='vertical'),
    'random_flip': dict(type='RandomFlip', prob=0.5),
}


@pytest.mark.parametrize('resize', sorted(GEOMETRIC))
def test_the_cached_map_lands_where_the_image_pixels_go_for_every_transform_combination(tmp_path, resize):
    cache = coordinate_cache(tmp_path / 'cache')
    checked = 0
    for count in range(len(AFTER) + 1):
        for names in itertools.combinations(sorted(AFTER), count):
            steps = (GEOMETRIC[resize] + [dict(type='LoadCachedTeacherLogits', cache=cache)]
                     + [AFTER[name] for name in names] + [dict(type='PackSegInputsWithTeacherLogits')])
            for seed in range(3):
                packed = run_pipeline(steps, seed)
                image = packed['inputs'].numpy()
                teacher = packed['data_samples'].gt_teacher_logits.data.numpy()
                assert teacher.shape == (3, math.ceil(image.shape[1] / STRIDE), math.ceil(image.shape[2] / STRIDE))
                expected, inside = expected_from_image(image, STRIDE)
                got = teacher[:2, :expected.shape[1], :expected.shape[2]]
                assert inside.sum() > 0, (names, seed)
                np.testing.assert_allclose(got[:, inside], expected[:, inside], atol=0.02, err_msg=str((names, seed)))
                checked += 1
    assert checked == 16 * 3


def test_with_the_cache_at_stride_one_and_no_resize_the_map_is_the_image_exactly(tmp_path):
    cache = coordinate_cache(tmp_path / 'cache', stride=1, reference=ORIGINAL)
    steps = [dict(type='LoadCachedTeacherLogits', cache=cache), AFTER['crop'], AFTER['hflip'], AFTER['vflip'],
             dict(type='PhotoMetricDistortion'), dict(type='PackSegInputsWithTeacherLogits')]
    np.random.seed(0)
    image = coordinate_image()
    results = dict(img=image.copy(), img_path=f'/data/{IMAGE}', ori_shape=ORIGINAL, img_shape=ORIGINAL,
                   gt_seg_map=np.zeros(ORIGINAL, np.uint8), seg_fields=['gt_seg_map'], reduce_zero_label=False)
    geometric_only = Compose([step for step in steps if step['type'] != 'PhotoMetricDistortion'])
    np.random.seed(1)
    plain = geometric_only(dict(results, img=image.copy(), seg_fields=['gt_seg_map']))
    teacher = plain['data_samples'].gt_teacher_logits.data.numpy()
    np.testing.assert_allclose(teacher[:2], plain['inputs'].numpy()[:2], atol=1e-4)  # grid_sample rounding
    # photometric distortion changes the image only, never the cached map (seeded to draw the same crop)
    np.random.seed(1)
    distorted = Compose(steps)(dict(results, img=(image * 4).clip(0, 255).astype(np.uint8), seg_fields=['gt_seg_map']))
    np.testing.assert_array_equal(distorted['data_samples'].gt_teacher_logits.data.numpy(), teacher)


def test_a_pad_a_rotation_a_resize_after_loading_or_a_missing_load_step_is_refused(tmp_path):
    cache = coordinate_cache(tmp_path / 'cache')
    load = dict(type='LoadCachedTeacherLogits', cache=cache)
    pack = dict(type='PackSegInputsWithTeacherLogits')
    cases = {
        'changed the image alone': [load, dict(type='Pad', size=(64, 80)), pack],
        'rows of the image were moved': [load, dict(type='Resize', scale=(96, 72), keep_ratio=True), pack],
        'outside the original image .a rotation': [
            load, dict(type='RandomRotFlip', rotate_prob=1.0, flip_prob=0.0), pack],
    }
    for message, steps in cases.items():
        with pytest.raises(TeacherLogitAlignmentError, match=message):
            run_pipeline(steps, 0)
    with pytest.raises(Exception, match='put LoadCachedTeacherLogits'):
        run_pipeline([pack], 0)


def test_an_image_the_cache_lacks_or_an_image_of_another_size_is_refused_naming_it(tmp_path):
    cache = coordinate_cache(tmp_path / 'cache')
    load = Compose([dict(type='LoadCachedTeacherLogits', cache=cache)])
    with pytest.raises(TeacherCacheError, match=r'no logits for /data/other.png.*tools/cache_teacher.py'):
        load(dict(img=coordinate_image(), img_path='/data/other.png', ori_shape=ORIGINAL))
    with pytest.raises(TeacherCacheError, match=r'is \[40, 64\], the cache was made from a \[48, 64\] image'):
        load(dict(img=coordinate_image()[:40], img_path=f'/data/{IMAGE}', ori_shape=(40, 64)))
    with pytest.raises(TeacherCacheError, match='no manifest.json there'):
        Compose([dict(type='LoadCachedTeacherLogits', cache=str(tmp_path / 'nowhere'))])
