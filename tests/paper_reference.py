"""The authors' forward passes written out with torch.nn.functional, reading the authors' state-dict keys.

Independent of mmseg and of mmseg-kd's modules: each function restates what the authors' code computes (the
source is named in its docstring), with eval-mode BN (running statistics) and dropout off. The converters' tests
compare our converted models against these.
"""
import math
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F

StateDict = Dict[str, torch.Tensor]


def bn(x, sd: StateDict, prefix: str, eps: float = 1e-5):
    return F.batch_norm(x, sd[f'{prefix}.running_mean'], sd[f'{prefix}.running_var'], sd[f'{prefix}.weight'],
                        sd[f'{prefix}.bias'], False, 0.0, eps)


def conv(x, sd: StateDict, prefix: str, stride: int = 1, padding: int = 0, dilation: int = 1, groups: int = 1):
    return F.conv2d(x, sd[f'{prefix}.weight'], sd.get(f'{prefix}.bias'), stride, padding, dilation, groups)


def conv_bn_relu(x, sd: StateDict, conv_prefix: str, bn_prefix: str, **conv_args):
    return F.relu(bn(conv(x, sd, conv_prefix, **conv_args), sd, bn_prefix))


def upsample(x, size, align_corners: bool):
    return F.interpolate(x, size=tuple(size), mode='bilinear', align_corners=align_corners)


# ------------------------------------------------------------------------------------------------------ ResNets
def bottleneck(x, sd, prefix: str, stride: int, dilation: int):
    """torchvision-style Bottleneck (stride and dilation on the 3x3 conv), + downsample where the block has one."""
    out = conv_bn_relu(x, sd, f'{prefix}.conv1', f'{prefix}.bn1')
    out = conv_bn_relu(out, sd, f'{prefix}.conv2', f'{prefix}.bn2', stride=stride, padding=dilation, dilation=dilation)
    out = bn(conv(out, sd, f'{prefix}.conv3'), sd, f'{prefix}.bn3')
    return F.relu(out + shortcut(x, sd, prefix, stride))


def basic_block(x, sd, prefix: str, stride: int, conv1_dilation: int, conv2_dilation: int):
    """BasicBlock with its two 3x3 convs dilated separately (padding = dilation)."""
    out = conv_bn_relu(x, sd, f'{prefix}.conv1', f'{prefix}.bn1', stride=stride, padding=conv1_dilation,
                       dilation=conv1_dilation)
    out = bn(conv(out, sd, f'{prefix}.conv2', padding=conv2_dilation, dilation=conv2_dilation), sd, f'{prefix}.bn2')
    return F.relu(out + shortcut(x, sd, prefix, stride))


def basic_block_pre_activation(x, sd, prefix: str, stride: int, conv1_dilation: int, conv2_dilation: int):
    """:func:`basic_block` before its final ReLU (the residual sum)."""
    out = conv_bn_relu(x, sd, f'{prefix}.conv1', f'{prefix}.bn1', stride=stride, padding=conv1_dilation,
                       dilation=conv1_dilation)
    out = bn(conv(out, sd, f'{prefix}.conv2', padding=conv2_dilation, dilation=conv2_dilation), sd, f'{prefix}.bn2')
    return out + shortcut(x, sd, prefix, stride)


def shortcut(x, sd, prefix: str, stride: int):
    if f'{prefix}.downsample.0.weight' not in sd:
        return x
    return bn(conv(x, sd, f'{prefix}.downsample.0', stride=stride), sd, f'{prefix}.downsample.1')


def cirkd_block_dilations(stage_dilation: int, index: int) -> Tuple[int, int]:
    """winycg/CIRKD@2d8ad0f ResNetV1b._make_layer: the first block of a stage gets ``dilation=1`` (stage dilation
    1 or 2) or 2 (stage dilation 4) and ``previous_dilation`` = the stage dilation; later blocks get the stage
    dilation for both. Returns (dilation, previous_dilation): BottleneckV1b's 3x3 conv uses the first,
    BasicBlockV1b's conv1 the first and conv2 the second."""
    if index == 0:
        return (1 if stage_dilation in (1, 2) else 2), stage_dilation
    return stage_dilation, stage_dilation


