"""Holistic adversarial distillation: the holistic term of SKD (Liu et al., "Structured Knowledge Distillation
for Semantic Segmentation", CVPR 2019), as CIRKD's SKD, IFVD and CWD baselines train it (winycg/CIRKD,
``train_kd.py``, ``losses/adv.py``, ``utils/sagan.py``; docs/methods.md).

A discriminator D (``logit_discriminator.py``) learns to tell the teacher's class maps z_t (B, K, h, w) from
the student's z_s; the student learns to fool it. Hinge losses, means over D's score map (B, 1, h', w'):

    L_D = mean ReLU(1 − D(z_t)) + mean ReLU(1 + D(sg(z_s)))      sg: stop-gradient
    L_G = − mean D(z_s)

Every training step, inside this loss's forward:

1. discriminator step: g = ∇_θD (λ_d · L_D), averaged over processes; one step of D's own Adam
   (CIRKD: λ_d = 0.1, lr 4e-4, betas (0.9, 0.99); the lr stays constant, as in CIRKD, whose poly schedule
   sets only the student's SGD);
2. generator term, with the updated D: λ_adv · L_G (CIRKD: λ_adv = 0.001 = ``loss_weight``); its gradient
   reaches the student's logits only.

D's parameters have ``requires_grad=False`` outside step 1 and hold a ``.grad`` only inside it: the
distiller's optimizer (which lists them, as every parameter of the model) skips them, the student's loss
gives them no gradient, and DDP does not track them. D's input BN and spectral norms run in training mode, on
each map separately, as in CIRKD. Across processes D's parameters and optimizer state stay identical (same
start, averaged gradients); with BN instead of SyncBN its running statistics are per process (training uses
batch statistics; rank 0's are saved). D's optimizer state is saved in the distiller's
``state_dict`` (see ``_save_to_state_dict``), so checkpoints and ``--resume`` keep it.

Logged: ``distill.<name>_generator`` = λ_adv · L_G (in the total loss) and
``distill.<name without 'loss_'>_discriminator_hinge`` = L_D before the step (unweighted; monitored only,
its key has no 'loss' so mmengine leaves it out of the total).

Deviation from CIRKD's code: CIRKD computes L_G with D before that step's update (it steps the student,
then D); here the student's term uses D after the update (one discriminator step, then the generator
term, the usual alternating GAN order), so the update can happen inside the loss.
"""
import copy
from typing import Dict, Optional

import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmengine.dist import get_world_size
from mmengine.registry import OPTIMIZERS

from mmseg_kd.layers.logit_discriminator import MIN_BASE_CHANNELS, LogitDiscriminator
from mmseg_kd.losses.distill_loss import LogitDistillLoss, full_precision
from mmseg_kd.registry import MODELS
from mmseg_kd.utils.argument_checks import integer_at_least, norm_config, positive_number

#: state_dict key part under which the discriminator optimizer's state is saved.
OPTIMIZER_STATE = 'discriminator_optimizer_state'


def optimizer_config(owner: str, name: str, config) -> dict:
    """An optimizer config (``dict(type='Adam', lr=...)``) that builds, checked on a stand-in parameter."""
    if not isinstance(config, dict) or 'type' not in config:
        raise ValueError(f"{owner}: {name} must be an optimizer config such as dict(type='Adam', lr=4e-4), got "
                         f'{config!r}')
    try:
        OPTIMIZERS.build(dict(config, params=[torch.nn.Parameter(torch.zeros(1))]))
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f'{owner}: {name} {dict(config)!r} cannot be built: {error}') from error
    return dict(config)


def discriminator_hinge_loss(teacher_scores: torch.Tensor, student_scores: torch.Tensor) -> torch.Tensor:
    """L_D = mean ReLU(1 − D(z_t)) + mean ReLU(1 + D(z_s)) for score maps of any shape."""
    return F.relu(1.0 - teacher_scores).mean() + F.relu(1.0 + student_scores).mean()


def generator_loss(student_scores: torch.Tensor) -> torch.Tensor:
    """L_G = − mean D(z_s)."""
    return -student_scores.mean()


