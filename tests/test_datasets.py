"""The three datasets end to end: generated miniatures in the official download layouts go through our converters,
then a distillation trains on them with tools/dist_train.sh and is evaluated with tools/dist_test.sh (2 CPU
processes each). Cityscapes also writes a test-server submission."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import torch
from cityscapesscripts.helpers.labels import labels as CITYSCAPES_LABELS
from PIL import Image

from conftest import PYTHON, REPO, build_model, save_checkpoint
from miniature_layouts import write_ade20k_zip, write_voc_sbd_layout
from mmseg_kd.datasets.procedural_cityscapes import write_cityscapes_layout
from test_tools import free_port, run

PIPELINES = """
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'{reduce}),
    dict(type='RandomResize', scale=(128, 64), ratio_range=(1.0, 1.2), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Pad', size=crop_size),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(128, 64), keep_ratio=True),
    dict(type='LoadAnnotations'{reduce}),
    dict(type='PackSegInputs'),
]
"""

DATA = {
    'cityscapes': """
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root='{root}', pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(data_root='{root}', pipeline=test_pipeline))
test_dataloader = val_dataloader
""",
    'voc12aug': """
voc = dict(type='PascalVOCDataset', data_root='{root}', pipeline=train_pipeline)
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False, dataset=dict(datasets=[
    dict(voc, data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
         ann_file='ImageSets/Segmentation/train.txt'),
    dict(voc, data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClassAug'),
         ann_file='ImageSets/Segmentation/aug.txt')]))
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(data_root='{root}', pipeline=test_pipeline))
test_dataloader = val_dataloader
""",
    'ade20k': """
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root='{root}', pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(data_root='{root}', pipeline=test_pipeline))
test_dataloader = val_dataloader
""",
}
SUFFIX = {'cityscapes': 'cityscapes-512x1024', 'voc12aug': 'voc12aug-512x512', 'ade20k': 'ade20k-512x512'}


def write_tiny_configs(folder: Path, dataset: str, data_root: str):
    """A CPU-sized PSPNet-R18 config over the repository's zoo config for ``dataset``, and a pixel-KD config that
    distils a saved PSPNet-R18 teacher into it."""
    student = folder / 'student.py'
    student.write_text(f"""_base_ = ['{REPO}/configs/{dataset}/pspnet_r18-d8_{SUFFIX[dataset]}.py']
crop_size = (64, 64)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(pretrained=None, data_preprocessor=dict(size=crop_size), backbone=dict(norm_cfg=norm_cfg),
             decode_head=dict(norm_cfg=norm_cfg), auxiliary_head=dict(norm_cfg=norm_cfg))
{PIPELINES.format(reduce=", reduce_zero_label=True" if dataset == 'ade20k' else "")}
{DATA[dataset].format(root=data_root)}
train_cfg = dict(max_iters=2, val_interval=2)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
""")
    torch.manual_seed(0)
    teacher = save_checkpoint(build_model(student), folder / 'teacher.pth')
    distill = folder / 'distill.py'
    distill.write_text(f"""_base_ = ['./student.py']
custom_imports = dict(imports=['mmseg_kd'], allow_failed_imports=False)
model = dict(_delete_=True, type='SegDistiller', student=dict(cfg_path='{student}'),
             teacher=dict(cfg_path='{student}', checkpoint='{teacher}'),
             distill_losses=dict(loss_kd=dict(type='KLDivergence', tau=1.0, ignore_index=255,
                                              student='decode_head.conv_seg', teacher='decode_head.conv_seg')))
""")
    return str(distill)


def train_and_evaluate(folder: Path, config: str):
    output = run('bash', 'tools/dist_train.sh', config, 2, '--work-dir', folder / 'run', PORT=free_port())
    assert 'Iter(train) [2/2]' in output and 'distill.loss_kd' in output
    output = run('bash', 'tools/dist_test.sh', config, folder / 'run' / 'iter_2.pth', 2,
                 '--work-dir', folder / 'test', PORT=free_port())
    assert re.search(r'mIoU: \d+\.\d+', output), output[-3000:]


def train_id_to_label_id() -> np.ndarray:
    """Inverse of Cityscapes' official mapping: each train id to its label id, 255 (ignore) to 0 (unlabeled)."""
    table = np.zeros(256, np.uint8)
    for label in reversed(CITYSCAPES_LABELS):
        if 0 <= label.trainId < 255 and label.id >= 0:
            table[label.trainId] = label.id
    return table


