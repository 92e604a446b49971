"""Attention-guided feature distillation (AttnFD; Mansourian et al., "Attention-guided Feature Distillation
for Semantic Segmentation", arXiv 2403.05451; AmirMansurian/AttnFD).

Both feature maps are refined by channel + spatial attention (CBAM, see
``mmseg_kd/layers/channel_spatial_attention.py``); the student's refinement is trainable and comes
BEFORE its connector (1×1 conv + BN, ``connector=dict(type='ConvBNConnector')``):

    R_s = connector(CBAM_s(f_s))                  (B, C_t, H, W)
    R_t = CBAM_t(f_t)                             (B, C_t, H, W), frozen
    L = ‖ R_s / ‖R_s‖_F − R_t / ‖R_t‖_F ‖²_F      [ / B  with batch_average=True ]
      = 2 − 2·cos(R_s, R_t)                       (cosine over the flattened batch tensor)

‖·‖_F is the Frobenius norm over the ENTIRE (B, C, H, W) batch tensor: the released code does this and its
author confirms it produced the paper's results (AttnFD issue #5), although the paper describes a
per-channel normalisation. It couples the images of a batch.

Teacher-side refinement (``teacher_refinement``; the author's statements conflict, AttnFD issues #2, #6):

* ``'parameter_free'`` (default): the CBAM without parameters, a = σ(avg(f) + max(f)),
  s = σ(max_c f' + mean_c f') — well defined without extra weights (issue #6).
* ``'frozen_random'``: a CBAM with frozen random weights (seeded by ``teacher_refinement_seed``, the
  same on every process, kept in the checkpoints) whose BN normalises with the batch's statistics while
  training. This is what the released code does: the teacher's CBAM is never in its forward pass while the
  teacher is trained, so it keeps its random initialisation, and the distillation runs the whole teacher,
  its CBAMs included, in train mode (``t_net.train()``), so the spatial gate's BN uses batch statistics.
* ``'pretrained'``: a CBAM loaded strictly from ``teacher_refinement_checkpoint`` (keys under
  ``teacher_refinement_prefix``, e.g. the CBAM keys of a converted AttnFD teacher checkpoint), frozen,
  BN in eval mode. The distiller's teacher checkpoint itself must hold only the mmseg teacher's keys.

Reference-code quirk: the student CBAM's channel MLP (``nn.Linear``) is in no optimizer group of the
released code and stays at its random initialisation; ``train_student_channel_mlp=False`` reproduces it.
The released code also trains the connectors only during epoch 0 (and the student not at all then);
SegDistiller's ``connector_warmup=dict(iters=<one epoch>, freeze_after=True)`` reproduces that (the AttnFD
configs use it).

Weight: the reference's total is L_CE/B + λ · Σ_i L_i/B with λ = 2 (three positions: last backbone stage
pre-ReLU, ASPP output and decoder output post-ReLU). Both carry 1/B, so against mmseg's CE (mean over
pixels) the balance is ``loss_weight = 2`` per position with the default ``batch_average=False``.
"""
from typing import Optional

import torch
from torch import nn

from mmseg_kd.checkpoint.safe_loading import extract_state_dict, load_checkpoint_file, load_state_dict_strictly
from mmseg_kd.layers.channel_spatial_attention import ChannelSpatialAttention, ParameterFreeChannelSpatialAttention
from mmseg_kd.losses.distill_loss import FeatureDistillLoss
from mmseg_kd.registry import MODELS
from mmseg_kd.utils.argument_checks import boolean, integer_at_least, one_of, text

TEACHER_REFINEMENTS = ('parameter_free', 'frozen_random', 'pretrained')