def cirkd_resnet(x, sd, prefix: str, depth: int, upto_block: Tuple[int, int] = None) -> List[torch.Tensor]:
    """models/base_models/resnet.py ``resnet*_v1s(dilated=True)``: deep stem, max pool, stages of strides
    (1, 2, 1, 1) and dilations (1, 1, 2, 4). Returns the four stage outputs; with ``upto_block=(stage, block)`` the
    input of that block instead (stage 1-based)."""
    for index in (1, 2, 3):
        x = conv_bn_relu(x, sd, f'{prefix}conv{index}', f'{prefix}bn{index}', stride=2 if index == 1 else 1,
                         padding=1)
    x = F.max_pool2d(x, 3, 2, 1)
    outputs = []
    blocks = {18: (2, 2, 2, 2), 101: (3, 4, 23, 3)}[depth]
    for stage, (count, stride, stage_dilation) in enumerate(zip(blocks, (1, 2, 1, 1), (1, 1, 2, 4)), 1):
        for index in range(count):
            if upto_block == (stage, index):
                return [x]
            block = f'{prefix}layer{stage}.{index}'
            dilation, previous = cirkd_block_dilations(stage_dilation, index)
            block_stride = stride if index == 0 else 1
            x = bottleneck(x, sd, block, block_stride, dilation) if depth >= 50 else \
                basic_block(x, sd, block, block_stride, dilation, previous)
        outputs.append(x)
    return outputs


def lineage_resnet(x, sd, depth: int) -> List[torch.Tensor]:
    """jfzhang95 modeling/backbone/resnet.py (and Overhaul's ResNet-18) at output stride 16: 7x7 stem, max pool,
    strides (1, 2, 2, 1), dilations (1, 1, 1, 2); ResNet-101's layer4 is the multi-grid unit of dilations
    (1, 2, 4) x 2 with its stride on the first block; ResNet-18's layer4 blocks dilate both convs by 2. Overhaul
    moves each block's last ReLU into the next block, which gives the same outputs. Returns the stage outputs."""
    x = F.max_pool2d(conv_bn_relu(x, sd, 'backbone.conv1', 'backbone.bn1', stride=2, padding=3), 3, 2, 1)
    outputs = []
    blocks = {18: (2, 2, 2, 2), 101: (3, 4, 23, 3)}[depth]
    for stage, (count, stride, dilation) in enumerate(zip(blocks, (1, 2, 2, 1), (1, 1, 1, 2)), 1):
        for index in range(count):
            block = f'backbone.layer{stage}.{index}'
            block_stride = stride if index == 0 else 1
            if depth >= 50:
                block_dilation = (1, 2, 4)[index] * dilation if stage == 4 else dilation
                x = bottleneck(x, sd, block, block_stride, block_dilation)
            else:
                x = basic_block(x, sd, block, block_stride, dilation, dilation)
        outputs.append(x)
    return outputs


# -------------------------------------------------------------------------------------------------- MobileNetV2
def mobilenetv2_blocks() -> List[Tuple[int, int, int, int]]:
    """(expand ratio, input channels, output channels, original stride) of features.1..17."""
    blocks, inp = [], 32
    for ratio, channels, count, stride in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                                           (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)):
        for index in range(count):
            blocks.append((ratio, inp, channels, stride if index == 0 else 1))
            inp = channels
    return blocks


