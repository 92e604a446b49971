"""Performance guarantees: the distillation step costs little more than a student step plus a teacher forward;
mixed precision keeps the losses in float32."""
import functools
import json
import subprocess

import pytest
import torch
from mmseg.registry import MODELS

from conftest import CWD_DISTILL_CFG, LARGE_INPUT_LOSSES, PYTHON, REPO
from mmseg_kd.losses.distill_loss import DistillLoss
from test_seg_distiller import batch, distiller_cfg

LOGITS = 'decode_head.conv_seg'
LOSSES = dict(
    loss_kd=dict(type='KLDivergence', tau=1.0, ignore_index=255, student=LOGITS, teacher=LOGITS),
    loss_cwd=dict(type='ChannelWiseDivergence', tau=4.0, loss_weight=3.0, student=LOGITS, teacher=LOGITS),
    loss_cgd=dict(type='ChannelGroupDivergence', tau=2.0, group_size=5, loss_weight=0.75, student=LOGITS,
                  teacher=LOGITS))


@pytest.mark.serial
def test_cwd_overhead_ratio_on_cpu_stays_below_1_15(tmp_path):
    """tools/analysis/benchmark.py on the CWD config (PSPNet-R101 -> PSPNet-R18), median of 7 alternating rounds."""
    out = tmp_path / 'benchmark.json'
    subprocess.run([PYTHON, 'tools/analysis/benchmark.py', str(CWD_DISTILL_CFG), '--input-size', '128', '256',
                    '--iters', '7', '--warmup', '2', '--device', 'cpu', '--out', str(out)],
                   cwd=REPO, check=True, capture_output=True, timeout=1200)
    result = json.loads(out.read_text())
    assert set(result['seconds']) == {'student', 'teacher', 'distill'}
    assert all(value > 0 for value in result['peak_memory_mb'].values())
    assert result['overhead_ratio'] <= 1.15, result


@pytest.mark.parametrize('name', sorted(LOSSES))
def test_losses_stay_float32_under_bfloat16_autocast(r18_checkpoint, name):
    distiller = MODELS.build(distiller_cfg(r18_checkpoint, losses={name: LOSSES[name]}))
    distiller.train()
    inputs, samples = batch()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = distiller.loss(inputs, samples)
    value = losses[f'distill.{name}']
    assert value.dtype == torch.float32 and torch.isfinite(value)
    value.backward()
    assert distiller.student.decode_head.conv_seg.weight.grad is not None


def test_bfloat16_teacher_changes_the_losses_little(r18_checkpoint):
    """The teacher under bf16 autocast (teacher.autocast_dtype) records bf16 maps; the student's total loss, and
    each distillation term, move by less than 1e-2 of the total loss."""
    results = {}
    for dtype in (None, 'bfloat16'):
        cfg = distiller_cfg(r18_checkpoint, losses=LOSSES)
        cfg['teacher']['autocast_dtype'] = dtype
        distiller = MODELS.build(cfg)
        distiller.eval()
        results[dtype] = distiller.loss(*batch(seed=3))
        recorded = distiller.teacher_recorder
        distiller.teacher_forward(batch(seed=3)[0])
        assert recorded.get(recorded.taps[0]).dtype == (torch.bfloat16 if dtype else torch.float32)
    totals = {dtype: sum(v.item() for k, v in losses.items() if 'loss' in k) for dtype, losses in results.items()}
    assert totals['bfloat16'] == pytest.approx(totals[None], rel=1e-2)
    for name in LOSSES:
        key = f'distill.{name}'
        assert results['bfloat16'][key].item() == pytest.approx(results[None][key].item(),
                                                                abs=1e-2 * totals[None]), key


def test_unknown_teacher_dtype_is_refused(r18_checkpoint):
    cfg = distiller_cfg(r18_checkpoint)
    cfg['teacher']['autocast_dtype'] = 'fp8'
    with pytest.raises(ValueError, match="teacher.autocast_dtype must be one of.*'bfloat16'"):
        MODELS.build(cfg)


# Every registered distillation loss (those that need large inputs in their own tests:
# test_holistic_adversarial_distillation.py checks bf16 autocast).
LOSS_TYPES = sorted(name for name, cls in MODELS.module_dict.items()
                    if isinstance(cls, type) and issubclass(cls, DistillLoss) and name not in LARGE_INPUT_LOSSES)


@functools.lru_cache(maxsize=None)
def one_config_per_loss_type() -> dict:
    """{loss type: the first distillation config that uses it} (parsed once per test process, when first asked)."""
    from mmengine.config import Config

    from test_config_zoo import CONFIGS
    chosen = {}
    for path in CONFIGS:
        if path.startswith('distillation_configs/') and '/_base_/' not in path:
            for loss in Config.fromfile(REPO / path).model.distill_losses.values():
                chosen.setdefault(loss.type, path)
    return chosen


@pytest.mark.parametrize('loss_type', LOSS_TYPES)
def test_every_loss_trains_under_bfloat16_autocast_in_float32(loss_type):
    """Mixed-precision student training: under autocast every distillation term comes out float32 and finite and
    its gradient reaches the student (losses compute softmax, KL and similarities in float32)."""
    from mmengine.logging import MessageHub

    from test_config_zoo import build_for_test, fake_batch, num_classes_of

    assert loss_type in one_config_per_loss_type(), f'no shipped distillation config uses {loss_type}'
    hub = MessageHub.get_current_instance()  # mid-training: scheduled weights (warm-up, AICSD's α) are > 0
    hub.update_info('iter', 5000)
    hub.update_info('max_iters', 10000)
    try:
        cfg, model = build_for_test(one_config_per_loss_type()[loss_type])
        inputs, samples = fake_batch(num_classes_of(model))
        with torch.autocast('cpu', dtype=torch.bfloat16):
            losses = model.loss(inputs, samples)
    finally:
        hub.update_info('iter', 0)
    names = [name for name, loss in cfg.model.distill_losses.items() if loss.type == loss_type]
    terms = {key: value for key, value in losses.items()
             if any(key == f'distill.{n}' or key.startswith(f'distill.{n}_') for n in names)}
    assert terms, (names, list(losses))
    for key, value in terms.items():
        assert value.dtype == torch.float32 and torch.isfinite(value), (key, value)
    sum(terms.values()).backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.student.parameters())
