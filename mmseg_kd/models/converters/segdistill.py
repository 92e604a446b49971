"""SegDistill's teachers (mmseg 0.x) → mmseg 1.x state dicts.

* SegFormer in the NVlabs/SegFormer layout, with the NVlabs head → ``nvlabs-segformer_mit-b3`` configs:

  ===========================================  ===============================================================
  NVlabs key                                   mmseg key
  ===========================================  ===============================================================
  ``backbone.patch_embedI.proj/norm``          ``backbone.layers.(I-1).0.projection/norm``
  ``backbone.blockI.J.norm1/norm2``            ``backbone.layers.(I-1).1.J.norm1/norm2``
  ``backbone.blockI.J.attn.q`` + ``attn.kv``   ``backbone.layers.(I-1).1.J.attn.attn.in_proj_weight/bias``
                                               (q then kv concatenated: rows q, k, v)
  ``backbone.blockI.J.attn.proj``              ``backbone.layers.(I-1).1.J.attn.attn.out_proj``
  ``backbone.blockI.J.attn.sr/norm``           ``backbone.layers.(I-1).1.J.attn.sr/norm``
  ``backbone.blockI.J.mlp.fc1/dwconv.dwconv``  ``backbone.layers.(I-1).1.J.ffn.layers.0/1`` (Linear → 1x1 conv)
  ``backbone.blockI.J.mlp.fc2``                ``backbone.layers.(I-1).1.J.ffn.layers.4`` (Linear → 1x1 conv)
  ``backbone.normI``                           ``backbone.layers.(I-1).2``
  ``decode_head.linear_cI.proj``               ``decode_head.linear_embeddings.(I-1)`` (Linear → 1x1 conv)
  ``decode_head.linear_fuse.conv/bn``          ``decode_head.fusion_conv.conv/bn``
  ``decode_head.linear_pred``                  ``decode_head.conv_seg``
  ===========================================  ===============================================================

  Dropped: ``decode_head.conv_seg.*``, the classifier mmseg 0.x's ``BaseDecodeHead`` builds from
  ``channels=128``, which the NVlabs head never calls (it classifies with ``linear_pred``).
* Swin UPerNet in the official Swin-Transformer-Semantic-Segmentation layout → ``upernet_swin-*`` configs:
  ``backbone.layers`` → ``backbone.stages``, ``attn.*`` → ``attn.w_msa.*``, ``mlp.fc1/fc2`` →
  ``ffn.layers.0.0/1``, ``patch_embed.proj`` → ``patch_embed.projection``; the patch-merging ``reduction`` weight
  and ``norm`` have their 4C input channels reordered (see :func:`official_to_unfold_order`); the UPerNet and FCN
  heads keep their names.
* PSPNet-R101 from mmseg's v0.x model zoo needs no conversion: its module names are mmseg 1.x's, and it loads
  strictly into ``configs/ade20k/pspnet_r101-d8_ade20k-512x512.py`` as it is. Given to this converter, such a file
  (any mmseg-layout file) is refused with that advice.
"""
import re
from collections import OrderedDict
from typing import List

import torch

from mmseg_kd.models.converters.checkpoint_layouts import wrong_converter_message
from mmseg_kd.models.converters.key_mapping import (
    ConvertedCheckpoint,
    RenameRule,
    StateDict,
    UnsupportedCheckpointError,
    block_count,
    classes_of,
    linear_to_conv1x1,
    rename_keys,
    split_off,
)

CONVERTER = 'segdistill2mmseg'
HANDLES = ("SegDistill's teachers: SegFormer in the NVlabs/SegFormer layout (NVlabs head) and Swin UPerNet in the "
           'official Swin-Transformer-Semantic-Segmentation layout')
PSPNET_CONFIG = 'configs/ade20k/pspnet_r101-d8_ade20k-512x512.py'

