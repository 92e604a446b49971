"""DeepLabV3+ checkpoints of the jfzhang95/pytorch-deeplab-xception lineage → mmseg state dicts for the
``jfzhang95-*`` configs.

The lineage: jfzhang95's DeepLabV3+ (the ResNet-101 teacher), clovaai/overhaul-distillation (adds ResNet-18),
AmirMansurian/AICSD and AmirMansurian/AttnFD (the same code). Their ``.pth.tar`` files hold
``{'epoch', 'state_dict', 'optimizer', 'best_pred'}``.

=================================================  ===========================================================
lineage key                                        mmseg key
=================================================  ===========================================================
``backbone.conv1/bn1/layerN.*`` (ResNet)           the same
``backbone.features.0.0/1``, ``features.K.conv.I``  ``backbone.conv1.conv/bn``, ``backbone.layerS.B.conv.(I // 3)``
``aspp.asppJ.atrous_conv/bn`` (J = 1..4)           ``decode_head.aspp.aspp_modules.(J-1).conv/bn``
``aspp.global_avg_pool.1/2``                       ``decode_head.aspp.image_pool.1.conv/bn``
``aspp.conv1/bn1``                                 ``decode_head.aspp.projection.conv/bn``
``decoder.conv1/bn1``                              ``decode_head.c1_bottleneck.conv/bn``
``decoder.last_conv.0/1``, ``last_conv.4/5``       ``decode_head.fuse_convs.0.conv/bn``, ``fuse_convs.2.conv/bn``
``decoder.last_conv.8``                            ``decode_head.conv_seg``
=================================================  ===========================================================

Dropped: ``backbone.low_level_features.*`` and ``backbone.high_level_features.*`` of MobileNetV2 files (the same
tensors again, as the two sub-sequences of ``features``; checked equal), and AttnFD's unused CBAM modules
(``backbone.cbam.*``, ``aspp.cbam.*``, ``decoder.cbam.*``, about 30 keys). BN ``num_batches_tracked`` is filled
in (0) for files from torch < 0.4.1. The lineage's ImageNet MobileNetV2 (``mobilenet_v2-6a65762b.pth``,
``features.N`` layout) becomes a backbone-only file; its ResNets are torchvision's, which mmseg loads as they are.

The output stride (16 in all the papers' runs, 8 with ``--out-stride 8``) is not in the weights: the configs are
for 16.
"""
import re
from typing import List

import torch

from mmseg_kd.models.converters.backbone_layouts import mobilenetv2_rules, resnet_depth
from mmseg_kd.models.converters.checkpoint_layouts import wrong_converter_message
from mmseg_kd.models.converters.key_mapping import (
    ConvertedCheckpoint,
    RenameRule,
    StateDict,
    UnsupportedCheckpointError,
    add_missing_num_batches_tracked,
    classes_of,
    config_for,
    rename_keys,
    split_off,
)

CONVERTER = 'deeplabv3plus2mmseg'
HANDLES = ('DeepLabV3+ checkpoints of the jfzhang95/pytorch-deeplab-xception lineage (Overhaul, AICSD, AttnFD) '
           'with ResNet-101, ResNet-18 or MobileNetV2, and its ImageNet MobileNetV2')

ARCHITECTURES = {'resnet101': 'deeplabv3plus_r101-d16-mg124', 'resnet18': 'deeplabv3plus_r18-d16',
                 'mobilenetv2': 'deeplabv3plus_mobilenetv2-d16'}
BACKBONE_CHANNELS = {'resnet101': (2048, 256), 'resnet18': (512, 64), 'mobilenetv2': (320, 24)}  # (high, low)
CONFIGS = {(name, classes): f'configs/{dataset}/jfzhang95-{name}_{dataset}-513x513.py'
           for name in ARCHITECTURES.values() for classes, dataset in ((21, 'voc12aug'), (19, 'cityscapes'))}
ASPP_CHANNELS, LOW_LEVEL_CHANNELS = 256, 48

