"""The papers' checkpoints as key/shape tables, derived from reading the authors' model code, and random state
dicts in those layouts.

No authors' code is used: each table restates the modules the authors' constructors create (names and shapes),
with the source file named in each function's docstring. The converters' tests convert these state dicts and
compare our models with :mod:`paper_reference`, which computes the authors' forward passes from the same keys.
"""
from collections import OrderedDict
from typing import Dict, Tuple

import torch

Table = Dict[str, Tuple[int, ...]]
# MobileNetV2 (t, c, n, s) settings, as in every paper's mobilenetv2.py.
MOBILENETV2_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                        (6, 320, 1, 1))
RESNET_BLOCKS = {18: (2, 2, 2, 2), 101: (3, 4, 23, 3)}


def bn(table: Table, prefix: str, channels: int) -> None:
    for name in ('weight', 'bias', 'running_mean', 'running_var'):
        table[f'{prefix}.{name}'] = (channels,)
    table[f'{prefix}.num_batches_tracked'] = ()


def conv(table: Table, prefix: str, out_channels: int, in_channels: int, kernel: int, bias: bool = False) -> None:
    table[f'{prefix}.weight'] = (out_channels, in_channels, kernel, kernel)
    if bias:
        table[f'{prefix}.bias'] = (out_channels,)


def linear(table: Table, prefix: str, out_features: int, in_features: int, bias: bool = True) -> None:
    table[f'{prefix}.weight'] = (out_features, in_features)
    if bias:
        table[f'{prefix}.bias'] = (out_features,)


def layer_norm(table: Table, prefix: str, channels: int) -> None:
    table[f'{prefix}.weight'] = (channels,)
    table[f'{prefix}.bias'] = (channels,)


def resnet_stages(table: Table, prefix: str, depth: int, inplanes: int) -> None:
    """``layer1..4`` of a torchvision-style ResNet: conv1/bn1/conv2/bn2(/conv3/bn3) and ``downsample.0/1`` where
    the first block changes the channel count (every constructor here: ``inplanes != planes * expansion``)."""
    bottleneck = depth >= 50
    for stage, blocks in enumerate(RESNET_BLOCKS[depth]):
        planes = 64 * 2 ** stage
        out = planes * (4 if bottleneck else 1)
        for index in range(blocks):
            block = f'{prefix}layer{stage + 1}.{index}'
            if bottleneck:
                conv(table, f'{block}.conv1', planes, inplanes, 1)
                bn(table, f'{block}.bn1', planes)
                conv(table, f'{block}.conv2', planes, planes, 3)
                bn(table, f'{block}.bn2', planes)
                conv(table, f'{block}.conv3', out, planes, 1)
                bn(table, f'{block}.bn3', out)
            else:
                conv(table, f'{block}.conv1', planes, inplanes, 3)
                bn(table, f'{block}.bn1', planes)
                conv(table, f'{block}.conv2', planes, planes, 3)
                bn(table, f'{block}.bn2', planes)
            if index == 0 and inplanes != out:
                conv(table, f'{block}.downsample.0', out, inplanes, 1)
                bn(table, f'{block}.downsample.1', out)
            inplanes = out


def mobilenetv2_features(table: Table, prefix: str) -> None:
    """``features.0`` (conv_bn) and ``features.1..17`` (InvertedResidual ``conv`` Sequentials: convs at 0, 3, 6 and
    BNs at 1, 4, 7; the expand-ratio-1 block has no expansion conv)."""
    conv(table, f'{prefix}features.0.0', 32, 3, 3)
    bn(table, f'{prefix}features.0.1', 32)
    inp, index = 32, 1
    for ratio, channels, blocks, _ in MOBILENETV2_SETTINGS:
        for _ in range(blocks):
            block = f'{prefix}features.{index}.conv'
            hidden = round(inp * ratio)
            if ratio == 1:
                table[f'{block}.0.weight'] = (hidden, 1, 3, 3)
                bn(table, f'{block}.1', hidden)
                conv(table, f'{block}.3', channels, hidden, 1)
                bn(table, f'{block}.4', channels)
            else:
                conv(table, f'{block}.0', hidden, inp, 1)
                bn(table, f'{block}.1', hidden)
                table[f'{block}.3.weight'] = (hidden, 1, 3, 3)
                bn(table, f'{block}.4', hidden)
                conv(table, f'{block}.6', channels, hidden, 1)
                bn(table, f'{block}.7', channels)
            inp, index = channels, index + 1