# MiT variants: (embed dims, blocks per stage) → name.
MIT_VARIANTS = {((32, 64, 160, 256), (2, 2, 2, 2)): 'b0', ((64, 128, 320, 512), (2, 2, 2, 2)): 'b1',
                ((64, 128, 320, 512), (3, 4, 6, 3)): 'b2', ((64, 128, 320, 512), (3, 4, 18, 3)): 'b3',
                ((64, 128, 320, 512), (3, 8, 27, 3)): 'b4', ((64, 128, 320, 512), (3, 6, 40, 3)): 'b5'}
SEGFORMER_CONFIGS = {('b3', 150): 'configs/ade20k/nvlabs-segformer_mit-b3_ade20k-512x512.py'}
# Swin variants: (embed dim, blocks per stage) → name.
SWIN_VARIANTS = {(96, (2, 2, 6, 2)): 'swin-t', (96, (2, 2, 18, 2)): 'swin-s', (128, (2, 2, 18, 2)): 'swin-b'}
SWIN_NAMES = {'swin-t': 'Swin-T', 'swin-s': 'Swin-S', 'swin-b': 'Swin-B'}
SWIN_CONFIGS = {('swin-b', 150): 'configs/ade20k/upernet_swin-b_ade20k-512x512.py',
                ('swin-t', 150): 'configs/ade20k/upernet_swin-t_ade20k-512x512.py'}
# The official patch merging concatenates the 2x2 neighbours as x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2],
# x[1::2, 1::2]; mmseg's nn.Unfold orders kernel positions row-major: (0, 0), (0, 1), (1, 0), (1, 1).
UNFOLD_TO_OFFICIAL_POSITION = (0, 2, 1, 3)

SEGFORMER_RULES: List[RenameRule] = [
    (r'backbone\.patch_embed([1-4])\.proj\.(.*)',
     lambda m: f'backbone.layers.{int(m[1]) - 1}.0.projection.{m[2]}'),
    (r'backbone\.patch_embed([1-4])\.norm\.(.*)', lambda m: f'backbone.layers.{int(m[1]) - 1}.0.norm.{m[2]}'),
    (r'backbone\.block([1-4])\.(\d+)\.(norm1|norm2|attn\.sr|attn\.norm)\.(.*)',
     lambda m: f'backbone.layers.{int(m[1]) - 1}.1.{m[2]}.{m[3]}.{m[4]}'),
    (r'backbone\.block([1-4])\.(\d+)\.attn\.(q|kv)\.(.*)',
     lambda m: f'backbone.layers.{int(m[1]) - 1}.1.{m[2]}.attn.attn.in_proj_{m[4]}.{m[3]}'),
    (r'backbone\.block([1-4])\.(\d+)\.attn\.proj\.(.*)',
     lambda m: f'backbone.layers.{int(m[1]) - 1}.1.{m[2]}.attn.attn.out_proj.{m[3]}'),
    (r'backbone\.block([1-4])\.(\d+)\.mlp\.fc1\.(.*)',
     lambda m: f'backbone.layers.{int(m[1]) - 1}.1.{m[2]}.ffn.layers.0.{m[3]}'),
    (r'backbone\.block([1-4])\.(\d+)\.mlp\.dwconv\.dwconv\.(.*)',
     lambda m: f'backbone.layers.{int(m[1]) - 1}.1.{m[2]}.ffn.layers.1.{m[3]}'),
    (r'backbone\.block([1-4])\.(\d+)\.mlp\.fc2\.(.*)',
     lambda m: f'backbone.layers.{int(m[1]) - 1}.1.{m[2]}.ffn.layers.4.{m[3]}'),
    (r'backbone\.norm([1-4])\.(.*)', lambda m: f'backbone.layers.{int(m[1]) - 1}.2.{m[2]}'),
    (r'decode_head\.linear_c([1-4])\.proj\.(.*)',
     lambda m: f'decode_head.linear_embeddings.{int(m[1]) - 1}.{m[2]}'),
    (r'decode_head\.linear_fuse\.(conv|bn)\.(.*)', r'decode_head.fusion_conv.\1.\2'),
    (r'decode_head\.linear_pred\.(.*)', r'decode_head.conv_seg.\1'),
]
SWIN_RULES: List[RenameRule] = [
    (r'backbone\.patch_embed\.proj\.(.*)', r'backbone.patch_embed.projection.\1'),
    (r'backbone\.patch_embed\.norm\.(.*)', r'backbone.patch_embed.norm.\1'),
    (r'backbone\.layers\.(\d+)\.blocks\.(\d+)\.attn\.(.*)', r'backbone.stages.\1.blocks.\2.attn.w_msa.\3'),
    (r'backbone\.layers\.(\d+)\.blocks\.(\d+)\.mlp\.fc1\.(.*)', r'backbone.stages.\1.blocks.\2.ffn.layers.0.0.\3'),
    (r'backbone\.layers\.(\d+)\.blocks\.(\d+)\.mlp\.fc2\.(.*)', r'backbone.stages.\1.blocks.\2.ffn.layers.1.\3'),
    (r'backbone\.layers\.(\d+)\.blocks\.(\d+)\.(norm1|norm2)\.(.*)', r'backbone.stages.\1.blocks.\2.\3.\4'),
    (r'backbone\.layers\.(\d+)\.downsample\.(reduction|norm)\.(.*)', r'backbone.stages.\1.downsample.\2.\3'),
    (r'backbone\.(norm[0-3]\..*)', r'backbone.\1'),
    (r'((decode_head|auxiliary_head)\..*)', r'\1'),
]


