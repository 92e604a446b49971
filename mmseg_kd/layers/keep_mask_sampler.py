"""Keep-masks of masked generative distillation (MGD, Af-DCD): which feature pixels the student keeps.

A keep-mask M ∈ {0, 1}^{B×1×H×W} (1 = kept, the same for every channel) is either

* ``'random'``: M[b, 0, h, w] = 1[u ≤ 1 − r] with u ~ U[0, 1) drawn per pixel and r the mask ratio (the authors'
  ``torch.where(rand > 1 - r, 0, 1)``), a new draw every step; or
* ``'center'``: all ones except the centre third, M[:, :, H//3:2H//3, W//3:2W//3] = 0.

The draws come from a ``torch.Generator`` owned by the sampler, whose state is the sampler's extra state, so
checkpoints carry it and a resumed run draws the same masks as an uninterrupted one. In a distributed run every
process holds the same generator and draws the masks of all processes, keeping its own slice: the processes mask
differently, and the state that rank 0 saves is every process's state.
"""
from typing import Optional, Sequence

import torch
from mmengine.dist import get_dist_info
from torch import nn

from mmseg_kd.utils.argument_checks import integer_at_least, number_in_range, one_of

MASK_TYPES = ('random', 'center')


class KeepMaskSampler(nn.Module):
    """Draws keep-masks (B, 1, H, W) of float 0/1 values from its own seeded generator.

    Args:
        mask_ratio: the expected fraction r of masked (zeroed) pixels of a ``'random'`` mask, in [0, 1].
        mask_type: ``'random'`` (a new draw every call) or ``'center'`` (the fixed centre third).
        seed: the generator's seed; ``None`` takes ``torch.initial_seed()`` (the runner's ``randomness.seed``).
        owner: the class named in argument errors.
    """

    def __init__(self, mask_ratio: float = 0.75, mask_type: str = 'random', seed: Optional[int] = None,
                 owner: str = 'KeepMaskSampler'):
        super().__init__()
        self.mask_ratio = number_in_range(owner, 'mask_ratio', mask_ratio, 0, 1)
        self.mask_type = one_of(owner, 'mask_type', mask_type, MASK_TYPES)
        seed = integer_at_least(owner, 'seed', seed, 0, allow_none=True)
        self.generator = torch.Generator().manual_seed(torch.initial_seed() % 2**63 if seed is None else seed)

    def forward(self, shape: Sequence[int], device: torch.device) -> torch.Tensor:
        """A keep-mask for feature maps of ``shape`` = (B, C, H, W): (B, 1, H, W), float 0/1 on ``device``."""
        batch, height, width = shape[0], shape[2], shape[3]
        if self.mask_type == 'center':
            keep = torch.ones(batch, 1, height, width, device=device)
            keep[:, :, height // 3:2 * height // 3, width // 3:2 * width // 3] = 0
            return keep
        rank, world_size = get_dist_info()
        uniform = torch.rand((world_size, batch, 1, height, width), generator=self.generator)[rank]
        return (uniform <= 1 - self.mask_ratio).float().to(device)

    def get_extra_state(self) -> torch.Tensor:
        """The generator's state (a uint8 tensor): saved in checkpoints, restored on resume."""
        return self.generator.get_state()

    def set_extra_state(self, state: torch.Tensor) -> None:
        self.generator.set_state(state.to(device='cpu', dtype=torch.uint8))
