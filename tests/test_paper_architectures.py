"""The papers' architectures (mmseg_kd.models) and checkpoint converters, proven without the authors' code.

For each architecture a state dict in the authors' layout (key/shape tables in ``paper_layouts``, random values
with non-trivial BN statistics) is converted, loaded strictly into our config's model, and our model's outputs in
eval mode are compared with ``paper_reference``: the authors' forward passes written out with
torch.nn.functional on the authors' keys (whole CNNs; per layer for the transformers).
"""
import functools
import os
import subprocess
import sys

import pytest
import torch
import torchvision
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmseg.registry import MODELS

import paper_layouts as layouts
import paper_reference as reference
from conftest import REPO
from mmseg_kd.checkpoint import extract_state_dict, load_checkpoint_file, load_state_dict_strictly
from mmseg_kd.distillers.taps import Tap, TapRecorder
from mmseg_kd.models.converters import (
    UnsupportedCheckpointError,
    convert_cirkd_checkpoint,
    convert_deeplabv3plus_checkpoint,
    convert_segdistill_checkpoint,
)
from mmseg_kd.models.converters.command_line import run_converter
from mmseg_kd.models.converters.segdistill import official_to_unfold_order

CITYSCAPES = 'configs/cityscapes/cirkd-{}_cityscapes-512x1024.py'
VOC = 'configs/voc12aug/cirkd-{}_voc12aug-512x512.py'


@functools.lru_cache(maxsize=None)
def build(config: str) -> torch.nn.Module:
    """The config's model in eval mode, built once per session (every test loads all the weights it uses)."""
    return revert_sync_batchnorm(MODELS.build(Config.fromfile(REPO / config).model)).eval()


def converted_model(result, config: str) -> torch.nn.Module:
    assert result.configs == [config], result.configs
    model = build(config)
    load_state_dict_strictly(model.backbone if result.backbone_only else model, result.state_dict,
                             what='converted weights', config_hint=config)
    return model


def assert_close(ours: torch.Tensor, theirs: torch.Tensor, rtol: float = 1e-4) -> None:
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    scale = theirs.abs().max().item()
    assert scale > 0.1, scale
    assert (ours - theirs).abs().max().item() <= rtol * scale, ((ours - theirs).abs().max().item(), scale)


# ------------------------------------------------------------------------------------------------------ CIRKD v1
@pytest.mark.parametrize('backbone, head, classes, config', [
    ('resnet101', 'deeplabv3', 19, CITYSCAPES.format('deeplabv3_r101-d8')),
    ('resnet18', 'deeplabv3', 21, VOC.format('deeplabv3_r18-d8')),
    ('mobilenetv2', 'deeplabv3', 19, CITYSCAPES.format('deeplabv3_mobilenetv2-d8')),
    ('resnet18', 'pspnet', 21, VOC.format('pspnet_r18-d8')),
])
def test_cirkd_checkpoint_converts_and_computes_what_cirkd_computes(backbone, head, classes, config):
    table = layouts.cirkd_deeplabv3(backbone, classes) if head == 'deeplabv3' else layouts.cirkd_pspnet_r18(classes)
    theirs = layouts.random_state_dict(table, seed=1)
    saved = {'state_dict': {f'module.{k}': v for k, v in theirs.items()}}  # a DDP-wrapped save
    result = convert_cirkd_checkpoint(extract_state_dict(saved))
    model = converted_model(result, config)
    x = torch.randn(2, 3, 40, 56) * 50  # CIRKD's inputs: BGR minus the Caffe means, std 1
    with torch.no_grad():
        if backbone == 'mobilenetv2':
            stages = [reference.cirkd_mobilenetv2(x, theirs, 'pretrained.net.')]
        else:
            stages = reference.cirkd_resnet(x, theirs, 'pretrained.', int(backbone[len('resnet'):]))
        expected = (reference.cirkd_deeplabv3_head if head == 'deeplabv3' else reference.cirkd_pspnet_head)(
            stages[-1], theirs)
        features = model.extract_feat(x)
        assert_close(model.decode_head(features), expected)
        if backbone != 'mobilenetv2':
            assert_close(model.auxiliary_head(features), reference.cirkd_fcn_aux(stages[2], theirs))


