"""Loss-weight schedules, and losses following the runner's iteration from the MessageHub."""
import pytest
import torch
from mmengine.logging import MessageHub

from mmseg_kd.engine import LinearWarmupDecay, build_weight_schedule
from mmseg_kd.losses import ChannelGroupDivergence


def test_linear_warmup_decay_values():
    schedule = LinearWarmupDecay(warmup_iters=2000, decay_start_iter=110000, decay_end_iter=120000)
    expected = {0: 0.0, 500: 0.25, 1999: 1999 / 2000, 2000: 1.0, 50000: 1.0, 110000: 1.0,
                112500: 0.75, 119000: 0.1, 120000: 0.0, 160000: 0.0}
    for iteration, factor in expected.items():
        assert schedule(iteration) == pytest.approx(factor), iteration


def test_warmup_only_and_constant():
    assert LinearWarmupDecay(warmup_iters=10)(5) == 0.5
    assert LinearWarmupDecay(warmup_iters=10)(10 ** 6) == 1.0
    assert build_weight_schedule(None)(123) == 1.0


@pytest.mark.parametrize('kwargs', [dict(warmup_iters=-1), dict(decay_start_iter=5),
                                    dict(warmup_iters=10, decay_start_iter=5, decay_end_iter=20),
                                    dict(decay_start_iter=20, decay_end_iter=20)])
def test_invalid_schedules_are_refused(kwargs):
    with pytest.raises(ValueError, match='LinearWarmupDecay'):
        LinearWarmupDecay(**kwargs)


def test_loss_weight_follows_the_message_hub_iteration():
    """SegDistill's CGD+WS: the weight is loss_weight × factor(iter), iter read from mmengine's hub."""
    loss = ChannelGroupDivergence(tau=2.0, group_size=2, loss_weight=3.0,
                                  weight_schedule=dict(type='LinearWarmupDecay', warmup_iters=100,
                                                       decay_start_iter=1000, decay_end_iter=1100))
    student, teacher = torch.randn(2, 4, 3, 3), torch.randn(2, 4, 3, 3)
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', 500)
    full = loss(student, teacher).item()
    assert full > 0
    for iteration, factor in ((0, 0.0), (25, 0.25), (1050, 0.5), (1100, 0.0)):
        hub.update_info('iter', iteration)
        assert loss.current_weight() == pytest.approx(3.0 * factor)
        assert loss(student, teacher).item() == pytest.approx(full * factor, rel=1e-6, abs=1e-9)
    hub.update_info('iter', 0)


def test_unknown_schedule_lists_the_registered_ones():
    with pytest.raises(KeyError, match="unknown weight_schedule type 'LinearWarmup'.*LinearWarmupDecay"):
        build_weight_schedule(dict(type='LinearWarmup'))


def test_a_zero_weight_keeps_the_loss_parameters_in_the_graph():
    """DDP without find_unused_parameters needs a gradient for every parameter, also while a schedule is at 0."""
    from torch import nn

    from mmseg_kd.losses import DistillLoss

    class WithParameters(DistillLoss):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.scale = nn.Parameter(torch.ones(1))

        def unweighted(self, student, teacher):
            return ((self.scale * student - teacher) ** 2).mean()

    loss = WithParameters(weight_schedule=dict(type='LinearWarmupDecay', warmup_iters=10))
    MessageHub.get_current_instance().update_info('iter', 0)
    student = torch.randn(2, 3, requires_grad=True)
    value = loss(student, torch.randn(2, 3))
    value.backward()
    assert value.item() == 0.0
    assert loss.scale.grad is not None and student.grad is not None
