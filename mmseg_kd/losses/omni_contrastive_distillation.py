"""Augmentation-free dense contrastive distillation (Af-DCD; Fan, Li, Liu, Song, Yao, NeurIPS 2023).

With G = projector(align(F^s) ⊙ M) the generated teacher feature of masked generative distillation
(``masked_feature_generation.py``) and F^t (B, C, H, W) the teacher's feature:

    L = λ_gen · (1 / B) · Σ (G − F^t)²  +  λ_ctr · L_ctr

L_ctr: both maps are max-pooled (kernel p) to H'×W', cut into P×P spatial patches and their channels into
M groups of C/M. Each patch gives N = P²·M vectors u_i ∈ R^{C/M}, i = (position n, group m). With
s(i, j) = −‖u^G_i − u^t_j‖₁ inside one patch and τ the temperature, the positive of anchor i is j = i and its
negatives are the j of another group, at any position (P²·(M − 1) of them):

    ℓ_i = −log( exp(s(i,i)/τ) / (exp(s(i,i)/τ) + Σ_{j: m(j) ≠ m(i)} exp(s(i,j)/τ)) )
    L_ctr = (1 / (B · H' · W')) · Σ_{patches} Σ_i ℓ_i

(a sum over anchors divided by the pooled size and B, as released: M times the mean ℓ).
"""
from typing import Dict, Optional

import torch
import torch.nn.functional as F

from mmseg_kd.losses.distill_loss import full_precision
from mmseg_kd.losses.masked_feature_generation import MaskedFeatureGeneration
from mmseg_kd.registry import MODELS
from mmseg_kd.utils.argument_checks import integer_at_least, non_negative_number, temperature


