"""Channel-wise distillation (CWD, Shu et al., ICCV 2021, "Channel-wise Knowledge Distillation for Dense
Prediction").

Each channel c of the maps x (B, C, H, W) is turned into a distribution over its H·W positions:

    P_t^{b,c} = softmax_{i ∈ H·W}(x_t[b, c, i] / τ),   Q_s^{b,c} likewise for the student
    L = τ² · (1 / (B · C)) · Σ_{b,c} KL(P_t^{b,c} ‖ Q_s^{b,c})

This is channel-group distillation with groups of one channel; it is implemented by
:func:`~mmseg_kd.losses.channel_group_divergence.grouped_spatial_kl` with ``group_size=1``. The paper's
Cityscapes setting on PSPNet logits uses τ=4 and weight 3.
"""
import torch

from mmseg_kd.losses.channel_group_divergence import grouped_spatial_kl
from mmseg_kd.losses.distill_loss import LogitDistillLoss
from mmseg_kd.registry import MODELS
from mmseg_kd.utils.argument_checks import temperature


@MODELS.register_module()
class ChannelWiseDivergence(LogitDistillLoss):
    """KL divergence between per-channel spatial distributions of teacher and student.

    Args:
        tau: temperature τ > 0.
        loss_weight, weight_schedule: see :class:`DistillLoss`.

    Shapes: student (B, C, H_s, W_s), teacher (B, C, H, W) → scalar.
    """

    def __init__(self, tau: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.tau = temperature(type(self).__name__, 'tau', tau)

    def unweighted(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        return grouped_spatial_kl(self.resize_to(student, teacher), teacher, self.tau, group_size=1)
