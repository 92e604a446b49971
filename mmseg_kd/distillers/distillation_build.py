"""The build step of a distillation: its terms, recorders and connectors, checked on one dry run before the first
training step; one code path for training and for list_taps.

:class:`~mmseg_kd.distillers.SegDistiller` runs :func:`build_distillation` when it is built and raises
:meth:`DistillationReport.error` if anything is wrong; ``tools/analysis/list_taps.py`` runs the same function on
networks with random weights and prints the report. Nothing here raises: a config with a misspelled tap, an unknown
loss and a shape mismatch gets one report that names all three.

What is built and checked, in order:

1. every entry on its own (:class:`~mmseg_kd.distillers.distill_term.DistillTerm`): its name, its taps, its loss
   type and arguments, its connector config, the naming of its monitored terms;
2. every tap against its network: the module path exists (else the closest paths), a ``pre_activation`` tap names
   a residual block;
3. one eval-mode forward pass of each network on a random input of ``input_size`` (only the parts the taps need):
   each tap records exactly one tensor (an ``index`` that picks no tensor is named with what the module gives);
   taps whose tensor is later modified in place are told to record copies; transformer tokens recorded without
   their (H, W) get the advice of what to tap instead;
4. every entry on the recorded tensors (``DistillTerm.prepare``): the loss's preparation, the connector (built
   here, with the measured channel counts) and the pair of shapes the loss will compare, with the fix;
5. the distillation as a whole: at least one entry, the teacher can take the student's preprocessed batch
   (:mod:`~mmseg_kd.distillers.preprocessing_agreement`, defaults filled in on both sides), a
   connector warm-up has connectors to train, the dry run's input size is a pair of positive integers.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

from mmseg_kd.distillers.connector_warmup import ConnectorWarmup
from mmseg_kd.distillers.distill_term import ROLES, DistillConfigError, DistillTerm, TermReport
from mmseg_kd.distillers.forward_for_taps import forward_for_taps
from mmseg_kd.distillers.preprocessing_agreement import preprocessing_problem
from mmseg_kd.distillers.taps import TapRecorder, tap_problem

#: (H, W) of the distiller's dry run when the config does not give ``tap_check_input_size`` (small: the dry run runs
#: at every build, on the CPU); the analysis tools default to the size the config trains at instead.
DRY_RUN_INPUT_SIZE = (64, 64)


@dataclass
class DistillationReport:
    """The verdict on a distillation config.

    Attributes:
        input_size: (H, W) of the dry run's random input.
        terms: one :class:`TermReport` per ``distill_losses`` entry, in config order.
        problems: problems of the distillation as a whole (not of one entry).
    """
    input_size: Tuple[int, int]
    terms: List[TermReport] = field(default_factory=list)
    problems: List[str] = field(default_factory=list)

    @property
    def problem_count(self) -> int:
        return len(self.problems) + sum(len(term.problems) for term in self.terms)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def error(self) -> Optional[Exception]:
        """The exception that stops the build (``None`` when there is no problem): the class of the first problem
        (e.g. ``UnknownTapError``), with every problem of every entry and its fix in the message."""
        if self.ok:
            return None
        lines, error_type = [], None
        for problem in self.problems:
            lines.append(problem)
            error_type = error_type or DistillConfigError
        for term in self.terms:
            for problem in term.problems:
                lines.append(f'distill_losses.{term.name}: {problem}')
            lines += [f'distill_losses.{term.name}: fix: {fix}' for fix in term.fixes if term.problems]
            if term.problems:
                error_type = error_type or term.error_type
        if len(lines) == 1:
            return error_type(lines[0])
        return error_type(f'{self.problem_count} problem(s) in the distillation config:\n  ' + '\n  '.join(lines))


def input_size_problem(input_size) -> str:
    """Why ``input_size`` cannot be the dry run's (H, W) ('' when it can: a pair of integers >= 1)."""
    if (isinstance(input_size, (list, tuple)) and len(input_size) == 2
            and all(isinstance(size, int) and not isinstance(size, bool) and size >= 1 for size in input_size)):
        return ''
    return (f'tap_check_input_size must be a pair (H, W) of integers >= 1, got {input_size!r} (the other checks '
            f'ran on a {DRY_RUN_INPUT_SIZE[0]}x{DRY_RUN_INPUT_SIZE[1]} input)')


def token_advice(role: str, tap, shape: Tuple[int, ...]) -> str:
    """What to tap instead of a module that gives transformer tokens (B, N, C) without their (H, W)."""
    return (f"{role} tap '{tap}' gives tokens {shape} (batch, length, channels) without their (H, W), so they stay "
            "a sequence: tap a module that carries the (H, W), e.g. a MiT stage 'backbone.layers.i', a Swin stage "
            "'backbone.stages.i' or a transformer block, or the backbone's maps dict(module='backbone', index=i) "
            '(list_taps.py shows which modules give maps)')


def build_terms(distill_losses) -> Tuple[Dict[str, DistillTerm], List[str]]:
    """One :class:`DistillTerm` per entry of ``distill_losses``, and the problems of the dict as a whole."""
    if not isinstance(distill_losses, dict):
        return {}, [f'distill_losses must be a dict {{name: dict(type=..., student=TAP, teacher=TAP, ...)}}, got a '
                    f'{type(distill_losses).__name__}: {distill_losses!r}']
    if not distill_losses:
        return {}, ['distill_losses is empty: nothing to distil (the student would train alone while the teacher '
                    "still runs). Add an entry, or train the student's own config."]
    return {name: DistillTerm(name, entry) for name, entry in distill_losses.items()}, []


