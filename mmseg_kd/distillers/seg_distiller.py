"""SegDistiller: an mmseg segmentor that trains a student under a frozen teacher.

Training step (``mode='loss'``)::

    batch ── data_preprocessor (the student's) ──► inputs
       ├─► teacher: backbone (+neck) and only the heads that hold a tap, eval, no_grad
       └─► student.loss(): the student's own losses (decode.loss_ce, aux.loss_ce, ...), optionally
           multiplied by a weight schedule (AICSD's adaptive loss weighting)
    tensors recorded at the taps ──► (loss.refine_student, connector: student side only)
                                 ──► distill_losses (each weighted, optionally scheduled)
    losses: {decode.loss_ce, aux.loss_ce, distill.<name>, ...}  (mmengine sums every '*loss*' key;
            monitored terms are logged under keys without 'loss')

Prediction and testing run the student alone. The teacher is deliberately not a submodule: it is absent
from ``state_dict()`` (checkpoints hold the student, connectors and loss buffers), from the optimizer and
from DDP, and ``train()`` cannot switch it out of eval mode (except its norm layers, with
``teacher_bn_train=True``). It still follows ``.to()``/``.cuda()``.

Connectors (``mmseg_kd/layers/connectors.py``) are built after the build-time dry run, which knows
the channel counts, into ``self.connectors`` (keyed by loss name): they are part of the distiller's
state_dict, optimizer and DDP module. With ``connector_warmup_iters`` the first iterations train the
connectors alone (the Overhaul lineage's connector-only epoch 0): the student runs without gradient, so
the optimizer skips its parameters (no gradient, no weight decay, no momentum).
"""
import contextlib
import copy
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.registry import DefaultScope
from mmseg.models.segmentors.base import BaseSegmentor
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmseg_kd.distillers.forward_for_taps import forward_for_taps
from mmseg_kd.distillers.model_config import resolve_model_config
from mmseg_kd.distillers.taps import Tap, TapRecorder, parse_tap
from mmseg_kd.distillers.teacher_checkpoint import load_teacher_checkpoint
from mmseg_kd.schedules.loss_weight_schedules import build_weight_schedule, current_train_iteration
from mmseg_kd.registry import MODELS

AUTOCAST_DTYPES = {None: None, 'float32': None, 'bfloat16': torch.bfloat16, 'float16': torch.float16}

# Preprocessing settings that must agree, since the teacher sees the student's preprocessed batch.
SHARED_PREPROCESSING_KEYS = ('mean', 'std', 'bgr_to_rgb', 'rgb_to_bgr')


def monitored_key(name: str, term: str) -> str:
    """Log key of a monitored (logged, not optimised) term of loss ``name``: ``distill.<name without
    'loss_'>_<term>``, without 'loss', so that mmengine does not add it to the total loss."""
    return f'distill.{name[len("loss_"):]}_{term}'


def registered_distill_losses() -> List[str]:
    """Names of the registered distillation losses (subclasses of ``DistillLoss``)."""
    from mmseg_kd.losses.distill_loss import DistillLoss
    return sorted(name for name, cls in MODELS.module_dict.items()
                  if isinstance(cls, type) and issubclass(cls, DistillLoss))