def inverted_residual(x, sd, prefix: str, ratio: int, stride: int, dilation: int, residual: bool,
                      pad_input: bool):
    """InvertedResidual ``conv`` Sequential (convs at 0, 3, 6; BNs at 1, 4, 7; ReLU6). With ``pad_input`` (the
    lineage's ``fixed_padding``) the block input is zero-padded by the dilation and the depthwise conv has no
    padding; otherwise the depthwise conv pads by the dilation."""
    out = F.pad(x, [dilation] * 4) if pad_input else x
    padding = 0 if pad_input else dilation
    positions = (0, 3) if ratio == 1 else (0, 3, 6)
    for step, position in enumerate(positions):
        depthwise = position == positions[-2]
        weight_key = f'{prefix}.{position}'
        groups = sd[f'{weight_key}.weight'].shape[0] if depthwise else 1
        out = conv(out, sd, weight_key, stride=stride if depthwise else 1, padding=padding if depthwise else 0,
                   dilation=dilation if depthwise else 1, groups=groups)
        out = bn(out, sd, f'{prefix}.{position + 1}')
        if step < len(positions) - 1:
            out = F.relu6(out)
    return x + out if residual else out


def cirkd_mobilenetv2(x, sd, prefix: str) -> torch.Tensor:
    """models/base_models/mobilenetv2.py ``MobileNetV2Dilated(dilate_scale=8)``: ``_nostride_dilate`` on
    features[7:14] with 2 and features[14:] with 4: a stride-2 conv becomes stride 1 with half the dilation, every
    other 3x3 conv gets the full one. ``use_res_connect`` was fixed at construction, with the original strides."""
    x = F.relu6(bn(conv(x, sd, f'{prefix}features.0.0', stride=2, padding=1), sd, f'{prefix}features.0.1'))
    for index, (ratio, inp, out, stride) in enumerate(mobilenetv2_blocks(), 1):
        dilate = 4 if index >= 14 else 2 if index >= 7 else 1
        block_stride, dilation = stride, 1
        if dilate > 1:
            block_stride, dilation = (1, dilate // 2) if stride == 2 else (1, dilate)
        x = inverted_residual(x, sd, f'{prefix}features.{index}.conv', ratio, block_stride, dilation,
                              residual=stride == 1 and inp == out, pad_input=False)
    return x


def lineage_mobilenetv2(x, sd) -> Tuple[torch.Tensor, torch.Tensor]:
    """jfzhang95 modeling/backbone/mobilenet.py at output stride 16: once the running stride reaches 16, stages
    keep stride 1 and take the running rate as dilation (the rate then grows by the stage's stride); every block
    pads its input. Returns (features[0:4] output, final output)."""
    x = F.relu6(bn(conv(x, sd, 'backbone.features.0.0', stride=2, padding=1), sd, 'backbone.features.0.1'))
    current_stride, rate, index, low_level = 2, 1, 1, None
    for ratio, channels, count, stride in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                                           (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)):
        if current_stride == 16:
            stage_stride, dilation, rate = 1, rate, rate * stride
        else:
            stage_stride, dilation, current_stride = stride, 1, current_stride * stride
        for block in range(count):
            block_stride = stage_stride if block == 0 else 1
            residual = block_stride == 1 and x.shape[1] == channels
            x = inverted_residual(x, sd, f'backbone.features.{index}.conv', ratio, block_stride, dilation,
                                  residual, pad_input=True)
            if index == 3:
                low_level = x
            index += 1
    return low_level, x


# ------------------------------------------------------------------------------------------------------- heads
def torchvision_aspp(x, sd, branches: Sequence[Tuple[str, str, int]], pool: Tuple[str, str],
                     projection: Tuple[str, str]):
    """ASPP of torchvision's layout: conv branches (1x1 or dilated 3x3, BN, ReLU), image pooling LAST (pool, 1x1,
    BN, ReLU, upsampled with align_corners=True), concatenation, 1x1 projection + BN + ReLU (dropout off)."""
    outputs = [conv_bn_relu(x, sd, conv_key, bn_key, padding=rate if rate > 1 else 0, dilation=rate)
               for conv_key, bn_key, rate in branches]
    pooled = conv_bn_relu(F.adaptive_avg_pool2d(x, 1), sd, *pool)
    outputs.append(upsample(pooled, x.shape[2:], align_corners=True))
    return conv_bn_relu(torch.cat(outputs, dim=1), sd, *projection)


