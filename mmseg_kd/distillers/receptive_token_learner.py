"""ReceptiveTokenLearner: MasKD's first stage, the receptive tokens learnt on a frozen teacher (hunto/MasKD,
``segmentation/train_mask_module.py``), as a model that mmengine's runner trains.

Training step (``mode='loss'``), for teacher decode-head logits y (B, K, h, w) and tokens W (T, K)::

    batch ── data_preprocessor (the teacher's) ──► inputs ── teacher, no_grad ──► y
    m = sigmoid(W · y)                        (B, T, h, w)   :func:`~mmseg_kd.losses.receptive_tokens.token_masks`
    ŷ = Σ_t m_t ⊙ y                           (B, K, h, w)   the token-masked logits
    loss_ce   = CE(bilinear(ŷ → label size, align_corners=True), labels), pixels labelled ignore_index left out
    loss_dice = mean dice between the masks of different tokens            (:func:`token_dice`)

Only the tokens are trained (initialised N(0, 0.01²) as released); they are the model's only parameter and
its whole state dict, so checkpoints are small and ``--resume`` continues the same run. The teacher is not a
submodule (as in :class:`~mmseg_kd.distillers.seg_distiller.SegDistiller`): it is frozen, absent from checkpoints,
the optimizer and DDP. As released, it runs in train mode (batch-norm batch statistics and dropout) under no_grad;
``teacher_train_mode=False`` runs it in eval mode instead. A teacher's SyncBN layers become BN in a run without a
process group (as mmengine's runner does for the trained model).
"""
from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.dist import is_distributed
from mmengine.model import BaseModel, revert_sync_batchnorm
from mmengine.registry import DefaultScope
from torch import nn

from mmseg_kd.distillers.frozen_teacher import FrozenTeacherHolder
from mmseg_kd.distillers.model_config import resolve_model_config
from mmseg_kd.distillers.teacher_checkpoint import load_teacher_checkpoint
from mmseg_kd.losses.receptive_tokens import token_dice, token_masks
from mmseg_kd.registry import MODELS
from mmseg_kd.utils.argument_checks import boolean, integer, integer_at_least


@MODELS.register_module()
class ReceptiveTokenLearner(FrozenTeacherHolder, BaseModel):
    """Learn ``num_tokens`` receptive tokens on a frozen teacher segmentor's decode-head logits.

    Args:
        teacher: the distiller's teacher entry (``cfg_path``/``model`` and ``checkpoint``, see
            :class:`~mmseg_kd.distillers.seg_distiller.SegDistiller`).
        num_classes: K, the classes of the teacher's decode head.
        num_tokens: T >= 2 (the dice term compares pairs of tokens).
        ignore_index: the label of pixels the cross-entropy leaves out.
        teacher_train_mode: run the teacher in train mode (batch statistics, dropout), as released.
        data_preprocessor: defaults to the teacher's.
    """

    def __init__(self, teacher: dict, num_classes: int, num_tokens: int = 8, ignore_index: int = 255,
                 teacher_train_mode: bool = True, data_preprocessor: Optional[dict] = None):
        name = type(self).__name__
        scope = None if DefaultScope.get_current_instance() is not None else 'mmseg'
        with DefaultScope.overwrite_default_scope(scope):
            teacher_cfg = resolve_model_config(teacher, 'teacher')
            super().__init__(data_preprocessor=data_preprocessor or teacher_cfg.get('data_preprocessor'))
            teacher_model = MODELS.build(teacher_cfg)
        load_teacher_checkpoint(teacher_model, teacher)
        if not is_distributed():
            teacher_model = revert_sync_batchnorm(teacher_model)
        self.hold_teacher(teacher_model)
        self.num_classes = integer_at_least(name, 'num_classes', num_classes, 1)
        self.num_tokens = integer_at_least(name, 'num_tokens', num_tokens, 2)
        self.ignore_index = integer(name, 'ignore_index', ignore_index)
        self.teacher_train_mode = boolean(name, 'teacher_train_mode', teacher_train_mode)
        self.tokens = nn.Parameter(torch.randn(self.num_tokens, self.num_classes) * 0.01)
        self.train(True)

    def train(self, mode: bool = True):
        super().train(mode)
        self.teacher.train(mode and self.teacher_train_mode)
        return self

    @torch.no_grad()
    def teacher_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """The teacher's decode-head logits (B, K, h, w) on preprocessed ``inputs`` (B, 3, H, W)."""
        logits = self.teacher.decode_head.forward(self.teacher.extract_feat(inputs))
        if logits.shape[1] != self.num_classes:
            raise ValueError(f'{type(self).__name__} has num_classes={self.num_classes}, but the teacher\'s decode '
                             f'head predicts {logits.shape[1]} classes; set num_classes to the teacher\'s.')
        return logits.float()

    def forward(self, inputs: torch.Tensor, data_samples=None, mode: str = 'loss'):
        if mode != 'loss':
            raise ValueError(f"{type(self).__name__} only trains (mode='loss'), got mode={mode!r}")
        logits = self.teacher_logits(inputs)
        masks = token_masks(self.tokens, logits)  # (B, T, h, w)
        masked_logits = logits * masks.sum(dim=1, keepdim=True)  # Σ_t m_t ⊙ y
        labels = torch.stack([sample.gt_sem_seg.data.squeeze(0) for sample in data_samples]).long()
        masked_logits = F.interpolate(masked_logits, size=labels.shape[-2:], mode='bilinear', align_corners=True)
        return dict(loss_ce=F.cross_entropy(masked_logits, labels, ignore_index=self.ignore_index),
                    loss_dice=token_dice(masks))
