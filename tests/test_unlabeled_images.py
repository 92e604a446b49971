"""Unlabeled images in a distillation: the all-ignore label map in mmseg's pipeline, the labeled/unlabeled split,
the losses on a mixed batch (against hand computations), the start-time check of the config, and a real run of the
demo's unlabeled-images config through tools/train.py."""
import inspect
import subprocess

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.structures import PixelData
from mmseg.datasets import CityscapesDataset
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from conftest import PYTHON, REPO, STUDENT_CFG
from mmseg_kd.datasets.ignored_label_map import AddIgnoredLabelMap
from mmseg_kd.datasets.label_split import split_paths, training_image_names, write_label_split
from mmseg_kd.datasets.procedural_cityscapes import write_cityscapes_layout
from mmseg_kd.distillers.distill_term import registered_distill_losses
from mmseg_kd.engine.unlabeled_images_check import UnlabeledImagesConfigError, check_unlabeled_images
from mmseg_kd.losses.distill_loss import DistillLoss
from test_tools import run

FEW_LABELS_CFG = REPO / 'configs/demo/pspnet_r18-d8_demo-cityscapes-64x128-8labeled.py'
UNLABELED_CFG = REPO / 'distillation_configs/kd/kd_pspnet-r101_pspnet-r18_demo-8labeled-unlabeled_cityscapes.py'
LOGITS = 'decode_head.conv_seg'


@pytest.fixture(scope='module')
def scenes(tmp_path_factory):
    """6 training scenes (2 labeled, 4 unlabeled) and 2 validation scenes."""
    root = write_cityscapes_layout(str(tmp_path_factory.mktemp('unlabeled') / 'cityscapes'), num_train=6, num_val=2,
                                   size=(64, 128), seed=4, progress=False)
    write_label_split(root, num_labeled=2, seed=0)
    return root


# ---------------------------------------------------------------------------------------------- data
def test_split_lists_a_labeled_subset_and_the_rest(scenes):
    labeled, unlabeled = (open(f'{scenes}/{path}').read().split() for path in split_paths(scenes, 2))
    names = training_image_names(scenes)
    assert len(names) == 6 and len(labeled) == 2 and sorted(labeled + unlabeled) == names
    assert names[0] == 'aachen/aachen_000000_000000'
    assert write_label_split(scenes, num_labeled=2, seed=0) == split_paths(scenes, 2)  # the same draw again
    assert open(f'{scenes}/splits/2/labeled.txt').read().split() == labeled
    for wrong in (0, 6):
        with pytest.raises(ValueError, match='num_labeled must be between 1 and 5'):
            write_label_split(scenes, num_labeled=wrong)


def test_unlabeled_images_go_through_a_real_mmseg_pipeline_with_an_all_ignore_label_map(scenes):
    pipeline = [dict(type='LoadImageFromFile'), dict(type='AddIgnoredLabelMap'),
                dict(type='RandomResize', scale=(128, 64), ratio_range=(1.0, 1.5), keep_ratio=True),
                dict(type='RandomCrop', crop_size=(32, 64)), dict(type='RandomFlip', prob=1.0),
                dict(type='PackSegInputs')]
    unlabeled = CityscapesDataset(data_root=scenes, ann_file=split_paths(scenes, 2)[1],
                                  data_prefix=dict(img_path='leftImg8bit/train'), pipeline=pipeline)
    labeled = CityscapesDataset(data_root=scenes, ann_file=split_paths(scenes, 2)[0],
                                data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
                                pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                                          dict(type='PackSegInputs')])
    assert len(unlabeled) == 4 and len(labeled) == 2
    for index in range(4):
        sample = unlabeled[index]
        labels = sample['data_samples'].gt_sem_seg.data
        assert sample['inputs'].shape == (3, 32, 64) and labels.shape == (1, 32, 64)
        assert (labels == 255).all()
        assert 'seg_map_path' not in sample['data_samples'].metainfo
    assert (labeled[0]['data_samples'].gt_sem_seg.data != 255).float().mean() > 0.9  # real labels there


