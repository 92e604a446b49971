"""Projectors of masked generative distillation: they generate the teacher's feature from the masked student's.

* ``'plain'`` (MGD's generation block, Af-DCD's default): conv3×3 → ReLU → conv3×3, C → C, with bias.
* ``'enhanced'`` (Af-DCD's ``EnhancedProjector``): two conv3×3+ReLU blocks in series, x1 = block_1(x),
  x2 = block_2(x1), each followed by its own conv3×3 adaptor; the output is (adaptor_1(x1) + adaptor_2(x2)) / 2.
  The layers are created in the authors' order (block_1, block_2, adaptor_1, adaptor_2), so that one seed gives
  both implementations the same initial weights.

Shapes: (B, C, H, W) → (B, C, H, W).
"""
import torch
from torch import nn

PROJECTOR_TYPES = ('plain', 'enhanced')


def conv3x3(channels: int) -> nn.Conv2d:
    """A 3×3 convolution C → C with bias, padding 1."""
    return nn.Conv2d(channels, channels, kernel_size=3, padding=1)


class TwoBranchProjector(nn.Module):
    """Af-DCD's enhanced projector: the mean of two adapted branches of depth one and two.

    Args:
        channels: C, the width of input and output (the teacher's).
    """

    def __init__(self, channels: int):
        super().__init__()
        self.block_1 = nn.Sequential(conv3x3(channels), nn.ReLU())
        self.block_2 = nn.Sequential(conv3x3(channels), nn.ReLU())
        self.adaptor_1 = conv3x3(channels)
        self.adaptor_2 = conv3x3(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) → (B, C, H, W)."""
        first = self.block_1(x)
        second = self.block_2(first)
        return (self.adaptor_1(first) + self.adaptor_2(second)) / 2


def build_projector(projector_type: str, channels: int) -> nn.Module:
    """The ``'plain'`` or ``'enhanced'`` projector of width ``channels``."""
    if projector_type == 'enhanced':
        return TwoBranchProjector(channels)
    return nn.Sequential(conv3x3(channels), nn.ReLU(), conv3x3(channels))