def cirkd_deeplabv3_head(x, sd):
    """models/deeplabv3.py ``_DeepLabHead``: ``_ASPP`` (rates 12/24/36), then 3x3 conv + BN + ReLU, classifier."""
    branches = [('head.aspp.b0.0', 'head.aspp.b0.1', 1)] + [
        (f'head.aspp.b{i}.block.0', f'head.aspp.b{i}.block.1', rate) for i, rate in zip((1, 2, 3), (12, 24, 36))]
    aspp = torchvision_aspp(x, sd, branches, ('head.aspp.b4.gap.1', 'head.aspp.b4.gap.2'),
                            ('head.aspp.project.0', 'head.aspp.project.1'))
    return conv(conv_bn_relu(aspp, sd, 'head.block.0', 'head.block.1', padding=1), sd, 'head.block.4')


def cirkd_pspnet_head(x, sd):
    """models/pspnet.py ``_PSPHead``: pools 1/2/3/6, 1x1 + BN + ReLU, upsampled (align_corners=True), concatenated
    AFTER the input; 3x3 conv + BN + ReLU; classifier."""
    pooled = [upsample(conv_bn_relu(F.adaptive_avg_pool2d(x, size), sd, f'head.psp.conv{i}.0', f'head.psp.conv{i}.1'),
                       x.shape[2:], align_corners=True) for i, size in enumerate((1, 2, 3, 6), 1)]
    features = conv_bn_relu(torch.cat([x] + pooled, dim=1), sd, 'head.block.0', 'head.block.1', padding=1)
    return conv(features, sd, 'head.classifier')


def cirkd_fcn_aux(x, sd):
    """models/deeplabv3.py ``_FCNHead`` (``auxlayer``): 3x3 conv + BN + ReLU, classifier."""
    return conv(conv_bn_relu(x, sd, 'auxlayer.block.0', 'auxlayer.block.1', padding=1), sd, 'auxlayer.block.4')


def lineage_head(high, low, sd):
    """jfzhang95 modeling/aspp.py (rates 1/6/12/18 at output stride 16) and decoder.py: the ASPP output upsampled
    to the low-level map (align_corners=True), concatenated before the reduced low-level map (48), two 3x3 convs +
    BN + ReLU, classifier. Logits at the low-level resolution."""
    branches = [(f'aspp.aspp{i}.atrous_conv', f'aspp.aspp{i}.bn', rate) for i, rate in zip(range(1, 5), (1, 6, 12, 18))]
    aspp = torchvision_aspp(high, sd, branches, ('aspp.global_avg_pool.1', 'aspp.global_avg_pool.2'),
                            ('aspp.conv1', 'aspp.bn1'))
    low = conv_bn_relu(low, sd, 'decoder.conv1', 'decoder.bn1')
    x = torch.cat([upsample(aspp, low.shape[2:], align_corners=True), low], dim=1)
    x = conv_bn_relu(x, sd, 'decoder.last_conv.0', 'decoder.last_conv.1', padding=1)
    x = conv_bn_relu(x, sd, 'decoder.last_conv.4', 'decoder.last_conv.5', padding=1)
    return conv(x, sd, 'decoder.last_conv.8')


# -------------------------------------------------------------------------------------------------- SegFormer
def tokens_to_map(tokens, size):
    return tokens.transpose(1, 2).reshape(tokens.shape[0], -1, *size)


def nvlabs_patch_embed(x, sd, stage: int):
    """mix_transformer.py ``OverlapPatchEmbed``: conv (7x7 stride 4 for stage 1, 3x3 stride 2 after), flatten,
    LayerNorm (eps 1e-5). Returns (tokens (B, HW, C), (H, W))."""
    stride, padding = (4, 3) if stage == 1 else (2, 1)
    x = conv(x, sd, f'backbone.patch_embed{stage}.proj', stride=stride, padding=padding)
    size = x.shape[2:]
    tokens = x.flatten(2).transpose(1, 2)
    norm = f'backbone.patch_embed{stage}.norm'
    return F.layer_norm(tokens, tokens.shape[-1:], sd[f'{norm}.weight'], sd[f'{norm}.bias'], 1e-5), size