def official_to_unfold_order(tensor: torch.Tensor) -> torch.Tensor:
    """Reorder the 4C patch-merging channels (last dim) from the official layout to mmseg's ``nn.Unfold`` layout.

    Official channel k·C + c holds channel c of neighbour k (k over (0, 0), (1, 0), (0, 1), (1, 1) as (row, col)
    offsets); mmseg's channel c·4 + p holds channel c of kernel position p (row-major). So
    new[..., c·4 + p] = old[..., k(p)·C + c] with k = (0, 2, 1, 3).

    Shapes: (..., 4C) → (..., 4C).
    """
    channels = tensor.shape[-1] // 4
    blocks = tensor.reshape(*tensor.shape[:-1], 4, channels)[..., list(UNFOLD_TO_OFFICIAL_POSITION), :]
    return blocks.transpose(-1, -2).reshape(tensor.shape)


def mit_variant(state_dict: StateDict) -> str:
    """``'b0'`` .. ``'b5'`` from the patch-embedding widths and the block counts of the NVlabs encoder."""
    dims = tuple(int(state_dict[f'backbone.patch_embed{i}.proj.weight'].shape[0]) for i in range(1, 5))
    depths = tuple(block_count(state_dict, f'backbone.block{i}') for i in range(1, 5))
    if (dims, depths) not in MIT_VARIANTS:
        raise UnsupportedCheckpointError(f'{CONVERTER}: an NVlabs MiT with widths {dims} and depths {depths} is no '
                                         'MiT-B0..B5.')
    return MIT_VARIANTS[(dims, depths)]


def convert_nvlabs_segformer(state_dict: StateDict) -> ConvertedCheckpoint:
    """NVlabs SegFormer (encoder and NVlabs head) → mmseg MiT + :class:`LinearEmbeddingSegformerHead` keys."""
    if 'decode_head.linear_pred.weight' not in state_dict:
        raise UnsupportedCheckpointError(f'{CONVERTER}: an NVlabs-layout SegFormer encoder without the NVlabs head '
                                         "('decode_head.linear_pred'); only whole NVlabs SegFormer models convert.")
    variant = mit_variant(state_dict)
    kept, dropped = split_off(state_dict, r'decode_head\.conv_seg\..*')
    renamed = rename_keys(kept, SEGFORMER_RULES, what=f'{CONVERTER} (NVlabs SegFormer)')
    converted = OrderedDict()
    for key, value in renamed.items():
        match = re.fullmatch(r'(.*\.attn\.attn\.in_proj_(weight|bias))\.(q|kv)', key)
        if match:
            if match[3] == 'q':
                if f'{match[1]}.kv' not in renamed:
                    raise UnsupportedCheckpointError(f'{CONVERTER}: {key} has no matching attn.kv tensor')
                converted[match[1]] = torch.cat([value, renamed[f'{match[1]}.kv']])
            continue
        linear = re.search(r'(ffn\.layers\.[04]|linear_embeddings\.\d)\.weight$', key) and value.dim() == 2
        converted[key] = linear_to_conv1x1(value) if linear else value
    num_classes = classes_of(converted, 'decode_head.conv_seg.weight')
    config = SEGFORMER_CONFIGS.get((variant, num_classes))
    return ConvertedCheckpoint(converted, f'NVlabs SegFormer-{variant.upper()}, {num_classes} classes',
                               [config] if config else [], dropped=dropped)