@pytest.mark.parametrize('name, table, config', [
    ('resnet101', layouts.cirkd_imagenet_resnet(101), CITYSCAPES.format('deeplabv3_r101-d8')),
    ('resnet18', layouts.cirkd_imagenet_resnet(18), CITYSCAPES.format('deeplabv3_r18-d8')),
    ('mobilenetv2', layouts.imagenet_mobilenetv2(), CITYSCAPES.format('deeplabv3_mobilenetv2-d8')),
])
def test_cirkd_imagenet_backbones_become_backbone_only_files(name, table, config):
    theirs = layouts.random_state_dict(table, seed=2)
    result = convert_cirkd_checkpoint(theirs)
    assert result.backbone_only
    assert sorted(result.dropped) == sorted(k for k in theirs if k.startswith(('fc.', 'features.18.', 'classifier.')))
    model = converted_model(result, config)
    x = torch.randn(1, 3, 40, 56)
    with torch.no_grad():
        if name == 'mobilenetv2':
            assert_close(model.backbone(x)[-1], reference.cirkd_mobilenetv2(x, theirs, ''))
        else:
            for ours, expected in zip(model.backbone(x), reference.cirkd_resnet(x, theirs, '', int(name[6:]))):
                assert_close(ours, expected)


def test_pre_activation_taps_work_on_the_dilated_conv2_resnet():
    """record='pre_activation' hooks a block's shared relu; our BasicBlock with a dilated conv2 keeps it."""
    theirs = layouts.random_state_dict(layouts.cirkd_deeplabv3('resnet18', 19), seed=3)
    model = converted_model(convert_cirkd_checkpoint(theirs), CITYSCAPES.format('deeplabv3_r18-d8'))
    taps = [Tap('backbone.layer4', 'pre_activation'), Tap('backbone.layer3.0', 'pre_activation')]
    recorder = TapRecorder(model, taps, 'student')
    x = torch.randn(1, 3, 40, 56) * 50
    with torch.no_grad():
        block_41 = reference.cirkd_resnet(x, theirs, 'pretrained.', 18, upto_block=(4, 1))[0]
        block_30 = reference.cirkd_resnet(x, theirs, 'pretrained.', 18, upto_block=(3, 0))[0]
        expected = {taps[0]: reference.basic_block_pre_activation(block_41, theirs, 'pretrained.layer4.1', 1, 4, 4),
                    taps[1]: reference.basic_block_pre_activation(block_30, theirs, 'pretrained.layer3.0', 1, 1, 2)}
        for _ in range(2):  # the first forward learns the relu's call count, the second uses it
            with recorder.recording():
                model.extract_feat(x)
            for tap, value in expected.items():
                assert (value < 0).any()
                assert_close(recorder.get(tap), value)
    recorder.remove()


def test_cirkd_refuses_v2_and_other_code_bases_naming_the_converter_that_fits():
    v2 = layouts.random_state_dict(layouts.cirkd_deeplabv3('resnet18', 19, aspp_width=512))
    with pytest.raises(UnsupportedCheckpointError, match=r'512 channels wide on resnet18.*This is a CIRKD v2 file'):
        convert_cirkd_checkpoint(v2)
    lineage = layouts.random_state_dict(layouts.deeplabv3plus('resnet18', 21))
    with pytest.raises(UnsupportedCheckpointError, match=r'DeepLabV3\+ checkpoint.*deeplabv3plus2mmseg\.py'):
        convert_cirkd_checkpoint(lineage)
    nvlabs = {'backbone.patch_embed1.proj.weight': torch.zeros(1), 'decode_head.linear_pred.weight': torch.zeros(1)}
    with pytest.raises(UnsupportedCheckpointError, match=r'NVlabs/SegFormer layout.*segdistill2mmseg\.py'):
        convert_cirkd_checkpoint(nvlabs)
    extra = dict(layouts.random_state_dict(layouts.cirkd_pspnet_r18(19)), **{'head.psp.extra.weight': torch.zeros(1)})
    with pytest.raises(UnsupportedCheckpointError, match=r'(?s)1 key\(s\) match no part.*head\.psp\.extra\.weight'):
        convert_cirkd_checkpoint(extra)


