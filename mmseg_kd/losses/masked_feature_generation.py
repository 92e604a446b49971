"""Masked generative distillation (Yang et al., "Masked Generative Distillation", ECCV 2022; also the feature term
of Af-DCD, Fan et al., NeurIPS 2023).

For student and teacher features F^s (B, C_s, H, W) and F^t (B, C_t, H, W) and a keep-mask M ∈ {0,1}^{B×1×H×W}
(1 = kept, a fraction 1 − r of the pixels for a random mask):

    G = projector(align(F^s) ⊙ M)
    L = (1 / B) · Σ_{b,c,h,w} (G[b,c,h,w] − F^t[b,c,h,w])²

a sum over C·H·W divided by B, as released. ``align`` is a 1×1 convolution with bias (C_s → C_t) and ``projector``
conv3×3 → ReLU → conv3×3 (or Af-DCD's two-branch projector); both are trained with the student.
"""
import warnings
from typing import Optional

import torch
from torch import nn

from mmseg_kd.layers.generation_projectors import PROJECTOR_TYPES, build_projector
from mmseg_kd.layers.keep_mask_sampler import KeepMaskSampler
from mmseg_kd.losses.distill_loss import FeatureDistillLoss
from mmseg_kd.registry import MODELS
from mmseg_kd.utils.argument_checks import integer_at_least, one_of, positive_number


