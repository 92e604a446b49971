"""CIRKD v1 checkpoints (winycg/CIRKD at 2d8ad0f) → mmseg state dicts for the ``cirkd-*`` configs.

Segmentation checkpoints (the released teacher and students, and any model trained with CIRKD v1's code):

=====================================  =================================================================
CIRKD key                              mmseg key
=====================================  =================================================================
``pretrained.conv1/bn1/conv2/bn2/...``  ``backbone.stem.0/1/3/4/6/7`` (deep stem 64-64-128)
``pretrained.layerN.*``                ``backbone.layerN.*``
``pretrained.net.features.0.0/1``      ``backbone.conv1.conv/bn`` (MobileNetV2)
``pretrained.net.features.K.conv.I``   ``backbone.layerS.B.conv.(I // 3).conv/bn`` (block K of stage S)
``head.aspp.b0.0/1``                   ``decode_head.aspp.aspp_modules.0.conv/bn``
``head.aspp.bJ.block.0/1`` (J = 1..3)  ``decode_head.aspp.aspp_modules.J.conv/bn``
``head.aspp.b4.gap.1/2``               ``decode_head.aspp.image_pool.1.conv/bn``
``head.aspp.project.0/1``              ``decode_head.aspp.projection.conv/bn``
``head.block.0/1``, ``head.block.4``   ``decode_head.bottleneck.conv/bn``, ``decode_head.conv_seg``
``head.psp.convK.0/1`` (PSPNet)        ``decode_head.psp_modules.(K-1).1.conv/bn``
``head.classifier`` (PSPNet)           ``decode_head.conv_seg``
``auxlayer.block.0/1``, ``block.4``    ``auxiliary_head.convs.0.conv/bn``, ``auxiliary_head.conv_seg``
=====================================  =================================================================

No channel is permuted: :class:`ProjectedASPPHead` concatenates the ASPP branches in CIRKD's order.

ImageNet backbone files (CIRKD's README: resnet101-imagenet.pth, resnet18-imagenet.pth, mobilenetv2-imagenet.pth)
become backbone-only files (the keys of ``model.backbone``, for ``init_cfg=dict(type='Pretrained')``); their
classifier (``fc``; MobileNetV2's last 1x1 conv ``features.18`` and ``classifier``) is dropped.

Refused: CIRKD v2 files (winycg/CIRKD HEAD: a 512-wide ASPP, a 256-wide PSPNet-R101 bottleneck, MobileNetV3,
MobileViT, UPerNet), the 7x7-stem ``resnet*_original`` variants, and files of other code bases.
"""
import re
from typing import List

from mmseg_kd.models.converters.backbone_layouts import mobilenetv2_rules, resnet_depth
from mmseg_kd.models.converters.checkpoint_layouts import wrong_converter_message
from mmseg_kd.models.converters.key_mapping import (
    ConvertedCheckpoint,
    RenameRule,
    StateDict,
    UnsupportedCheckpointError,
    classes_of,
    config_for,
    prefixed,
    rename_keys,
    split_off,
)

CONVERTER = 'cirkd2mmseg'
HANDLES = ('CIRKD v1 checkpoints: DeepLabV3-ResNet101/ResNet18/MobileNetV2, PSPNet-ResNet18 and the ImageNet '
           'backbones of its README')

# The v1 head width of each backbone: (ASPP / PSP bottleneck channels).
V1_HEAD_WIDTH = {'resnet101': 256, 'resnet18': 128, 'mobilenetv2': 128}
V1_PSPNET_WIDTH = {'resnet18': 128}

ARCHITECTURES = {
    ('resnet101', 'deeplabv3'): 'deeplabv3_r101-d8',
    ('resnet18', 'deeplabv3'): 'deeplabv3_r18-d8',
    ('mobilenetv2', 'deeplabv3'): 'deeplabv3_mobilenetv2-d8',
    ('resnet18', 'pspnet'): 'pspnet_r18-d8',
}
DATASETS = {19: 'cityscapes/cirkd-{}_cityscapes-512x1024.py', 21: 'voc12aug/cirkd-{}_voc12aug-512x512.py',
            150: 'ade20k/cirkd-{}_ade20k-512x512.py'}
CONFIGS = {
    (name, classes): 'configs/' + pattern.format(name)
    for name, classes, pattern in [
        ('deeplabv3_r101-d8', 19, DATASETS[19]), ('deeplabv3_r18-d8', 19, DATASETS[19]),
        ('deeplabv3_mobilenetv2-d8', 19, DATASETS[19]), ('pspnet_r18-d8', 19, DATASETS[19]),
        ('deeplabv3_r101-d8', 21, DATASETS[21]), ('deeplabv3_r18-d8', 21, DATASETS[21]),
        ('pspnet_r18-d8', 21, DATASETS[21]),
        ('deeplabv3_r101-d8', 150, DATASETS[150]), ('deeplabv3_r18-d8', 150, DATASETS[150])]
}
BACKBONE_CONFIGS = {
    'resnet101': ['configs/cityscapes/cirkd-deeplabv3_r101-d8_cityscapes-512x1024.py'],
    'resnet18': ['configs/cityscapes/cirkd-deeplabv3_r18-d8_cityscapes-512x1024.py'],
    'mobilenetv2': ['configs/cityscapes/cirkd-deeplabv3_mobilenetv2-d8_cityscapes-512x1024.py'],
}