# ------------------------------------------------------------------------------------- DeepLabV3+ (jfzhang95 lineage)
@pytest.mark.parametrize('backbone, classes, with_cbam, config', [
    ('resnet101', 21, False, 'configs/voc12aug/jfzhang95-deeplabv3plus_r101-d16-mg124_voc12aug-513x513.py'),
    ('resnet18', 19, True, 'configs/cityscapes/jfzhang95-deeplabv3plus_r18-d16_cityscapes-513x513.py'),
    ('mobilenetv2', 21, False, 'configs/voc12aug/jfzhang95-deeplabv3plus_mobilenetv2-d16_voc12aug-513x513.py'),
])
def test_deeplabv3plus_checkpoint_converts_and_computes_what_the_lineage_computes(backbone, classes, with_cbam,
                                                                                  config):
    theirs = layouts.random_state_dict(layouts.deeplabv3plus(backbone, classes, with_cbam), seed=4)
    saved = {'epoch': 50, 'state_dict': theirs, 'optimizer': {'state': {}}, 'best_pred': 0.77}  # a .pth.tar
    result = convert_deeplabv3plus_checkpoint(extract_state_dict(saved))
    unused = [k for k in theirs if '.cbam.' in k or '_level_features.' in k]
    assert sorted(result.dropped) == sorted(unused) and (len(unused) == 30 if with_cbam else True)
    model = converted_model(result, config)
    x = torch.randn(2, 3, 49, 65)
    with torch.no_grad():
        if backbone == 'mobilenetv2':
            low, high = reference.lineage_mobilenetv2(x, theirs)
        else:
            stages = reference.lineage_resnet(x, theirs, int(backbone[len('resnet'):]))
            low, high = stages[0], stages[-1]
        assert_close(model.decode_head(model.extract_feat(x)), reference.lineage_head(high, low, theirs))


def test_deeplabv3plus_fills_in_the_bn_counters_of_old_files_and_checks_the_duplicates():
    table = layouts.deeplabv3plus('mobilenetv2', 21)
    old = {k: v for k, v in layouts.random_state_dict(table).items() if not k.endswith('num_batches_tracked')}
    result = convert_deeplabv3plus_checkpoint(old)
    assert len(result.added) == sum(k.endswith('running_mean') for k in old if '_level_features.' not in k)
    converted_model(result, 'configs/voc12aug/jfzhang95-deeplabv3plus_mobilenetv2-d16_voc12aug-513x513.py')
    old['backbone.high_level_features.5.conv.0.weight'] = old['backbone.features.5.conv.0.weight'] + 1
    with pytest.raises(UnsupportedCheckpointError, match=r'high_level_features\.5\.conv\.0\.weight should repeat '
                                                         r'backbone\.features\.5\.conv\.0\.weight'):
        convert_deeplabv3plus_checkpoint(old)
    cirkd = layouts.random_state_dict(layouts.cirkd_pspnet_r18(19))
    with pytest.raises(UnsupportedCheckpointError, match=r'a CIRKD segmentation checkpoint.*cirkd2mmseg\.py'):
        convert_deeplabv3plus_checkpoint(cirkd)