def test_an_image_with_a_label_file_or_a_bad_fill_value_is_refused(scenes):
    image = f'{scenes}/leftImg8bit/train/aachen/aachen_000000_000000_leftImg8bit.png'
    load = Compose([dict(type='LoadImageFromFile'), dict(type='AddIgnoredLabelMap', ignore_index=7)])
    results = load(dict(img_path=image, seg_fields=[]))
    assert results['gt_seg_map'].shape == (64, 128) and (results['gt_seg_map'] == 7).all()
    assert results['gt_seg_map'].dtype == np.uint8 and results['seg_fields'] == ['gt_seg_map']
    with pytest.raises(ValueError, match='has a label file .* whose labels this transform would throw away'):
        load(dict(img_path=image, seg_map_path='gtFine/train/x.png', seg_fields=[]))
    for bad in (True, 256, -1, '255', 255.0):
        with pytest.raises(ValueError, match='ignore_index must be an integer in 0..255'):
            AddIgnoredLabelMap(ignore_index=bad)


# ---------------------------------------------------------------------------------------------- losses
def mixed_batch():
    """Images 0 and 1 labeled (random classes, a band of ignored rows), images 2 and 3 unlabeled (all 255)."""
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(4, 3, 64, 128, generator=generator)
    samples = []
    for index in range(4):
        labels = torch.randint(0, 19, (1, 64, 128), generator=generator)
        labels[:, :6] = 255
        if index >= 2:
            labels[:] = 255
        sample = SegDataSample(gt_sem_seg=PixelData(data=labels))
        sample.set_metainfo(dict(img_shape=(64, 128), ori_shape=(64, 128), pad_shape=(64, 128)))
        samples.append(sample)
    return inputs, samples


def recorded_outputs(module, store, key):
    return module.register_forward_hook(lambda _, __, output: store.__setitem__(key, output.detach()))


def test_mixed_batch_cross_entropy_is_that_of_the_labeled_images_and_kd_uses_every_image():
    distiller = MODELS.build(dict(
        type='SegDistiller', student=dict(cfg_path=str(FEW_LABELS_CFG)),
        teacher=dict(cfg_path=str(STUDENT_CFG), checkpoint=None),
        distill_losses=dict(loss_kd=dict(type='KLDivergence', tau=1.0, student=LOGITS, teacher=LOGITS))))
    distiller.train()
    inputs, samples = mixed_batch()
    logits = {}
    hooks = [recorded_outputs(distiller.student.decode_head.conv_seg, logits, 'decode'),
             recorded_outputs(distiller.student.auxiliary_head.conv_seg, logits, 'aux'),
             recorded_outputs(distiller.teacher.decode_head.conv_seg, logits, 'teacher')]
    losses = distiller.loss(inputs, samples)
    for hook in hooks:
        hook.remove()
    labels = torch.stack([sample.gt_sem_seg.data[0] for sample in samples]).long()

    for head, weight in (('decode', 1.0), ('aux', 0.4)):  # PSPNet's loss weights
        upsampled = F.interpolate(logits[head], size=(64, 128), mode='bilinear', align_corners=False)
        labeled_only = F.cross_entropy(upsampled[:2], labels[:2], ignore_index=255)
        torch.testing.assert_close(losses[f'{head}.loss_ce'].detach(), weight * labeled_only, rtol=1e-5, atol=0)
        diluted = F.cross_entropy(upsampled, labels, ignore_index=255, reduction='sum') / labels.numel()
        assert diluted < 0.5 * labeled_only  # what avg_non_ignore=False would have given: far off

    log_p_t = F.log_softmax(logits['teacher'], dim=1)
    kl = (log_p_t.exp() * (log_p_t - F.log_softmax(logits['decode'], dim=1))).sum(dim=1)  # (4, 8, 16)
    torch.testing.assert_close(losses['distill.loss_kd'].detach(), kl.mean(), rtol=1e-5, atol=0)
    assert not torch.isclose(kl.mean(), kl[:2].mean(), rtol=1e-3)  # the unlabeled images count


# ---------------------------------------------------------------------------------------------- config check
@pytest.fixture()
def unlabeled_cfg():
    return Config.fromfile(UNLABELED_CFG)


def few_labels_student(**options):
    return dict(cfg_path=str(FEW_LABELS_CFG), cfg_options=options)


def test_the_demo_config_passes_and_a_config_without_unlabeled_images_is_not_checked(unlabeled_cfg):
    assert check_unlabeled_images(unlabeled_cfg) == []
    plain = Config.fromfile(STUDENT_CFG)
    plain.model.decode_head.loss_decode.type = 'FocalLoss'
    assert check_unlabeled_images(plain) == []


