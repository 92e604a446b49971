"""Base class of every distillation loss: ``loss_weight × schedule(iteration) × unweighted loss``.

Subclasses implement :meth:`DistillLoss.unweighted` and, where they constrain the tapped shapes,
:meth:`DistillLoss.check_shapes`. The distiller calls ``check_shapes`` once when it is built (with the
shapes of a dry forward pass) so that a mismatch fails before training, not after hours of it.

What the distiller does with a loss, in order:

* build time: ``prepare(student_shape, teacher_shape, teacher, teacher_tap)`` with the shapes of the
  tapped tensors (losses that own shape-dependent modules or read the teacher's weights build them
  here), then ``check_shapes`` on the shapes the loss will see (after any connector);
* every step: ``loss(connector(refine_student(student)), teacher, iteration=n, [gt_labels=...])``, where n is the
  training iteration (the distiller reads it once per step from mmengine's ``MessageHub`` and hands it to every
  term, so that weight schedules and per-iteration random draws follow a resumed run), and
  ``refine_student`` is the identity unless the loss owns a trainable student-side transform that
  comes before the connector (AttnFD's attention refinement). A loss returns a scalar or a dict of
  terms; terms named in ``monitored_terms`` are logged without entering the total loss.
"""
import inspect
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from mmseg_kd.schedules.loss_weight_schedules import build_weight_schedule
from mmseg_kd.utils.argument_checks import non_negative_number
from mmseg_kd.utils.constructor_defaults import configured_argument


def full_precision(tensor: torch.Tensor):
    """A context that turns autocast off on ``tensor``'s device: under mixed-precision training (AMP, a bf16
    teacher) the losses' softmaxes, KL divergences and similarity matrices are computed in float32, as autocast
    would otherwise run their matrix products in half precision even on float32 inputs."""
    return torch.autocast(device_type=tensor.device.type, enabled=False)


class DistillLoss(nn.Module):
    """A weighted distillation loss between a student tensor and a teacher tensor.

    Args:
        loss_weight: the weight λ >= 0 of the loss in the total loss.
        weight_schedule: optional schedule config (see ``mmseg_kd.schedules.loss_weight_schedules``);
            the weight at iteration n is ``loss_weight * schedule(n)``.

    Every subclass checks its own arguments when it is built (types and ranges, see
    :mod:`mmseg_kd.utils.argument_checks`), so that a bad value stops the distiller's build naming the entry.
    """

    #: Whether ``forward`` takes ``gt_labels`` (B, H_img, W_img) from the batch's data samples.
    uses_labels = False

    #: Terms of a dict-valued loss that are logged but not optimised (detached values, e.g. an inner
    #: discriminator's own loss). The distiller logs them as ``distill.<name without 'loss_'>_<term>``, a key
    #: without 'loss', so that mmengine leaves them out of the total loss.
    monitored_terms: Tuple[str, ...] = ()

    #: Whether the loss compares the student's and the teacher's channels one to one, so that their counts must
    #: agree (a connector maps them). Losses of attention maps or similarity matrices work for any two widths.
    needs_equal_channels = True

    def __init__(self, loss_weight: float = 1.0, weight_schedule: Optional[dict] = None):
        super().__init__()
        self.loss_weight = non_negative_number(type(self).__name__, 'loss_weight', loss_weight)
        self.weight_schedule = build_weight_schedule(weight_schedule)

    @classmethod
    def configured_argument(cls, loss_cfg: dict, argument: str):
        """``loss_cfg[argument]``, else the class's default (for checks that run on a config, before the build)."""
        return configured_argument(cls, loss_cfg, argument)

    @classmethod
    def unlabeled_images_note(cls, loss_cfg: dict, fill_value: int) -> str:
        """How the loss configured by ``loss_cfg`` treats images without labels, whose every pixel is ``fill_value``.

        Called on the config, before anything is built, when the training set has unlabeled images. Returns ''
        when the loss reads no labels (it learns from every image alike), a note for the log when it learns from
        the labeled pixels only; raises ``ValueError`` naming the fix when it would mishandle the unlabeled pixels
        (drop them, or be diluted by them). The default accepts a loss whose class never reads labels
        (``uses_labels`` a plain ``False``) and refuses any other: a loss that reads labels overrides this to say
        what it does with ``fill_value`` pixels.
        """
        if inspect.getattr_static(cls, 'uses_labels') is False:
            return ''
        raise ValueError(f'{cls.__name__} may read labels, and it is not known how it treats unlabeled pixels (all '
                         f'{fill_value}); train it without unlabeled images, or say how in '
                         f'{cls.__name__}.unlabeled_images_note')

    def current_weight(self, iteration: int) -> float:
        """``loss_weight`` times the schedule's factor at training iteration ``iteration``."""
        return self.loss_weight * self.weight_schedule(iteration)

    def prepare(self, student_shape: Sequence[int], teacher_shape: Sequence[int], teacher: nn.Module,
                teacher_tap) -> None:
        """Build-time hook, called once after the teacher's weights are loaded (default: nothing).

        Args:
            student_shape, teacher_shape: shapes of the tapped tensors in the dry run, before any
                refinement or connector.
            teacher: the frozen teacher segmentor (with its weights loaded).
            teacher_tap: the loss's teacher :class:`~mmseg_kd.distillers.taps.Tap`.
        """

    def refine_student(self, student: torch.Tensor) -> torch.Tensor:
        """A trainable student-side transform applied before the connector (default: the identity)."""
        return student

    def check_shapes(self, student_shape: Sequence[int], teacher_shape: Sequence[int]) -> None:
        """Raise ``ValueError`` if the loss cannot compare tensors of these shapes (default: any)."""

    def unweighted(self, student: torch.Tensor, teacher: torch.Tensor, **kwargs) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, student: torch.Tensor, teacher: torch.Tensor, iteration: int = 0, **kwargs) -> torch.Tensor:
        """The weighted loss at training iteration ``iteration``, a float32 scalar, computed in float32 (see
        :func:`full_precision`). The teacher tensor is treated as a constant."""
        weight = self.current_weight(iteration)
        if weight == 0:  # skip the work, but keep the student and the loss's own parameters in the graph (DDP)
            return sum((p.sum() for p in self.parameters()), student.sum()).float() * 0.0
        with full_precision(student):
            return weight * self.unweighted(student.float(), teacher.detach().float(), **kwargs)