# ---------------------------------------------------------------------------------------------------- SegDistill
def test_nvlabs_segformer_converts_and_computes_what_nvlabs_computes():
    theirs = layouts.random_state_dict(layouts.nvlabs_segformer_b3(150), seed=5)
    result = convert_segdistill_checkpoint(theirs)
    assert result.dropped == ['decode_head.conv_seg.weight', 'decode_head.conv_seg.bias']
    model = converted_model(result, 'configs/ade20k/nvlabs-segformer_mit-b3_ade20k-512x512.py')
    stages = model.backbone.layers
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        tokens, size = stages[0][0](x)
        expected, expected_size = reference.nvlabs_patch_embed(x, theirs, 1)
        assert tuple(size) == tuple(expected_size)
        assert_close(tokens, expected, rtol=1e-3)  # LayerNorm eps: NVlabs 1e-5, mmseg 1e-6
        assert_close(stages[0][1][0](expected, size), reference.nvlabs_block(expected, size, theirs,
                                                                             'backbone.block1.0', 1, 8), rtol=1e-3)
        last = torch.randn(1, 6, 512)
        assert_close(stages[3][1][0](last, (2, 3)), reference.nvlabs_block(last, (2, 3), theirs, 'backbone.block4.0',
                                                                           8, 1), rtol=1e-3)
        levels = model.backbone(x)
        assert_close(model.decode_head(levels), reference.nvlabs_segformer_head(levels, theirs))


def test_official_swin_upernet_converts_and_computes_what_the_official_code_computes():
    theirs = layouts.random_state_dict(layouts.official_swin_b_upernet(150), seed=6)
    result = convert_segdistill_checkpoint(theirs)
    model = converted_model(result, 'configs/ade20k/upernet_swin-b_ade20k-512x512.py')
    for key in (k for k in theirs if k.startswith(('decode_head.', 'auxiliary_head.'))):
        assert result.state_dict[key] is theirs[key]  # mmseg's UPerHead and FCNHead keep the 0.x names
    stage = model.backbone.stages[0]
    tokens, size = torch.randn(2, 10 * 13, 128), (10, 13)  # not a multiple of the window: padding and masks
    with torch.no_grad():
        for index, shift in ((0, 0), (1, 3)):
            expected = reference.swin_block(tokens, size, theirs, f'backbone.layers.0.blocks.{index}', 4, 7, shift)
            assert_close(stage.blocks[index](tokens, size), expected)
        merged, merged_size = stage.downsample(tokens, size)
        assert tuple(merged_size) == (5, 7)
        assert_close(merged, reference.swin_patch_merging(tokens, size, theirs, 'backbone.layers.0.downsample'))


def test_patch_merging_channel_order_by_hand():
    """Official channel k·C + c (neighbour k of (0,0), (1,0), (0,1), (1,1)) → unfold channel c·4 + p (p row-major)."""
    official = torch.tensor([[0., 1., 10., 11., 20., 21., 30., 31.]])  # C = 2: neighbour k, channel c → 10k + c
    assert official_to_unfold_order(official).tolist() == [[0., 20., 10., 30., 1., 21., 11., 31.]]


def test_mmseg_v0_pspnet_loads_as_it_is_and_the_converter_says_so():
    v0 = layouts.random_state_dict(layouts.mmseg_v0_pspnet_r101(150))
    load_state_dict_strictly(build('configs/ade20k/pspnet_r101-d8_ade20k-512x512.py'), v0, what='v0.x PSPNet-R101')
    with pytest.raises(UnsupportedCheckpointError, match=r'needs no conversion; load it as it is with '
                                                         r'configs/ade20k/pspnet_r101-d8_ade20k-512x512\.py'):
        convert_segdistill_checkpoint(v0)
    with pytest.raises(UnsupportedCheckpointError, match=r'CIRKD segmentation checkpoint.*cirkd2mmseg\.py'):
        convert_segdistill_checkpoint(layouts.random_state_dict(layouts.cirkd_pspnet_r18(19)))