def batch_normalised_distance(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """‖s/‖s‖_F − t/‖t‖_F‖²_F with Frobenius norms over the whole tensors, in float32."""
    student, teacher = student.float(), teacher.float()
    student = student / student.norm().clamp(min=1e-12)
    teacher = teacher / teacher.norm().clamp(min=1e-12)
    return (student - teacher).pow(2).sum()


@MODELS.register_module()
class AttentionGuidedFeatureDistillation(FeatureDistillLoss):
    """Distance between batch-normalised CBAM-refined student (connected) and teacher feature maps.

    Args:
        teacher_refinement: ``'parameter_free'``, ``'frozen_random'`` or ``'pretrained'``.
        teacher_refinement_seed: seed (an integer >= 0) of the ``'frozen_random'`` teacher CBAM.
        teacher_refinement_checkpoint: file with the ``'pretrained'`` teacher CBAM's weights.
        teacher_refinement_prefix: key prefix of those weights in the file (removed before loading).
        train_student_channel_mlp: train the student CBAM's channel MLP (``False``: the released code).
        reduction_ratio: CBAM's channel-MLP reduction r (an integer >= 1).
        batch_average: divide by B, as the released code does (see the module docstring).
        loss_weight, weight_schedule: see :class:`DistillLoss`.

    Shapes: student (B, C_s, H, W) refined then connected to (B, C_t, H, W), teacher (B, C_t, H, W)
    → scalar.
    """

    def __init__(self, teacher_refinement: str = 'parameter_free', teacher_refinement_seed: int = 0,
                 teacher_refinement_checkpoint: Optional[str] = None, teacher_refinement_prefix: str = '',
                 train_student_channel_mlp: bool = True, reduction_ratio: int = 16,
                 batch_average: bool = False, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.teacher_refinement = one_of(owner, 'teacher_refinement', teacher_refinement, TEACHER_REFINEMENTS)
        self.teacher_refinement_seed = integer_at_least(owner, 'teacher_refinement_seed', teacher_refinement_seed, 0)
        self.teacher_refinement_checkpoint = text(owner, 'teacher_refinement_checkpoint',
                                                  teacher_refinement_checkpoint, allow_none=True, allow_empty=False)
        if (teacher_refinement == 'pretrained') != (teacher_refinement_checkpoint is not None):
            raise ValueError("AttentionGuidedFeatureDistillation: teacher_refinement='pretrained' needs "
                             'teacher_refinement_checkpoint=<file with the teacher CBAM weights>, and the '
                             'checkpoint is only used in that mode')
        self.teacher_refinement_prefix = text(owner, 'teacher_refinement_prefix', teacher_refinement_prefix)
        self.train_student_channel_mlp = boolean(owner, 'train_student_channel_mlp', train_student_channel_mlp)
        self.reduction_ratio = integer_at_least(owner, 'reduction_ratio', reduction_ratio, 1)
        self.batch_average = boolean(owner, 'batch_average', batch_average)
        self.student_attention: Optional[nn.Module] = None
        self.teacher_attention: Optional[nn.Module] = None

    def prepare(self, student_shape, teacher_shape, teacher, teacher_tap):
        """Build the student CBAM (C_s channels, trainable) and the teacher CBAM (C_t, frozen)."""
        self.student_attention = ChannelSpatialAttention(student_shape[1], self.reduction_ratio)
        self.student_attention.channel_mlp.requires_grad_(self.train_student_channel_mlp)
        self.teacher_attention = self._build_teacher_attention(teacher_shape[1])
        self.teacher_attention.requires_grad_(False)
        self._set_teacher_attention_mode()

    def _build_teacher_attention(self, channels: int) -> nn.Module:
        if self.teacher_refinement == 'parameter_free':
            return ParameterFreeChannelSpatialAttention()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.teacher_refinement_seed)
            attention = ChannelSpatialAttention(channels, self.reduction_ratio)
        if self.teacher_refinement == 'pretrained':
            what = f'teacher refinement checkpoint {self.teacher_refinement_checkpoint!r}'
            state_dict = extract_state_dict(load_checkpoint_file(self.teacher_refinement_checkpoint,
                                                                 what=what), what=what)
            prefix = self.teacher_refinement_prefix
            selected = {key[len(prefix):]: value for key, value in state_dict.items()
                        if key.startswith(prefix)}
            load_state_dict_strictly(attention, selected, what=f'{what} (keys under {prefix!r})',
                                     config_hint=f'ChannelSpatialAttention({channels}, '
                                                 f'reduction_ratio={self.reduction_ratio})')
        return attention

    def _set_teacher_attention_mode(self) -> None:
        """The ``'frozen_random'`` teacher CBAM follows the loss's mode (batch statistics while training, as
        the released code's train-mode teacher); the ``'pretrained'`` one stays in eval mode."""
        self.teacher_attention.train(self.training and self.teacher_refinement == 'frozen_random')

    def train(self, mode: bool = True):
        """The student CBAM follows ``mode``; the teacher CBAM: see :meth:`_set_teacher_attention_mode`."""
        super().train(mode)
        if self.teacher_attention is not None:
            self._set_teacher_attention_mode()
        return self

    def refine_student(self, student: torch.Tensor) -> torch.Tensor:
        if self.student_attention is None:
            raise RuntimeError('AttentionGuidedFeatureDistillation.prepare() was not called: the CBAMs are '
                               'built by the distiller once it knows the channel counts')
        return self.student_attention(student)

    def unweighted(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            teacher = self.teacher_attention(teacher)
        loss = batch_normalised_distance(student, teacher)
        return loss / student.shape[0] if self.batch_average else loss
