"""Loss-weight schedules, and losses following the training iteration that the distiller's terms hand them."""
import uuid

import pytest
import torch
from mmengine.logging import MessageHub

from mmseg_kd.distillers.distill_term import DistillTerm
from mmseg_kd.losses import InterClassSimilarityDistillation, KLDivergence
from mmseg_kd.schedules import (
    LinearWarmupDecay,
    RemainingTraining,
    TrainingProgress,
    build_weight_schedule,
    current_train_iteration,
)


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


def test_loss_weight_follows_the_iteration_the_term_is_given():
    """SegDistill's CGD+WS: the weight is loss_weight × factor(iter), iter handed over by DistillTerm.compute."""
    entry = dict(type='ChannelGroupDivergence', tau=2.0, group_size=2, loss_weight=3.0, student='x', teacher='x',
                 weight_schedule=dict(type='LinearWarmupDecay', warmup_iters=100, decay_start_iter=1000,
                                      decay_end_iter=1100))
    term = DistillTerm('loss_cgd', entry)
    loss = term.loss
    student, teacher = torch.randn(2, 4, 3, 3), torch.randn(2, 4, 3, 3)
    full = loss(student, teacher, iteration=500).item()
    assert full > 0
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', 500)  # the hub is not what the term reads
    for iteration, factor in ((0, 0.0), (25, 0.25), (1050, 0.5), (1100, 0.0)):
        assert loss.current_weight(iteration) == pytest.approx(3.0 * factor)
        assert loss(student, teacher, iteration=iteration).item() == pytest.approx(full * factor, rel=1e-6, abs=1e-9)
        logged = term.compute(student, teacher, iteration)['distill.loss_cgd']
        assert logged.item() == pytest.approx(full * factor, rel=1e-6, abs=1e-9)
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
    student = torch.randn(2, 3, requires_grad=True)
    value = loss(student, torch.randn(2, 3), iteration=0)
    value.backward()
    assert value.item() == 0.0
    assert loss.scale.grad is not None and student.grad is not None


# ------------------------------------------------------------------------- AICSD's adaptive loss weighting
@pytest.fixture
def fresh_message_hub():
    """A new message hub (the current instance) for the test; a new empty one is current afterwards."""
    yield new_message_hub()
    new_message_hub()


def new_message_hub():
    return MessageHub.get_instance(f'schedule_test_{uuid.uuid4().hex}')  # the latest created is current


def test_training_progress_and_remaining_training_values(fresh_message_hub):
    fresh_message_hub.update_info('max_iters', 1000)
    alpha, one_minus_alpha = TrainingProgress(), RemainingTraining()
    for iteration, expected in ((0, 0.0), (1, 0.001), (250, 0.25), (999, 0.999), (1000, 1.0), (5000, 1.0)):
        assert alpha(iteration) == pytest.approx(expected), iteration
        assert one_minus_alpha(iteration) == pytest.approx(1 - expected), iteration
    assert TrainingProgress(max_iters=500)(250) == 0.5  # an explicit length wins over the hub's


def test_training_progress_staircase_over_epochs(fresh_message_hub):
    # AICSD: alpha = e / 120 for epoch e; 120 epochs of 244 iterations = 29,280 iterations
    fresh_message_hub.update_info('max_iters', 29280)
    alpha = TrainingProgress(num_steps=120)
    expected = {0: 0.0, 243: 0.0, 244: 1 / 120, 2440: 10 / 120, 29279: 119 / 120}
    for iteration, value in expected.items():
        assert alpha(iteration) == pytest.approx(value), iteration
    assert RemainingTraining(num_steps=120)(2440) == pytest.approx(110 / 120)


def test_training_progress_outside_a_run_is_zero(fresh_message_hub):
    assert fresh_message_hub.get_info('max_iters') is None
    assert TrainingProgress()(100) == 0.0 and RemainingTraining()(100) == 1.0


@pytest.mark.parametrize('kwargs', [dict(max_iters=0), dict(num_steps=0)])
def test_invalid_training_progress_is_refused(kwargs):
    with pytest.raises(ValueError, match='TrainingProgress'):
        TrainingProgress(**kwargs)


def test_alw_weights_continue_after_a_resume(fresh_message_hub):
    """A resumed run restores the message hub (iteration and run length), from which the distiller reads the iteration
    it hands its terms: the weights continue."""
    icsd = InterClassSimilarityDistillation(loss_weight=9500., weight_schedule=dict(type='TrainingProgress'))
    kd = KLDivergence(loss_weight=2.0, weight_schedule=dict(type='RemainingTraining'))
    fresh_message_hub.update_info('max_iters', 400)
    fresh_message_hub.update_info('iter', 300)
    def weights():
        iteration = current_train_iteration()  # what the distiller reads from the hub and hands its terms
        return icsd.current_weight(iteration), kd.current_weight(iteration)

    before = weights()
    assert before == pytest.approx((9500. * 0.75, 2.0 * 0.25))

    saved = fresh_message_hub.state_dict()  # what a checkpoint stores as 'message_hub'
    resumed = new_message_hub()  # the resumed run's hub, now the current instance
    assert resumed.get_info('iter') is None
    resumed.load_state_dict(saved)
    assert weights() == pytest.approx(before)
    resumed.update_info('iter', 350)  # the runner's next iterations
    assert weights() == pytest.approx((9500. * 0.875, 2.0 * 0.125))
