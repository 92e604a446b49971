"""Loss-weight schedules: a factor in [0, 1] that multiplies a loss's ``loss_weight``.

The factor is a pure function of the training iteration (and, for the training-progress schedules, of
the run's length). Losses read the iteration from mmengine's ``MessageHub`` (``'iter'``, set by the
runner's ``RuntimeInfoHook`` before every training iteration and restored on resume), so a resumed run
continues the schedule where it stopped; the run's length is the hub's ``'max_iters'`` (set by the same
hook when training starts, also for epoch-based loops).

A schedule is given in a loss's config, e.g. SegDistill's CGD+WS (linear warm-up over the first 2k
iterations, linear decay to zero between 110k and 120k of 160k)::

    weight_schedule=dict(type='LinearWarmupDecay', warmup_iters=2000,
                         decay_start_iter=110000, decay_end_iter=120000)
"""
import math
from typing import Optional

from mmengine.logging import MessageHub

from mmseg_kd.registry import WEIGHT_SCHEDULES
from mmseg_kd.utils.argument_checks import integer_at_least


def current_train_iteration() -> int:
    """The runner's current training iteration (0 before training starts or outside a runner)."""
    iteration = MessageHub.get_current_instance().get_info('iter')
    return 0 if iteration is None else int(iteration)


@WEIGHT_SCHEDULES.register_module()
class ConstantWeight:
    """Factor 1 at every iteration (the default when a loss names no schedule)."""

    def __call__(self, iteration: int) -> float:
        return 1.0


@WEIGHT_SCHEDULES.register_module()
class LinearWarmupDecay:
    """Linear warm-up from 0 to 1, a plateau at 1, then a linear decay to 0 (and 0 after it).

    factor(n) = n / warmup_iters                                   for n < warmup_iters
              = 1                                                  until decay_start_iter
              = (decay_end_iter - n) / (decay_end_iter - decay_start_iter)  until decay_end_iter
              = 0                                                  from decay_end_iter on

    Args:
        warmup_iters: length of the warm-up; 0 disables it.
        decay_start_iter: iteration where the decay starts; ``None`` disables the decay.
        decay_end_iter: iteration from which the factor is 0; required with ``decay_start_iter``.
    """

    def __init__(self, warmup_iters: int = 0, decay_start_iter: Optional[int] = None,
                 decay_end_iter: Optional[int] = None):
        owner = type(self).__name__
        warmup_iters = integer_at_least(owner, 'warmup_iters', warmup_iters, 0)
        decay_start_iter = integer_at_least(owner, 'decay_start_iter', decay_start_iter, 0, allow_none=True)
        decay_end_iter = integer_at_least(owner, 'decay_end_iter', decay_end_iter, 1, allow_none=True)
        if (decay_start_iter is None) != (decay_end_iter is None):
            raise ValueError('LinearWarmupDecay: give both decay_start_iter and decay_end_iter, or neither')
        if decay_start_iter is not None and not warmup_iters <= decay_start_iter < decay_end_iter:
            raise ValueError(
                'LinearWarmupDecay: need warmup_iters <= decay_start_iter < decay_end_iter, got '
                f'{warmup_iters}, {decay_start_iter}, {decay_end_iter}')
        self.warmup_iters = warmup_iters
        self.decay_start_iter = decay_start_iter
        self.decay_end_iter = decay_end_iter

    def __call__(self, iteration: int) -> float:
        if iteration < self.warmup_iters:
            return iteration / self.warmup_iters
        if self.decay_start_iter is None or iteration <= self.decay_start_iter:
            return 1.0
        if iteration >= self.decay_end_iter:
            return 0.0
        return (self.decay_end_iter - iteration) / (self.decay_end_iter - self.decay_start_iter)


@WEIGHT_SCHEDULES.register_module()
class TrainingProgress:
    """α = n / N, the fraction of training done: 0 at the first iteration, rising linearly towards 1.

    AICSD's adaptive loss weighting (ALW) uses α = e / E (epoch e = 0 … E−1 of E):
    L = α · (L_CE + L_ICSD) + (1 − α) · L_KD. Give ``TrainingProgress`` to the ICSD loss (and, through
    ``SegDistiller(student_loss_weight_schedule=...)``, to the student's own CE) and
    :class:`RemainingTraining` (1 − α) to the pixel-wise KD.

    Args:
        max_iters: N. ``None`` (default) reads ``'max_iters'`` from the message hub (the runner's
            ``train_cfg``); outside a training run (no ``'max_iters'`` yet) the progress is 0.
        num_steps: ``None`` for a continuous α = n / N; an integer E for AICSD's staircase over E equal
            steps ("epochs"), α = ⌊E · n / N⌋ / E, which ends at (E − 1) / E like the reference.

    α is clipped to [0, 1].
    """

    def __init__(self, max_iters: Optional[int] = None, num_steps: Optional[int] = None):
        self.max_iters = integer_at_least(type(self).__name__, 'max_iters', max_iters, 1, allow_none=True)
        self.num_steps = integer_at_least(type(self).__name__, 'num_steps', num_steps, 1, allow_none=True)

    def progress(self, iteration: int) -> float:
        """α at ``iteration``."""
        total = self.max_iters
        if total is None:
            total = MessageHub.get_current_instance().get_info('max_iters')
        if not total:
            return 0.0
        alpha = min(max(iteration / total, 0.0), 1.0)
        if self.num_steps is not None:
            alpha = math.floor(alpha * self.num_steps) / self.num_steps
        return alpha

    def __call__(self, iteration: int) -> float:
        return self.progress(iteration)


@WEIGHT_SCHEDULES.register_module()
class RemainingTraining(TrainingProgress):
    """1 − α, the fraction of training left (see :class:`TrainingProgress`; same arguments).

    AICSD's ALW weighs the pixel-wise KD by 1 − α: it fades out while CE and ICSD fade in.
    """

    def __call__(self, iteration: int) -> float:
        return 1.0 - self.progress(iteration)


def build_weight_schedule(cfg: Optional[dict], what: str = 'weight_schedule'):
    """Build a schedule from its config; ``None`` gives :class:`ConstantWeight`.

    Args:
        cfg: ``dict(type=NAME, **arguments)`` or ``None``.
        what: how messages name the config (``'student.loss_weight_schedule'`` for the distiller's).
    """
    if cfg is None:
        return ConstantWeight()
    if not isinstance(cfg, dict):
        raise ValueError(f"{what} must be None or a dict such as dict(type='LinearWarmupDecay', ...), got {cfg!r}")
    args = dict(cfg)
    name = args.pop('type', None)
    schedule = WEIGHT_SCHEDULES.get(name) if isinstance(name, str) else name
    if schedule is None:
        raise KeyError(f'unknown {what} type {name!r}; registered: '
                       f'{", ".join(sorted(WEIGHT_SCHEDULES.module_dict))}')
    return schedule(**args)
