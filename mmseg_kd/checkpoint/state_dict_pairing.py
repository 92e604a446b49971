"""Pair a checkpoint's weights with the model a config builds: strictly, with the two natural translations.

mmengine's runner loads ``load_from`` and ``--resume`` checkpoints with ``strict=False`` and only warns in one log
line about the keys it skipped, so a checkpoint of another network trains or evaluates random weights without a
visible error. :func:`load_paired_state_dict` loads them instead:

* the keys of a distillation checkpoint are ``student.*`` (the student), ``connectors.*`` and ``distill_losses.*``;
  a plain mmseg checkpoint (or one written by ``tools/export_student.py``) holds the student's keys without the
  prefix. Loading (not resuming) translates between the two: a student model takes the ``student.*`` weights of a
  distillation checkpoint, and a distiller takes a plain checkpoint as its student (its connectors and loss buffers
  keep their initialisation). Resuming translates nothing: it continues the run that wrote the checkpoint.
* every other difference (missing, unexpected or mis-shaped keys) is a :class:`CheckpointMismatchError` whose
  message lists the keys grouped by module, says what the difference most likely means and how to fix it, unless
  the caller asks for a partial load, which keeps the keys that match and reports the rest.

Layering: depends on torch, ``checkpoint.safe_loading`` and ``mmseg_kd.utils``.
"""
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Sequence, Tuple

import torch
from torch import nn

from mmseg_kd.checkpoint.safe_loading import CheckpointMismatchError
from mmseg_kd.utils.user_input_error import UserInputError

STUDENT_PREFIX = 'student.'
DDP_PREFIX = 'module.'
# Keys mmengine's loader also tolerates when missing (BN counters, absent from old checkpoints).
TOLERATED_MISSING = ('num_batches_tracked',)
# The parts of a distiller besides its student.
DISTILLER_PARTS = ('connectors.', 'distill_losses.')
LISTED_GROUPS = 8


@dataclass
class PairedStateDict:
    """What to load, and what the caller should log about it.

    Attributes:
        state_dict: the weights to load, named as the model names them.
        notes: sentences on the translation made (distiller checkpoint to student, or the reverse).
        left_out: for a partial load, the report of the keys that were not loaded ('' otherwise).
    """
    state_dict: 'OrderedDict[str, torch.Tensor]'
    notes: List[str] = field(default_factory=list)
    left_out: str = ''


@dataclass
class KeyComparison:
    """How a checkpoint's keys and shapes differ from a model's.

    Attributes:
        missing: keys the model has and the checkpoint lacks.
        unexpected: keys the checkpoint has and the model lacks.
        mismatched: ``(key, checkpoint shape, model shape)`` of keys both have with different shapes.
    """
    missing: List[str]
    unexpected: List[str]
    mismatched: List[Tuple[str, tuple, tuple]]

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)


def is_distiller_state(keys) -> bool:
    """Whether state-dict keys are a distiller's (its student's weights are ``student.*``)."""
    return any(key.startswith(STUDENT_PREFIX) for key in keys)


def _without_ddp_prefix(state_dict: Mapping[str, torch.Tensor]) -> 'OrderedDict[str, torch.Tensor]':
    if state_dict and all(key.startswith(DDP_PREFIX) for key in state_dict):
        return OrderedDict((key[len(DDP_PREFIX):], value) for key, value in state_dict.items())
    return OrderedDict(state_dict)


def _group(key: str) -> str:
    """The module a key belongs to, two levels deep (``student.backbone``, ``connectors.loss_cwd``)."""
    return '.'.join(key.split('.')[:2])


def _grouped_listing(keys: Sequence[str]) -> str:
    groups: Dict[str, List[str]] = {}
    for key in keys:
        groups.setdefault(_group(key), []).append(key)
    lines = [f'    {name}.*  ({len(members)} key(s), e.g. {members[0]})' if len(members) > 1 else f'    {members[0]}'
             for name, members in list(groups.items())[:LISTED_GROUPS]]
    if len(groups) > LISTED_GROUPS:
        rest = sum(len(members) for members in list(groups.values())[LISTED_GROUPS:])
        lines.append(f'    ... and {rest} more key(s) in {len(groups) - LISTED_GROUPS} more module(s)')
    return '\n'.join(lines)