# ------------------------------------------------------------------------------------------- backbone options
def test_backbone_options_dilate_the_papers_blocks_and_refuse_what_they_cannot_build():
    cirkd = MODELS.build(dict(type='DilatedMobileNetV2', dilate_every_block=True, strides=(1, 2, 2, 1, 1, 1, 1),
                              dilations=(1, 1, 1, 2, 2, 4, 4)))
    dilations = [[block.conv[-2].conv.dilation[0] for block in getattr(cirkd, f'layer{i}')] for i in range(4, 8)]
    assert dilations == [[1, 2, 2, 2], [2, 2, 2], [2, 4, 4], [4]]  # CIRKD's _nostride_dilate, by hand
    resnet = MODELS.build(dict(type='ResNetWithDilatedConv2', depth=18, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4),
                               contract_dilation=True))
    assert [(b.conv1.dilation[0], b.conv2.dilation[0]) for b in resnet.layer4] == [(2, 4), (4, 4)]
    with pytest.raises(ValueError, match="depth 101 has Bottleneck blocks.*type='ResNetV1c'"):
        MODELS.build(dict(type='ResNetWithDilatedConv2', depth=101))
    with pytest.raises(ValueError, match='multi_grid=.*not supported'):
        MODELS.build(dict(type='ResNetWithDilatedConv2', depth=18, multi_grid=(1, 2, 4)))
    with pytest.raises(TypeError, match='pad_before_expansion must be True or False'):
        MODELS.build(dict(type='DilatedMobileNetV2', pad_before_expansion=1))
    with pytest.raises(ValueError, match='with_cp=True is not supported'):
        MODELS.build(dict(type='DilatedMobileNetV2', pad_before_expansion=True, with_cp=True))


# ------------------------------------------------------------------------------------------------- command line
def test_cirkd2mmseg_command_line_writes_a_checkpoint_that_loads_strictly(tmp_path):
    theirs = layouts.random_state_dict(layouts.cirkd_pspnet_r18(19), seed=7)
    source, target = tmp_path / 'kd_psp_resnet18_citys.pth', tmp_path / 'out' / 'pspnet_r18.pth'
    torch.save({'state_dict': {f'module.{k}': v for k, v in theirs.items()}}, source)
    process = subprocess.run([sys.executable, 'tools/model_converters/cirkd2mmseg.py', str(source), str(target)],
                             cwd=REPO, capture_output=True, text=True, timeout=300,
                             env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert process.returncode == 0, process.stdout + process.stderr
    config = CITYSCAPES.format('pspnet_r18-d8')
    assert f'checking that it loads strictly into {config}' in process.stdout
    checkpoint = load_checkpoint_file(str(target))
    assert checkpoint['meta']['architecture'] == 'CIRKD v1 pspnet_r18-d8, 19 classes'
    load_state_dict_strictly(build(config), checkpoint['state_dict'], what='the written checkpoint')


def test_converter_command_line_refuses_with_exit_status_1(tmp_path, capsys):
    source = tmp_path / 'deeplab-resnet.pth.tar'
    torch.save({'model': layouts.random_state_dict(layouts.deeplabv3plus('resnet18', 21))}, source)
    assert run_converter('segdistill2mmseg', convert_segdistill_checkpoint, '', [str(source), str(tmp_path / 'x')]) == 1
    assert 'deeplabv3plus2mmseg.py' in capsys.readouterr().err
    assert not (tmp_path / 'x').exists()
    assert run_converter('deeplabv3plus2mmseg', convert_deeplabv3plus_checkpoint, '',
                         [str(source), str(tmp_path / 'y.pth')]) == 0


# ------------------------------------------------------------------------------------------------------ configs
PAPER_CONFIGS = {
    'cityscapes': ['cirkd-deeplabv3_mobilenetv2-d8_cityscapes-512x1024.py',
                   'cirkd-deeplabv3_r101-d8_cityscapes-512x1024.py', 'cirkd-deeplabv3_r18-d8_cityscapes-512x1024.py',
                   'cirkd-pspnet_r18-d8_cityscapes-512x1024.py',
                   'jfzhang95-deeplabv3plus_mobilenetv2-d16_cityscapes-513x513.py',
                   'jfzhang95-deeplabv3plus_r101-d16-mg124_cityscapes-513x513.py',
                   'jfzhang95-deeplabv3plus_r18-d16_cityscapes-513x513.py'],
    'voc12aug': ['cirkd-deeplabv3_r101-d8_voc12aug-512x512.py', 'cirkd-deeplabv3_r18-d8_voc12aug-512x512.py',
                 'cirkd-pspnet_r18-d8_voc12aug-512x512.py',
                 'jfzhang95-deeplabv3plus_mobilenetv2-d16_voc12aug-513x513.py',
                 'jfzhang95-deeplabv3plus_r101-d16-mg124_voc12aug-513x513.py',
                 'jfzhang95-deeplabv3plus_r18-d16_voc12aug-513x513.py'],
    'ade20k': ['cirkd-deeplabv3_r101-d8_ade20k-512x512.py', 'cirkd-deeplabv3_r18-d8_ade20k-512x512.py',
               'nvlabs-segformer_mit-b3_ade20k-512x512.py'],
}
CAFFE_BGR = dict(mean=[104.00698793, 116.66876762, 122.67891434], std=[1.0, 1.0, 1.0], bgr_to_rgb=False)
IMAGENET_RGB = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True)


