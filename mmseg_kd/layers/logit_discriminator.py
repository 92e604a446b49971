"""The discriminator of SKD's holistic adversarial distillation (Liu et al., "Structured Knowledge Distillation
for Semantic Segmentation", CVPR 2019), as CIRKD trains it (winycg/CIRKD, ``utils/sagan.py``; docs/methods.md).

A SAGAN-style critic (Zhang et al., "Self-Attention Generative Adversarial Networks", ICML 2019) that scores
class maps z (B, K, h, w): higher means "looks like the teacher's".

    x = BN(z)                                             input normalisation over the K channels
    x = LeakyReLU_0.1(SN(conv 4×4 / 2, pad 1)(x))          K → 64,    h/2
    x = LeakyReLU_0.1(SN(conv 4×4 / 2, pad 1)(x))          64 → 128,  h/4
    x = attention(LeakyReLU_0.1(SN(conv 4×4 / 2, pad 1)(x)))   128 → 256, h/8
    x = attention(LeakyReLU_0.1(SN(conv 4×4 / 2, pad 1)(x)))   256 → 512, h/16
    D(z) = conv 4×4 (no padding)(x)                       512 → 1,   (B, 1, ⌊h/16⌋ − 3, ⌊w/16⌋ − 3)

SN is spectral normalisation (one power iteration per forward in training mode). As in CIRKD's code, the
self-attention convolutions and the final convolution are not spectrally normalised. The final unpadded
4×4 convolution needs ⌊h/16⌋ ≥ 4: maps of at least 64×64, i.e. inputs of at least 512×512 for 1/8 logits.

SAGAN self-attention on x (B, C, H, W), N = H·W, f, g: 1×1 convs C → C/8, h: 1×1 conv C → C, γ = 0 at
the start:

    A = softmax_j(f(x)_iᵀ g(x)_j)      (B, N, N)
    o_i = Σ_j A[i, j] h(x)_j           (B, C, N)
    out = γ·o + x
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from mmseg_kd.utils.argument_checks import integer_at_least, norm_config

#: Side of the smallest map the discriminator accepts (four halvings, then a 4×4 unpadded convolution).
MIN_MAP_SIZE = 64
#: The narrowest first convolution: the first attention block, on 4× as many channels, needs C // 8 >= 1.
MIN_BASE_CHANNELS = 2


class SelfAttention2d(nn.Module):
    """SAGAN self-attention over the H·W positions of a feature map, added to the input with a learnt
    scale γ (0 at the start, so the block begins as the identity).

    Args:
        channels: C >= 8, the input (and output) channels; query and key have C // 8.

    Shapes: (B, C, H, W) → (B, C, H, W).
    """

    def __init__(self, channels: int):
        super().__init__()
        integer_at_least(type(self).__name__, 'channels', channels, 8)
        self.query = nn.Conv2d(channels, channels // 8, kernel_size=1)
        self.key = nn.Conv2d(channels, channels // 8, kernel_size=1)
        self.value = nn.Conv2d(channels, channels, kernel_size=1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        query = self.query(x).flatten(2).transpose(1, 2)                    # (B, N, C/8)
        key = self.key(x).flatten(2)                                        # (B, C/8, N)
        attention = F.softmax(torch.bmm(query, key), dim=-1)                # (B, N, N), rows sum to 1
        attended = torch.bmm(self.value(x).flatten(2), attention.transpose(1, 2))   # (B, C, N)
        return self.gamma * attended.view_as(x) + x


def downsampling_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """Spectral-norm conv 4×4, stride 2, padding 1 (halves H and W), then LeakyReLU(0.1)."""
    return nn.Sequential(spectral_norm(nn.Conv2d(in_channels, out_channels, 4, stride=2, padding=1)),
                         nn.LeakyReLU(0.1))


class LogitDiscriminator(nn.Module):
    """SAGAN-style critic of class maps: a score map, higher for teacher-like maps.

    Args:
        in_channels: K >= 1, the number of classes of the logits it scores.
        base_channels: width of the first convolution (64, at least 2); the next ones double it (128, 256, 512).
        norm_cfg: the input normalisation layer over K channels (mmcv config; CIRKD: SyncBN when
            distributed, BN otherwise; mmengine turns SyncBN into BN in single-process runs).

    Shapes: (B, K, h, w) with h, w ≥ 64 → (B, 1, ⌊h/16⌋ − 3, ⌊w/16⌋ − 3); (B, 1, 1, 1) at 64×64.
    """

    def __init__(self, in_channels: int, base_channels: int = 64, norm_cfg: Optional[dict] = None):
        super().__init__()
        owner = type(self).__name__
        integer_at_least(owner, 'in_channels', in_channels, 1)
        integer_at_least(owner, 'base_channels', base_channels, MIN_BASE_CHANNELS)
        norm_config(owner, 'norm_cfg', norm_cfg, allow_none=True)
        widths = [base_channels * 2 ** i for i in range(4)]
        self.input_norm = build_norm_layer(dict(norm_cfg or dict(type='BN')), in_channels)[1]
        self.block1 = downsampling_block(in_channels, widths[0])
        self.block2 = downsampling_block(widths[0], widths[1])
        self.block3 = downsampling_block(widths[1], widths[2])
        self.attention3 = SelfAttention2d(widths[2])
        self.block4 = downsampling_block(widths[2], widths[3])
        self.attention4 = SelfAttention2d(widths[3])
        self.score = nn.Conv2d(widths[3], 1, kernel_size=4)

    @staticmethod
    def check_map_size(size: Tuple[int, int]) -> None:
        """Raise ``ValueError`` naming the minimum if an (h, w) map is too small to score."""
        if min(size) < MIN_MAP_SIZE:
            raise ValueError(
                f'the adversarial discriminator needs class maps of at least {MIN_MAP_SIZE}x{MIN_MAP_SIZE} '
                f'(four 4x4 stride-2 convolutions, then an unpadded 4x4 convolution), got '
                f'{size[0]}x{size[1]}. For logits at 1/8 resolution that is an input of at least '
                f'{8 * MIN_MAP_SIZE}x{8 * MIN_MAP_SIZE}: train with crops at least that large and set '
                f"SegDistiller's tap_check_input_size (the build-time dry run) to such a size, e.g. "
                f'tap_check_input_size=({8 * MIN_MAP_SIZE}, {8 * MIN_MAP_SIZE}).')

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        self.check_map_size(tuple(logits.shape[-2:]))
        x = self.block2(self.block1(self.input_norm(logits)))
        x = self.attention3(self.block3(x))
        x = self.attention4(self.block4(x))
        return self.score(x)
