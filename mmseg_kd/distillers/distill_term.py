"""One distillation term: one entry of ``distill_losses``, from its config to its logged values.

A term owns everything about its entry:

* its two taps (:class:`~mmseg_kd.distillers.taps.Tap`: a module path of the student and one of the teacher);
* its loss (a :class:`~mmseg_kd.losses.DistillLoss`), including the loss's optional trainable student-side
  refinement (``refine_student``, e.g. AttnFD's attention module);
* its optional connector, built once the build-time dry run has measured the tapped channel counts;
* its log keys: ``distill.<name>``, ``distill.<name>_<term>`` for a loss of several terms, and
  ``distill.<name without 'loss_'>_<term>`` for a monitored term (logged, not optimised);
* its check: every problem of the entry goes into its :class:`TermReport` instead of stopping at the first one.

The distiller builds its terms and checks them with :func:`~mmseg_kd.distillers.distillation_build.build_distillation`
when it is built; ``tools/analysis/list_taps.py`` runs the same function, so the check cannot drift from training.
Every training step each term computes::

    student tensor ──► loss.refine_student ──► connector ──► loss(·, teacher tensor [, gt_labels]) ──► log keys
"""
import contextlib
import copy
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Type

import torch
from torch import nn

from mmseg_kd.distillers.taps import Tap, parse_tap
from mmseg_kd.losses.distill_loss import DistillLoss, LogitDistillLoss
from mmseg_kd.registry import MODELS
from mmseg_kd.utils.user_input_error import UserInputError

ROLES = ('student', 'teacher')


class DistillConfigError(UserInputError):
    """A ``distill_losses`` entry (or the distiller config around it) cannot be trained as written."""


def registered_distill_losses() -> List[str]:
    """Names of the registered distillation losses (subclasses of ``DistillLoss``)."""
    return sorted(name for name, cls in MODELS.module_dict.items()
                  if isinstance(cls, type) and issubclass(cls, DistillLoss))


def monitored_key(name: str, term: str) -> str:
    """Log key of a monitored (logged, not optimised) term of loss ``name``: ``distill.<name without
    'loss_'>_<term>``, without 'loss', so that mmengine does not add it to the total loss."""
    return f'distill.{name[len("loss_"):]}_{term}'


def _hw(shape: Sequence[int]) -> str:
    return 'x'.join(str(size) for size in shape[2:])


def channel_advice(student_shape: Sequence[int], teacher_shape: Sequence[int], has_connector: bool) -> str:
    """How to connect (B, C, H, W) maps whose channel counts differ ('' when they agree)."""
    if len(student_shape) != 4 or len(teacher_shape) != 4 or student_shape[1] == teacher_shape[1]:
        return ''
    fix = ("the connector does not map them to the teacher's channels; fix its output channels"
           if has_connector else "add a 1x1 conv connector (connector=dict(type='ConvBNConnector'))")
    return f'channels {student_shape[1]} → {teacher_shape[1]}: {fix}'


def size_advice(student_shape: Sequence[int], teacher_shape: Sequence[int], loss: nn.Module) -> str:
    """What happens to (B, C, H, W) maps whose H×W differ ('' when they agree)."""
    if len(student_shape) != 4 or len(teacher_shape) != 4 or student_shape[2:] == teacher_shape[2:]:
        return ''
    how = ("the loss resizes the student map to the teacher's (bilinear)" if isinstance(loss, LogitDistillLoss)
           else 'the maps must be brought to one size: a connector that resizes, or a loss that does')
    return f'H×W {_hw(student_shape)} → {_hw(teacher_shape)}: {how}'


@dataclass
class TermReport:
    """The verdict on one entry of ``distill_losses``.

    Attributes:
        name: the entry's name (``loss_cwd``).
        loss_type: its ``type``.
        taps: ``{'student': tap text, 'teacher': tap text}`` as given.
        shapes: the recorded shape per role (missing when the tap could not be recorded).
        connected_shape: the student's shape after the entry's connector, if it has one.
        problems: what must be fixed before training.
        fixes: how to fix the shape problems (e.g. the connector a pair of channel counts needs).
        notes: what is fine but worth knowing (e.g. the student map is resized).
        error_type: the exception class of the first problem (what the distiller raises).
    """
    name: str
    loss_type: str
    taps: Dict[str, str] = field(default_factory=dict)
    shapes: Dict[str, Tuple[int, ...]] = field(default_factory=dict)
    connected_shape: Optional[Tuple[int, ...]] = None
    problems: List[str] = field(default_factory=list)
    fixes: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    error_type: Type[Exception] = DistillConfigError

    @property
    def ok(self) -> bool:
        return not self.problems

    def add_problem(self, message: str, error_type: Type[Exception] = DistillConfigError) -> None:
        if not self.problems:
            self.error_type = error_type
        self.problems.append(message)