def swin_variant(state_dict: StateDict) -> str:
    """``'swin-t'``, ``'swin-s'`` or ``'swin-b'`` from the embedding width and the block counts."""
    width = int(state_dict['backbone.patch_embed.proj.weight'].shape[0])
    depths = tuple(block_count(state_dict, f'backbone.layers.{i}.blocks') for i in range(4))
    if (width, depths) not in SWIN_VARIANTS:
        raise UnsupportedCheckpointError(f'{CONVERTER}: a Swin with width {width} and depths {depths} is none of '
                                         'Swin-T/S/B.')
    return SWIN_VARIANTS[(width, depths)]


def convert_official_swin_upernet(state_dict: StateDict) -> ConvertedCheckpoint:
    """Official Swin-Transformer-Semantic-Segmentation UPerNet → mmseg ``SwinTransformer`` + ``UPerHead`` keys."""
    if 'decode_head.fpn_bottleneck.conv.weight' not in state_dict:
        raise UnsupportedCheckpointError(f'{CONVERTER}: an official-layout Swin without the UPerNet head '
                                         "('decode_head.fpn_bottleneck'); only whole Swin UPerNet models convert.")
    variant = swin_variant(state_dict)
    renamed = rename_keys(state_dict, SWIN_RULES, what=f'{CONVERTER} (official Swin UPerNet)')
    converted = OrderedDict(
        (key, official_to_unfold_order(value) if re.search(r'\.downsample\.(reduction\.weight|norm\.)', key)
         else value) for key, value in renamed.items())
    num_classes = classes_of(converted, 'decode_head.conv_seg.weight')
    config = SWIN_CONFIGS.get((variant, num_classes))
    return ConvertedCheckpoint(converted, f'official {SWIN_NAMES[variant]} UPerNet, {num_classes} classes',
                               [config] if config else [])


def refuse_mmseg_layout(state_dict: StateDict) -> None:
    """Refuse an mmseg-layout file: it needs no conversion."""
    is_pspnet = 'decode_head.psp_modules.0.1.conv.weight' in state_dict and 'backbone.stem.0.weight' in state_dict
    what = 'a PSPNet with a ResNetV1c backbone (mmseg\'s v0.x zoo layout)' if is_pspnet else 'an mmseg checkpoint'
    advice = f'load it as it is with {PSPNET_CONFIG}' if is_pspnet else 'load it as it is with its mmseg config'
    raise UnsupportedCheckpointError(
        f'{CONVERTER}: this file is {what}, whose module names mmseg 1.x keeps: it needs no conversion; {advice}.')


def convert_segdistill_checkpoint(state_dict: StateDict) -> ConvertedCheckpoint:
    """Convert a SegDistill teacher (NVlabs SegFormer or official Swin UPerNet) to mmseg 1.x keys.

    Raises:
        UnsupportedCheckpointError: an mmseg-layout file (PSPNet-R101 of the v0.x zoo: no conversion needed), or a
            file of another code base (the message names the converter that fits).
    """
    if 'backbone.patch_embed1.proj.weight' in state_dict:
        return convert_nvlabs_segformer(state_dict)
    if 'backbone.layers.0.blocks.0.attn.qkv.weight' in state_dict:
        return convert_official_swin_upernet(state_dict)
    if 'decode_head.conv_seg.weight' in state_dict and any(k.startswith('backbone.') for k in state_dict):
        refuse_mmseg_layout(state_dict)
    raise UnsupportedCheckpointError(wrong_converter_message(state_dict, CONVERTER, HANDLES))

