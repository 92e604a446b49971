"""SegDistiller: an mmseg segmentor that trains a student under a frozen teacher.

Training step (``mode='loss'``)::

    batch ── data_preprocessor (the student's) ──► inputs
       ├─► teacher: backbone (+neck) and only the heads that hold a tap, eval, no_grad
       └─► student.loss(): the student's own losses (decode.loss_ce, aux.loss_ce, ...), optionally
           multiplied by a weight schedule (AICSD's adaptive loss weighting)
    for each distillation term (one per distill_losses entry, :mod:`~mmseg_kd.distillers.distill_term`):
        tensors recorded at its taps ──► refine_student ──► connector ──► loss ──► distill.<name>
    losses: {decode.loss_ce, aux.loss_ce, distill.<name>, ...}  (mmengine sums every '*loss*' key;
            monitored terms are logged under keys without 'loss')

Build: the student and teacher are built from their configs, the teacher's weights loaded strictly, then
:func:`~mmseg_kd.distillers.distillation_build.build_distillation` builds every term and checks it on one dry forward
pass (the same check ``tools/analysis/list_taps.py`` prints); any problem stops the build with every problem listed.

Prediction and testing run the student alone. The teacher is deliberately not a submodule: it is absent
from ``state_dict()`` (checkpoints hold the student, connectors and loss buffers), from the optimizer and
from DDP, and ``train()`` cannot switch it out of eval mode (except its norm layers, with
``teacher=dict(..., bn_train=True)``). It still follows ``.to()``/``.cuda()``.

Connectors (``mmseg_kd/layers/connectors.py``) are built by the check, which knows the channel counts, into
``self.connectors`` (keyed by loss name): they are part of the distiller's state_dict, optimizer and DDP module.
With ``connector_warmup`` the first iterations train the connectors alone
(:mod:`~mmseg_kd.distillers.connector_warmup`).
"""
import contextlib
from typing import Dict, Optional, Tuple

import torch
from mmengine.registry import DefaultScope
from mmseg.models.segmentors.base import BaseSegmentor
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmseg_kd.distillers.cached_teacher import CachedTeacherLogits, checked_cache_stride
from mmseg_kd.distillers.distill_term import DistillConfigError
from mmseg_kd.distillers.distillation_build import DRY_RUN_INPUT_SIZE, build_distillation
from mmseg_kd.distillers.forward_for_taps import forward_for_taps
from mmseg_kd.distillers.frozen_teacher import FrozenTeacherHolder
from mmseg_kd.distillers.model_config import resolve_model_config
from mmseg_kd.distillers.teacher_checkpoint import load_teacher_checkpoint
from mmseg_kd.registry import MODELS
from mmseg_kd.schedules.loss_weight_schedules import build_weight_schedule, current_train_iteration

AUTOCAST_DTYPES = {None: None, 'float32': None, 'bfloat16': torch.bfloat16, 'float16': torch.float16}