def patch_group_vectors(features: torch.Tensor, num_groups: int, patch_size: int) -> torch.Tensor:
    """(B, C, H, W) → (B · H/P · W/P, P² · M, C/M): per patch, one vector per (position, channel group), indexed
    position-major (i = n · M + m)."""
    batch, channels, height, width = features.shape
    p = patch_size
    x = features.reshape(batch, num_groups, channels // num_groups, height // p, p, width // p, p)
    x = x.permute(0, 3, 5, 4, 6, 1, 2)  # B, H/P, W/P, P, P, M, C/M
    return x.reshape(-1, p * p * num_groups, channels // num_groups)


def omni_contrastive_loss(generated: torch.Tensor, teacher: torch.Tensor, tau: float, num_groups: int,
                          pool_size: int, patch_size: int) -> torch.Tensor:
    """L_ctr of the module docstring for generated and teacher features (B, C, H, W): a scalar."""
    batch = teacher.shape[0]
    if pool_size > 1:
        generated, teacher = F.max_pool2d(generated, pool_size), F.max_pool2d(teacher, pool_size)
    pooled_h, pooled_w = teacher.shape[-2:]
    anchors = patch_group_vectors(generated, num_groups, patch_size)
    targets = patch_group_vectors(teacher, num_groups, patch_size)
    logits = -torch.cdist(anchors, targets, p=1) / tau  # (patches, N, N)
    group = torch.arange(logits.shape[-1], device=logits.device) % num_groups
    same_group_other = (group[:, None] == group[None, :]) & ~torch.eye(len(group), dtype=torch.bool,
                                                                      device=logits.device)
    logits = logits.masked_fill(same_group_other, float('-inf'))  # neither positive nor negative
    positive_index = torch.arange(len(group), device=logits.device).repeat(logits.shape[0])
    summed = F.cross_entropy(logits.flatten(0, 1), positive_index, reduction='sum')
    return summed / (pooled_h * pooled_w * batch)


@MODELS.register_module()
class OmniContrastiveDistillation(MaskedFeatureGeneration):
    """Af-DCD: masked feature generation plus the omni-contrastive term on the generated feature.

    Args:
        student_channels, teacher_channels, mask_ratio, mask_type, projector, seed, max_grad_norm: see
            :class:`MaskedFeatureGeneration` (one generator draws the masks of both terms). The shipped configs
            set ``max_grad_norm=15`` as released.
        tau: the contrastive temperature τ (0.07).
        num_groups: M, the channel groups (16); the teacher's width must be divisible by it.
        pool_size: p, the max-pool kernel before the contrast (4); 1 pools nothing.
        patch_size: P, the side of the spatial patches (4); the pooled H', W' must be divisible by it.
        generation_weight: λ_gen of the generation term (Af-DCD's λ_fd, 2e-6 on Cityscapes).
        contrast_weight: λ_ctr of the contrastive term (0.005 on Cityscapes).
        loss_weight, weight_schedule: a common factor of both terms, see :class:`DistillLoss`.

    Shapes: ``forward(student (B, C_s, H, W), teacher (B, C_t, H, W), mask=None)`` →
    ``{'generation': scalar, 'contrast': scalar}``, both weighted; logged as ``distill.<name>_generation`` and
    ``distill.<name>_contrast``.
    """

    def __init__(self, student_channels: Optional[int] = None, teacher_channels: Optional[int] = None,
                 mask_ratio: float = 0.75, mask_type: str = 'random', projector: str = 'plain', tau: float = 0.07,
                 num_groups: int = 16, pool_size: int = 4, patch_size: int = 4, generation_weight: float = 1.0,
                 contrast_weight: float = 1.0, seed: Optional[int] = None, max_grad_norm: Optional[float] = None,
                 loss_weight: float = 1.0, weight_schedule: Optional[dict] = None):
        name = type(self).__name__
        self.tau = temperature(name, 'tau', tau)
        self.num_groups = integer_at_least(name, 'num_groups', num_groups, 1)
        self.pool_size = integer_at_least(name, 'pool_size', pool_size, 1)
        self.patch_size = integer_at_least(name, 'patch_size', patch_size, 1)
        self.generation_weight = non_negative_number(name, 'generation_weight', generation_weight)
        self.contrast_weight = non_negative_number(name, 'contrast_weight', contrast_weight)
        super().__init__(student_channels, teacher_channels, mask_ratio, mask_type, projector, seed, max_grad_norm,
                         loss_weight, weight_schedule)
        if self.teacher_channels is not None and self.teacher_channels % self.num_groups:
            raise ValueError(self._groups_error(self.teacher_channels))

    def _groups_error(self, teacher_channels: int) -> str:
        return (f'{type(self).__name__}: the teacher tap\'s {teacher_channels} channels are not divisible by '
                f'num_groups={self.num_groups}; tap a layer whose width is a multiple of it or change num_groups')

    def check_shapes(self, student_shape, teacher_shape):
        super().check_shapes(student_shape, teacher_shape)
        if teacher_shape[1] % self.num_groups:
            raise ValueError(self._groups_error(teacher_shape[1]))
        pooled = tuple(size // self.pool_size for size in teacher_shape[2:])
        if any(size == 0 or size % self.patch_size for size in pooled):
            raise ValueError(
                f'{type(self).__name__}: the teacher tap\'s {tuple(teacher_shape[2:])} map, max-pooled by '
                f'pool_size={self.pool_size}, is {pooled}, not divisible into patch_size={self.patch_size} patches; '
                f'the map must be a multiple of {self.pool_size * self.patch_size} per side (a larger input: '
                'tap_check_input_size=(512, 512) for the dry run; or a smaller pool_size/patch_size)')

    def unweighted(self, student: torch.Tensor, teacher: torch.Tensor,
                   mask: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        self.check_shapes(tuple(student.shape), tuple(teacher.shape))
        generated = self.generate(student, teacher, mask)
        return {'generation': (generated - teacher).pow(2).sum() / teacher.shape[0],
                'contrast': omni_contrastive_loss(generated, teacher, self.tau, self.num_groups, self.pool_size,
                                                  self.patch_size)}

    def forward(self, student: torch.Tensor, teacher: torch.Tensor, iteration: int = 0,
                mask: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """Both terms, each times its weight and ``loss_weight × schedule(iteration)``, in float32."""
        weight = self.current_weight(iteration)
        if weight == 0:  # keep the student and the loss's parameters in the graph (DDP)
            zero = sum((p.sum() for p in self.parameters()), student.sum()).float() * 0.0
            return {'generation': zero, 'contrast': zero}
        with full_precision(student):
            terms = self.unweighted(student.float(), teacher.detach().float(), mask=mask)
        return {'generation': weight * self.generation_weight * terms['generation'],
                'contrast': weight * self.contrast_weight * terms['contrast']}