def _attach_recorders(networks: Dict[str, nn.Module], terms: Dict[str, DistillTerm]) -> Dict[str, TapRecorder]:
    """A recorder per network over the taps that can be hooked; the others become problems of their terms."""
    hookable: Dict[str, set] = {role: set() for role in ROLES}
    for term in terms.values():
        for role, tap in list(term.taps.items()):
            problem, error_type = tap_problem(networks[role], tap, role)
            if problem:
                term.tap_unusable(role, problem, error_type)
            else:
                hookable[role].add(tap)
    return {role: TapRecorder(networks[role], hookable[role], role) for role in ROLES}


@torch.no_grad()
def _dry_run(networks: Dict[str, nn.Module], recorders: Dict[str, TapRecorder],
             input_size: Sequence[int]) -> Dict[str, Dict[object, object]]:
    """One eval-mode forward of each network: the tensor (or the error message) recorded at every tap."""
    recorded = {}
    for role in ROLES:
        model, recorder = networks[role], recorders[role]
        if not recorder.taps:
            recorded[role] = {}
            continue
        was_training = model.training
        model.eval()
        try:
            with recorder.recording():
                forward_for_taps(model, torch.randn(1, 3, *input_size), [tap.module for tap in recorder.taps])
        except (TypeError, ValueError, RuntimeError) as error:
            recorded[role] = {tap: f'{role} forward pass with the taps failed: {error}' for tap in recorder.taps}
            continue
        finally:
            model.train(was_training)
        recorded[role] = {}
        for tap in recorder.taps:
            try:
                recorded[role][tap] = recorder.get(tap)
            except (TypeError, RuntimeError) as error:
                recorded[role][tap] = str(error)
        recorder.copy_at_record_time(recorder.taps_modified_in_place())
        recorder.clear()
    return recorded


@dataclass
class BuiltDistillation:
    """What :func:`build_distillation` built.

    Attributes:
        report: every problem, fix and note.
        terms: one term per ``distill_losses`` entry (connectors built where the check got that far).
        recorders: ``{'student': TapRecorder, 'teacher': TapRecorder}``, hooked on the networks and set to copy the
            tensors that are later modified in place; call their ``remove()`` when only checking.
        connector_warmup: the warm-up schedule of the connectors.
    """
    report: DistillationReport
    terms: Dict[str, DistillTerm]
    recorders: Dict[str, TapRecorder]
    connector_warmup: ConnectorWarmup


def build_distillation(networks: Dict[str, nn.Module], distill_losses, input_size: Sequence[int], *,
                       data_preprocessor: Optional[dict] = None, teacher_preprocessor: Optional[dict] = None,
                       connector_warmup: Optional[dict] = None) -> BuiltDistillation:
    """Build every term of a distillation with its recorders and connectors, and check it (see the module docstring).

    Args:
        networks: ``{'student': segmentor, 'teacher': segmentor}``; the teacher with the weights it will train with
            (random weights give the same shapes, for a check before the teacher's file exists).
        distill_losses: the ``distill_losses`` dict of the config.
        input_size: (H, W) of the dry run's random input.
        data_preprocessor, teacher_preprocessor: the distiller's and the teacher's preprocessing configs.
        connector_warmup: the distiller's ``connector_warmup`` config (``dict(iters=..., freeze_after=...)``).
    """
    size_problem = input_size_problem(input_size)
    if size_problem:
        input_size = DRY_RUN_INPUT_SIZE
    report = DistillationReport(tuple(input_size))
    if size_problem:
        report.problems.append(size_problem)
    try:
        if connector_warmup is not None and not isinstance(connector_warmup, dict):
            raise ValueError(f'connector_warmup must be None or dict(iters=N, freeze_after=False), got '
                             f'{connector_warmup!r}')
        warmup = ConnectorWarmup(**(connector_warmup or {}))
    except (TypeError, ValueError) as error:
        report.problems.append(str(error))
        warmup = ConnectorWarmup()
    terms, problems = build_terms(distill_losses)
    report.problems += problems
    problem = preprocessing_problem(data_preprocessor, teacher_preprocessor)
    if problem:
        report.problems.append(problem)
    recorders = _attach_recorders(networks, terms)
    recorded = _dry_run(networks, recorders, input_size)
    for term in terms.values():
        report.terms.append(term.report)
        tensors = {role: recorded[role][tap] for role, tap in term.taps.items()}
        for message in dict.fromkeys(value for value in tensors.values() if isinstance(value, str)):
            term.report.add_problem(message)
        recorded_both = len(tensors) == len(ROLES) and all(isinstance(v, torch.Tensor) for v in tensors.values())
        if recorded_both and term.loss is not None:
            term.prepare(tensors['student'], tensors['teacher'], networks['teacher'], input_size)
        else:  # still show the shapes that were recorded
            term.report.shapes = {role: tuple(value.shape) for role, value in tensors.items()
                                  if isinstance(value, torch.Tensor)}
        for role, value in tensors.items():
            if isinstance(value, torch.Tensor) and value.dim() == 3:
                advice = token_advice(role, term.taps[role], tuple(value.shape))
                (term.report.fixes if term.report.problems else term.report.notes).append(advice)
    if all(term.report.ok for term in terms.values()):  # else a connector may be missing because of another problem
        problem = warmup.problem([term.connector for term in terms.values() if term.connector is not None])
        if problem:
            report.problems.append(problem)
    return BuiltDistillation(report, terms, recorders, warmup)
