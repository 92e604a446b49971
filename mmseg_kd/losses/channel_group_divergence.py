"""Channel-group distillation (CGD, SegDistill toolbox, wzpscott/SegDistill).

The C channels (classes, for logits) of the maps x (B, C, H, W) are split into G = ⌈C / g⌉ groups of
g channels (after an optional fixed channel permutation π). Each group is turned into ONE distribution
over its g·H·W entries:

    P_t^{b,k} = softmax over {x_t[b, π(c), i] / τ : c in group k, i in H·W}   (same for the student, Q_s)
    L = τ² · (1 / (B · G)) · Σ_{b,k} KL(P_t^{b,k} ‖ Q_s^{b,k})

g = 1 is exactly channel-wise distillation (CWD, one spatial distribution per channel, see
``channel_wise_divergence.py``); g = C is one distribution over the whole C×H×W map. If g does not divide C
the last group holds the C mod g remaining channels. SegDistill's CGD uses g=10, τ=2, weight 3 and no τ²
factor, so their weight 3 is ``loss_weight=0.75`` here (3 / τ²).

Channel shuffle: SegDistill re-draws a permutation on 1 of 1000 iterations and forgets it (so groups are
almost always the consecutive blocks). Here ``shuffle_seed`` draws ONE permutation for the run, seeded,
stored as the buffer ``channel_permutation`` (saved in checkpoints), so the groups are fixed and
reproducible.
"""
import math
from typing import Optional

import torch
import torch.nn.functional as F

from mmseg_kd.losses.distill_loss import LogitDistillLoss
from mmseg_kd.registry import MODELS
from mmseg_kd.utils.argument_checks import integer_at_least, temperature

# Padding value for an incomplete last group: exp(PAD - max) is exactly 0 in float32, so padded
# entries take no probability mass and add exactly 0 to the KL divergence.
_PAD_LOGIT = -1e9


def grouped_spatial_kl(student: torch.Tensor, teacher: torch.Tensor, tau: float,
                       group_size: int) -> torch.Tensor:
    """τ²-scaled mean over (image, channel group) of KL(teacher ‖ student) over each group's g·H·W entries.

    Args:
        student, teacher: (B, C, H, W) maps of equal shape.
        tau: temperature τ.
        group_size: g, channels per group.

    Returns:
        scalar tensor, τ² · Σ_{b,k} KL(P_t^{b,k} ‖ Q_s^{b,k}) / (B · G), computed in float32.
    """
    batch, channels = teacher.shape[:2]
    groups = math.ceil(channels / group_size)
    padding = groups * group_size - channels
    student = student.float() / tau
    teacher = teacher.float() / tau
    if padding:
        student = F.pad(student, (0, 0, 0, 0, 0, padding), value=_PAD_LOGIT)
        teacher = F.pad(teacher, (0, 0, 0, 0, 0, padding), value=_PAD_LOGIT)
    log_q_s = F.log_softmax(student.reshape(batch, groups, -1), dim=-1)
    log_p_t = F.log_softmax(teacher.reshape(batch, groups, -1), dim=-1)
    kl = (log_p_t.exp() * (log_p_t - log_q_s)).sum()
    return tau ** 2 * kl / (batch * groups)


@MODELS.register_module()
class ChannelGroupDivergence(LogitDistillLoss):
    """KL divergence between teacher and student distributions over channel groups × space.

    Args:
        tau: temperature τ > 0.
        group_size: g, channels per group (an integer >= 1; 1 = CWD).
        shuffle_seed: if set (an integer >= 0), channels are permuted by one fixed permutation drawn with this seed
            (stored in the buffer ``channel_permutation``) before grouping; ``None`` keeps the order.
        loss_weight, weight_schedule: see :class:`DistillLoss`.

    Shapes: student (B, C, H_s, W_s), teacher (B, C, H, W) → scalar.
    """

    def __init__(self, tau: float = 1.0, group_size: int = 1, shuffle_seed: Optional[int] = None,
                 **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.tau = temperature(owner, 'tau', tau)
        self.group_size = integer_at_least(owner, 'group_size', group_size, 1)
        self.shuffle_seed = integer_at_least(owner, 'shuffle_seed', shuffle_seed, 0, allow_none=True)
        self.register_buffer('channel_permutation', None)  # drawn in prepare once C is known

    def prepare(self, student_shape, teacher_shape, teacher, teacher_tap):
        """Draw the channel permutation once the teacher's channel count C is known."""
        if self.shuffle_seed is not None and self.channel_permutation is None:
            generator = torch.Generator().manual_seed(self.shuffle_seed)
            self.channel_permutation = torch.randperm(teacher_shape[1], generator=generator)

    def unweighted(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        student = self.resize_to(student, teacher)
        if self.channel_permutation is not None:
            student = student[:, self.channel_permutation]
            teacher = teacher[:, self.channel_permutation]
        return grouped_spatial_kl(student, teacher, self.tau, self.group_size)
