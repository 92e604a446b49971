"""Runner hooks of mmseg-kd."""
from mmseg_kd.engine.hooks.distill_loss_grad_clip_hook import DistillLossGradClipHook

__all__ = ['DistillLossGradClipHook']