def deep_stem_resnet_rules(source: str, target: str) -> List[RenameRule]:
    """CIRKD's deep-stem ResNet ``<source>conv1..bn3, layerN`` → mmseg ``<target>stem.K, layerN``."""
    escaped = re.escape(source)
    stem = {'conv1': 0, 'bn1': 1, 'conv2': 3, 'bn2': 4, 'conv3': 6, 'bn3': 7}
    return ([(escaped + name + r'\.(.*)', f'{target}stem.{index}.' + r'\1') for name, index in stem.items()]
            + [(escaped + r'(layer[1-4]\..*)', target + r'\1')])


HEAD_RULES: List[RenameRule] = [
    (r'head\.aspp\.b0\.0\.(.*)', r'decode_head.aspp.aspp_modules.0.conv.\1'),
    (r'head\.aspp\.b0\.1\.(.*)', r'decode_head.aspp.aspp_modules.0.bn.\1'),
    (r'head\.aspp\.b([1-3])\.block\.0\.(.*)', r'decode_head.aspp.aspp_modules.\1.conv.\2'),
    (r'head\.aspp\.b([1-3])\.block\.1\.(.*)', r'decode_head.aspp.aspp_modules.\1.bn.\2'),
    (r'head\.aspp\.b4\.gap\.1\.(.*)', r'decode_head.aspp.image_pool.1.conv.\1'),
    (r'head\.aspp\.b4\.gap\.2\.(.*)', r'decode_head.aspp.image_pool.1.bn.\1'),
    (r'head\.aspp\.project\.0\.(.*)', r'decode_head.aspp.projection.conv.\1'),
    (r'head\.aspp\.project\.1\.(.*)', r'decode_head.aspp.projection.bn.\1'),
    (r'head\.psp\.conv([1-4])\.0\.(.*)', lambda m: f'decode_head.psp_modules.{int(m[1]) - 1}.1.conv.{m[2]}'),
    (r'head\.psp\.conv([1-4])\.1\.(.*)', lambda m: f'decode_head.psp_modules.{int(m[1]) - 1}.1.bn.{m[2]}'),
    (r'head\.block\.0\.(.*)', r'decode_head.bottleneck.conv.\1'),
    (r'head\.block\.1\.(.*)', r'decode_head.bottleneck.bn.\1'),
    (r'head\.block\.4\.(.*)', r'decode_head.conv_seg.\1'),
    (r'head\.classifier\.(.*)', r'decode_head.conv_seg.\1'),
    (r'auxlayer\.block\.0\.(.*)', r'auxiliary_head.convs.0.conv.\1'),
    (r'auxlayer\.block\.1\.(.*)', r'auxiliary_head.convs.0.bn.\1'),
    (r'auxlayer\.block\.4\.(.*)', r'auxiliary_head.conv_seg.\1'),
]


def identify_backbone(state_dict: StateDict) -> str:
    """``'resnet101'``, ``'resnet18'`` or ``'mobilenetv2'`` from the ``pretrained.*`` keys of a CIRKD file."""
    if 'pretrained.net.features.0.0.weight' in state_dict:
        return 'mobilenetv2'
    if 'pretrained.conv3.weight' in state_dict:
        return f'resnet{resnet_depth(state_dict, "pretrained.")}'
    if 'pretrained.conv1.weight' in state_dict and state_dict['pretrained.conv1.weight'].shape[-1] == 7:
        raise UnsupportedCheckpointError(
            f"{CONVERTER}: this CIRKD file has a 7x7-stem ResNet (CIRKD's 'resnet*_original'/'_vanilla' backbones), "
            'not the deep-stem ResNet of the released CIRKD v1 models; it is not supported.')
    raise UnsupportedCheckpointError(
        f"{CONVERTER}: this CIRKD-layout file has a backbone that CIRKD v1's released models do not use (first "
        f"backbone keys: {', '.join(prefixed(state_dict, 'pretrained.')[:3])}). CIRKD v2 files (winycg/CIRKD HEAD: "
        'MobileNetV3, MobileViT, 512-wide ASPP, UPerNet) are different models and are not supported.')


