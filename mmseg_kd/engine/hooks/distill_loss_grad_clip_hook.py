"""Clip the gradient norm of a distillation loss's own parameters, leaving the student's gradients alone.

Af-DCD calls ``clip_grad_norm_(criterion.parameters(), max_norm=15)`` between ``backward`` and the optimizer step:
only the loss module's gradients (its ``align`` and projector), after they were averaged over the processes. A
loss asks for it with ``max_grad_norm``; this hook registers an optimizer step pre-hook that clips, for each such
loss, the L2 norm of its parameters' gradients to its ``max_grad_norm`` just before every optimizer step (with
gradient accumulation: before the steps that happen; under AMP, mmengine's loss scaler has unscaled them by then).
"""
from typing import List

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapperDict
from mmengine.registry import HOOKS
from torch import nn


def losses_to_clip(model: nn.Module) -> List[nn.Module]:
    """The modules of ``model`` with a ``max_grad_norm`` that is not ``None`` (distillation losses)."""
    model = model.module if is_model_wrapper(model) else model
    return [module for module in model.modules() if getattr(module, 'max_grad_norm', None) is not None]


@HOOKS.register_module()
class DistillLossGradClipHook(Hook):
    """Before every optimizer step, clip each loss's own gradients to its ``max_grad_norm`` (L2 norm).

    ``tools/train.py`` adds it to every training run; it does nothing when no loss sets ``max_grad_norm``.
    """

    priority = 'NORMAL'

    def before_train(self, runner) -> None:
        losses = losses_to_clip(runner.model)
        if not losses:
            return

        def clip(optimizer, args, kwargs):
            for loss in losses:
                torch.nn.utils.clip_grad_norm_(loss.parameters(), max_norm=loss.max_grad_norm, norm_type=2)

        wrapper = runner.optim_wrapper
        wrappers = wrapper.values() if isinstance(wrapper, OptimWrapperDict) else [wrapper]
        for optimizer in {id(w.optimizer): w.optimizer for w in wrappers}.values():  # clipping twice changes nothing
            optimizer.register_step_pre_hook(clip)
        for loss in losses:
            loss.grad_clip_hook_installed = True