HEAD_RULES: List[RenameRule] = [
    (r'aspp\.aspp([1-4])\.atrous_conv\.(.*)',
     lambda m: f'decode_head.aspp.aspp_modules.{int(m.group(1)) - 1}.conv.{m.group(2)}'),
    (r'aspp\.aspp([1-4])\.bn\.(.*)', lambda m: f'decode_head.aspp.aspp_modules.{int(m.group(1)) - 1}.bn.{m.group(2)}'),
    (r'aspp\.global_avg_pool\.1\.(.*)', r'decode_head.aspp.image_pool.1.conv.\1'),
    (r'aspp\.global_avg_pool\.2\.(.*)', r'decode_head.aspp.image_pool.1.bn.\1'),
    (r'aspp\.conv1\.(.*)', r'decode_head.aspp.projection.conv.\1'),
    (r'aspp\.bn1\.(.*)', r'decode_head.aspp.projection.bn.\1'),
    (r'decoder\.conv1\.(.*)', r'decode_head.c1_bottleneck.conv.\1'),
    (r'decoder\.bn1\.(.*)', r'decode_head.c1_bottleneck.bn.\1'),
    (r'decoder\.last_conv\.0\.(.*)', r'decode_head.fuse_convs.0.conv.\1'),
    (r'decoder\.last_conv\.1\.(.*)', r'decode_head.fuse_convs.0.bn.\1'),
    (r'decoder\.last_conv\.4\.(.*)', r'decode_head.fuse_convs.2.conv.\1'),
    (r'decoder\.last_conv\.5\.(.*)', r'decode_head.fuse_convs.2.bn.\1'),
    (r'decoder\.last_conv\.8\.(.*)', r'decode_head.conv_seg.\1'),
]
RESNET_RULES: List[RenameRule] = [(r'backbone\.((conv1|bn1|layer[1-4])\..*)', r'backbone.\1')]


def identify_backbone(state_dict: StateDict) -> str:
    """``'resnet101'``, ``'resnet18'`` or ``'mobilenetv2'`` from the ``backbone.*`` keys."""
    if 'backbone.features.0.0.weight' in state_dict:
        return 'mobilenetv2'
    if 'backbone.block1.skip.weight' in state_dict or 'backbone.layer0.0.weight' in state_dict:
        raise UnsupportedCheckpointError(f'{CONVERTER}: a DeepLabV3+ with an Xception or DRN backbone; only the '
                                         "papers' ResNet-101, ResNet-18 and MobileNetV2 have configs here.")
    conv1 = state_dict.get('backbone.conv1.weight')
    if conv1 is None or conv1.shape[-1] != 7:
        raise UnsupportedCheckpointError(f'{CONVERTER}: the backbone is none of the lineage\'s (no 7x7 '
                                         "'backbone.conv1'; no 'backbone.features' of a MobileNetV2).")
    depth = resnet_depth(state_dict, 'backbone.')
    if depth not in (101, 18):
        raise UnsupportedCheckpointError(f'{CONVERTER}: a DeepLabV3+ with ResNet-{depth}; only ResNet-101 and '
                                         'ResNet-18 (and MobileNetV2) have configs here.')
    return f'resnet{depth}'


def drop_mobilenetv2_duplicates(state_dict: StateDict) -> tuple:
    """Drop ``backbone.low/high_level_features.*`` after checking each equals its ``backbone.features`` tensor.

    ``low_level_features`` is ``features[0:4]`` and ``high_level_features`` is ``features[4:]``: the same modules
    under the same indices (slicing an ``nn.Sequential`` keeps its keys), so the state dict holds them twice.
    """
    kept, dropped = split_off(state_dict, r'backbone\.(low|high)_level_features\..*')
    for key in dropped:
        original = re.sub(r'^backbone\.(low|high)_level_features\.', 'backbone.features.', key)
        if original not in kept or not torch.equal(kept[original], state_dict[key]):
            raise UnsupportedCheckpointError(
                f'{CONVERTER}: {key} should repeat {original} (MobileNetV2 low/high_level_features are slices of '
                'features), but it is missing or differs; the file is not what the lineage saves.')
    return kept, dropped