@MODELS.register_module()
class HolisticAdversarialDistillation(LogitDistillLoss):
    """SKD's holistic adversarial term: a discriminator trained in this loss's forward, a generator term
    returned to the student.

    Args:
        discriminator_loss_weight: λ_d > 0, the factor of L_D in the discriminator's gradient (CIRKD: 0.1).
        discriminator_optimizer: the discriminator's optimizer (a ``torch.optim`` name, built through
            mmengine's ``OPTIMIZERS``); its lr stays constant (CIRKD: Adam, lr 4e-4, betas (0.9, 0.99)).
        discriminator_base_channels: width of the discriminator's first convolution (64; at least 2).
        norm_cfg: the discriminator's input normalisation (CIRKD: SyncBN; mmengine turns it into BN in
            single-process runs; use BN for multi-process CPU runs).
        num_classes: K >= 1; by default taken from the tapped logits when the distiller checks shapes at build
            time (give it to use the loss outside a distiller).
        loss_weight: λ_adv, the weight of L_G (CIRKD: 0.001); ``weight_schedule`` scales it. The
            discriminator keeps training while the scheduled weight is 0.

    Shapes: student (B, K, h_s, w_s) (bilinearly resized to the teacher's h×w), teacher (B, K, h, w) with
    h, w ≥ 64 → ``{'generator': scalar, 'discriminator_hinge': detached scalar}``.
    """

    #: Logged but not optimised (see ``DistillLoss.monitored_terms``).
    monitored_terms = ('discriminator_hinge',)

    def __init__(self,
                 discriminator_loss_weight: float = 0.1,
                 discriminator_optimizer: Optional[dict] = None,
                 discriminator_base_channels: int = 64,
                 norm_cfg: Optional[dict] = None,
                 num_classes: Optional[int] = None,
                 **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.discriminator_loss_weight = positive_number(owner, 'discriminator_loss_weight',
                                                         discriminator_loss_weight)
        self.discriminator_optimizer_cfg = optimizer_config(
            owner, 'discriminator_optimizer', discriminator_optimizer or dict(type='Adam', lr=4e-4, betas=(0.9, 0.99)))
        self.discriminator_base_channels = integer_at_least(owner, 'discriminator_base_channels',
                                                            discriminator_base_channels, MIN_BASE_CHANNELS)
        self.norm_cfg = norm_config(owner, 'norm_cfg', norm_cfg, allow_none=True) or dict(type='SyncBN',
                                                                                          requires_grad=True)
        self.discriminator = None
        self.discriminator_optimizer = None
        num_classes = integer_at_least(owner, 'num_classes', num_classes, 1, allow_none=True)
        if num_classes is not None:
            self._build(num_classes)

    def _build(self, num_classes: int) -> None:
        try:
            self.discriminator = LogitDiscriminator(num_classes, self.discriminator_base_channels, self.norm_cfg)
        except (KeyError, TypeError) as error:  # norm_cfg arguments that its layer does not take
            raise ValueError(f'{type(self).__name__}: norm_cfg {self.norm_cfg!r} cannot be built: {error}') from error
        self.discriminator.requires_grad_(False)
        self.discriminator_optimizer = OPTIMIZERS.build(
            dict(self.discriminator_optimizer_cfg, params=list(self.discriminator.parameters())))

    def prepare(self, student_shape, teacher_shape, teacher, teacher_tap):
        """Build the discriminator for the teacher's class count K once it is known (unless ``num_classes`` gave
        it)."""
        if self.discriminator is None and len(teacher_shape) == 4:
            self._build(teacher_shape[1])

    def check_shapes(self, student_shape, teacher_shape):
        super().check_shapes(student_shape, teacher_shape)
        LogitDiscriminator.check_map_size(tuple(teacher_shape[2:]))
        if self.discriminator is not None and self.discriminator.input_norm.num_features != teacher_shape[1]:
            raise ValueError(f'{type(self).__name__} was built for {self.discriminator.input_norm.num_features} '
                             f'classes, the taps give {teacher_shape[1]}')

    # ------------------------------------------------------------------ discriminator step
    def discriminator_step(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        """One optimizer step of D on λ_d · L_D of the detached maps, gradients averaged over processes.

        Args:
            student, teacher: z_s and z_t, (B, K, h, w) float32.

        Returns:
            L_D before the step, a detached scalar.
        """
        parameters = list(self.discriminator.parameters())
        world_size = get_world_size()
        self.discriminator.requires_grad_(True)
        try:
            with torch.enable_grad():
                hinge = discriminator_hinge_loss(self.discriminator(teacher.detach()),
                                                 self.discriminator(student.detach()))
                gradients = torch.autograd.grad(self.discriminator_loss_weight * hinge, parameters)
        finally:
            self.discriminator.requires_grad_(False)
        for parameter, gradient in zip(parameters, gradients):
            if world_size > 1:
                dist.all_reduce(gradient, op=dist.ReduceOp.SUM)
                gradient /= world_size
            parameter.grad = gradient
        self.discriminator_optimizer.step()
        self.discriminator_optimizer.zero_grad(set_to_none=True)
        return hinge.detach()

    # ------------------------------------------------------------------ loss
    def forward(self, student: torch.Tensor, teacher: torch.Tensor, iteration: int = 0) -> Dict[str, torch.Tensor]:
        """In training mode, one discriminator step; then the generator term weighted at training iteration
        ``iteration`` (float32, autocast off, as every loss here)."""
        if self.discriminator is None:
            raise RuntimeError(f'{type(self).__name__} is not built yet: SegDistiller builds it when it prepares '
                               'its terms; outside a distiller give num_classes')
        weight = self.current_weight(iteration)
        with full_precision(student):
            student, teacher = self.resize_to(student.float(), teacher), teacher.detach().float()
            if self.training:
                hinge = self.discriminator_step(student, teacher)
            else:
                with torch.no_grad():
                    hinge = discriminator_hinge_loss(self.discriminator(teacher), self.discriminator(student))
            if weight == 0:  # keep the student in the graph (DDP), skip D's forward
                generator = student.sum() * 0.0
            else:
                generator = weight * generator_loss(self.discriminator(student))
        return {'generator': generator, 'discriminator_hinge': hinge}

    # ------------------------------------------------------------------ checkpoints
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """Besides parameters and buffers, the discriminator optimizer's per-parameter state, one tensor per entry:
        ``<prefix>discriminator_optimizer_state.<parameter index>.<name>`` (Adam: ``step``, ``exp_avg``,
        ``exp_avg_sq``). So checkpoints and resume keep it, ``weights_only=True`` loads it, and mmengine, which
        broadcasts every ``state_dict`` value as a tensor when it initialises a distributed run, can (a
        ``get_extra_state`` dict could not)."""
        super()._save_to_state_dict(destination, prefix, keep_vars)
        if self.discriminator_optimizer is None:
            return
        for index, state in self.discriminator_optimizer.state_dict()['state'].items():
            for name, value in state.items():
                if not isinstance(value, torch.Tensor):
                    raise TypeError(f'{type(self).__name__}: the discriminator optimizer keeps a non-tensor state '
                                    f'{name!r}; use an optimizer whose per-parameter state is tensors (Adam, SGD)')
                destination[f'{prefix}{OPTIMIZER_STATE}.{index}.{name}'] = value if keep_vars else value.detach()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        start = f'{prefix}{OPTIMIZER_STATE}.'
        saved = {}
        for key in [key for key in state_dict if key.startswith(start)]:
            index, name = key[len(start):].split('.', 1)
            saved.setdefault(int(index), {})[name] = state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)
        if not saved:
            return
        if self.discriminator_optimizer is None:
            error_msgs.append(f'{type(self).__name__}: cannot restore the discriminator optimizer before the '
                              'discriminator is built (build the distiller first, or give num_classes)')
            return
        optimizer_state = self.discriminator_optimizer.state_dict()
        optimizer_state['state'] = copy.deepcopy(saved)  # the optimizer keeps these tensors and updates them
        self.discriminator_optimizer.load_state_dict(optimizer_state)