@MODELS.register_module()
class MaskedFeatureGeneration(FeatureDistillLoss):
    """MGD: the teacher's feature generated from the masked, aligned student feature.

    Args:
        student_channels, teacher_channels: C_s and C_t; ``None`` takes them from the taps when the distiller is
            built (:meth:`prepare`). Given, they must agree with the taps.
        mask_ratio: r, the expected fraction of masked pixels of a random mask (0.75 as released).
        mask_type: ``'random'`` (a new mask every step, from the loss's own generator) or ``'center'`` (the fixed
            centre third of H and W masked).
        projector: ``'plain'`` (conv3×3-ReLU-conv3×3 with bias) or ``'enhanced'`` (Af-DCD's two-branch projector,
            see :mod:`mmseg_kd.layers.generation_projectors`).
        seed: the mask generator's seed (``None``: ``torch.initial_seed()``); the generator's state is in the
            loss's ``state_dict``, so a resumed run draws the masks of an uninterrupted one.
        max_grad_norm: if set, the L2 norm of the gradients of this loss's own parameters (``align`` and
            ``projector``) is clipped to it before every optimizer step, the student's gradients untouched
            (Af-DCD clips at 15). ``tools/train.py`` adds the hook that does it
            (:class:`~mmseg_kd.engine.hooks.DistillLossGradClipHook`).
        loss_weight, weight_schedule: see :class:`DistillLoss` (MGD's α = 2e-5).

    Attributes:
        align: 1×1 conv with bias when C_s ≠ C_t, the identity when they are equal (the authors' code has no
            ``align`` then and its forward fails with an AttributeError).
        projector: the generator of the teacher's feature.
        keep_mask: the :class:`~mmseg_kd.layers.keep_mask_sampler.KeepMaskSampler`.

    Shapes: ``forward(student (B, C_s, H, W), teacher (B, C_t, H, W), mask=None)`` → scalar; ``mask`` is an
    optional keep-mask (B, 1, H, W), 1 = kept, used instead of a drawn one (tests, analysis).
    """

    needs_equal_channels = False  # align maps C_s to C_t

    def __init__(self, student_channels: Optional[int] = None, teacher_channels: Optional[int] = None,
                 mask_ratio: float = 0.75, mask_type: str = 'random', projector: str = 'plain',
                 seed: Optional[int] = None, max_grad_norm: Optional[float] = None, loss_weight: float = 1.0,
                 weight_schedule: Optional[dict] = None):
        super().__init__(loss_weight=loss_weight, weight_schedule=weight_schedule)
        name = type(self).__name__
        self.student_channels = integer_at_least(name, 'student_channels', student_channels, 1, allow_none=True)
        self.teacher_channels = integer_at_least(name, 'teacher_channels', teacher_channels, 1, allow_none=True)
        self.projector_type = one_of(name, 'projector', projector, PROJECTOR_TYPES)
        self.max_grad_norm = positive_number(name, 'max_grad_norm', max_grad_norm, allow_none=True)
        self.keep_mask = KeepMaskSampler(mask_ratio, mask_type, seed, owner=name)
        #: set by DistillLossGradClipHook once it clips this loss's gradients before every optimizer step
        self.grad_clip_hook_installed = False
        self._warned_unclipped = False
        self.align: Optional[nn.Module] = None
        self.projector: Optional[nn.Module] = None
        if self.student_channels is not None and self.teacher_channels is not None:
            self._build_modules(self.student_channels, self.teacher_channels)

    def _build_modules(self, student_channels: int, teacher_channels: int) -> None:
        self.student_channels, self.teacher_channels = student_channels, teacher_channels
        self.align = (nn.Identity() if student_channels == teacher_channels else
                      nn.Conv2d(student_channels, teacher_channels, kernel_size=1))
        self.projector = build_projector(self.projector_type, teacher_channels)

    def prepare(self, student_shape, teacher_shape, teacher, teacher_tap):
        """Build ``align`` and ``projector`` for the tapped widths, or check the given ones against them."""
        if len(student_shape) != 4 or len(teacher_shape) != 4:
            return  # check_shapes reports it
        measured = (student_shape[1], teacher_shape[1])
        if self.projector is None:
            given = (self.student_channels or measured[0], self.teacher_channels or measured[1])
            if given != measured:
                raise ValueError(f'{type(self).__name__}: student_channels/teacher_channels {given} differ from the '
                                 f'tapped widths {measured}; leave them out to take the taps\' widths')
            self._build_modules(*measured)
        elif (self.student_channels, self.teacher_channels) != measured:
            raise ValueError(
                f'{type(self).__name__}: student_channels={self.student_channels}, '
                f'teacher_channels={self.teacher_channels} but the taps give {measured[0]} and {measured[1]} '
                'channels; set them to the taps\' widths or leave them out')

    def generate(self, student: torch.Tensor, teacher: torch.Tensor,
                 mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """G = projector(align(F^s) ⊙ M): (B, C_t, H, W), with M drawn unless ``mask`` (B, 1, H, W) is given."""
        if self.projector is None:
            raise RuntimeError(f'{type(self).__name__} has no projector yet: give student_channels and '
                               'teacher_channels, or let the distiller call prepare() with the tapped shapes')
        if (self.max_grad_norm is not None and not self.grad_clip_hook_installed and not self._warned_unclipped
                and torch.is_grad_enabled()):
            warnings.warn(f'{type(self).__name__}: max_grad_norm={self.max_grad_norm:g} but no '
                          "DistillLossGradClipHook clips the loss's gradients in this run; tools/train.py adds it, a "
                          "runner of your own needs custom_hooks=[dict(type='DistillLossGradClipHook')]")
            self._warned_unclipped = True
        aligned = self.align(student)
        if mask is None:
            mask = self.keep_mask(aligned.shape, aligned.device)
        elif tuple(mask.shape) != (aligned.shape[0], 1, *aligned.shape[2:]):
            raise ValueError(f'a keep-mask of shape (B, 1, H, W) = {(aligned.shape[0], 1, *aligned.shape[2:])} '
                             f'was expected, got {tuple(mask.shape)}')
        return self.projector(aligned * mask.to(aligned.dtype))

    def unweighted(self, student: torch.Tensor, teacher: torch.Tensor,
                   mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        generated = self.generate(student, teacher, mask)
        return (generated - teacher).pow(2).sum() / teacher.shape[0]