# ---------------------------------------------------------------------------------------------------- CIRKD v1
def cirkd_backbone(table: Table, prefix: str, backbone: str) -> None:
    """winycg/CIRKD@2d8ad0f models/base_models/resnet.py (``resnet*_v1s``: deep stem conv1/bn1/conv2/bn2/conv3/bn3
    64-64-128, then stages from 128 channels) and mobilenetv2.py (under ``net.``)."""
    if backbone == 'mobilenetv2':
        mobilenetv2_features(table, f'{prefix}net.')
        return
    conv(table, f'{prefix}conv1', 64, 3, 3)
    bn(table, f'{prefix}bn1', 64)
    conv(table, f'{prefix}conv2', 64, 64, 3)
    bn(table, f'{prefix}bn2', 64)
    conv(table, f'{prefix}conv3', 128, 64, 3)
    bn(table, f'{prefix}bn3', 128)
    resnet_stages(table, prefix, int(backbone[len('resnet'):]), inplanes=128)


def cirkd_fcn_aux(table: Table, in_channels: int, num_classes: int) -> None:
    """models/deeplabv3.py ``_FCNHead`` as ``auxlayer``: 3x3 conv to in/4, BN, ReLU, Dropout, 1x1 classifier."""
    conv(table, 'auxlayer.block.0', in_channels // 4, in_channels, 3)
    bn(table, 'auxlayer.block.1', in_channels // 4)
    conv(table, 'auxlayer.block.4', num_classes, in_channels // 4, 1, bias=True)


def cirkd_deeplabv3(backbone: str, num_classes: int, aspp_width: int = 0) -> Table:
    """models/deeplabv3.py (ResNets, FCN auxiliary head on layer3) and deeplabv3_mobile.py (MobileNetV2, no
    auxiliary head): ``_ASPP`` b0 (1x1), b1-b3 (3x3 ``block``), b4 (``gap``: pool, 1x1, BN), ``project`` (1x1 from
    5 widths); ``head.block`` 3x3 conv, BN, ReLU, Dropout, classifier. Width 256 on ResNet-101, 128 otherwise
    (``aspp_width`` overrides it, e.g. 512 as CIRKD v2 builds it)."""
    table: Table = OrderedDict()
    cirkd_backbone(table, 'pretrained.', backbone)
    in_channels = {'resnet101': 2048, 'resnet18': 512, 'mobilenetv2': 320}[backbone]
    width = aspp_width or (256 if backbone == 'resnet101' else 128)
    conv(table, 'head.aspp.b0.0', width, in_channels, 1)
    bn(table, 'head.aspp.b0.1', width)
    for branch in (1, 2, 3):
        conv(table, f'head.aspp.b{branch}.block.0', width, in_channels, 3)
        bn(table, f'head.aspp.b{branch}.block.1', width)
    conv(table, 'head.aspp.b4.gap.1', width, in_channels, 1)
    bn(table, 'head.aspp.b4.gap.2', width)
    conv(table, 'head.aspp.project.0', width, 5 * width, 1)
    bn(table, 'head.aspp.project.1', width)
    conv(table, 'head.block.0', width, width, 3)
    bn(table, 'head.block.1', width)
    conv(table, 'head.block.4', num_classes, width, 1, bias=True)
    if backbone != 'mobilenetv2':
        cirkd_fcn_aux(table, in_channels // 2, num_classes)
    return table


def cirkd_pspnet_r18(num_classes: int) -> Table:
    """models/pspnet.py with ResNet-18: ``head.psp.conv1..4`` (1x1 to in/4 + BN), ``head.block`` (3x3 from 2·in to
    128 + BN), ``head.classifier``; FCN auxiliary head on layer3."""
    table: Table = OrderedDict()
    cirkd_backbone(table, 'pretrained.', 'resnet18')
    for branch in range(1, 5):
        conv(table, f'head.psp.conv{branch}.0', 128, 512, 1)
        bn(table, f'head.psp.conv{branch}.1', 128)
    conv(table, 'head.block.0', 128, 1024, 3)
    bn(table, 'head.block.1', 128)
    conv(table, 'head.classifier', num_classes, 128, 1, bias=True)
    cirkd_fcn_aux(table, 256, num_classes)
    return table


def cirkd_imagenet_resnet(depth: int) -> Table:
    """CIRKD's resnet{18,101}-imagenet.pth: the deep-stem ResNet of models/base_models/resnet.py plus an ImageNet
    classifier ``fc`` (which CIRKD filters out when loading)."""
    table: Table = OrderedDict()
    cirkd_backbone(table, '', f'resnet{depth}')
    linear(table, 'fc', 1000, 2048 if depth == 101 else 512)
    return table


def imagenet_mobilenetv2() -> Table:
    """An ImageNet MobileNetV2 in the ``features.N`` layout: features.0-17 plus the last 1x1 conv ``features.18``
    and ``classifier.1``, which the papers' segmentation backbones leave out."""
    table: Table = OrderedDict()
    mobilenetv2_features(table, '')
    conv(table, 'features.18.0', 1280, 320, 1)
    bn(table, 'features.18.1', 1280)
    linear(table, 'classifier.1', 1000, 1280)
    return table


# ------------------------------------------------------------------------------------ DeepLabV3+ (jfzhang95 lineage)
def cbam(table: Table, prefix: str, channels: int) -> None:
    """AttnFD cbam.py ``CBAM``: ChannelGate.mlp (Linear C → C/16 → C) and SpatialGate.spatial (7x7 conv 2 → 1, BN)."""
    linear(table, f'{prefix}.ChannelGate.mlp.1', channels // 16, channels)
    linear(table, f'{prefix}.ChannelGate.mlp.3', channels, channels // 16)
    conv(table, f'{prefix}.SpatialGate.spatial.conv', 1, 2, 7)
    bn(table, f'{prefix}.SpatialGate.spatial.bn', 1)


def deeplabv3plus(backbone: str, num_classes: int, with_cbam: bool = False) -> Table:
    """modeling/deeplab.py of jfzhang95/pytorch-deeplab-xception (and Overhaul, AICSD, AttnFD): ``backbone``
    (backbone/resnet.py: 7x7 conv1/bn1, stages from 64 channels; backbone/mobilenet.py: ``features`` and the same
    modules again as ``low_level_features`` = features[0:4] and ``high_level_features`` = features[4:], which keep
    their indices), ``aspp`` (aspp.py: aspp1 1x1, aspp2-4 3x3, each ``atrous_conv`` + ``bn``;
    ``global_avg_pool.1/2``; ``conv1``/``bn1`` from 1280), ``decoder`` (decoder.py: ``conv1``/``bn1`` to 48,
    ``last_conv`` 0/1, 4/5 3x3 convs + BN, 8 classifier). AttnFD adds unused CBAMs to the three parts."""
    table: Table = OrderedDict()
    if backbone == 'mobilenetv2':
        mobilenetv2_features(table, 'backbone.')
        for key, shape in list(table.items()):
            index = int(key.split('.')[2])
            duplicate = 'low_level_features' if index < 4 else 'high_level_features'
            table[key.replace('backbone.features.', f'backbone.{duplicate}.', 1)] = shape
        high, low = 320, 24
    else:
        conv(table, 'backbone.conv1', 64, 3, 7)
        bn(table, 'backbone.bn1', 64)
        depth = int(backbone[len('resnet'):])
        resnet_stages(table, 'backbone.', depth, inplanes=64)
        high, low = (2048, 256) if depth == 101 else (512, 64)
    if with_cbam:
        cbam(table, 'backbone.cbam', high)
    for branch in range(1, 5):
        conv(table, f'aspp.aspp{branch}.atrous_conv', 256, high, 1 if branch == 1 else 3)
        bn(table, f'aspp.aspp{branch}.bn', 256)
    conv(table, 'aspp.global_avg_pool.1', 256, high, 1)
    bn(table, 'aspp.global_avg_pool.2', 256)
    conv(table, 'aspp.conv1', 256, 1280, 1)
    bn(table, 'aspp.bn1', 256)
    if with_cbam:
        cbam(table, 'aspp.cbam', 256)
    conv(table, 'decoder.conv1', 48, low, 1)
    bn(table, 'decoder.bn1', 48)
    conv(table, 'decoder.last_conv.0', 256, 304, 3)
    bn(table, 'decoder.last_conv.1', 256)
    conv(table, 'decoder.last_conv.4', 256, 256, 3)
    bn(table, 'decoder.last_conv.5', 256)
    conv(table, 'decoder.last_conv.8', num_classes, 256, 1, bias=True)
    if with_cbam:
        cbam(table, 'decoder.cbam', 256)
    return table


# ---------------------------------------------------------------------------------------------------- SegDistill
MIT_B3 = dict(dims=(64, 128, 320, 512), depths=(3, 4, 18, 3), sr_ratios=(8, 4, 2, 1))


def nvlabs_segformer_b3(num_classes: int) -> Table:
    """NVlabs/SegFormer mmseg/models/backbones/mix_transformer.py (``mit_b3``: patch_embed1-4 ``proj`` conv 7x7 then
    3x3 with bias + ``norm``; block1-4 with norm1, attn.q, attn.kv, attn.proj, attn.sr + attn.norm where the
    reduction ratio > 1, norm2, mlp.fc1, mlp.dwconv.dwconv, mlp.fc2; norm1-4) and decode_heads/segformer_head.py
    (linear_c1-4.proj, linear_fuse ConvModule without bias, linear_pred) on mmseg 0.x's BaseDecodeHead, which also
    builds an unused ``conv_seg`` from channels=128."""
    table: Table = OrderedDict()
    previous = 3
    for stage, (dim, depth, ratio) in enumerate(zip(*MIT_B3.values()), 1):
        conv(table, f'backbone.patch_embed{stage}.proj', dim, previous, 7 if stage == 1 else 3, bias=True)
        layer_norm(table, f'backbone.patch_embed{stage}.norm', dim)
        for index in range(depth):
            block = f'backbone.block{stage}.{index}'
            layer_norm(table, f'{block}.norm1', dim)
            linear(table, f'{block}.attn.q', dim, dim)
            linear(table, f'{block}.attn.kv', 2 * dim, dim)
            linear(table, f'{block}.attn.proj', dim, dim)
            if ratio > 1:
                conv(table, f'{block}.attn.sr', dim, dim, ratio, bias=True)
                layer_norm(table, f'{block}.attn.norm', dim)
            layer_norm(table, f'{block}.norm2', dim)
            linear(table, f'{block}.mlp.fc1', 4 * dim, dim)
            table[f'{block}.mlp.dwconv.dwconv.weight'] = (4 * dim, 1, 3, 3)
            table[f'{block}.mlp.dwconv.dwconv.bias'] = (4 * dim,)
            linear(table, f'{block}.mlp.fc2', dim, 4 * dim)
        layer_norm(table, f'backbone.norm{stage}', dim)
        previous = dim
    conv(table, 'decode_head.conv_seg', num_classes, 128, 1, bias=True)
    for stage, dim in enumerate(MIT_B3['dims'], 1):
        linear(table, f'decode_head.linear_c{stage}.proj', 768, dim)
    conv(table, 'decode_head.linear_fuse.conv', 768, 4 * 768, 1)
    bn(table, 'decode_head.linear_fuse.bn', 768)
    conv(table, 'decode_head.linear_pred', num_classes, 768, 1, bias=True)
    return table


SWIN_B = dict(dim=128, depths=(2, 2, 18, 2), heads=(4, 8, 16, 32), window=7)


def upernet_heads(table: Table, in_channels: Tuple[int, ...], num_classes: int) -> None:
    """mmseg 0.x uper_head.py (``psp_modules``, ``bottleneck``, ``lateral_convs``, ``fpn_convs``,
    ``fpn_bottleneck``, ``conv_seg``; ConvModules with BN, no bias) and fcn_head.py as ``auxiliary_head`` on the
    third level."""
    channels = 512
    for index in range(4):
        conv(table, f'decode_head.psp_modules.{index}.1.conv', channels, in_channels[-1], 1)
        bn(table, f'decode_head.psp_modules.{index}.1.bn', channels)
    conv(table, 'decode_head.bottleneck.conv', channels, in_channels[-1] + 4 * channels, 3)
    bn(table, 'decode_head.bottleneck.bn', channels)
    for index, width in enumerate(in_channels[:-1]):
        conv(table, f'decode_head.lateral_convs.{index}.conv', channels, width, 1)
        bn(table, f'decode_head.lateral_convs.{index}.bn', channels)
        conv(table, f'decode_head.fpn_convs.{index}.conv', channels, channels, 3)
        bn(table, f'decode_head.fpn_convs.{index}.bn', channels)
    conv(table, 'decode_head.fpn_bottleneck.conv', channels, 4 * channels, 3)
    bn(table, 'decode_head.fpn_bottleneck.bn', channels)
    conv(table, 'decode_head.conv_seg', num_classes, channels, 1, bias=True)
    conv(table, 'auxiliary_head.convs.0.conv', 256, in_channels[2], 3)
    bn(table, 'auxiliary_head.convs.0.bn', 256)
    conv(table, 'auxiliary_head.conv_seg', num_classes, 256, 1, bias=True)


def official_swin_b_upernet(num_classes: int) -> Table:
    """Swin-Transformer-Semantic-Segmentation mmseg/models/backbones/swin_transformer.py (patch_embed.proj 4x4 +
    norm; layers.i.blocks.j: norm1, attn.relative_position_bias_table ((2w-1)², heads), attn.relative_position_index
    (w², w²) buffer, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2; layers.i.downsample: norm (4C), reduction
    (4C → 2C, no bias) for i < 3; norm0-3) with the UPerNet and FCN heads."""
    table: Table = OrderedDict()
    dim, window = SWIN_B['dim'], SWIN_B['window']
    conv(table, 'backbone.patch_embed.proj', dim, 3, 4, bias=True)
    layer_norm(table, 'backbone.patch_embed.norm', dim)
    widths = []
    for stage, (depth, heads) in enumerate(zip(SWIN_B['depths'], SWIN_B['heads'])):
        for index in range(depth):
            block = f'backbone.layers.{stage}.blocks.{index}'
            layer_norm(table, f'{block}.norm1', dim)
            table[f'{block}.attn.relative_position_bias_table'] = ((2 * window - 1) ** 2, heads)
            table[f'{block}.attn.relative_position_index'] = (window ** 2, window ** 2)
            linear(table, f'{block}.attn.qkv', 3 * dim, dim)
            linear(table, f'{block}.attn.proj', dim, dim)
            layer_norm(table, f'{block}.norm2', dim)
            linear(table, f'{block}.mlp.fc1', 4 * dim, dim)
            linear(table, f'{block}.mlp.fc2', dim, 4 * dim)
        widths.append(dim)
        if stage < 3:
            layer_norm(table, f'backbone.layers.{stage}.downsample.norm', 4 * dim)
            linear(table, f'backbone.layers.{stage}.downsample.reduction', 2 * dim, 4 * dim, bias=False)
            dim *= 2
    for stage, width in enumerate(widths):
        layer_norm(table, f'backbone.norm{stage}', width)
    upernet_heads(table, tuple(widths), num_classes)
    return table


def mmseg_v0_pspnet_r101(num_classes: int) -> Table:
    """mmseg 0.x (e.g. the copy in NVlabs/SegFormer) backbones/resnet.py ``ResNetV1c`` (stem.0/1/3/4/6/7 with
    stem_channels 64: 32-32-64; layerN blocks conv1..3/bn1..3 and downsample.0/1), decode_heads/psp_head.py
    (psp_modules.i.1 ConvModule, bottleneck, conv_seg) and fcn_head.py as ``auxiliary_head`` (convs.0, conv_seg)."""
    table: Table = OrderedDict()
    for index, (out, inp) in zip((0, 3, 6), ((32, 3), (32, 32), (64, 32))):
        conv(table, f'backbone.stem.{index}', out, inp, 3)
        bn(table, f'backbone.stem.{index + 1}', out)
    resnet_stages(table, 'backbone.', 101, inplanes=64)
    for index in range(4):
        conv(table, f'decode_head.psp_modules.{index}.1.conv', 512, 2048, 1)
        bn(table, f'decode_head.psp_modules.{index}.1.bn', 512)
    conv(table, 'decode_head.bottleneck.conv', 512, 2048 + 4 * 512, 3)
    bn(table, 'decode_head.bottleneck.bn', 512)
    conv(table, 'decode_head.conv_seg', num_classes, 512, 1, bias=True)
    conv(table, 'auxiliary_head.convs.0.conv', 256, 1024, 3)
    bn(table, 'auxiliary_head.convs.0.bn', 256)
    conv(table, 'auxiliary_head.conv_seg', num_classes, 256, 1, bias=True)
    return table


# --------------------------------------------------------------------------------------------- random values
def swin_relative_position_index(window: int) -> torch.Tensor:
    """The official Swin index into the relative-position bias table: for window positions a = (ya, xa) and
    b = (yb, xb), (ya - yb + w - 1) · (2w - 1) + (xa - xb + w - 1)."""
    ys, xs = torch.meshgrid(torch.arange(window), torch.arange(window), indexing='ij')
    ys, xs = ys.flatten(), xs.flatten()
    return (ys[:, None] - ys[None, :] + window - 1) * (2 * window - 1) + (xs[:, None] - xs[None, :] + window - 1)


def random_state_dict(table: Table, seed: int = 0) -> Dict[str, torch.Tensor]:
    """Random values of the table's shapes: weights of variance 1 / fan-in, non-trivial BN statistics and affine
    parameters (running variance in [0.5, 1.5]), LayerNorm scales around 1, the true Swin position index."""
    generator = torch.Generator().manual_seed(seed)
    state_dict = OrderedDict()
    for key, shape in table.items():
        if key.endswith('num_batches_tracked'):
            value = torch.tensor(1000, dtype=torch.long)
        elif key.endswith('relative_position_index'):
            value = swin_relative_position_index(int(round(shape[0] ** 0.5)))
        elif key.endswith('running_var'):
            value = torch.rand(shape, generator=generator) + 0.5
        elif key.endswith('running_mean') or key.endswith('bias') or key.endswith('bias_table'):
            value = torch.randn(shape, generator=generator) * 0.1
        elif len(shape) == 1:
            value = torch.rand(shape, generator=generator) * 0.5 + 0.75
        else:
            fan_in = int(torch.tensor(shape[1:]).prod())
            value = torch.randn(shape, generator=generator) * (1.0 / fan_in) ** 0.5
        state_dict[key] = value
    for key in [k for k in state_dict if '_level_features.' in k]:  # the lineage's duplicates are the same tensors
        state_dict[key] = state_dict[key.replace('low_level_features', 'features')
                                     .replace('high_level_features', 'features')]
    return state_dict
