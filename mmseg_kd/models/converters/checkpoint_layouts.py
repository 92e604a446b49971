"""Recognising whose layout a state dict is in, so that a converter given the wrong file names the right one.

Each converter recognises its own files in detail; this module only tells the families apart by a few
characteristic keys, for the refusal messages.
"""
from typing import Optional, Set, Tuple

from mmseg_kd.models.converters.key_mapping import StateDict, prefixed

CIRKD_TOOL = 'tools/model_converters/cirkd2mmseg.py'
DEEPLABV3PLUS_TOOL = 'tools/model_converters/deeplabv3plus2mmseg.py'
SEGDISTILL_TOOL = 'tools/model_converters/segdistill2mmseg.py'
TORCHVISION_RESNET_DEPTHS = (18, 34, 50, 101, 152)


def recognise_layout(state_dict: StateDict) -> Tuple[str, Optional[str]]:
    """(what the file looks like, the converter that handles it or None) from its characteristic keys."""
    keys = set(state_dict)
    if prefixed(state_dict, 'pretrained.') and prefixed(state_dict, 'head.'):
        return "a CIRKD segmentation checkpoint (winycg/CIRKD: keys 'pretrained.*', 'head.*')", CIRKD_TOOL
    if 'aspp.aspp1.atrous_conv.weight' in keys or 'decoder.last_conv.0.weight' in keys:
        return ("a DeepLabV3+ checkpoint of the jfzhang95/pytorch-deeplab-xception lineage (Overhaul, AICSD, AttnFD: "
                "keys 'backbone.*', 'aspp.*', 'decoder.*')"), DEEPLABV3PLUS_TOOL
    if 'backbone.patch_embed1.proj.weight' in keys:
        return "a SegFormer checkpoint in the NVlabs/SegFormer layout (keys 'backbone.block1.*', ...)", SEGDISTILL_TOOL
    if 'backbone.layers.0.blocks.0.attn.qkv.weight' in keys:
        return ("a Swin checkpoint in the official Swin-Transformer-Semantic-Segmentation layout (keys "
                "'backbone.layers.*.blocks.*')"), SEGDISTILL_TOOL
    if {'conv1.weight', 'conv3.weight', 'layer1.0.conv1.weight'} <= keys:
        return "an ImageNet ResNet with CIRKD's deep stem (CIRKD's resnet*-imagenet.pth)", CIRKD_TOOL
    if 'features.0.0.weight' in keys and 'features.1.conv.0.weight' in keys:
        return ("an ImageNet MobileNetV2 in the 'features.N' layout (CIRKD's mobilenetv2-imagenet.pth, the "
                "lineage's mobilenet_v2-6a65762b.pth)"), CIRKD_TOOL
    if 'conv1.weight' in keys and 'fc.weight' in keys:
        return torchvision_resnet_layout(keys), None
    if 'patch_embed1.proj.weight' in keys or 'layers.0.blocks.0.attn.qkv.weight' in keys:
        return ('an ImageNet MiT or Swin backbone in its authors\' layout; the configs use mmseg\'s converted '
                'ImageNet weights (the URL in their init_cfg)'), None
    if 'decode_head.conv_seg.weight' in keys and prefixed(state_dict, 'backbone.'):
        return ('already an mmseg checkpoint (keys backbone.*, decode_head.*): load it as it is with its mmseg '
                'config'), None
    return 'a state dict of no layout these converters know', None


def torchvision_resnet_depth(keys: Set[str]) -> int:
    """The depth of a torchvision ResNet from its keys: 2 layers per basic block (no ``conv3``) or 3 per bottleneck,
    plus the stem and the classifier (18, 34, 50, 101, 152)."""
    blocks = sum(len({key.split('.')[1] for key in keys if key.startswith(f'layer{stage}.')}) for stage in range(1, 5))
    layers_per_block = 3 if 'layer1.0.conv3.weight' in keys else 2
    return layers_per_block * blocks + 2


def torchvision_resnet_layout(keys: Set[str]) -> str:
    """What a torchvision ImageNet ResNet file is and how mmseg's ResNet of its depth loads it."""
    depth = torchvision_resnet_depth(keys)
    if depth not in TORCHVISION_RESNET_DEPTHS:
        return (f'a torchvision-style ImageNet ResNet with {depth} layers, a depth torchvision does not publish '
                f'(its ResNets: {", ".join(map(str, TORCHVISION_RESNET_DEPTHS))})')
    return (f"a torchvision ImageNet ResNet-{depth}, which mmseg's ResNet loads as it is (backbone=dict(type='ResNet', "
            f"depth={depth}, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet{depth}')))")


def wrong_converter_message(state_dict: StateDict, converter: str, handles: str) -> str:
    """The refusal of ``converter`` (which handles ``handles``): what the file is and which converter fits."""
    layout, tool = recognise_layout(state_dict)
    advice = (f'convert it with {tool}' if tool and not tool.endswith(f'/{converter}.py') else
              'no converter here handles it' if tool is None else 'it is not one of the models listed above')
    sample = ', '.join(sorted(state_dict)[:4])
    return (f'{converter} converts {handles}. This file is {layout} (first keys: {sample}): {advice}. '
            'See docs/model_converters.md.')
