"""Attention transfer (AT; Zagoruyko & Komodakis, ICLR 2017) on dense feature maps, which is also the
pixel-wise distillation of "An Efficient Knowledge Distillation Architecture for Real-time Semantic
Segmentation" (AmirMansurian/KD; code in the AICSD repository history).

For a feature map f (B, C, H, W), the spatial attention map is the channel mean of the squared
activations, L2-normalised:

    A(f)[b, h, w] = (1/C) Σ_c f[b, c, h, w]²                                   (B, H, W)
    normalize='image':  Â = A / max(‖A[b]‖₂ over H·W, 1e-12)    (AT; the efficient-KD paper's intent)
    normalize='column': Â = A / max(‖A[b, :, w]‖₂ over H, 1e-12) (the efficient-KD reference code:
                        ``F.normalize`` with its default dim=1 on the 3-D map, one norm per column w)
    L = (1 / (B·H·W)) Σ_{b,h,w} (Â_s[b,h,w] − Â_t[b,h,w])²

Works for any pair of channel counts (C_s ≠ C_t); the maps must have the same H×W.

Weights: CIRKD's AT baseline (DeepLabV3 features at 1/8, CE mean over pixels) uses λ = 10000. The
efficient-KD pixel-wise loss uses λ_pi = 100 on the pre-ReLU last decoder features with a CE divided by
the batch size B, so with mmseg's CE the same balance is ``loss_weight = 100 · B`` (B = 6 there).
"""
import torch
import torch.nn.functional as F

from mmseg_kd.losses.distill_loss import FeatureDistillLoss
from mmseg_kd.registry import MODELS
from mmseg_kd.utils.argument_checks import one_of

NORMALIZE_CHOICES = ('image', 'column')


def attention_map(features: torch.Tensor, normalize: str = 'image') -> torch.Tensor:
    """Â (B, H, W): channel mean of f², L2-normalised per image (or per column), in float32."""
    attention = features.float().pow(2).mean(dim=1)
    if normalize == 'image':
        return F.normalize(attention.flatten(1), dim=1, eps=1e-12).view_as(attention)
    return F.normalize(attention, dim=1, eps=1e-12)


@MODELS.register_module()
class AttentionTransfer(FeatureDistillLoss):
    """Mean squared difference of normalised spatial attention maps.

    Args:
        normalize: ``'image'`` (AT, default) or ``'column'`` (the efficient-KD reference code).
        loss_weight, weight_schedule: see :class:`DistillLoss`.

    Shapes: student (B, C_s, H, W), teacher (B, C_t, H, W) → scalar.
    """

    needs_equal_channels = False

    def __init__(self, normalize: str = 'image', **kwargs):
        super().__init__(**kwargs)
        self.normalize = one_of(type(self).__name__, 'normalize', normalize, NORMALIZE_CHOICES)

    def unweighted(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        return (attention_map(student, self.normalize)
                - attention_map(teacher, self.normalize)).pow(2).mean()
