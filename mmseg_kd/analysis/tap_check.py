"""Check a distillation config's losses before training: do the taps exist, what shapes do they record,
does each loss accept its pair of shapes, and what connector or resizing does the pair need.

Everything is reported, nothing raises: a config with a misspelled tap, an unknown loss and a shape
mismatch gets one report naming all three (the distiller itself stops at the first). The checks are
the distiller's own: taps are parsed and recorded by :mod:`mmseg_kd.distillers.taps`, only the parts
of each network that the taps need run (:func:`forward_for_taps`), unknown paths get
:func:`closest_module_paths`, and each loss judges its shapes with its ``check_shapes``.
"""
import copy
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

from mmseg_kd.analysis.module_shapes import ModuleShape
from mmseg_kd.distillers.forward_for_taps import forward_for_taps
from mmseg_kd.distillers.seg_distiller import registered_distill_losses
from mmseg_kd.distillers.taps import Tap, TapRecorder, closest_module_paths, parse_tap
from mmseg_kd.losses.distill_loss import DistillLoss, LogitDistillLoss
from mmseg_kd.registry import MODELS

ROLES = ('student', 'teacher')


@dataclass
class LossCheck:
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
    """
    name: str
    loss_type: str
    taps: Dict[str, str] = field(default_factory=dict)
    shapes: Dict[str, Tuple[int, ...]] = field(default_factory=dict)
    connected_shape: Optional[Tuple[int, ...]] = None
    problems: List[str] = field(default_factory=list)
    fixes: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _hw(shape: Sequence[int]) -> str:
    return 'x'.join(str(size) for size in shape[2:])


def channel_advice(student_shape: Sequence[int], teacher_shape: Sequence[int],
                   has_connector: bool) -> str:
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


def _build_loss(loss_cfg: dict, check: LossCheck) -> Optional[nn.Module]:
    loss_type = loss_cfg.get('type')
    loss_class = loss_type if isinstance(loss_type, type) else MODELS.module_dict.get(loss_type)
    if loss_class is None or not (isinstance(loss_class, type) and issubclass(loss_class, DistillLoss)):
        check.problems.append(f'unknown distillation loss type {loss_type!r}; registered: '
                              f'{", ".join(registered_distill_losses())}')
        return None
    try:
        return MODELS.build(loss_cfg)
    except Exception as error:  # report any constructor error (bad argument, bad value) with the rest
        check.problems.append(f'{loss_type}(...) cannot be built: {error}')
        return None


def _build_connector(connector_cfg: dict, check: LossCheck) -> Optional[nn.Module]:
    try:
        return MODELS.build(connector_cfg).eval()
    except Exception as error:  # an unregistered type or bad arguments, reported with the rest
        check.problems.append(f'connector {connector_cfg!r} cannot be built: {error}')
        return None


def _tap_problem(tap: Tap, network: str, model: nn.Module, shapes: Dict[str, ModuleShape]) -> str:
    """Why ``tap`` cannot be recorded ('' if it can, as far as the walk over all modules can tell)."""
    if tap.module not in shapes:
        close = closest_module_paths(model, tap.module)
        hint = ('closest: ' + ', '.join(repr(path) for path in close)) if close else \
            'list the paths with tools/analysis/list_taps.py'
        return f'{network} has no module {tap.module!r}; {hint}'
    walked = shapes[tap.module]
    if tap.record == 'output' and not walked.tappable:
        return (f'{network} tap {tap}: the module {walked.why_not_tappable} (output: {walked.output}); '
                'tap a submodule that returns one tensor, once')
    if tap.record == 'input' and (walked.calls != 1 or walked.input_shape is None):
        return (f'{network} tap {tap}: the module runs {walked.calls} time(s) with input {walked.input}; '
                'tap a module that runs once on a single tensor')
    return ''


@torch.no_grad()
def _recorded_shapes(model: nn.Module, taps: List[Tap], network: str,
                     input_size: Sequence[int]) -> Dict[Tap, object]:
    """Shapes the distiller's recorder gets at ``taps`` (an error message where it gets none)."""
    if not taps:
        return {}
    recorder = TapRecorder(model, taps, network)
    was_training = model.training
    model.eval()
    try:
        with recorder.recording():
            forward_for_taps(model, torch.randn(1, 3, *input_size), [tap.module for tap in taps])
        shapes = {}
        for tap in taps:
            try:
                shapes[tap] = tuple(recorder.get(tap).shape)
            except RuntimeError as error:
                shapes[tap] = str(error)
        return shapes
    except (TypeError, RuntimeError) as error:
        return {tap: str(error) for tap in taps}
    finally:
        recorder.remove()
        model.train(was_training)