@MODELS.register_module()
class SegDistiller(FrozenTeacherHolder, BaseSegmentor):
    """Distil a frozen teacher segmentor into a student segmentor.

    Args:
        student: ``dict(cfg_path=...)`` (local config or ``mmseg::`` reference), ``dict(model=...)`` or an
            inline model dict; optional ``cfg_options`` (dotted keys merged into that config) and
            ``loss_weight_schedule`` (a weight schedule, ``mmseg_kd.schedules``, that multiplies every loss of the
            student's own heads, e.g. ``dict(type='TrainingProgress')`` for AICSD's adaptive loss weighting α·L_CE).
        teacher: ``cfg_path``/``model``/inline model and ``cfg_options`` as ``student`` (``loss_weight_schedule`` is
            the student's alone), plus ``checkpoint`` (a path or an http(s) URL of the teacher's weights; ``None``
            builds a randomly initialised teacher, for tests and config checks only), ``checkpoint_sha256`` (the
            file's SHA-256 or its first 8 or more hex digits, checked before loading), ``checkpoint_cache_dir``
            (where a URL is downloaded to; torch hub's folder by default), ``allow_unsafe_checkpoint`` (load a pickle
            that needs code; only for files you trust), ``autocast_dtype`` (``'bfloat16'``/``'float16'``: run the
            teacher under autocast; losses still compute in float32), ``channels_last`` (teacher weights and inputs
            in channels-last memory format) and ``bn_train`` (run the teacher's batch-norm layers in train mode,
            with batch statistics, while the student trains; dropout stays off. The Overhaul lineage did this,
            Overhaul Table 8) and ``cache`` (a folder written by ``tools/cache_teacher.py``: the teacher's logits come
            from the training pipeline instead of its forward pass, and its weights are not loaded;
            :mod:`~mmseg_kd.distillers.cached_teacher`). A key of the other role's entry, or an unknown key, stops the
            build (:func:`~mmseg_kd.distillers.model_config.check_entry_settings`).
        distill_losses: ``{name: dict(type=..., student=TAP, teacher=TAP, loss_weight=..., ...)}``, one
            distillation term each (:class:`~mmseg_kd.distillers.distill_term.DistillTerm`). Names start with
            ``loss_``; each is logged as ``distill.<name>`` (a loss returning a dict of terms, e.g. CIRKD's memory
            contrast, as ``distill.<name>_<term>``; a monitored term, logged but not optimised, such as the
            adversarial discriminator's own loss, as ``distill.<name without 'loss_'>_<term>``). A TAP is a module
            path of ``named_modules()`` or ``dict(module=path, record='output'|'input'|'pre_activation', index=i)``
            (:mod:`~mmseg_kd.distillers.taps`: ``index`` picks an element of a tuple/list; tokens become maps).
            An entry may carry ``connector=dict(type='ConvBNConnector', ...)``: a trainable adapter applied to the
            student tensor (``in_channels``/``out_channels`` are filled in).
        connector_warmup: ``dict(iters=N, freeze_after=False)``: the first N training iterations train only the
            connectors (the Overhaul lineage's epoch 0); ``freeze_after=True`` keeps them fixed afterwards (AttnFD).
            Needs a connector with parameters; under DDP set ``find_unused_parameters = True``.
        data_preprocessor: defaults to the student's; the teacher receives the same preprocessed batch.
        tap_check_input_size: (H, W), integers >= 1, of the dry forward pass that checks taps and shapes at build
            time; default 64x64, and ``tools/train.py`` sets it to the size the config trains at when the config
            does not (:mod:`mmseg_kd.engine.input_sizes`).
        init_cfg: mmengine init config of the distiller (rarely needed).
    """

    def __init__(self,
                 student: dict,
                 teacher: dict,
                 distill_losses: Dict[str, dict],
                 connector_warmup: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 tap_check_input_size: Tuple[int, int] = DRY_RUN_INPUT_SIZE,
                 init_cfg: Optional[dict] = None):
        # Outside mmseg's runner no registry scope is set; the models' parts are mmseg modules.
        scope = None if DefaultScope.get_current_instance() is not None else 'mmseg'
        with DefaultScope.overwrite_default_scope(scope):
            self._build(student, teacher, distill_losses, connector_warmup, data_preprocessor, tap_check_input_size,
                        init_cfg)

    def _build(self, student, teacher, distill_losses, connector_warmup, data_preprocessor, tap_check_input_size,
               init_cfg):
        student_cfg = resolve_model_config(student, 'student')
        teacher_cfg = resolve_model_config(teacher, 'teacher')
        if data_preprocessor is None:
            data_preprocessor = student_cfg.get('data_preprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)

        self.student = MODELS.build(student_cfg)
        self.student_loss_weight_schedule = build_weight_schedule(student.get('loss_weight_schedule'),
                                                                  'student.loss_weight_schedule')
        teacher_model = MODELS.build(teacher_cfg)
        if teacher.get('cache') is None:
            load_teacher_checkpoint(teacher_model, teacher)
        teacher_model.eval()
        if teacher.get('autocast_dtype') not in AUTOCAST_DTYPES:
            raise ValueError(f"teacher.autocast_dtype must be one of {sorted(k for k in AUTOCAST_DTYPES if k)} "
                             f"or None, got {teacher.get('autocast_dtype')!r}")
        self.teacher_autocast_dtype = AUTOCAST_DTYPES[teacher.get('autocast_dtype')]
        self.teacher_channels_last = bool(teacher.get('channels_last', False))
        self.teacher_bn_train = bool(teacher.get('bn_train', False))
        if self.teacher_channels_last:
            teacher_model.to(memory_format=torch.channels_last)
        self.hold_teacher(teacher_model)

        built = build_distillation(
            dict(student=self.student, teacher=teacher_model), distill_losses, tap_check_input_size,
            data_preprocessor=data_preprocessor, teacher_preprocessor=teacher_cfg.get('data_preprocessor'),
            connector_warmup=connector_warmup)
        if not built.report.ok:
            raise built.report.error()
        self.teacher_cache = None
        if teacher.get('cache') is not None:
            self.teacher_cache = self._cached_teacher(teacher, teacher_cfg, teacher_model, built.terms)
        self.terms, self.connector_warmup = built.terms, built.connector_warmup
        self.student_recorder, self.teacher_recorder = built.recorders['student'], built.recorders['teacher']
        self._teacher_paths = [tap.module for tap in self.teacher_recorder.taps]
        self.distill_losses = nn.ModuleDict({name: term.loss for name, term in self.terms.items()})
        self.connectors = nn.ModuleDict({name: term.connector for name, term in self.terms.items()
                                         if term.connector is not None})
        self.connectors.train(self.training)

    @staticmethod
    def _cached_teacher(entry: dict, teacher_cfg, teacher_model: nn.Module, terms) -> CachedTeacherLogits:
        """The cache that serves the teacher's logit taps; refuses terms whose teacher taps it does not hold."""
        uncached = CachedTeacherLogits.uncached_taps({name: term.taps['teacher'] for name, term in terms.items()})
        if uncached:
            raise DistillConfigError(
                f"teacher.cache holds the teacher's logits only (decode_head.conv_seg), but these entries tap other "
                f"teacher tensors: {'; '.join(uncached)}. Remove teacher.cache to run the teacher online.")
        stride = checked_cache_stride(entry['cache'], entry, teacher_cfg, teacher_model.decode_head.num_classes)
        return CachedTeacherLogits(stride, entry['cache'])

    # ------------------------------------------------------------------ training
    def train(self, mode: bool = True):
        """Switch the student (and connectors) between train and eval; the teacher stays in eval
        (its norm layers follow ``mode`` when the teacher entry sets ``bn_train``)."""
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
        """The student's own losses (scheduled), then every distillation term, each under its own log keys."""
        iteration = current_train_iteration()
        self.connector_warmup.set_connectors_trainable(self.connectors, iteration)
        if self.teacher_cache is None:
            self.teacher_forward(inputs)
            teacher_taps = self.teacher_recorder
        else:
            self.teacher_cache.load(data_samples, inputs.shape)
            teacher_taps = self.teacher_cache
        with self.connector_warmup.student_gradient(iteration), self.student_recorder.recording():
            losses = self.student.loss(inputs, data_samples)
        factor = self.student_loss_weight_schedule(iteration)
        if factor != 1:
            losses = {key: self._scaled(value, factor) if 'loss' in key else value for key, value in losses.items()}
        gt_labels = None
        if any(term.uses_labels for term in self.terms.values()):
            gt_labels = torch.stack([sample.gt_sem_seg.data[0] for sample in data_samples]).long()
        for term in self.terms.values():
            losses.update(term.compute(self.student_recorder.get(term.taps['student']),
                                       teacher_taps.get(term.taps['teacher']), iteration, gt_labels,
                                       self.connector_warmup.student_gradient(iteration)))
        self.student_recorder.clear()
        teacher_taps.clear()
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


def is_distiller_config(model_cfg: dict) -> bool:
    """Whether a ``model`` config builds a :class:`SegDistiller` (or a subclass)."""
    model_type = model_cfg.get('type')
    if isinstance(model_type, type):
        return issubclass(model_type, SegDistiller)
    registered = MODELS.get(model_type) if isinstance(model_type, str) else None
    return isinstance(registered, type) and issubclass(registered, SegDistiller)


def effective_data_preprocessor(model_cfg: dict) -> Optional[dict]:
    """The data preprocessor config a ``model`` config really uses: a distiller without its own uses its student's."""
    preprocessor = model_cfg.get('data_preprocessor')
    if preprocessor is None and is_distiller_config(model_cfg):
        preprocessor = resolve_model_config(model_cfg['student'], 'student').get('data_preprocessor')
    return preprocessor