def _part_names(keys: Sequence[str]) -> List[str]:
    """The connectors/loss modules (``connectors.loss_cwd``) among keys."""
    return sorted({_group(key) for key in keys if key.startswith(DISTILLER_PARTS)})


def _diagnosis(comparison: KeyComparison, model_is_distiller: bool, checkpoint_is_distiller: bool,
               resume: bool) -> List[str]:
    """What the difference most likely means, and the fix."""
    load_instead = ('--resume continues the run that wrote the checkpoint (its optimizer state and schedule) and '
                    'needs the config it was trained with. To start a new run from its weights, load them instead: '
                    '--cfg-options load_from=CHECKPOINT (without --resume).')
    if resume and model_is_distiller and not checkpoint_is_distiller:
        return ['The checkpoint holds a plain segmentor (no student.* keys), not a checkpoint of this distillation '
                'run. ' + load_instead + ' A plain checkpoint then initialises the student.']
    if resume and checkpoint_is_distiller and not model_is_distiller:
        return ['The checkpoint is a distillation run\'s (student.* keys) and the config builds a plain segmentor. '
                + load_instead + ' The student\'s weights are then taken from it; to evaluate it, '
                'tools/test.py takes either config.']
    advice = []
    added, dropped = _part_names(comparison.missing), _part_names(comparison.unexpected)
    if added:
        advice.append(f'The config has {", ".join(added)}, which the checkpoint\'s run did not have (a connector or '
                      'a loss with parameters or buffers was added, or renamed).')
    if dropped:
        advice.append(f'The checkpoint\'s run had {", ".join(dropped)}, which the config no longer has.')
    if added or dropped:
        advice.append(load_instead + ' Add --partial-load to keep the new parts at their initialisation and leave '
                      'out the dropped ones.' if resume else
                      'Add --partial-load to load what matches and keep the rest at its initialisation.')
    student_differs = [key for key in comparison.missing + comparison.unexpected + [m[0] for m in comparison.mismatched]
                       if not key.startswith(DISTILLER_PARTS)]
    if student_differs or not advice:
        advice.append('Check that the config describes the network the checkpoint was trained with (architecture, '
                      'depth, number of classes), or that the checkpoint is the one meant for it.')
    return advice


def mismatch_report(comparison: KeyComparison, *, what: str, config_hint: str, model_is_distiller: bool,
                    checkpoint_is_distiller: bool, resume: bool) -> str:
    """The message of a :class:`CheckpointMismatchError`: the keys grouped by module, the likely cause, the fix."""
    report = [f'{what} does not match the model built from {config_hint}:']
    if comparison.missing:
        report.append(f'  {len(comparison.missing)} key(s) the model needs are missing from the checkpoint:\n'
                      + _grouped_listing(comparison.missing))
    if comparison.unexpected:
        report.append(f'  {len(comparison.unexpected)} key(s) in the checkpoint are not in the model:\n'
                      + _grouped_listing(comparison.unexpected))
    if comparison.mismatched:
        shown = [f'    {key}: checkpoint {saved} vs model {own}' for key, saved, own in comparison.mismatched[:12]]
        more = [f'    ... and {len(comparison.mismatched) - 12} more'] if len(comparison.mismatched) > 12 else []
        report.append(f'  {len(comparison.mismatched)} key(s) have a different shape:\n' + '\n'.join(shown + more))
    report += _diagnosis(comparison, model_is_distiller, checkpoint_is_distiller, resume)
    return '\n'.join(report)