@pytest.mark.parametrize('dataset', sorted(PAPER_CONFIGS))
def test_paper_configs_have_the_papers_input_classes_crops_and_align_corners(dataset):
    names = sorted(p.name for p in (REPO / 'configs' / dataset).glob('*.py') if p.name.startswith(
        ('cirkd-', 'jfzhang95-', 'nvlabs-')))
    assert names == sorted(PAPER_CONFIGS[dataset])
    classes = {'cityscapes': 19, 'voc12aug': 21, 'ade20k': 150}[dataset]
    for name in names:
        cfg = Config.fromfile(REPO / 'configs' / dataset / name)
        lines = (REPO / 'configs' / dataset / name).read_text().splitlines()
        assert lines[0].startswith('# ') and any('weights' in line for line in lines[:4]), name
        family = name.split('-')[0]
        preprocessor = cfg.model.data_preprocessor
        normalisation = CAFFE_BGR if family == 'cirkd' else IMAGENET_RGB
        assert {key: preprocessor[key] for key in normalisation} == normalisation, name
        crop = {'cirkd': (512, 1024) if dataset == 'cityscapes' else (512, 512), 'jfzhang95': (513, 513),
                'nvlabs': (512, 512)}[family]
        assert tuple(preprocessor.size) == crop and crop_of(cfg.train_dataloader.dataset) == crop, name
        heads = [cfg.model.decode_head] + ([cfg.model.auxiliary_head] if cfg.model.get('auxiliary_head') else [])
        assert all(head.num_classes == classes and head.align_corners == (family != 'nvlabs') for head in heads), name


def crop_of(dataset) -> tuple:
    """The RandomCrop size of a dataset config (the first dataset of a ConcatDataset)."""
    dataset = dataset.datasets[0] if 'datasets' in dataset else dataset
    return tuple(next(step.crop_size for step in dataset.pipeline if step.type == 'RandomCrop'))


@pytest.mark.parametrize('depth', [18, 34, 50, 101, 152])
def test_a_torchvision_resnet_is_named_with_its_own_depth(depth):
    """The refusal names the torchvision file of the depth the state dict has (torchvision's own models, built on
    the meta device, are the independent source of the keys)."""
    with torch.device('meta'):
        state_dict = getattr(torchvision.models, f'resnet{depth}')(weights=None).state_dict()
    with pytest.raises(UnsupportedCheckpointError) as error:
        convert_cirkd_checkpoint(state_dict)
    message = str(error.value)
    assert f"a torchvision ImageNet ResNet-{depth}, which mmseg's ResNet loads as it is" in message
    assert f"depth={depth}, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet{depth}')" in message
    assert [other for other in (18, 34, 50, 101, 152) if f'resnet{other}' in message] == [depth]