def check_head_widths(state_dict: StateDict, backbone: str) -> None:
    """The ASPP and the low-level reduction are the lineage's (256 and 48 wide) on the backbone's channels."""
    high, low = BACKBONE_CHANNELS[backbone]
    shapes = {'aspp.aspp1.atrous_conv.weight': (ASPP_CHANNELS, high, 1, 1),
              'decoder.conv1.weight': (LOW_LEVEL_CHANNELS, low, 1, 1)}
    for key, shape in shapes.items():
        if key not in state_dict or tuple(state_dict[key].shape) != shape:
            found = tuple(state_dict[key].shape) if key in state_dict else 'missing'
            raise UnsupportedCheckpointError(
                f'{CONVERTER}: {key} is {found}, the lineage\'s DeepLabV3+ on {backbone} has {shape}: another '
                'head than the papers\'.')


def convert_segmentation(state_dict: StateDict) -> ConvertedCheckpoint:
    """A lineage DeepLabV3+ checkpoint → the state dict of the matching ``jfzhang95-*`` config."""
    backbone = identify_backbone(state_dict)
    check_head_widths(state_dict, backbone)
    state_dict, dropped = split_off(state_dict, r'(backbone|aspp|decoder)\.cbam\..*')
    if backbone == 'mobilenetv2':
        state_dict, duplicates = drop_mobilenetv2_duplicates(state_dict)
        dropped += duplicates
        backbone_rules = mobilenetv2_rules('backbone.', 'backbone.')
    else:
        backbone_rules = RESNET_RULES
    converted = rename_keys(state_dict, backbone_rules + HEAD_RULES, what=f'{CONVERTER} ({backbone})')
    converted, added = add_missing_num_batches_tracked(converted)
    name = ARCHITECTURES[backbone]
    num_classes = classes_of(converted, 'decode_head.conv_seg.weight')
    config = config_for(CONFIGS, name, num_classes)
    cbam = ' with AttnFD\'s CBAM modules' if any('.cbam.' in key for key in dropped) else ''
    return ConvertedCheckpoint(converted, f'jfzhang95-lineage {name}, {num_classes} classes{cbam}',
                               [config] if config else [], dropped=dropped, added=added)


def convert_imagenet_mobilenetv2(state_dict: StateDict) -> ConvertedCheckpoint:
    """The lineage's ImageNet MobileNetV2 (``features.N``) → backbone-only mmseg keys (classifier dropped)."""
    kept, dropped = split_off(state_dict, r'(features\.18|classifier)\..*')
    converted = rename_keys(kept, mobilenetv2_rules('', ''), what=f'{CONVERTER} (ImageNet MobileNetV2)')
    converted, added = add_missing_num_batches_tracked(converted)
    config = config_for(CONFIGS, ARCHITECTURES['mobilenetv2'], 21)
    return ConvertedCheckpoint(converted, 'ImageNet MobileNetV2 (features.N layout)', [config], backbone_only=True,
                               dropped=dropped, added=added)


def convert_deeplabv3plus_checkpoint(state_dict: StateDict) -> ConvertedCheckpoint:
    """Convert a lineage DeepLabV3+ state dict (or its ImageNet MobileNetV2) to mmseg keys.

    Raises:
        UnsupportedCheckpointError: another backbone or head, or a file of another code base (the message names the
            converter that fits).
    """
    keys = set(state_dict)
    if 'aspp.aspp1.atrous_conv.weight' in keys or 'decoder.last_conv.0.weight' in keys:
        return convert_segmentation(state_dict)
    if 'features.0.0.weight' in keys and 'features.1.conv.0.weight' in keys:
        return convert_imagenet_mobilenetv2(state_dict)
    raise UnsupportedCheckpointError(wrong_converter_message(state_dict, CONVERTER, HANDLES))