def _translated(model_keys: Sequence[str], state_dict: 'OrderedDict[str, torch.Tensor]', what: str,
                resume: bool) -> Tuple['OrderedDict[str, torch.Tensor]', List[str], bool]:
    """The checkpoint's weights named as the model names them, the notes on the translation, and whether only the
    student's keys of a distiller are expected (a plain checkpoint loaded as its student)."""
    model_is_distiller, checkpoint_is_distiller = is_distiller_state(model_keys), is_distiller_state(state_dict)
    if resume or model_is_distiller == checkpoint_is_distiller:
        return state_dict, [], False
    if checkpoint_is_distiller:
        student = OrderedDict((key[len(STUDENT_PREFIX):], value) for key, value in state_dict.items()
                              if key.startswith(STUDENT_PREFIX))
        others = len(state_dict) - len(student)
        return student, [f'{what} is a distillation checkpoint: its student\'s {len(student)} tensors are loaded'
                         + (f' ({others} tensors of connectors and loss buffers are not part of the student)'
                            if others else '')], False
    kept = _part_names([key for key in model_keys if not key.startswith(STUDENT_PREFIX)])
    return (OrderedDict((STUDENT_PREFIX + key, value) for key, value in state_dict.items()),
            [f'{what} is a plain segmentor checkpoint: loaded as the student ({len(state_dict)} tensors)'
             + (f'; {", ".join(kept)} keep their initialisation' if kept else '')], True)


def load_paired_state_dict(model: nn.Module, state_dict: Mapping[str, torch.Tensor], *, what: str, config_hint: str,
                           resume: bool = False, allow_partial: bool = False) -> PairedStateDict:
    """Load the weights of ``state_dict`` into ``model``, translated (module docstring), and strictly.

    The keys are accounted for by torch's own loading (``load_state_dict(strict=False)`` reports the missing and
    unexpected ones), so a module that keeps more than its parameters and buffers in its state dict (a custom
    ``_load_from_state_dict``, e.g. the adversarial loss's discriminator optimizer) is judged by what it consumes.

    Args:
        model: the model built from the config (not wrapped in DDP).
        state_dict: the checkpoint's weights (a ``module.`` prefix on every key is removed).
        what: how the messages name the checkpoint (``"resume checkpoint 'work_dirs/x/iter_4.pth'"``).
        config_hint: how the messages name the config.
        resume: the checkpoint continues its run: no translation between distiller and student keys.
        allow_partial: keep what matched (name and shape) and report the rest instead of raising.

    Returns:
        What was loaded (to hand to a loader that loads it again, such as mmengine's runner), the notes on the
        translation, and the report of a partial load.

    Raises:
        CheckpointMismatchError: a key is missing, unexpected or mis-shaped (and ``allow_partial`` is False); the
            model is then partly loaded.
    """
    if not isinstance(allow_partial, bool):
        raise UserInputError(f'allow_partial must be True or False, got {allow_partial!r}')
    state_dict = _without_ddp_prefix(state_dict)
    own = model.state_dict()
    translated, notes, only_student = _translated(list(own), state_dict, what, resume)
    mismatched = sorted((key, tuple(value.shape), tuple(own[key].shape)) for key, value in translated.items()
                        if key in own and tuple(value.shape) != tuple(own[key].shape))
    mis_shaped = {key for key, _, _ in mismatched}
    loadable = OrderedDict((key, value) for key, value in translated.items() if key not in mis_shaped)
    incompatible = model.load_state_dict(loadable, strict=False)
    missing = sorted(key for key in incompatible.missing_keys if key not in mis_shaped
                     and not key.endswith(TOLERATED_MISSING) and not (only_student
                                                                      and not key.startswith(STUDENT_PREFIX)))
    comparison = KeyComparison(missing, sorted(incompatible.unexpected_keys), mismatched)
    if comparison.ok:
        return PairedStateDict(loadable, notes)
    report = mismatch_report(comparison, what=what, config_hint=config_hint,
                             model_is_distiller=is_distiller_state(own),
                             checkpoint_is_distiller=is_distiller_state(state_dict), resume=resume)
    if not allow_partial:
        raise CheckpointMismatchError(report)
    loaded = OrderedDict((key, value) for key, value in loadable.items() if key not in set(comparison.unexpected))
    return PairedStateDict(loaded, notes, f'partial load: {len(loaded)} tensors loaded, the rest left as it is. '
                                          + report)
