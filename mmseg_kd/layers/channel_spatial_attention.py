"""Channel + spatial attention refinement (CBAM; Woo et al., ECCV 2018) as used by AttnFD.

For a feature map f (B, C, H, W):

    channel gate   a = σ( MLP(avgpool_HW(f)) + MLP(maxpool_HW(f)) )          (B, C, 1, 1)
                   MLP = Linear(C, C/r) → ReLU → Linear(C/r, C) (biases; shared by both pools)
                   f' = f ⊙ a
    spatial gate   q = [max_c f' ; mean_c f']                                   (B, 2, H, W)
                   s = σ( BN(Conv7×7(q; 2→1, padding 3, no bias)) )            (B, 1, H, W)
    refined        R = f' ⊙ s

BN: one channel, eps 1e-5, momentum 0.01, no ReLU (as in the AttnFD code, r = 16).

The parameter-free variant (AttnFD's "teacher" mode) drops the MLP, conv and BN:
a = σ(avgpool(f) + maxpool(f)),  s = σ(max_c f' + mean_c f').
"""
import torch
from torch import nn

from mmseg_kd.utils.argument_checks import integer_at_least


class ChannelSpatialAttention(nn.Module):
    """CBAM: a channel gate, then a spatial gate; (B, C, H, W) → (B, C, H, W).

    Args:
        channels: C >= 1.
        reduction_ratio: r >= 1, the MLP's hidden width is max(C // r, 1).
    """

    def __init__(self, channels: int, reduction_ratio: int = 16):
        super().__init__()
        integer_at_least(type(self).__name__, 'channels', channels, 1)
        integer_at_least(type(self).__name__, 'reduction_ratio', reduction_ratio, 1)
        hidden = max(channels // reduction_ratio, 1)
        self.channel_mlp = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(inplace=True),
                                         nn.Linear(hidden, channels))
        self.spatial_conv = nn.Conv2d(2, 1, kernel_size=7, padding=3, bias=False)
        self.spatial_bn = nn.BatchNorm2d(1, eps=1e-5, momentum=0.01)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        pooled_avg = features.mean(dim=(2, 3))
        pooled_max = features.amax(dim=(2, 3))
        channel_gate = torch.sigmoid(self.channel_mlp(pooled_avg) + self.channel_mlp(pooled_max))
        features = features * channel_gate[:, :, None, None]
        spatial = torch.cat([features.amax(dim=1, keepdim=True), features.mean(dim=1, keepdim=True)], dim=1)
        return features * torch.sigmoid(self.spatial_bn(self.spatial_conv(spatial)))


class ParameterFreeChannelSpatialAttention(nn.Module):
    """CBAM without parameters: a = σ(avgpool(f) + maxpool(f)), s = σ(max_c f' + mean_c f')."""

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        channel_gate = torch.sigmoid(features.mean(dim=(2, 3), keepdim=True)
                                     + features.amax(dim=(2, 3), keepdim=True))
        features = features * channel_gate
        spatial_gate = torch.sigmoid(features.amax(dim=1, keepdim=True) + features.mean(dim=1, keepdim=True))
        return features * spatial_gate