def nvlabs_block(tokens, size, sd, prefix: str, heads: int, sr_ratio: int):
    """mix_transformer.py ``Block``: x + Attention(LN(x)), x + Mlp(LN(x)) (LayerNorm eps 1e-6). Attention: q from x;
    k, v from x spatially reduced (sr conv stride r, LayerNorm eps 1e-5) when r > 1; softmax(q kᵀ / √d) v; proj.
    Mlp: fc1, 3x3 depthwise conv on the map, GELU, fc2."""
    def ln(t, key, eps):
        return F.layer_norm(t, t.shape[-1:], sd[f'{key}.weight'], sd[f'{key}.bias'], eps)

    batch, length, channels = tokens.shape
    x = ln(tokens, f'{prefix}.norm1', 1e-6)
    q = F.linear(x, sd[f'{prefix}.attn.q.weight'], sd[f'{prefix}.attn.q.bias'])
    reduced = x
    if sr_ratio > 1:
        reduced = conv(tokens_to_map(x, size), sd, f'{prefix}.attn.sr', stride=sr_ratio).flatten(2).transpose(1, 2)
        reduced = ln(reduced, f'{prefix}.attn.norm', 1e-5)
    kv = F.linear(reduced, sd[f'{prefix}.attn.kv.weight'], sd[f'{prefix}.attn.kv.bias'])
    k, v = kv[..., :channels], kv[..., channels:]

    def split(t):
        return t.reshape(batch, -1, heads, channels // heads).transpose(1, 2)
    attention = (split(q) @ split(k).transpose(-2, -1) / math.sqrt(channels // heads)).softmax(-1)
    attended = (attention @ split(v)).transpose(1, 2).reshape(batch, length, channels)
    tokens = tokens + F.linear(attended, sd[f'{prefix}.attn.proj.weight'], sd[f'{prefix}.attn.proj.bias'])
    x = F.linear(ln(tokens, f'{prefix}.norm2', 1e-6), sd[f'{prefix}.mlp.fc1.weight'], sd[f'{prefix}.mlp.fc1.bias'])
    x = conv(tokens_to_map(x, size), sd, f'{prefix}.mlp.dwconv.dwconv', padding=1, groups=x.shape[-1])
    x = F.linear(F.gelu(x.flatten(2).transpose(1, 2)), sd[f'{prefix}.mlp.fc2.weight'], sd[f'{prefix}.mlp.fc2.bias'])
    return tokens + x


def nvlabs_segformer_head(levels: Sequence[torch.Tensor], sd):
    """segformer_head.py ``SegFormerHead``: linear_c_i on each level's tokens, upsampled to c1's size
    (align_corners=False), concatenated c4, c3, c2, c1; linear_fuse (1x1 conv + BN + ReLU); linear_pred."""
    embedded = []
    for index, level in enumerate(levels, 1):
        tokens = F.linear(level.flatten(2).transpose(1, 2), sd[f'decode_head.linear_c{index}.proj.weight'],
                          sd[f'decode_head.linear_c{index}.proj.bias'])
        embedded.append(upsample(tokens_to_map(tokens, level.shape[2:]), levels[0].shape[2:], align_corners=False))
    fused = conv_bn_relu(torch.cat(embedded[::-1], dim=1), sd, 'decode_head.linear_fuse.conv',
                         'decode_head.linear_fuse.bn')
    return conv(fused, sd, 'decode_head.linear_pred')


# ------------------------------------------------------------------------------------------------------- Swin
def swin_window_attention(windows, sd, prefix: str, heads: int, window: int, mask):
    """swin_transformer.py ``WindowAttention``: qkv, q scaled by 1/√d, q kᵀ + relative position bias (+ mask), softmax,
    v, proj. windows: (nW·B, w², C); mask: (nW, w², w²) or None."""
    count, length, channels = windows.shape
    qkv = F.linear(windows, sd[f'{prefix}.qkv.weight'], sd[f'{prefix}.qkv.bias'])
    qkv = qkv.reshape(count, length, 3, heads, channels // heads).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0] / math.sqrt(channels // heads), qkv[1], qkv[2]
    table, index = sd[f'{prefix}.relative_position_bias_table'], sd[f'{prefix}.relative_position_index']
    bias = table[index.flatten()].reshape(length, length, heads).permute(2, 0, 1)
    attention = q @ k.transpose(-2, -1) + bias
    if mask is not None:
        groups = mask.shape[0]
        attention = attention.reshape(count // groups, groups, heads, length, length) + mask[None, :, None]
        attention = attention.reshape(count, heads, length, length)
    attended = (attention.softmax(-1) @ v).transpose(1, 2).reshape(count, length, channels)
    return F.linear(attended, sd[f'{prefix}.proj.weight'], sd[f'{prefix}.proj.bias'])


def swin_block(tokens, size, sd, prefix: str, heads: int, window: int, shift: int):
    """swin_transformer.py ``SwinTransformerBlock`` with ``BasicLayer``'s mask: LN, pad H and W to multiples of
    the window (right, bottom), cyclic shift by -shift, window attention (regions of the shifted map masked with
    -100), reverse; x + attention; x + MLP(LN(x)) with GELU. LayerNorm eps 1e-5."""
    def ln(t, key):
        return F.layer_norm(t, t.shape[-1:], sd[f'{key}.weight'], sd[f'{key}.bias'], 1e-5)

    batch, _, channels = tokens.shape
    height, width = size
    x = ln(tokens, f'{prefix}.norm1').reshape(batch, height, width, channels)
    pad_h, pad_w = (-height) % window, (-width) % window
    x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
    padded_h, padded_w = height + pad_h, width + pad_w
    mask = None
    if shift:
        x = torch.roll(x, shifts=(-shift, -shift), dims=(1, 2))
        regions = torch.zeros(1, padded_h, padded_w, 1)
        label = 0
        for rows in (slice(0, -window), slice(-window, -shift), slice(-shift, None)):
            for cols in (slice(0, -window), slice(-window, -shift), slice(-shift, None)):
                regions[:, rows, cols, :] = label
                label += 1
        region_windows = partition(regions, window).squeeze(-1)
        mask = region_windows[:, None, :] - region_windows[:, :, None]
        mask = mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)
    attended = swin_window_attention(partition(x, window), sd, f'{prefix}.attn', heads, window, mask)
    x = attended.reshape(batch, padded_h // window, padded_w // window, window, window, channels)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(batch, padded_h, padded_w, channels)
    if shift:
        x = torch.roll(x, shifts=(shift, shift), dims=(1, 2))
    tokens = tokens + x[:, :height, :width].reshape(batch, height * width, channels)
    hidden = F.gelu(F.linear(ln(tokens, f'{prefix}.norm2'), sd[f'{prefix}.mlp.fc1.weight'],
                             sd[f'{prefix}.mlp.fc1.bias']))
    return tokens + F.linear(hidden, sd[f'{prefix}.mlp.fc2.weight'], sd[f'{prefix}.mlp.fc2.bias'])


def partition(x, window: int):
    """(B, H, W, C) → windows (B·H/w·W/w, w², C), row-major over windows."""
    batch, height, width, channels = x.shape
    x = x.reshape(batch, height // window, window, width // window, window, channels)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window * window, channels)


def swin_patch_merging(tokens, size, sd, prefix: str):
    """swin_transformer.py ``PatchMerging``: pad to even H, W; concatenate x[0::2, 0::2], x[1::2, 0::2],
    x[0::2, 1::2], x[1::2, 1::2] (4C), LayerNorm (eps 1e-5), reduction (no bias)."""
    batch, _, channels = tokens.shape
    height, width = size
    x = F.pad(tokens.reshape(batch, height, width, channels), (0, 0, 0, width % 2, 0, height % 2))
    x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], dim=-1)
    x = x.reshape(batch, -1, 4 * channels)
    x = F.layer_norm(x, x.shape[-1:], sd[f'{prefix}.norm.weight'], sd[f'{prefix}.norm.bias'], 1e-5)
    return F.linear(x, sd[f'{prefix}.reduction.weight'])