def test_cityscapes_conversion_training_evaluation_and_test_server(tmp_path):
    root = write_cityscapes_layout(str(tmp_path / 'cityscapes'), num_train=4, num_val=2, seed=3)
    train_ids = {}
    for path in sorted(Path(root, 'gtFine').rglob('*_gtFine_labelTrainIds.png')):
        train_ids[path] = np.asarray(Image.open(path))
        label_ids = path.with_name(path.name.replace('labelTrainIds', 'labelIds'))
        Image.fromarray(train_id_to_label_id()[train_ids[path]]).save(label_ids)
        path.unlink()
    output = run(PYTHON, 'tools/dataset_converters/cityscapes.py', root)
    assert 'wrote 6 *_gtFine_labelTrainIds.png files' in output
    for path, expected in train_ids.items():
        assert np.array_equal(np.asarray(Image.open(path)), expected), path
    shutil.copytree(Path(root, 'leftImg8bit', 'val'), Path(root, 'leftImg8bit', 'test'))

    config = write_tiny_configs(tmp_path, 'cityscapes', root)
    train_and_evaluate(tmp_path, config)
    submission = tmp_path / 'submission'
    run(PYTHON, 'tools/test.py', config, tmp_path / 'run' / 'iter_2.pth', '--work-dir', tmp_path / 'server',
        '--cityscapes-test-server', submission)
    written = sorted(submission.glob('*.png'))
    assert len(written) == 2 and all(p.name.endswith('_leftImg8bit.png') for p in written)
    valid_label_ids = {label.id for label in CITYSCAPES_LABELS if 0 <= label.trainId < 255}
    assert set(np.unique(np.asarray(Image.open(written[0])))) <= valid_label_ids


def test_voc_sbd_conversion_training_and_evaluation(tmp_path):
    devkit, aug = tmp_path / 'VOCdevkit', tmp_path / 'VOCaug'
    voc = devkit / 'VOC2012'
    write_voc_sbd_layout(str(voc), str(aug / 'benchmark_RELEASE'))
    output = run(PYTHON, 'tools/dataset_converters/voc_aug.py', devkit, aug)
    assert 'aug.txt lists 6 images' in output and '= 10 training images' in output
    aug_ids = (voc / 'ImageSets/Segmentation/aug.txt').read_text().split()
    assert aug_ids == [f'2008_{i:06d}' for i in range(6)]
    mask = np.asarray(Image.open(voc / 'SegmentationClassAug' / '2008_000000.png'))
    assert mask.dtype == np.uint8 and set(np.unique(mask)) <= set(range(21))

    config = write_tiny_configs(tmp_path, 'voc12aug', str(voc))
    train_and_evaluate(tmp_path, config)


def test_ade20k_conversion_training_and_evaluation(tmp_path):
    archive = tmp_path / 'ADEChallengeData2016.zip'
    write_ade20k_zip(str(archive))
    output = run(PYTHON, 'tools/dataset_converters/ade20k.py', archive, tmp_path / 'ade')
    assert '6 training and 3 validation images' in output
    config = write_tiny_configs(tmp_path, 'ade20k', str(tmp_path / 'ade' / 'ADEChallengeData2016'))
    train_and_evaluate(tmp_path, config)


def test_converters_explain_a_wrong_path(tmp_path):
    for tool, args, message in (
            ('cityscapes.py', [tmp_path], 'point the converter at the folder that holds gtFine/'),
            ('voc_aug.py', [tmp_path, tmp_path], 'is the folder an unpacked VOC2012'),
            ('ade20k.py', [tmp_path / 'missing.zip', tmp_path], 'download ADEChallengeData2016.zip')):
        result = subprocess.run([PYTHON, f'tools/dataset_converters/{tool}', *map(str, args)],
                                              cwd=REPO, capture_output=True, text=True, env=dict(os.environ))
        assert result.returncode != 0 and message in result.stdout + result.stderr, (tool, result.stderr[-500:])
