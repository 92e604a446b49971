"""Pixel-wise knowledge distillation (Hinton et al., 2015, applied per pixel to segmentation logits).

For logits z (B, K, H, W), temperature τ, and the set V of valid pixels (all pixels, or those whose label
is not ``ignore_index``):

    p_t = softmax(z_t / τ) over K,   log p_s = log_softmax(z_s / τ) over K
    L = τ² · (1 / |V|) · Σ_{(b,h,w) ∈ V} Σ_k p_t[b,k,h,w] · (log p_t[b,k,h,w] − log p_s[b,k,h,w])

i.e. the KL divergence KL(p_t ‖ p_s) averaged over pixels (not summed: the weight does not depend on the
resolution), times τ² so that gradients keep their scale as τ changes. Used as the "pixel KD" baseline of
SegDistill (PD) and CIRKD's logit KD (τ=1, no mask). The student map is resized to the teacher's H×W.
"""
from typing import Optional

import torch
import torch.nn.functional as F

from mmseg_kd.losses.distill_loss import LogitDistillLoss, labels_at
from mmseg_kd.registry import MODELS
from mmseg_kd.utils.argument_checks import integer, temperature


@MODELS.register_module()
class KLDivergence(LogitDistillLoss):
    """Pixel-wise KL divergence between teacher and student class distributions.

    Args:
        tau: temperature τ > 0.
        ignore_index: if set (an integer), pixels labelled with it are left out of the mean (the labels come from
            the batch's data samples, nearest-resized to the teacher map). ``None`` averages over all.
        loss_weight, weight_schedule: see :class:`DistillLoss`.

    Shapes: student (B, K, H_s, W_s), teacher (B, K, H, W), gt_labels (B, H_img, W_img) → scalar.
    """

    def __init__(self, tau: float = 1.0, ignore_index: Optional[int] = None, **kwargs):
        super().__init__(**kwargs)
        self.tau = temperature(type(self).__name__, 'tau', tau)
        self.ignore_index = integer(type(self).__name__, 'ignore_index', ignore_index, allow_none=True)

    @property
    def uses_labels(self) -> bool:
        return self.ignore_index is not None

    @classmethod
    def unlabeled_images_note(cls, loss_cfg: dict, fill_value: int) -> str:
        """Refuses ``ignore_index`` equal to the unlabeled images' fill value: every pixel of theirs would be left
        out; another ``ignore_index`` (or ``None``) distils every unlabeled pixel."""
        if cls.configured_argument(loss_cfg, 'ignore_index') == fill_value:
            raise ValueError(f'KLDivergence(ignore_index={fill_value}) leaves out the pixels labelled {fill_value}, '
                             'which are all the pixels of the unlabeled images: they would teach nothing. Set '
                             'ignore_index=None to distil every pixel')
        return ''

    def unweighted(self, student: torch.Tensor, teacher: torch.Tensor,
                   gt_labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        student = self.resize_to(student, teacher)
        log_p_s = F.log_softmax(student.float() / self.tau, dim=1)
        log_p_t = F.log_softmax(teacher.float() / self.tau, dim=1)
        kl_per_pixel = (log_p_t.exp() * (log_p_t - log_p_s)).sum(dim=1)  # (B, H, W)
        if self.ignore_index is None:
            mean_kl = kl_per_pixel.mean()
        else:
            if gt_labels is None:
                raise ValueError('KLDivergence with ignore_index needs gt_labels')
            valid = labels_at(gt_labels, kl_per_pixel.shape[-2:]) != self.ignore_index
            mean_kl = (kl_per_pixel * valid).sum() / valid.sum().clamp(min=1)
        return self.tau ** 2 * mean_kl
