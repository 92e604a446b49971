"""FitNet hint loss (Romero et al., "FitNets: Hints for Thin Deep Nets", ICLR 2015), as CIRKD's baseline.

The student map, mapped to the teacher's channels by a 1×1 convolution without bias
(``connector=dict(type='ConvConnector')``), regresses the teacher map:

    L = (1 / (B·C·H·W)) Σ_{b,c,h,w} (connector(f_s)[b,c,h,w] − f_t[b,c,h,w])²

Weight: CIRKD's FitNet baseline uses λ = 10 on the 1/8-resolution head features (CE mean over pixels).
"""
import torch

from mmseg_kd.losses.distill_loss import FeatureDistillLoss
from mmseg_kd.registry import MODELS


@MODELS.register_module()
class FeatureMSE(FeatureDistillLoss):
    """Mean squared error between (connected) student and teacher feature maps.

    Args:
        loss_weight, weight_schedule: see :class:`DistillLoss`.

    Shapes: student (B, C, H, W) (after its connector), teacher (B, C, H, W) → scalar.
    """

    def unweighted(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        return (student.float() - teacher.float()).pow(2).mean()