def identify_head(state_dict: StateDict, backbone: str) -> str:
    """``'deeplabv3'`` or ``'pspnet'``, after checking that the head width is CIRKD v1's for the backbone."""
    if 'head.aspp.b0.0.weight' in state_dict:
        width, expected, head = state_dict['head.aspp.b0.0.weight'].shape[0], V1_HEAD_WIDTH.get(backbone), 'deeplabv3'
    elif 'head.psp.conv1.0.weight' in state_dict:
        width, expected, head = state_dict['head.block.0.weight'].shape[0], V1_PSPNET_WIDTH.get(backbone), 'pspnet'
    else:
        raise UnsupportedCheckpointError(
            f"{CONVERTER}: this CIRKD-layout file has a head that is neither CIRKD v1's DeepLabV3 ('head.aspp.*') "
            "nor its PSPNet ('head.psp.*'); CIRKD v2's UPerNet and other heads are not supported.")
    if width != expected:
        version = ' This is a CIRKD v2 file (winycg/CIRKD HEAD, whose ASPP is 512 wide): a different model.' \
            if head == 'deeplabv3' and width == 512 else ''
        raise UnsupportedCheckpointError(
            f'{CONVERTER}: a CIRKD {head} head {width} channels wide on {backbone}; CIRKD v1 '
            f'(winycg/CIRKD at 2d8ad0f) builds {expected or "no such model"}.{version} Only CIRKD v1 models are '
            'supported (DeepLabV3-ResNet101/ResNet18/MobileNetV2, PSPNet-ResNet18).')
    return head


def convert_segmentation(state_dict: StateDict) -> ConvertedCheckpoint:
    """A CIRKD v1 segmentation checkpoint → the state dict of the matching ``cirkd-*`` config."""
    backbone = identify_backbone(state_dict)
    head = identify_head(state_dict, backbone)
    name = ARCHITECTURES.get((backbone, head))
    if name is None:
        raise UnsupportedCheckpointError(
            f'{CONVERTER}: CIRKD v1 {head} with {backbone} was never released and has no config here; supported: '
            'DeepLabV3-ResNet101/ResNet18/MobileNetV2, PSPNet-ResNet18.')
    backbone_rules = mobilenetv2_rules('pretrained.net.', 'backbone.') if backbone == 'mobilenetv2' else \
        deep_stem_resnet_rules('pretrained.', 'backbone.')
    converted = rename_keys(state_dict, backbone_rules + HEAD_RULES, what=f'{CONVERTER} ({backbone}, {head})')
    num_classes = classes_of(converted, 'decode_head.conv_seg.weight')
    config = config_for(CONFIGS, name, num_classes)
    return ConvertedCheckpoint(converted, f'CIRKD v1 {name}, {num_classes} classes', [config] if config else [])


def convert_imagenet_backbone(state_dict: StateDict) -> ConvertedCheckpoint:
    """An ImageNet backbone file of CIRKD's README → backbone-only mmseg keys (classifier dropped)."""
    if 'features.0.0.weight' in state_dict:
        kept, dropped = split_off(state_dict, r'(features\.18|classifier)\..*')
        converted = rename_keys(kept, mobilenetv2_rules('', ''), what=f'{CONVERTER} (ImageNet MobileNetV2)')
        return ConvertedCheckpoint(converted, 'ImageNet MobileNetV2 (features.N layout)',
                                   BACKBONE_CONFIGS['mobilenetv2'], backbone_only=True, dropped=dropped)
    kept, dropped = split_off(state_dict, r'fc\..*')
    depth = resnet_depth(kept, '')
    converted = rename_keys(kept, deep_stem_resnet_rules('', ''), what=f'{CONVERTER} (ImageNet ResNet-{depth})')
    return ConvertedCheckpoint(converted, f'ImageNet ResNet-{depth} with the deep stem 64-64-128',
                               BACKBONE_CONFIGS.get(f'resnet{depth}', []), backbone_only=True, dropped=dropped)


def convert_cirkd_checkpoint(state_dict: StateDict) -> ConvertedCheckpoint:
    """Convert a CIRKD v1 state dict (segmentation model or ImageNet backbone) to mmseg keys.

    Raises:
        UnsupportedCheckpointError: a CIRKD v2 or otherwise unsupported CIRKD model, or a file of another code base
            (the message names the converter that fits).
    """
    keys = set(state_dict)
    if prefixed(state_dict, 'pretrained.') and prefixed(state_dict, 'head.'):
        return convert_segmentation(state_dict)
    imagenet_resnet = {'conv1.weight', 'conv3.weight', 'bn3.running_var', 'layer1.0.conv1.weight'} <= keys
    imagenet_mobilenet = 'features.0.0.weight' in keys and 'features.1.conv.0.weight' in keys
    if imagenet_resnet or imagenet_mobilenet:
        return convert_imagenet_backbone(state_dict)
    raise UnsupportedCheckpointError(wrong_converter_message(state_dict, CONVERTER, HANDLES))

