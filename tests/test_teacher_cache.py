"""The offline teacher cache: the cached map follows the image through mmseg's real transforms (checked against the
image itself, whose pixels hold their own coordinates), the refusals, the cache tool's manifest, cost record and
resume (with the partial manifests of an interrupted multi-process run), its top-k storage read back by the pipeline,
the cache written by two processes through tools/dist_cache_teacher.sh, and a tiny training run from the cache
through tools/train.py."""
import importlib.util
import itertools
import json
import math
import re
import shutil

import mmcv
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from conftest import PYTHON, REPO, TEACHER_CFG, build_model, save_checkpoint
from mmseg_kd.datasets.cached_teacher_logits import TeacherLogitAlignmentError
from mmseg_kd.datasets.label_split import training_image_names, write_label_split
from mmseg_kd.datasets.procedural_cityscapes import write_cityscapes_layout
from mmseg_kd.datasets.teacher_logit_cache import (
    CACHE_FORMAT,
    TeacherCacheError,
    file_sha256,
    merged_manifest,
    read_logit_map,
    storage_of,
    write_logit_map,
    write_manifest,
)
from mmseg_kd.datasets.top_k_logits import top_k_dense, top_k_split
from mmseg_kd.distillers.cached_teacher import CACHED_TAP, CachedTeacherLogits
from mmseg_kd.distillers.distill_term import DistillConfigError
from mmseg_kd.utils.user_input_error import UserInputError
from test_tools import free_port, run
from test_top_k_logits import FLOAT16, log_sum_exp

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
    labels = (np.arange(ORIGINAL[1])[None] // 16 % 3).repeat(ORIGINAL[0], 0).astype(np.uint8)  # for cat_max_ratio
    results = dict(img=image, img_path=f'/data/{IMAGE}', ori_shape=image.shape[:2], img_shape=image.shape[:2],
                   gt_seg_map=labels, seg_fields=['gt_seg_map'], reduce_zero_label=False)
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
    'crop': dict(type='RandomCrop', crop_size=(32, 40), cat_max_ratio=0.75),
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


def test_a_top_k_logit_file_is_one_uncompressed_npz_read_back_as_the_dense_map(tmp_path):
    logits = (np.random.default_rng(0).normal(size=(19, 6, 8)) * 4).astype(np.float32)
    entry = write_logit_map(str(tmp_path), f'/data/{IMAGE}', logits, top_k=3)
    assert entry['file'] == 'logits/scene_leftImg8bit.npz' and entry['logit_shape'] == [19, 6, 8]
    assert sorted(path.name for path in (tmp_path / 'logits').iterdir()) == ['scene_leftImg8bit.npz']  # no temp file
    assert entry['sha256'] == file_sha256(str(tmp_path / entry['file']))
    with np.load(tmp_path / entry['file']) as stored:
        arrays = {key: stored[key] for key in stored.files}
    assert {key: (array.dtype, array.shape) for key, array in arrays.items()} == {
        'values': (np.float16, (3, 6, 8)), 'indices': (np.uint8, (3, 6, 8)), 'remainder': (np.float16, (6, 8))}
    per_pixel = 3 * (2 + 1) + 2
    assert 6 * 8 * per_pixel < (tmp_path / entry['file']).stat().st_size < 6 * 8 * per_pixel + 1000  # uncompressed
    expected = top_k_dense(**top_k_split(logits, 3), num_classes=19)
    np.testing.assert_array_equal(read_logit_map(str(tmp_path), entry, IMAGE), expected)
    (tmp_path / entry['file']).write_bytes((tmp_path / entry['file']).read_bytes()[:200])
    with pytest.raises(TeacherCacheError, match=r'the logit map of scene_leftImg8bit.png .* cannot be read'):
        read_logit_map(str(tmp_path), entry, IMAGE)


def test_merging_a_partial_manifest_adds_its_images_and_cost_and_refuses_another_stride():
    manifest = dict(images={'a.png': 1, 'b.png': 2}, output_stride=8, seconds=2.0, images_computed=2, device='cuda',
                    device_name='GPU')
    part = dict(images={'b.png': 3, 'c.png': 4}, output_stride=8, seconds=0.5, images_computed=2, device='cpu',
                device_name='CPU')
    merged = merged_manifest(manifest, part, 'manifest.rank1.json')
    assert merged['images'] == {'a.png': 1, 'b.png': 3, 'c.png': 4} and merged['output_stride'] == 8
    assert merged['seconds'] == 2.5 and merged['images_computed'] == 4 and merged['device'] == 'cpu'
    idle = dict(part, images={}, seconds=0.0, images_computed=0, output_stride=None)
    assert merged_manifest(manifest, idle, 'manifest.rank1.json') == manifest  # a rank that stored nothing
    legacy = dict(images={'a.png': 1}, output_stride=None)  # no cost keys: written before they existed
    assert merged_manifest(legacy, part, 'x')['seconds'] == 0.5
    with pytest.raises(TeacherCacheError, match=r"manifest.rank1.json: the teacher's output stride is 16 there, 8 in"):
        merged_manifest(manifest, dict(part, output_stride=16), 'manifest.rank1.json')


# ---------------------------------------------------------------------------------------------- the tool and training
CACHED_CFG = REPO / 'distillation_configs/kd/kd_pspnet-r101_pspnet-r18_demo-8labeled-unlabeled-cached_cityscapes.py'


def cache_options(scenes, cache):
    """Training data of 2 labeled + 4 unlabeled scenes, every cache path pointing to ``cache``."""
    labeled, unlabeled = 'train_dataloader.dataset.datasets.0.dataset', 'train_dataloader.dataset.datasets.1'
    return ['--cfg-options', f'{labeled}.data_root={scenes}', f'{labeled}.ann_file=splits/2/labeled.txt',
            'train_dataloader.dataset.datasets.0.times=1', f'{unlabeled}.data_root={scenes}',
            f'{unlabeled}.ann_file=splits/2/unlabeled.txt', f'val_dataloader.dataset.data_root={scenes}',
            f'model.teacher.cache={cache}', f'{labeled}.pipeline.3.cache={cache}',
            f'{unlabeled}.pipeline.3.cache={cache}']


@pytest.fixture(scope='module')
def scenes(tmp_path_factory):
    root = write_cityscapes_layout(str(tmp_path_factory.mktemp('cached') / 'cityscapes'), num_train=6, num_val=2,
                                   size=(64, 128), seed=5, progress=False)
    write_label_split(root, num_labeled=2, seed=0)
    return root


@pytest.fixture(scope='module')
def cache(scenes, r101_checkpoint, tmp_path_factory):
    """The tool's cache of the 6 training scenes, and its output."""
    folder = tmp_path_factory.mktemp('teacher_cache') / 'cache'
    output = run(PYTHON, 'tools/cache_teacher.py', CACHED_CFG, '--device', 'cpu', *cache_options(scenes, folder),
                 f'model.teacher.checkpoint={r101_checkpoint}')
    return folder, output


def test_the_tool_stores_every_training_image_with_its_manifest(cache, scenes, r101_checkpoint):
    folder, output = cache
    assert '6 training images, 0 already cached' in output and 'teacher cache complete: 6 images' in output
    manifest = json.loads((folder / 'manifest.json').read_text())
    assert manifest['complete'] and manifest['output_stride'] == 8 and manifest['num_classes'] == 19
    assert manifest['classes'][0] == 'road' and manifest['dtype'] == 'float16'
    assert manifest['storage'] == 'dense' and manifest['top_k'] is None
    # the cost record: the teacher forwards' wall time on this CPU
    assert manifest['seconds'] > 0 and manifest['images_computed'] == 6
    assert manifest['device'] == 'cpu' and 'CPU' in manifest['device_name']
    assert not list(folder.glob('manifest.rank*'))  # the run's partial manifest was merged
    assert manifest['teacher']['checkpoint_sha256'] == file_sha256(r101_checkpoint)
    assert sorted(manifest['images']) == sorted(f'{name.split("/")[-1]}_leftImg8bit.png'
                                                for name in training_image_names(scenes))
    entry = manifest['images']['aachen_000000_000000_leftImg8bit.png']
    stored = np.load(folder / entry['file'])
    assert stored.dtype == np.float16 and stored.shape == (19, 8, 16) == tuple(entry['logit_shape'])
    assert entry['image_shape'] == [64, 128] == entry['reference_shape'] and entry['sha256'] == file_sha256(
        str(folder / entry['file']))
    # the stored map is the teacher's own output on the whole image (float16 rounding aside)
    teacher = build_model(TEACHER_CFG)
    teacher.load_state_dict(torch.load(r101_checkpoint, weights_only=True)['state_dict'])
    teacher.eval()
    image = mmcv.imread(f'{scenes}/leftImg8bit/train/aachen/aachen_000000_000000_leftImg8bit.png')
    data = teacher.data_preprocessor(dict(inputs=[torch.from_numpy(image).permute(2, 0, 1).contiguous()]), False)
    with torch.no_grad():
        online = teacher.decode_head(teacher.extract_feat(data['inputs']))[0].numpy()
    np.testing.assert_allclose(stored.astype(np.float32), online, rtol=2e-3, atol=2e-3)


def test_an_interrupted_cache_resumes_and_another_teachers_folder_is_refused(cache, scenes, tmp_path,
                                                                            r101_checkpoint):
    """As left by an interrupted run of two processes: an image missing from the manifest, one torn file, and one
    image only in rank 1's partial manifest (with its cost). The resumed run (one process) merges the partial
    manifest, keeps its image and the intact ones, computes the missing and the torn one again, and adds its cost."""
    folder, _ = cache
    copy = tmp_path / 'cache'
    shutil.copytree(folder, copy)
    manifest = json.loads((copy / 'manifest.json').read_text())
    torn_name, lost_name, partial_name = sorted(manifest['images'])[:3]
    lost = manifest['images'].pop(lost_name)
    partial = manifest['images'].pop(partial_name)
    (copy / manifest['images'][torn_name]['file']).write_bytes(b'torn')
    manifest['complete'] = False
    (copy / 'manifest.json').write_text(json.dumps(manifest))
    write_manifest(str(copy), dict(manifest, images={partial_name: partial}, seconds=1.5, images_computed=1), rank=1)
    output = run(PYTHON, 'tools/cache_teacher.py', CACHED_CFG, '--device', 'cpu', *cache_options(scenes, copy),
                 f'model.teacher.checkpoint={r101_checkpoint}')
    assert '6 training images, 4 already cached' in output  # the missing one and the torn one again
    resumed = json.loads((copy / 'manifest.json').read_text())
    assert resumed['complete'] and resumed['images'][lost_name] == lost  # the same bytes again
    assert resumed['images'][torn_name] == manifest['images'][torn_name]
    assert resumed['images'][partial_name] == partial and not list(copy.glob('manifest.rank*'))
    assert resumed['images_computed'] == manifest['images_computed'] + 1 + 2  # the cost of every run, summed
    assert resumed['seconds'] > manifest['seconds'] + 1.5
    tool = cache_tool()
    identity = dict(resumed['teacher'])
    identity.pop('cfg_path')
    assert tool.start_manifest(str(copy), identity, 'x.py', resumed['classes'])['images'] == resumed['images']
    for changed in (dict(identity, checkpoint_sha256='0' * 64), dict(identity, config_sha256='0' * 64)):
        with pytest.raises(TeacherCacheError, match='holds the cache of another teacher or class list'):
            tool.start_manifest(str(copy), changed, 'x.py', resumed['classes'])
    with pytest.raises(TeacherCacheError, match='holds the cache of another teacher or class list'):
        tool.start_manifest(str(copy), identity, 'x.py', resumed['classes'][::-1])


def cache_tool():
    spec = importlib.util.spec_from_file_location('cache_teacher', REPO / 'tools' / 'cache_teacher.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cache_tool_arguments(scenes, folder, checkpoint, *options):
    return [str(CACHED_CFG), '--device', 'cpu', '--out', str(folder), *options, *cache_options(scenes, folder),
            f'model.teacher.checkpoint={checkpoint}']


@pytest.fixture(scope='module')
def top_k_cache(scenes, r101_checkpoint, tmp_path_factory):
    """The tool's top-5 cache of the 6 training scenes, its main() run in this process (whose imports are paid)."""
    folder = tmp_path_factory.mktemp('top_k_cache') / 'cache'
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv('LOCAL_RANK', '0')  # what parse_args sets for a launcher, undone afterwards
        cache_tool().main(cache_tool_arguments(scenes, folder, r101_checkpoint, '--top-k', '5'))
    return folder


def test_the_top_k_cache_keeps_the_teachers_largest_logits_and_the_pipeline_reads_it_back_dense(top_k_cache, cache,
                                                                                                 scenes):
    """Against the dense cache of the same teacher: per pixel the 5 stored classes are the 5 largest logits, with
    their values; the map read back has the full map's log-sum-exp (so its softmax on those classes) and argmax; the
    pipeline steps serve it unchanged."""
    dense_folder, _ = cache
    manifest = json.loads((top_k_cache / 'manifest.json').read_text())
    dense = json.loads((dense_folder / 'manifest.json').read_text())
    assert manifest['complete'] and storage_of(manifest) == ('top_k', 5) and manifest['images_computed'] == 6
    assert sorted(manifest['images']) == sorted(dense['images'])
    for name, entry in manifest['images'].items():
        assert entry['file'] == dense['images'][name]['file'][:-len('.npy')] + '.npz'
        assert entry['logit_shape'] == dense['images'][name]['logit_shape'] == [19, 8, 16]
        with np.load(top_k_cache / entry['file']) as stored:
            assert stored['indices'].dtype == np.uint8 and stored['values'].dtype == stored['remainder'].dtype == \
                np.float16
            values, indices = stored['values'].astype(np.float32), stored['indices'].astype(np.int64)
        full = np.load(dense_folder / dense['images'][name]['file']).astype(np.float32)
        np.testing.assert_allclose(values, np.take_along_axis(full, indices, 0), **FLOAT16)
        others = full.copy()
        np.put_along_axis(others, indices, -np.inf, 0)
        assert (values.min(axis=0) >= others.max(axis=0) - 2e-2).all()  # the largest, float16 ties aside
        read = read_logit_map(str(top_k_cache), entry, name)
        np.testing.assert_allclose(log_sum_exp(read), log_sum_exp(full), atol=1e-2)
        top = np.take_along_axis(full, read.argmax(axis=0)[None], 0)[0]
        assert (top >= full.max(axis=0) - 2e-2).all()  # the argmax class, float16 ties aside
    image = 'aachen_000000_000000_leftImg8bit.png'
    packed = Compose([dict(type='LoadImageFromFile'), dict(type='LoadCachedTeacherLogits', cache=str(top_k_cache)),
                      dict(type='PackSegInputsWithTeacherLogits')])(
        dict(img_path=f'{scenes}/leftImg8bit/train/aachen/{image}', seg_fields=[]))
    np.testing.assert_allclose(packed['data_samples'].gt_teacher_logits.data.numpy(),
                               read_logit_map(str(top_k_cache), manifest['images'][image], image), atol=1e-4)


def test_resuming_in_another_storage_or_a_k_that_keeps_every_logit_is_refused(cache, top_k_cache, scenes, tmp_path,
                                                                             r101_checkpoint):
    tool = cache_tool()
    dense_folder, _ = cache
    manifest = json.loads((dense_folder / 'manifest.json').read_text())
    identity = dict(manifest['teacher'])
    identity.pop('cfg_path')
    refused = [(dense_folder, 5, r'holds a cache in dense storage \(its manifest.json\), this run asks for top-5 '
                                 r'storage: resume it with no --top-k, or give another --out folder'),
               (top_k_cache, None, r'holds a cache in top-5 storage .*asks for dense storage: resume it with '
                                   r'--top-k 5'),
               (top_k_cache, 3, r'holds a cache in top-5 storage .*asks for top-3 storage: resume it with --top-k 5')]
    for folder, top_k, message in refused:
        with pytest.raises(TeacherCacheError, match=message):
            tool.start_manifest(str(folder), identity, 'x.py', manifest['classes'], top_k)
    # a cache written before the storage and cost keys existed is dense, and resumes as such
    legacy = tmp_path / 'legacy'
    shutil.copytree(dense_folder, legacy)
    old = {key: value for key, value in manifest.items()
           if key not in ('storage', 'top_k', 'seconds', 'images_computed', 'device', 'device_name')}
    (legacy / 'manifest.json').write_text(json.dumps(old))
    assert storage_of(old) == ('dense', None)
    resumed = tool.start_manifest(str(legacy), identity, 'x.py', manifest['classes'])
    assert resumed['images'] == manifest['images'] and resumed['seconds'] == 0 and resumed['images_computed'] == 0
    with pytest.raises(TeacherCacheError, match='holds a cache in dense storage'):
        tool.start_manifest(str(legacy), identity, 'x.py', manifest['classes'], 5)
    with pytest.raises(UserInputError, match=r'--top-k 19: the teacher has 19 classes, so K >= C keeps every logit'):
        tool.main(cache_tool_arguments(scenes, tmp_path / 'unused', r101_checkpoint, '--top-k', '19'))


def test_two_processes_write_the_cache_one_process_writes(cache, scenes, tmp_path, r101_checkpoint):
    """bash tools/dist_cache_teacher.sh CONFIG 2 (torchrun, gloo on the CPU): each rank computes half the images,
    rank 0 alone reports and merges the partial manifests. Compared with the one-process cache: the same images and
    entries, and logits equal within float16 rounding. (The files are bitwise equal when both runs compute with the
    same number of threads, as under OMP_NUM_THREADS=1, which torchrun sets; with another, a few float16 values
    differ in their last bit.)"""
    folder, _ = cache
    shared = tmp_path / 'cache'
    output = run('bash', 'tools/dist_cache_teacher.sh', CACHED_CFG, 2, *cache_tool_arguments(scenes, shared,
                                                                                            r101_checkpoint)[1:],
                 PORT=free_port())
    assert output.count('6 training images, 0 already cached') == 1 and '2 processes' in output
    assert output.count('caching teacher logits in') == 1 and output.count('teacher cache complete: 6 images') == 1
    assert '3/3' in output and '6/6' not in output  # rank 0's progress bar counts its half
    assert output.count('teacher weights loaded from') == 1
    single = json.loads((folder / 'manifest.json').read_text())
    double = json.loads((shared / 'manifest.json').read_text())
    assert double['complete'] and not list(shared.glob('manifest.rank*'))
    for key in ('format', 'teacher', 'classes', 'num_classes', 'output_stride', 'dtype', 'storage', 'top_k'):
        assert double[key] == single[key], key
    assert sorted(double['images']) == sorted(single['images'])
    for name, entry in double['images'].items():
        assert {key: value for key, value in entry.items() if key != 'sha256'} == \
            {key: value for key, value in single['images'][name].items() if key != 'sha256'}
        assert entry['sha256'] == file_sha256(str(shared / entry['file']))
        np.testing.assert_allclose(np.load(shared / entry['file']).astype(np.float32),
                                   np.load(folder / entry['file']).astype(np.float32), rtol=2e-3, atol=2e-3)
    assert double['seconds'] > 0 and double['images_computed'] == 6 and double['device'] == 'cpu'


def test_the_cached_map_matches_the_teacher_on_an_unaugmented_crop_and_differs_on_a_rescaled_one(cache, scenes,
                                                                                                 r101_checkpoint):
    """teacher_cache_fidelity.py with the resize at ratio 1, the whole-image crop and no flip: the crop is the
    cached image itself, so the maps agree but for float16 rounding; the config's own augmentation then differs."""
    folder, _ = cache
    labeled, unlabeled = 'train_dataloader.dataset.datasets.0.dataset', 'train_dataloader.dataset.datasets.1'
    identity = [f'{dataset}.pipeline.{step}' for dataset in (labeled, unlabeled) for step in
                ('2.ratio_range=(1.0,1.0)', '5.prob=0.0')]
    output = run(PYTHON, 'tools/analysis/teacher_cache_fidelity.py', CACHED_CFG, '--samples', '4', '--device', 'cpu',
                 '--top-k', '5', *cache_options(scenes, folder), f'model.teacher.checkpoint={r101_checkpoint}',
                 *identity)
    kl, agreement = re.search(r'mean KL\(online \|\| cached\) per pixel ([\d.]+) nats.*agreement ([\d.]+)%',
                              output).groups()
    assert float(kl) < 1e-4 and float(agreement) > 99
    # --top-k: what the top-5 storage loses of the teacher's own output (the argmax is kept)
    kl, agreement = re.search(r'top-5 storage of the online map: mean KL\(online \|\| top-5\) per pixel ([\d.]+) '
                              r'nats; argmax agreement ([\d.]+)%', output).groups()
    assert 0 < float(kl) < 1 and float(agreement) > 99


def distiller_cfg(cache, checkpoint, **changes):
    cfg = Config.fromfile(CACHED_CFG).model
    cfg.teacher.update(cache=str(cache), checkpoint=checkpoint)
    cfg.update(changes)
    return cfg


def test_the_distiller_refuses_another_teachers_cache_an_unfinished_one_and_feature_taps(cache, tmp_path,
                                                                                         r101_checkpoint):
    folder, _ = cache
    other = tmp_path / 'other.pth'
    torch.manual_seed(1)
    save_checkpoint(build_model(TEACHER_CFG), other)
    with pytest.raises(TeacherCacheError, match=r'made by another teacher: the checkpoint \(cache made from'):
        MODELS.build(distiller_cfg(folder, str(other)))
    features = dict(type='ChannelWiseDivergence', tau=4.0, loss_weight=1.0, student='backbone.layer4',
                    teacher='backbone.layer4', connector=dict(type='ConvBNConnector'))
    with pytest.raises(DistillConfigError, match=r'these entries tap other teacher tensors: loss_cwd: backbone.layer4'):
        MODELS.build(distiller_cfg(folder, r101_checkpoint, distill_losses=dict(
            loss_kd=dict(type='KLDivergence', student='decode_head.conv_seg', teacher='decode_head.conv_seg'),
            loss_cwd=features)))
    unfinished = tmp_path / 'unfinished'
    shutil.copytree(folder, unfinished)
    manifest = json.loads((unfinished / 'manifest.json').read_text())
    (unfinished / 'manifest.json').write_text(json.dumps(dict(manifest, complete=False)))
    with pytest.raises(TeacherCacheError, match='is unfinished'):
        MODELS.build(distiller_cfg(unfinished, r101_checkpoint))
    distiller = MODELS.build(distiller_cfg(folder, r101_checkpoint))
    assert distiller.teacher_cache is not None
    trained = torch.load(r101_checkpoint, weights_only=True)['state_dict']['backbone.stem.0.weight']
    assert not torch.equal(distiller.teacher.backbone.stem[0].weight, trained)  # the weights were not loaded


def test_train_py_distils_from_the_cache_alone(cache, scenes, tmp_path):
    """Two iterations from the cache, without the teacher's checkpoint on disk: its weights are never read."""
    folder, _ = cache
    output = run(PYTHON, 'tools/train.py', CACHED_CFG, '--work-dir', tmp_path / 'run', *cache_options(scenes, folder),
                 'model.teacher.checkpoint=nowhere/teacher.pth', 'train_dataloader.batch_size=3',
                 'train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2',
                 'param_scheduler.0.end=2', 'default_hooks.logger.interval=1')
    assert 'Iter(train) [2/2]' in output and 'distill.loss_kd' in output and 'mIoU' in output
    assert 'teacher weights loaded' not in output


def test_the_distiller_side_stacks_the_maps_and_refuses_another_folder_a_padded_image_or_a_missing_map(tmp_path):
    def sample(size, cache):
        data = SegDataSample(metainfo=dict(img_path=f'/data/{size[0]}.png'))
        data.gt_teacher_logits = PixelData(data=torch.randn(3, *size), metainfo=dict(cache=str(cache)))
        return data

    served = CachedTeacherLogits(8, str(tmp_path / 'cache'))
    samples = [sample((8, 16), tmp_path / 'cache'), sample((8, 16), tmp_path / 'cache')]
    served.load(samples, (2, 3, 64, 128))
    expected = torch.stack([item.gt_teacher_logits.data for item in samples])
    assert torch.equal(served.get(CACHED_TAP), expected)
    served.clear()
    with pytest.raises(TeacherCacheError, match=r"reads the cache '.*other', the distiller checked teacher.cache"):
        served.load([sample((8, 16), tmp_path / 'other')], (1, 3, 64, 128))
    with pytest.raises(TeacherCacheError, match=r'/data/7.png: its cached teacher map is \[7, 16\], the teacher output '
                                                r'on the batch is \[8, 16\]: the image was smaller than the batch'):
        served.load([sample((8, 16), tmp_path / 'cache'), sample((7, 16), tmp_path / 'cache')], (2, 3, 64, 128))
    with pytest.raises(TeacherCacheError, match='has no cached teacher logits'):
        served.load([SegDataSample(metainfo=dict(img_path='/data/x.png'))], (1, 3, 64, 128))


def test_a_step_from_cached_logits_computes_the_losses_of_the_online_step():
    """benchmark.py's cached step: the batch carries the teacher's own logits, so every loss equals the online one."""
    spec = importlib.util.spec_from_file_location('benchmark', REPO / 'tools' / 'analysis' / 'benchmark.py')
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    cfg = Config.fromfile(REPO / 'distillation_configs/kd/kd_pspnet-r101_pspnet-r18_demo-8labeled-unlabeled_'
                                 'cityscapes.py').model
    cfg.teacher.checkpoint = None
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match='RANDOMLY INITIALISED'):
        distiller = MODELS.build(cfg)
    distiller.eval()  # batch norm in eval: the two steps see the same statistics
    inputs, samples = benchmark.synthetic_batch(distiller, 2, (64, 128), 'cpu')
    cached_samples, cache = benchmark.with_cached_teacher_logits(distiller, inputs, samples)
    assert cache.stride == 8 and cached_samples[0].gt_teacher_logits.data.shape == (19, 8, 16)
    with torch.no_grad():
        online = distiller.loss(inputs, samples)
        distiller.teacher_cache = cache
        cached = distiller.loss(inputs, cached_samples)
    assert sorted(online) == sorted(cached) and 'distill.loss_kd' in cached
    for key in online:
        torch.testing.assert_close(cached[key], online[key], rtol=0, atol=0)