@MODELS.register_module()
class SegDistiller(BaseSegmentor):
    """Distil a frozen teacher segmentor into a student segmentor.

    Args:
        student: ``dict(cfg_path=...)`` (local config or ``mmseg::`` reference), ``dict(model=...)`` or an
            inline model dict; optional ``cfg_options`` (dotted keys merged into that config).
        teacher: as ``student``, plus ``checkpoint`` (path of the teacher's weights; ``None`` builds a
            randomly initialised teacher, for tests and config checks only) and
            ``allow_unsafe_checkpoint`` (load a pickle that needs code; only for files you trust),
            ``autocast_dtype`` (``'bfloat16'``/``'float16'``: run the teacher under autocast; losses still
            compute in float32) and ``channels_last`` (teacher weights and inputs in channels-last memory format).
        distill_losses: ``{name: dict(type=..., student=TAP, teacher=TAP, loss_weight=..., ...)}``. Names
            start with ``loss_``; each is logged as ``distill.<name>`` (a loss returning a dict of terms,
            e.g. CIRKD's memory contrast, as ``distill.<name>_<term>``; a monitored term, logged but not
            optimised, such as the adversarial discriminator's own loss, as
            ``distill.<name without 'loss_'>_<term>``). A TAP is a module path of
            ``named_modules()`` or ``dict(module=path, record='output'|'input'|'pre_activation')``.
            An entry may carry ``connector=dict(type='ConvBNConnector', ...)``: a trainable adapter
            applied to the student tensor (``in_channels``/``out_channels`` are filled in).
        data_preprocessor: defaults to the student's; the teacher receives the same preprocessed batch.
        tap_check_input_size: (H, W) of the dry forward pass that checks taps and shapes at build time.
        teacher_bn_train: run the teacher's batch-norm layers in train mode (batch statistics, running
            statistics updated) while the student trains; dropout stays off. The Overhaul lineage did
            this (Overhaul, Table 8); the default keeps the whole teacher in eval mode.
        student_loss_weight_schedule: optional weight schedule (``mmseg_kd.engine``) that multiplies
            every loss of the student's own heads (``decode.loss_ce``, ``aux.loss_ce``, ...), e.g.
            ``dict(type='TrainingProgress')`` for AICSD's adaptive loss weighting α·L_CE.
        connector_warmup_iters: number of first training iterations in which only the connectors learn:
            the student (and any student-side refinement of a loss) runs without gradient and its own
            losses are logged but constant. The Overhaul lineage does this for one epoch. Needs at least
            one connector with parameters; under DDP set ``find_unused_parameters = True``.
        train_connectors_after_warmup: ``False`` freezes the connectors once the warm-up is over (AttnFD's
            reference trains its connectors in epoch 0 only); gradients still flow through them to the student.
        init_cfg: mmengine init config of the distiller (rarely needed).
    """

    def __init__(self,
                 student: dict,
                 teacher: dict,
                 distill_losses: Dict[str, dict],
                 data_preprocessor: Optional[dict] = None,
                 tap_check_input_size: Tuple[int, int] = (64, 64),
                 teacher_bn_train: bool = False,
                 student_loss_weight_schedule: Optional[dict] = None,
                 connector_warmup_iters: int = 0,
                 train_connectors_after_warmup: bool = True,
                 init_cfg: Optional[dict] = None):
        # Outside mmseg's runner no registry scope is set; the models' parts are mmseg modules.
        scope = None if DefaultScope.get_current_instance() is not None else 'mmseg'
        with DefaultScope.overwrite_default_scope(scope):
            self._build(student, teacher, distill_losses, data_preprocessor, tap_check_input_size,
                        init_cfg)
        self.teacher_bn_train = teacher_bn_train
        self.student_loss_weight_schedule = (None if student_loss_weight_schedule is None else
                                             build_weight_schedule(student_loss_weight_schedule))
        self._check_connector_phases(connector_warmup_iters, train_connectors_after_warmup)
        self.connector_warmup_iters = connector_warmup_iters
        self.train_connectors_after_warmup = train_connectors_after_warmup

    def _check_connector_phases(self, warmup_iters: int, train_after_warmup: bool) -> None:
        if warmup_iters < 0:
            raise ValueError(f'connector_warmup_iters must be >= 0, got {warmup_iters}')
        if (warmup_iters or not train_after_warmup) and not any(True for _ in self.connectors.parameters()):
            raise ValueError(
                'connector_warmup_iters / train_connectors_after_warmup act on connectors, but no distillation '
                "loss has a connector with parameters: add connector=dict(type='ConvBNConnector') to a loss "
                'entry or drop these options')

    def _build(self, student, teacher, distill_losses, data_preprocessor, tap_check_input_size,
               init_cfg):
        student_cfg = resolve_model_config(student, 'student')
        teacher_cfg = resolve_model_config(teacher, 'teacher')
        if data_preprocessor is None:
            data_preprocessor = student_cfg.get('data_preprocessor')
        self._check_shared_preprocessing(data_preprocessor, teacher_cfg.get('data_preprocessor'))
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)

        self.student = MODELS.build(student_cfg)
        teacher_model = MODELS.build(teacher_cfg)
        load_teacher_checkpoint(teacher_model, teacher)
        teacher_model.eval()
        teacher_model.requires_grad_(False)
        if teacher.get('autocast_dtype') not in AUTOCAST_DTYPES:
            raise ValueError(f"teacher.autocast_dtype must be one of {sorted(k for k in AUTOCAST_DTYPES if k)} "
                             f"or None, got {teacher.get('autocast_dtype')!r}")
        self.teacher_autocast_dtype = AUTOCAST_DTYPES[teacher.get('autocast_dtype')]
        self.teacher_channels_last = bool(teacher.get('channels_last', False))
        if self.teacher_channels_last:
            teacher_model.to(memory_format=torch.channels_last)
        self._teacher_holder = (teacher_model,)

        self.distill_losses = nn.ModuleDict()
        self.connectors = nn.ModuleDict()  # filled by the dry run, which knows the channel counts
        self.loss_taps: Dict[str, Tuple[Tap, Tap]] = {}
        self._connector_cfgs: Dict[str, dict] = {}
        for name, loss_cfg in distill_losses.items():
            self.distill_losses[name], self.loss_taps[name] = self._build_loss(name, loss_cfg)
        self.student_recorder = TapRecorder(
            self.student, [taps[0] for taps in self.loss_taps.values()], 'student')
        self.teacher_recorder = TapRecorder(
            self.teacher, [taps[1] for taps in self.loss_taps.values()], 'teacher')
        self._teacher_paths = [tap.module for tap in self.teacher_recorder.taps]
        self._check_taps_with_dry_run(tap_check_input_size)

    # ------------------------------------------------------------------ construction helpers
    @property
    def teacher(self) -> nn.Module:
        """The frozen teacher segmentor (not a submodule; see the module docstring)."""
        return self._teacher_holder[0]

    def _apply(self, fn, recurse=True):
        super()._apply(fn, recurse)
        self.teacher._apply(fn, recurse)
        return self

    @staticmethod
    def _check_shared_preprocessing(ours: Optional[dict], teacher_preprocessor: Optional[dict]) -> None:
        """The teacher receives the student's preprocessed batch: their normalisation must agree."""
        ours, theirs = dict(ours or {}), dict(teacher_preprocessor or {})
        for key in SHARED_PREPROCESSING_KEYS:
            mine, its = ours.get(key), theirs.get(key)
            if key in ('mean', 'std'):
                mine = None if mine is None else [float(v) for v in mine]
                its = None if its is None else [float(v) for v in its]
            if its is not None and mine != its:
                raise ValueError(
                    f'teacher and student preprocess images differently ({key}: teacher {its}, '
                    f"distiller {mine}); the teacher receives the student's preprocessed batch. Give "
                    'SegDistiller a data_preprocessor matching the teacher, or use configs that agree.')

    def _build_loss(self, name: str, loss_cfg: dict) -> Tuple[nn.Module, Tuple[Tap, Tap]]:
        from mmseg_kd.losses.distill_loss import DistillLoss
        if not name.startswith('loss_'):
            raise ValueError(f"distill_losses name {name!r} must start with 'loss_' (mmengine adds only keys "
                             f"containing 'loss' to the total loss), e.g. 'loss_{name}'")
        loss_cfg = copy.deepcopy(dict(loss_cfg))
        connector_cfg = loss_cfg.pop('connector', None)
        if connector_cfg is not None:
            if not isinstance(connector_cfg, dict) or 'type' not in connector_cfg:
                raise ValueError(f"distill_losses.{name}.connector must be a dict such as "
                                 f"dict(type='ConvBNConnector'), got {connector_cfg!r}")
            self._connector_cfgs[name] = dict(connector_cfg)
        try:
            taps = (parse_tap(loss_cfg.pop('student')), parse_tap(loss_cfg.pop('teacher')))
        except KeyError as missing:
            raise ValueError(f'distill_losses.{name} needs student= and teacher= taps (module paths); '
                             f'{missing} is missing') from None
        loss_type = loss_cfg.get('type')
        loss_class = loss_type if isinstance(loss_type, type) else MODELS.module_dict.get(loss_type)
        if loss_class is None or not issubclass(loss_class, DistillLoss):
            raise ValueError(f'distill_losses.{name}: unknown distillation loss type {loss_type!r}; '
                             f'registered: {", ".join(registered_distill_losses())}')
        for term in loss_class.monitored_terms:
            if 'loss' in monitored_key(name, term):
                raise ValueError(f"distill_losses.{name}: its monitored term {term!r} would be logged as "
                                 f"{monitored_key(name, term)!r}, which contains 'loss', and mmengine would add "
                                 "it to the total loss; rename the entry so that only its 'loss_' prefix "
                                 "contains 'loss' (e.g. 'loss_adv')")
        return MODELS.build(loss_cfg), taps

    @torch.no_grad()
    def _check_taps_with_dry_run(self, input_size: Tuple[int, int]) -> None:
        """One eval-mode forward of both networks: record the tapped tensors, find in-place taps, prepare
        each loss, build its connector and check the shapes the loss will compare."""
        dummy = torch.randn(1, 3, *input_size)
        recorded = {}
        for network, recorder in (('student', self.student_recorder), ('teacher', self.teacher_recorder)):
            model = getattr(self, network)
            was_training = model.training
            model.eval()
            with recorder.recording():
                forward_for_taps(model, dummy, [tap.module for tap in recorder.taps])
            model.train(was_training)
            recorded[network] = {tap: recorder.get(tap) for tap in recorder.taps}
            recorder.copy_at_record_time(recorder.taps_modified_in_place())
            recorder.clear()
        for name, (student_tap, teacher_tap) in self.loss_taps.items():
            student, teacher = recorded['student'][student_tap], recorded['teacher'][teacher_tap]
            where = (f"distill_losses.{name}: student tap '{student_tap}' gives {tuple(student.shape)} and "
                     f"teacher tap '{teacher_tap}' gives {tuple(teacher.shape)} (for a "
                     f'{input_size[0]}x{input_size[1]} input)')
            loss = self.distill_losses[name]
            try:
                loss.prepare(tuple(student.shape), tuple(teacher.shape), self.teacher, teacher_tap)
                student = self._student_side_in_eval(name, student, teacher)
                loss.check_shapes(tuple(student.shape), tuple(teacher.shape))
            except ValueError as error:
                raise ValueError(f'{where}: {error}') from None

    def _student_side_in_eval(self, name: str, student: torch.Tensor,
                              teacher: torch.Tensor) -> torch.Tensor:
        """Build the connector of loss ``name`` (if any) and return what the loss will see (eval mode)."""
        loss = self.distill_losses[name]
        was_training = loss.training
        loss.eval()
        student = loss.refine_student(student)
        loss.train(was_training)
        if name in self._connector_cfgs:
            connector_cfg = dict(self._connector_cfgs[name])
            connector_cfg.setdefault('in_channels', student.shape[1])
            connector_cfg.setdefault('out_channels', teacher.shape[1])
            connector = MODELS.build(connector_cfg)
            self.connectors[name] = connector
            connector.eval()
            student = connector(student, teacher.shape[-2:])
            connector.train(self.training)
        return student

    # ------------------------------------------------------------------ training
    def train(self, mode: bool = True):
        """Switch the student (and connectors) between train and eval; the teacher stays in eval
        (its norm layers follow ``mode`` when ``teacher_bn_train`` is set)."""
        super().train(mode)
        self.teacher.eval()
        if mode and getattr(self, 'teacher_bn_train', False):
            for module in self.teacher.modules():
                if isinstance(module, _BatchNorm):
                    module.train()
        return self

    @torch.no_grad()
    def teacher_forward(self, inputs: torch.Tensor) -> None:
        """The teacher's backbone/neck and tapped heads on ``inputs``, recording the teacher taps."""
        if self.teacher_channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        precision = contextlib.nullcontext() if self.teacher_autocast_dtype is None else torch.autocast(
            device_type=inputs.device.type, dtype=self.teacher_autocast_dtype)
        with precision, self.teacher_recorder.recording():
            forward_for_taps(self.teacher, inputs, self._teacher_paths)

    def loss(self, inputs: torch.Tensor, data_samples) -> dict:
        """Student losses plus every distillation loss, each under its own key."""
        connectors_only = current_train_iteration() < self.connector_warmup_iters
        self.connectors.requires_grad_(connectors_only or self.train_connectors_after_warmup)
        student_gradient = torch.no_grad() if connectors_only else contextlib.nullcontext()
        self.teacher_forward(inputs)
        with student_gradient, self.student_recorder.recording():
            losses = self.student.loss(inputs, data_samples)
        if self.student_loss_weight_schedule is not None:
            factor = self.student_loss_weight_schedule(current_train_iteration())
            losses = {key: self._scaled(value, factor) if 'loss' in key else value
                      for key, value in losses.items()}
        gt_labels = None
        if any(loss.uses_labels for loss in self.distill_losses.values()):
            gt_labels = torch.stack([sample.gt_sem_seg.data[0] for sample in data_samples]).long()
        for name, loss in self.distill_losses.items():
            student_tap, teacher_tap = self.loss_taps[name]
            with student_gradient:
                student_tensor = loss.refine_student(self.student_recorder.get(student_tap))
            teacher_tensor = self.teacher_recorder.get(teacher_tap)
            if name in self.connectors:
                student_tensor = self.connectors[name](student_tensor, teacher_tensor.shape[-2:])
            extra = {'gt_labels': gt_labels} if loss.uses_labels else {}
            value = loss(student_tensor, teacher_tensor, **extra)
            if isinstance(value, dict):  # a loss of several terms: one log key per term
                for term, term_value in value.items():
                    if term in loss.monitored_terms:
                        losses[monitored_key(name, term)] = term_value.detach()
                    else:
                        losses[f'distill.{name}_{term}'] = term_value
            else:
                losses[f'distill.{name}'] = value
        self.student_recorder.clear()
        self.teacher_recorder.clear()
        return losses

    @staticmethod
    def _scaled(value, factor: float):
        """A student loss term (a tensor or a list of tensors) times ``factor``."""
        if isinstance(value, (list, tuple)):
            return type(value)(item * factor for item in value)
        return value * factor

    # ------------------------------------------------------------------ inference: the student alone
    def predict(self, inputs: torch.Tensor, data_samples=None):
        return self.student.predict(inputs, data_samples)

    def _forward(self, inputs: torch.Tensor, data_samples=None):
        return self.student._forward(inputs, data_samples)

    def extract_feat(self, inputs: torch.Tensor):
        return self.student.extract_feat(inputs)

    def encode_decode(self, inputs: torch.Tensor, batch_data_samples):
        return self.student.encode_decode(inputs, batch_data_samples)
