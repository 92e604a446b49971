"""Pair-wise similarity distillation: SKD's pair-wise term (Liu et al., "Structured Knowledge Distillation
for Semantic Segmentation", CVPR 2019, as in CIRKD's baseline) and the pair-wise distillation of "An
Efficient Knowledge Distillation Architecture for Real-time Semantic Segmentation" (AmirMansurian/KD).

A feature map f (B, C, H, W) is max-pooled into N' nodes (kernel = stride = k, padding 0, ceil mode);
each node is divided by its L2 norm over channels; the per-image cosine-similarity matrix of the nodes is
compared between teacher and student:

    g = maxpool_k(f)                       (B, C, H', W'),  N' = H'·W'
    ĝ[b, :, n] = g[b, :, n] / (‖g[b, :, n]‖₂ + 1e-8)
    S[b] = ĝ[b]ᵀ ĝ[b]                      (B, N', N')
    L = (1 / (B·N'²)) Σ_{b,i,j} (S_s[b,i,j] − S_t[b,i,j])²

Pooling: ``pool_kernel=k`` (SKD in CIRKD: k = 2) or ``pool_scale=r`` for a kernel of
(max(⌊r·H⌋, 1), max(⌊r·W⌋, 1)) (efficient KD: r = 0.5, a 2×2 grid of nodes, 3×3 for odd sizes such as
33×33). ``detach_norm=True`` stops the gradient through the norm in the denominator, as the efficient-KD
code does. Works for any pair of channel counts; the maps must have the same H×W.

Weights: CIRKD's SKD baseline uses λ = 10 (CE mean over pixels). The efficient-KD pair-wise loss uses
λ_pa = 1 with a CE divided by the batch size B, so with mmseg's CE the same balance is
``loss_weight = B`` (B = 6 there).
"""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F

from mmseg_kd.losses.distill_loss import FeatureDistillLoss
from mmseg_kd.registry import MODELS
from mmseg_kd.utils.argument_checks import boolean, integer_at_least, number_in_range


def pooled_node_similarity(features: torch.Tensor, kernel: Tuple[int, int],
                           detach_norm: bool = False) -> torch.Tensor:
    """S (B, N', N'): cosine similarities of the max-pooled nodes of ``features`` (B, C, H, W), float32."""
    nodes = F.max_pool2d(features.float(), kernel_size=kernel, stride=kernel, padding=0,
                         ceil_mode=True).flatten(2)                          # (B, C, N')
    norm = nodes.norm(p=2, dim=1, keepdim=True)
    if detach_norm:
        norm = norm.detach()
    nodes = nodes / (norm + 1e-8)
    return torch.bmm(nodes.transpose(1, 2), nodes)


def pool_kernel_size(owner: str, kernel) -> Tuple[int, int]:
    """(k_h, k_w) from ``pool_kernel``: an integer >= 1 or a pair of them."""
    if isinstance(kernel, (list, tuple)) and len(kernel) == 2:
        return tuple(integer_at_least(owner, 'pool_kernel', k, 1) for k in kernel)
    if isinstance(kernel, (list, tuple)):
        raise ValueError(f'{owner}: pool_kernel must be an integer >= 1 or a pair (k_h, k_w) of them, got {kernel!r}')
    size = integer_at_least(owner, 'pool_kernel', kernel, 1)
    return size, size


@MODELS.register_module()
class PairwiseSimilarityDistillation(FeatureDistillLoss):
    """Mean squared difference of the node-similarity matrices of max-pooled feature maps.

    Args:
        pool_kernel: max-pooling kernel (and stride) k, an integer >= 1 or a pair (k_h, k_w) of them.
        pool_scale: alternatively, the kernel as a fraction in (0, 1] of the map size (0.5 in efficient KD).
            Give exactly one of ``pool_kernel`` and ``pool_scale``.
        detach_norm: no gradient through the node norms (efficient-KD reference code).
        loss_weight, weight_schedule: see :class:`DistillLoss`.

    Shapes: student (B, C_s, H, W), teacher (B, C_t, H, W) → scalar.
    """

    needs_equal_channels = False

    def __init__(self, pool_kernel: Optional[Union[int, Sequence[int]]] = None,
                 pool_scale: Optional[float] = None, detach_norm: bool = False, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        if (pool_kernel is None) == (pool_scale is None):
            raise ValueError('PairwiseSimilarityDistillation: give exactly one of pool_kernel (e.g. 2, '
                             'SKD) and pool_scale (e.g. 0.5, efficient KD)')
        self.pool_scale = number_in_range(owner, 'pool_scale', pool_scale, 0, 1, low_inclusive=False,
                                          allow_none=True)
        self.pool_kernel = None if pool_kernel is None else pool_kernel_size(owner, pool_kernel)
        self.detach_norm = boolean(owner, 'detach_norm', detach_norm)

    def kernel_for(self, size: Sequence[int]) -> Tuple[int, int]:
        """The pooling kernel for a map of H×W = ``size``."""
        if self.pool_kernel is not None:
            return self.pool_kernel
        return tuple(max(int(self.pool_scale * length), 1) for length in size)

    def unweighted(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        kernel = self.kernel_for(teacher.shape[-2:])
        return (pooled_node_similarity(student, kernel, self.detach_norm)
                - pooled_node_similarity(teacher, kernel, self.detach_norm)).pow(2).mean()