class DistillTerm:
    """One ``distill_losses`` entry: taps, loss, optional connector, log keys and its own check.

    Building a term never raises: whatever is wrong with the entry goes into :attr:`report`, and the parts that
    could be built (taps, loss, connector config) are kept so that the rest of the entry can still be checked.

    Args:
        name: the entry's name, starting with ``loss_``.
        entry: ``dict(type=LOSS, student=TAP, teacher=TAP, [connector=dict(type=...)], **loss_args)``.
    """

    def __init__(self, name: str, entry: dict):
        self.name = name
        self.report = TermReport(name, str(entry.get('type')) if isinstance(entry, dict) else '?')
        self.taps: Dict[str, Tap] = {}
        self.loss: Optional[DistillLoss] = None
        self.connector_cfg: Optional[dict] = None
        self.connector: Optional[nn.Module] = None
        if not name.startswith('loss_'):
            self.report.add_problem(f"the name must start with 'loss_' (mmengine adds only keys containing 'loss' to "
                                    f"the total loss), e.g. 'loss_{name}'")
        if not isinstance(entry, dict):
            self.report.add_problem(f"an entry is a dict(type=..., student=TAP, teacher=TAP, ...), got {entry!r}")
            return
        entry = copy.deepcopy(dict(entry))
        for role in ROLES:
            self._parse_tap(role, entry.pop(role, None))
        self._parse_connector(entry.pop('connector', None))
        self._build_loss(entry)

    # ------------------------------------------------------------------ building (problems go into the report)
    def _parse_tap(self, role: str, spec) -> None:
        self.report.taps[role] = str(spec)
        if spec is None:
            self.report.add_problem(f'needs student= and teacher= taps (module paths); {role}= is missing')
            return
        try:
            tap = parse_tap(spec)
        except ValueError as error:
            self.report.add_problem(f'{role} tap: {error}')
            return
        self.report.taps[role] = str(tap)
        self.taps[role] = tap

    def _parse_connector(self, connector_cfg) -> None:
        if connector_cfg is None:
            return
        if not isinstance(connector_cfg, dict) or 'type' not in connector_cfg:
            self.report.add_problem(f"connector must be a dict such as dict(type='ConvBNConnector'), got "
                                    f'{connector_cfg!r}')
            return
        self.connector_cfg = dict(connector_cfg)

    def _build_loss(self, loss_cfg: dict) -> None:
        loss_type = loss_cfg.get('type')
        loss_class = loss_type if isinstance(loss_type, type) else MODELS.module_dict.get(loss_type)
        if loss_class is None or not (isinstance(loss_class, type) and issubclass(loss_class, DistillLoss)):
            self.report.add_problem(f'unknown distillation loss type {loss_type!r}; registered: '
                                    f'{", ".join(registered_distill_losses())}')
            return
        for term in loss_class.monitored_terms:
            if 'loss' in monitored_key(self.name, term):
                self.report.add_problem(
                    f"its monitored term {term!r} would be logged as {monitored_key(self.name, term)!r}, which "
                    "contains 'loss', and mmengine would add it to the total loss; rename the entry so that only "
                    "its 'loss_' prefix contains 'loss' (e.g. 'loss_adv')")
        try:
            self.loss = MODELS.build(loss_cfg)
        except (TypeError, ValueError, KeyError) as error:  # a bad argument or value, named by the loss
            message = error.args[0] if isinstance(error, KeyError) and error.args else error
            self.report.add_problem(f'{loss_class.__name__}(...) cannot be built: {message}')

    def tap_unusable(self, role: str, problem: str, error_type: Type[Exception] = DistillConfigError) -> None:
        """Record that the ``role`` tap cannot be hooked on its network (``problem``), and drop it: the rest of the
        entry is still checked, without that tap's tensor."""
        self.report.add_problem(problem, error_type)
        self.taps.pop(role, None)

    # ------------------------------------------------------------------ the build-time check of the shapes
    def prepare(self, student: torch.Tensor, teacher: torch.Tensor, teacher_model: nn.Module,
                input_size: Sequence[int]) -> None:
        """Check the entry on the tensors of the build-time dry run (eval mode), and build its connector.

        Runs ``loss.prepare`` (losses that own shape-dependent modules or read the teacher's weights build them
        here), the student-side refinement, the connector (``in_channels``/``out_channels`` filled in from the
        tensors) and ``loss.check_shapes`` on what the loss will see. Problems and advice go into the report.

        Args:
            student, teacher: the tensors recorded at the two taps, (1, C, H, W) for most taps.
            teacher_model: the teacher segmentor, its weights loaded.
            input_size: (H, W) of the dry run's input, for the messages.
        """
        report = self.report
        report.shapes = {'student': tuple(student.shape), 'teacher': tuple(teacher.shape)}
        where = (f"student tap '{self.taps['student']}' gives {tuple(student.shape)} and teacher tap "
                 f"'{self.taps['teacher']}' gives {tuple(teacher.shape)} (for a {input_size[0]}x{input_size[1]} "
                 'input)')
        try:
            self.loss.prepare(tuple(student.shape), tuple(teacher.shape), teacher_model, self.taps['teacher'])
            with _eval_mode(self.loss):
                student = self.loss.refine_student(student)
        except ValueError as error:
            report.add_problem(f'{where}: {error}')
            return
        if self.connector_cfg is not None:
            student = self._build_connector(student, teacher)
            if student is None:
                return
        student_shape, teacher_shape = tuple(student.shape), tuple(teacher.shape)
        channels = (channel_advice(student_shape, teacher_shape, self.connector is not None)
                    if self.loss.needs_equal_channels else '')
        size = size_advice(student_shape, teacher_shape, self.loss)
        if size:
            report.notes.append(size)
        try:
            self.loss.check_shapes(student_shape, teacher_shape)
        except ValueError as error:
            connected = ' after the connector' if self.connector is not None else ''
            report.add_problem(f'{where}; {report.loss_type} refuses student {student_shape}{connected} and teacher '
                               f'{teacher_shape}: {error}')
            if channels:
                report.fixes.append(channels)
            return
        if channels:
            report.notes.append(f'{channels} ({report.loss_type} accepted the pair; connect the channels if it '
                                'compares them one to one)')

    def _build_connector(self, student: torch.Tensor, teacher: torch.Tensor) -> Optional[torch.Tensor]:
        """Build the connector for these tensors; the student tensor through it (eval mode), None on a problem."""
        connector_cfg = dict(self.connector_cfg)
        connector_cfg.setdefault('in_channels', student.shape[1])
        connector_cfg.setdefault('out_channels', teacher.shape[1])
        try:
            self.connector = MODELS.build(connector_cfg)
        except Exception as error:  # an unregistered type or bad arguments, reported with the rest
            self.report.add_problem(f'connector {self.connector_cfg!r} cannot be built: {error}')
            return None
        try:
            with _eval_mode(self.connector):
                connected = self.connector(student, teacher.shape[-2:])
        except Exception as error:  # a connector that cannot take the student's tensor
            self.report.add_problem(f'the connector cannot take the student tensor {tuple(student.shape)}: {error}')
            return None
        self.report.connected_shape = tuple(connected.shape)
        return connected

    # ------------------------------------------------------------------ training
    @property
    def uses_labels(self) -> bool:
        """Whether the loss reads the batch's ground-truth labels."""
        return self.loss.uses_labels

    def compute(self, student: torch.Tensor, teacher: torch.Tensor, iteration: int,
                gt_labels: Optional[torch.Tensor] = None, student_gradient=None) -> Dict[str, torch.Tensor]:
        """The term's log entries for one training step.

        Args:
            student, teacher: the tensors recorded at the taps in this step.
            iteration: the training iteration (the loss's weight schedule and per-iteration draws follow it).
            gt_labels: (B, H_img, W_img) labels, for losses that read them.
            student_gradient: a context for the student-side refinement (``torch.no_grad()`` while only the
                connectors learn); ``None`` keeps gradients on.

        Returns:
            ``{log key: value}``: values of optimised terms keep their graph; monitored terms are detached.
        """
        with student_gradient or contextlib.nullcontext():
            student = self.loss.refine_student(student)
        if self.connector is not None:
            student = self.connector(student, teacher.shape[-2:])
        value = self.loss(student, teacher, iteration=iteration,
                          **({'gt_labels': gt_labels} if self.loss.uses_labels else {}))
        if not isinstance(value, dict):
            return {f'distill.{self.name}': value}
        entries = {}
        for term, term_value in value.items():  # a loss of several terms: one log key per term
            if term in self.loss.monitored_terms:
                entries[monitored_key(self.name, term)] = term_value.detach()
            else:
                entries[f'distill.{self.name}_{term}'] = term_value
        return entries


@contextlib.contextmanager
def _eval_mode(module: nn.Module):
    """Run ``module`` in eval mode inside the block, then restore its mode."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)