@pytest.mark.parametrize('student, message', [
    (dict(cfg_path=str(STUDENT_CFG)), r'student decode_head.loss_decode: CrossEntropyLoss with avg_non_ignore=False '
                                      r'averages over all pixels'),
    (few_labels_student(**{'model.auxiliary_head.loss_decode.avg_non_ignore': False}),
     'student auxiliary_head.loss_decode: CrossEntropyLoss with avg_non_ignore=False'),
    (few_labels_student(**{'model.decode_head.loss_decode': [dict(type='CrossEntropyLoss', avg_non_ignore=True),
                                                             dict(type='FocalLoss')]}),
     r"decode_head.loss_decode\[1\] is FocalLoss; .* only mmseg's CrossEntropyLoss\(avg_non_ignore=True\)"),
    (few_labels_student(**{'model.decode_head.loss_decode.use_mask': True}), 'use_mask=True ignores no pixel'),
    (few_labels_student(**{'model.decode_head.ignore_index': 0}),
     'decode_head: ignore_index=0, but AddIgnoredLabelMap fills the unlabeled images with 255'),
])
def test_student_losses_that_unlabeled_pixels_would_dilute_are_refused(unlabeled_cfg, student, message):
    unlabeled_cfg.model.student = student
    with pytest.raises(UnlabeledImagesConfigError, match=message):
        check_unlabeled_images(unlabeled_cfg)


def test_the_check_reads_mmseg_defaults_not_only_the_config(unlabeled_cfg):
    """The demo student states avg_non_ignore=True; without it mmseg's default (False) is what counts."""
    unlabeled_cfg.model.student = few_labels_student(**{'model.decode_head.loss_decode': dict(
        _delete_=True, type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)})
    with pytest.raises(UnlabeledImagesConfigError, match='avg_non_ignore=False'):
        check_unlabeled_images(unlabeled_cfg)


TAPS = dict(student='decode_head.bottleneck', teacher='decode_head.bottleneck')


@pytest.mark.parametrize('loss, outcome', [
    (dict(type='KLDivergence', ignore_index=255, student=LOGITS, teacher=LOGITS),
     r'KLDivergence\(ignore_index=255\) leaves out the pixels labelled 255, which are all the pixels of the unlabeled'),
    (dict(type='KLDivergence', ignore_index=None, student=LOGITS, teacher=LOGITS), None),
    (dict(type='ChannelWiseDivergence', tau=4.0, student=LOGITS, teacher=LOGITS), None),
    (dict(type='IntraClassFeatureVariation', **TAPS), 'note'),
    (dict(type='IntraClassFeatureVariation', ignored_pixels_in_mean=True, **TAPS),
     'ignored_pixels_in_mean=True counts the ignored pixels'),
    (dict(type='MemoryPixelRegionContrast', num_classes=19, **TAPS), 'note'),
    (dict(type='IntraClassFeatureVariation', ignore_index=0, **TAPS),
     'ignore_index=0, but the unlabeled images are filled with 255: their pixels would form a class of their own'),
    (dict(type='MemoryPixelRegionContrast', num_classes=19, ignore_index=19, **TAPS),
     'ignore_index=19, but the unlabeled images are filled with 255'),
])
def test_distillation_losses_that_read_labels(unlabeled_cfg, loss, outcome):
    unlabeled_cfg.model.distill_losses = dict(loss_x=loss)
    if outcome is None:
        assert check_unlabeled_images(unlabeled_cfg) == []
    elif outcome == 'note':
        assert check_unlabeled_images(unlabeled_cfg) == [f"loss_x ({loss['type']}) learns from labeled pixels only"]
    else:
        with pytest.raises(UnlabeledImagesConfigError, match=f'model.distill_losses.loss_x: {outcome}'):
            check_unlabeled_images(unlabeled_cfg)


def test_a_loss_that_may_read_labels_unknown_to_the_check_is_refused(unlabeled_cfg):
    @MODELS.register_module(force=True)
    class LabelReadingTestLoss(DistillLoss):
        uses_labels = True

    unlabeled_cfg.model.distill_losses = dict(loss_x=dict(type='LabelReadingTestLoss', student=LOGITS, teacher=LOGITS))
    with pytest.raises(UnlabeledImagesConfigError, match='LabelReadingTestLoss may read labels, and it is not known'):
        check_unlabeled_images(unlabeled_cfg)