@dataclass
class _ParsedEntry:
    """One ``distill_losses`` entry, built as far as it goes."""
    check: LossCheck
    taps: Dict[str, Tap] = field(default_factory=dict)  # role -> tap, for the taps that can be recorded
    loss: Optional[nn.Module] = None
    connector_cfg: Optional[dict] = None
    connector: Optional[nn.Module] = None


def _parse_entry(name: str, entry: dict, networks: Dict[str, nn.Module],
                 walks: Dict[str, Dict[str, ModuleShape]]) -> _ParsedEntry:
    """Parse the taps, build the loss and the connector; every failure becomes a problem of the check."""
    entry = copy.deepcopy(dict(entry))
    parsed = _ParsedEntry(LossCheck(name, str(entry.get('type'))))
    check = parsed.check
    if not name.startswith('loss_'):
        check.problems.append(f"the name must start with 'loss_' (mmengine sums only keys containing "
                              f"'loss'), e.g. 'loss_{name}'")
    for role in ROLES:
        spec = entry.pop(role, None)
        check.taps[role] = str(spec)
        if spec is None:
            check.problems.append(f'{role}= tap is missing (a module path of the {role})')
            continue
        try:
            tap = parse_tap(spec)
        except ValueError as error:
            check.problems.append(str(error))
            continue
        check.taps[role] = str(tap)
        problem = _tap_problem(tap, role, networks[role], walks[role])
        if problem:
            check.problems.append(problem)
        else:
            parsed.taps[role] = tap
    parsed.connector_cfg = entry.pop('connector', None)
    parsed.loss = _build_loss(entry, check)
    if parsed.connector_cfg is not None:
        parsed.connector = _build_connector(parsed.connector_cfg, check)
    return parsed


def _judge_shapes(parsed: _ParsedEntry) -> None:
    """Run the connector on the student's shape, let the loss judge the pair, and add the advice."""
    check = parsed.check
    if len(check.shapes) < 2 or parsed.loss is None or (parsed.connector_cfg and parsed.connector is None):
        return  # a tap, the loss or the connector already has a problem
    student_shape, teacher_shape = check.shapes['student'], check.shapes['teacher']
    if parsed.connector is not None:
        try:
            with torch.no_grad():
                student_shape = tuple(parsed.connector(torch.zeros(student_shape)).shape)
        except Exception as error:  # a connector that cannot take the student's tensor
            check.problems.append(f'the connector cannot take the student tensor {student_shape}: {error}')
            return
        check.connected_shape = student_shape
    channels = channel_advice(student_shape, teacher_shape, parsed.connector_cfg is not None)
    size = size_advice(student_shape, teacher_shape, parsed.loss)
    if size:
        check.notes.append(size)
    try:
        parsed.loss.check_shapes(student_shape, teacher_shape)
    except ValueError as error:
        check.problems.append(f'{check.loss_type} refuses student {student_shape} and teacher '
                              f'{teacher_shape}: {error}')
        if channels:
            check.fixes.append(channels)
        return
    if channels:
        check.notes.append(f'{channels} ({check.loss_type} accepted the pair; connect the channels if it '
                           'compares them one to one)')


def check_distill_losses(distill_losses: Dict[str, dict], networks: Dict[str, nn.Module],
                         walks: Dict[str, List[ModuleShape]], input_size: Sequence[int]) -> List[LossCheck]:
    """Check every ``distill_losses`` entry against the student and teacher.

    Args:
        distill_losses: the ``model.distill_losses`` dict of a distillation config.
        networks: ``{'student': segmentor, 'teacher': segmentor}`` (see ``distiller_networks``).
        walks: ``{'student': module_shapes(...), 'teacher': ...}`` at ``input_size``.
        input_size: (H, W) of the random input the shapes are recorded for.

    Returns:
        one :class:`LossCheck` per entry, in config order.
    """
    by_path = {role: {shape.path: shape for shape in walk} for role, walk in walks.items()}
    parsed = [_parse_entry(name, entry, networks, by_path) for name, entry in distill_losses.items()]
    for role in ROLES:
        taps = sorted({entry.taps[role] for entry in parsed if role in entry.taps}, key=str)
        recorded = _recorded_shapes(networks[role], taps, role, input_size)
        for entry in parsed:
            if role in entry.taps:
                shape = recorded[entry.taps[role]]
                if isinstance(shape, str):
                    entry.check.problems.append(shape)
                else:
                    entry.check.shapes[role] = shape
    for entry in parsed:
        _judge_shapes(entry)
    return [entry.check for entry in parsed]