class LogitDistillLoss(DistillLoss):
    """A loss between class maps (B, K, H, W) of equal K; the student map is resized to the teacher's.

    The student map is resized with bilinear interpolation (``align_corners=False``, as mmseg resizes
    logits) when its H×W differ from the teacher's (e.g. a 1/4-resolution student head and a
    1/8-resolution teacher head). Channel counts must match: both networks must predict the same classes.
    """

    def check_shapes(self, student_shape, teacher_shape):
        if len(student_shape) != 4 or len(teacher_shape) != 4:
            raise ValueError(f'{type(self).__name__} compares (B, C, H, W) maps, got student '
                             f'{tuple(student_shape)} and teacher {tuple(teacher_shape)}')
        if student_shape[1] != teacher_shape[1]:
            raise ValueError(
                f'{type(self).__name__} needs the same number of channels, got student '
                f'{student_shape[1]} and teacher {teacher_shape[1]}. On logits, teacher and student must '
                'be configured for the same classes (num_classes of their decode heads); on features of '
                'different widths, tap layers of equal width or add a connector.')

    @staticmethod
    def resize_to(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        """``student`` bilinearly resized to the teacher's H×W (unchanged if they already agree)."""
        if student.shape[-2:] == teacher.shape[-2:]:
            return student
        return F.interpolate(student, size=teacher.shape[-2:], mode='bilinear', align_corners=False)


class FeatureDistillLoss(DistillLoss):
    """A loss between feature maps (B, C, H, W) of equal H×W and, if ``needs_equal_channels``, equal C.

    A mismatch is a build-time error that names the connector to add to the loss entry. Subclasses whose
    formula works for any pair of channel counts (attention maps, similarity matrices) set
    ``needs_equal_channels = False``.
    """

    def check_shapes(self, student_shape, teacher_shape):
        name = type(self).__name__
        if len(student_shape) != 4 or len(teacher_shape) != 4:
            raise ValueError(f'{name} compares (B, C, H, W) feature maps, got student '
                             f'{tuple(student_shape)} and teacher {tuple(teacher_shape)}')
        if self.needs_equal_channels and student_shape[1] != teacher_shape[1]:
            raise ValueError(
                f'{name} needs the same number of channels, got student {student_shape[1]} and teacher '
                f'{teacher_shape[1]}. Add a connector to this loss entry: '
                "connector=dict(type='ConvBNConnector') (1x1 conv + BN) or "
                "connector=dict(type='ConvConnector') (1x1 conv); add "
                'resize_to_teacher=True to it if the spatial sizes differ too.')
        if tuple(student_shape[2:]) != tuple(teacher_shape[2:]):
            raise ValueError(
                f'{name} needs the same spatial size, got student {tuple(student_shape[2:])} and teacher '
                f'{tuple(teacher_shape[2:])}. Tap layers of equal stride, or add a connector that resizes '
                "the student map: connector=dict(type='ResizeConnector') (or resize_to_teacher=True on a "
                'ConvConnector/ConvBNConnector).')


def labels_at(gt_labels: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """Ground-truth labels (B, H_img, W_img) nearest-resized to ``size`` = (H, W)."""
    if tuple(gt_labels.shape[-2:]) == tuple(size):
        return gt_labels
    return F.interpolate(gt_labels[:, None].float(), size=tuple(size), mode='nearest')[:, 0].long()