def test_every_registered_loss_that_may_read_labels_says_how_it_treats_unlabeled_pixels():
    """A loss that reads labels must say what it does with unlabeled pixels (it is refused until it does)."""
    label_readers = []
    for name in registered_distill_losses():
        cls = MODELS.get(name)
        if inspect.getattr_static(cls, 'uses_labels') is not False and name != 'LabelReadingTestLoss':
            label_readers.append(name)
            assert cls.unlabeled_images_note.__func__ is not DistillLoss.unlabeled_images_note.__func__, name
    assert {'KLDivergence', 'IntraClassFeatureVariation', 'MemoryPixelRegionContrast'} <= set(label_readers)


def test_datasets_and_models_that_cannot_take_unlabeled_images_are_refused(unlabeled_cfg):
    unlabeled = unlabeled_cfg.train_dataloader.dataset.datasets[1]
    plain = Config.fromfile(FEW_LABELS_CFG)
    plain.train_dataloader = unlabeled_cfg.train_dataloader
    with pytest.raises(UnlabeledImagesConfigError, match="the model is 'EncoderDecoder', not a SegDistiller"):
        check_unlabeled_images(plain)
    unlabeled.data_prefix.seg_map_path = 'gtFine/train'
    with pytest.raises(UnlabeledImagesConfigError, match=r'datasets\[1\]: the unlabeled dataset must list no label'):
        check_unlabeled_images(unlabeled_cfg)
    unlabeled.data_prefix.pop('seg_map_path')
    unlabeled.pipeline.insert(1, dict(type='LoadAnnotations'))
    with pytest.raises(UnlabeledImagesConfigError, match='has both AddIgnoredLabelMap and LoadAnnotations'):
        check_unlabeled_images(unlabeled_cfg)
    unlabeled.pipeline.pop(1)
    labeled = unlabeled_cfg.train_dataloader.dataset.datasets[0].dataset
    labeled.data_prefix = dict(img_path='leftImg8bit/train')
    labeled.pipeline = [dict(type='LoadImageFromFile'), dict(type='AddIgnoredLabelMap', ignore_index=0)]
    with pytest.raises(UnlabeledImagesConfigError, match=r'fill with different values \[0, 255\]'):
        check_unlabeled_images(unlabeled_cfg)


# ---------------------------------------------------------------------------------------------- tools/train.py
def data_options(root):
    return ['--cfg-options', f'train_dataloader.dataset.datasets.0.dataset.data_root={root}',
            'train_dataloader.dataset.datasets.0.dataset.ann_file=splits/2/labeled.txt',
            'train_dataloader.dataset.datasets.0.times=1',
            f'train_dataloader.dataset.datasets.1.data_root={root}',
            'train_dataloader.dataset.datasets.1.ann_file=splits/2/unlabeled.txt',
            f'val_dataloader.dataset.data_root={root}', 'train_dataloader.batch_size=3']


def test_train_py_distils_on_labeled_and_unlabeled_images(tmp_path, scenes, r101_checkpoint):
    """The demo config on 2 labeled + 4 unlabeled scenes, batch 3: two iterations see each image once."""
    output = run(PYTHON, 'tools/train.py', UNLABELED_CFG, '--work-dir', tmp_path / 'run',
                 *data_options(scenes), f'model.teacher.checkpoint={r101_checkpoint}', 'train_cfg.max_iters=2',
                 'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2', 'param_scheduler.0.end=2',
                 'default_hooks.logger.interval=1')
    assert 'Iter(train) [2/2]' in output and 'distill.loss_kd' in output and 'mIoU' in output
    assert (tmp_path / 'run' / 'iter_2.pth').is_file()


def test_train_py_refuses_a_loss_that_would_skip_the_unlabeled_images_before_building(tmp_path, scenes):
    result = subprocess.run(
        [PYTHON, 'tools/train.py', str(UNLABELED_CFG), '--work-dir', str(tmp_path / 'run'), *data_options(scenes),
         'model.distill_losses.loss_kd.ignore_index=255'], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert ('==== train.py stopped: UnlabeledImagesConfigError ====\nmodel.distill_losses.loss_kd: '
            'KLDivergence(ignore_index=255) leaves out the pixels labelled 255') in result.stderr
    assert 'Traceback' not in result.stderr and 'Iter(train)' not in result.stdout + result.stderr
