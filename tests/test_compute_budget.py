"""compute_budget: a budget in student steps becomes the run's iterations, from a measured step cost.

Unit tests on configs (no training), then the benchmark's record read back by tools/train.py, which trains the
budgeted number of iterations."""
import json
import re

import pytest
from mmengine.config import Config

from conftest import CWD_DISTILL_CFG, PYTHON, STUDENT_CFG, TEACHER_CFG
from mmseg_kd.datasets.teacher_logit_cache import CACHE_FORMAT, write_manifest
from mmseg_kd.engine.compute_budget import RECORD_FILE, apply_compute_budget, model_fingerprint
from test_tools import run

CROP = [64, 128]


def plain_config(work_dir, **budget):
    return Config(dict(
        model=dict(type='EncoderDecoder'), crop_size=tuple(CROP), work_dir=str(work_dir),
        train_dataloader=dict(batch_size=4),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=200, val_interval=200),
        param_scheduler=[dict(type='LinearLR', begin=0, end=10, by_epoch=False),
                         dict(type='PolyLR', begin=10, end=200, by_epoch=False)],
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=200), logger=dict(interval=10)),
        compute_budget=budget))


def distill_config(work_dir, loss_weight=3.0, **budget):
    cfg = plain_config(work_dir, **budget)
    cfg.model = dict(type='SegDistiller', student=dict(cfg_path=str(STUDENT_CFG)),
                     teacher=dict(cfg_path=str(TEACHER_CFG), checkpoint='teacher.pth'),
                     distill_losses=dict(loss_cwd=dict(type='ChannelWiseDivergence', tau=4.0, loss_weight=loss_weight,
                                                       student='decode_head.conv_seg',
                                                       teacher='decode_head.conv_seg')))
    return cfg


def step_costs(path, cfg, cost=2.5, **changes):
    """A benchmark record as tools/analysis/benchmark.py --out writes it, for ``cfg`` unless ``changes`` say."""
    record = dict(config='x.py', device='cpu', device_name='cpu', batch_size=4, input_size=CROP,
                  distill_cost_in_student_steps=cost, distill_cost_in_student_steps_quartiles=[cost, cost],
                  model_fingerprint=model_fingerprint(cfg.model), load_average=[0.5, 0.6])
    record.update(changes)
    path.write_text(json.dumps(record))
    return str(path)


def test_a_plain_config_trains_the_budget_and_its_schedule_follows(tmp_path):
    cfg = plain_config(tmp_path, student_steps=600)
    decided = apply_compute_budget(cfg)
    assert decided['iterations'] == cfg.train_cfg.max_iters == 600
    assert [s['end'] for s in cfg.param_scheduler] == [10, 600]  # the warm-up keeps its length, the poly decay ends
    assert cfg.train_cfg.val_interval == cfg.default_hooks.checkpoint.interval == 600
    assert json.loads((tmp_path / RECORD_FILE).read_text()) == decided


@pytest.mark.parametrize('cost, iterations', [(2.5, 240), (2.4, 250), (3.0, 200), (7.0, 86)])
def test_a_distillation_config_trains_the_budget_divided_by_its_step_cost(tmp_path, cost, iterations, capsys):
    cfg = distill_config(tmp_path, student_steps=600)
    cfg.compute_budget.step_costs = step_costs(tmp_path / 'costs.json', cfg, cost=cost)
    decided = apply_compute_budget(cfg)
    assert cfg.train_cfg.max_iters == decided['iterations'] == iterations == round(600 / cost)
    assert cfg.param_scheduler[1]['end'] == iterations
    assert decided['cost_in_student_steps'] == cost and decided['student_steps'] == 600
    assert f'training {iterations} iterations (config: 200)' in capsys.readouterr().out


def test_a_step_cost_file_of_another_setting_is_refused(tmp_path):
    cfg = distill_config(tmp_path, student_steps=600)
    other_losses = distill_config(tmp_path, loss_weight=1.0)
    cfg.crop_size = (512, 512)  # as an inherited mmseg base leaves it: not the size this config trains at
    for changes, message in (
            (dict(batch_size=2), r'batch_size 2 \(this config: 4\)'),
            (dict(input_size=[512, 512]), r'input_size \[512, 512\] \(this config: \[64, 128\]\)'),
            (dict(input_size=[128, 256]), r'input_size \[128, 256\] \(this config: \[64, 128\]\)'),
            (dict(device='cuda:0'), "device 'cuda:0' \\(this run: 'cpu'\\)"),
            (dict(teacher_compile=dict(backend='inductor', first_call_seconds=40.0)),
             r"a compiled teacher \('inductor'; training runs it uncompiled\)"),
            (dict(model_fingerprint=model_fingerprint(other_losses.model)), 'model_fingerprint')):
        cfg.compute_budget.step_costs = step_costs(tmp_path / 'costs.json', cfg, **changes)
        with pytest.raises(ValueError, match=f'was measured for something else: {message}'):
            apply_compute_budget(cfg)


def cached_config(work_dir, cache_seconds=None, cache_device='cpu', **budget):
    """``distill_config`` with a teacher cache whose manifest records ``cache_seconds`` on ``cache_device``."""
    cfg = distill_config(work_dir, **budget)
    cache = work_dir / 'cache'
    cache.mkdir(exist_ok=True)
    manifest = dict(format=CACHE_FORMAT, images={}, complete=True, device=cache_device)
    if cache_seconds is not None:
        manifest['seconds'] = cache_seconds
    write_manifest(str(cache), manifest)
    cfg.model.teacher.cache = str(cache)
    return cfg


@pytest.mark.parametrize('student_seconds, cache_seconds, cached_cost, iterations', [
    (0.5, 30.0, 1.0, 540),  # 60 student steps off 600
    (0.25, 30.0, 1.2, 400),  # (600 - 120) / 1.2
    (0.1, 0.0, 1.05, 571),  # a cache that cost nothing: 600 / 1.05
])
def test_a_cached_teacher_pays_its_cache_once_then_its_cached_step_cost(tmp_path, student_seconds, cache_seconds,
                                                                       cached_cost, iterations, capsys):
    cfg = cached_config(tmp_path, cache_seconds, student_steps=600)
    online = distill_config(tmp_path)
    cfg.compute_budget.step_costs = step_costs(
        tmp_path / 'costs.json', online, cost=2.5, cached_cost_in_student_steps=cached_cost,
        cached_cost_in_student_steps_quartiles=[cached_cost, cached_cost], seconds=dict(student=student_seconds))
    decided = apply_compute_budget(cfg)
    one_off = cache_seconds / student_seconds
    assert decided['iterations'] == cfg.train_cfg.max_iters == iterations == round((600 - one_off) / cached_cost)
    assert decided['teacher_cache_student_steps'] == pytest.approx(one_off)
    assert decided['cost_in_student_steps'] == cached_cost and decided['teacher_cache_counted'] is True
    assert f"one-off cost, {one_off:.1f} student steps, comes off the budget: training {iterations}" \
        in capsys.readouterr().out


def test_a_cache_paid_for_elsewhere_can_be_left_out_with_a_real_boolean(tmp_path):
    cfg = cached_config(tmp_path, 30.0, student_steps=600, count_teacher_cache=False)
    cfg.compute_budget.step_costs = step_costs(tmp_path / 'costs.json', distill_config(tmp_path),
                                               cached_cost_in_student_steps=1.2, seconds=dict(student=0.5))
    decided = apply_compute_budget(cfg)
    assert decided['iterations'] == 500 and decided['teacher_cache_student_steps'] == 0.0
    assert decided['teacher_cache_counted'] is False
    for value in ('False', 0, None):
        cfg = cached_config(tmp_path, 30.0, student_steps=600, count_teacher_cache=value)
        cfg.compute_budget.step_costs = str(tmp_path / 'costs.json')
        with pytest.raises(ValueError, match='count_teacher_cache must be True or False'):
            apply_compute_budget(cfg)


def test_what_the_cached_budget_cannot_count_is_refused(tmp_path):
    online = distill_config(tmp_path)
    for cache_seconds, cache_device, record_changes, message in (
            (30.0, 'cpu', dict(), 'has no positive cached_cost_in_student_steps .a config with teacher.cache needs '
                                  'a record of benchmark.py --cached'),
            (None, 'cpu', dict(cached_cost_in_student_steps=1.0), 'records no time spent writing it'),
            (30.0, 'cuda', dict(cached_cost_in_student_steps=1.0), "written on 'cuda', the step costs were measured "
                                                                   "on 'cpu'"),
            (300.0, 'cpu', dict(cached_cost_in_student_steps=1.0), 'cost 600.0 student steps, the whole budget of '
                                                                   '600: raise student_steps')):
        cfg = cached_config(tmp_path, cache_seconds, cache_device, student_steps=600)
        cfg.compute_budget.step_costs = step_costs(tmp_path / 'costs.json', online, seconds=dict(student=0.5),
                                                   **record_changes)
        with pytest.raises(ValueError, match=message):
            apply_compute_budget(cfg)


def test_the_teacher_checkpoint_path_does_not_change_the_fingerprint():
    cfg = distill_config('.')
    moved = distill_config('.')
    moved.model.teacher.checkpoint = 'elsewhere/teacher.pth'
    assert model_fingerprint(cfg.model) == model_fingerprint(moved.model)
    moved.model.teacher.checkpoint_sha256 = 'e1e1100f'
    assert model_fingerprint(cfg.model) == model_fingerprint(moved.model)
    moved.model.teacher.cache = 'work_dirs/teacher_cache'  # measured as its online twin (benchmark.py --cached)
    assert model_fingerprint(cfg.model) == model_fingerprint(moved.model)
    faster = distill_config('.')
    faster.model.teacher.autocast_dtype = 'bfloat16'
    assert model_fingerprint(cfg.model) != model_fingerprint(faster.model)


def test_the_fingerprint_does_not_depend_on_where_the_configs_lie(tmp_path):
    """The same configs in another checkout (absolute cfg_paths differ) give the same fingerprint; another teacher
    architecture does not."""
    copy = tmp_path / 'elsewhere'
    for config in (STUDENT_CFG, TEACHER_CFG):
        (copy / config.name).parent.mkdir(parents=True, exist_ok=True)
        (copy / config.name).write_text(config.read_text())
    cfg, moved = distill_config('.'), distill_config('.')
    moved.model.student.cfg_path = str(copy / STUDENT_CFG.name)
    moved.model.teacher.cfg_path = str(copy / TEACHER_CFG.name)
    assert model_fingerprint(cfg.model) == model_fingerprint(moved.model)
    moved.model.teacher.cfg_options = {'model.backbone.depth': 50}
    assert model_fingerprint(cfg.model) != model_fingerprint(moved.model)


@pytest.mark.parametrize('budget, message', [
    (dict(student_steps=True), 'student_steps must be a positive integer'),
    (dict(student_steps=0), 'student_steps must be a positive integer'),
    (dict(student_steps=600.0), 'student_steps must be a positive integer'),
    (dict(student_steps=600, iterations=3), r"unknown keys \['iterations'\]"),
])
def test_a_malformed_budget_is_refused(tmp_path, budget, message):
    with pytest.raises(ValueError, match=message):
        apply_compute_budget(plain_config(tmp_path, **budget))


def test_a_distillation_budget_needs_a_readable_step_cost_file(tmp_path):
    with pytest.raises(ValueError, match='a distillation config needs step_costs=FILE'):
        apply_compute_budget(distill_config(tmp_path, student_steps=600))
    with pytest.raises(FileNotFoundError, match='does not exist; measure it with: python tools/analysis/benchmark'):
        apply_compute_budget(distill_config(tmp_path, student_steps=600, step_costs=str(tmp_path / 'no.json')))
    cfg = distill_config(tmp_path, student_steps=600)
    cfg.compute_budget.step_costs = step_costs(tmp_path / 'costs.json', cfg, cost=None)
    with pytest.raises(ValueError, match='has no positive distill_cost_in_student_steps'):
        apply_compute_budget(cfg)


def test_schedules_that_the_budget_cannot_stretch_are_refused(tmp_path):
    cfg = plain_config(tmp_path, student_steps=5)
    with pytest.raises(ValueError, match=r'param_scheduler\[0\].end=10 lies beyond the budgeted 5 iterations'):
        apply_compute_budget(cfg)
    cfg = plain_config(tmp_path, student_steps=600)
    cfg.param_scheduler[1].pop('by_epoch')
    with pytest.raises(ValueError, match=r'param_scheduler\[1\] counts epochs'):
        apply_compute_budget(cfg)
    cfg = plain_config(tmp_path, student_steps=600)
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=3)
    with pytest.raises(ValueError, match='it needs an IterBasedTrainLoop with max_iters'):
        apply_compute_budget(cfg)


def test_a_resumed_run_must_keep_its_budgeted_length(tmp_path):
    apply_compute_budget(plain_config(tmp_path, student_steps=600))
    resumed = plain_config(tmp_path, student_steps=600)
    resumed.resume = True
    assert apply_compute_budget(resumed)['iterations'] == 600
    changed = plain_config(tmp_path, student_steps=500)
    changed.resume = True
    with pytest.raises(ValueError, match='was budgeted 600 iterations, now it would get 500'):
        apply_compute_budget(changed)


def test_no_budget_changes_nothing(tmp_path):
    cfg = plain_config(tmp_path)
    cfg.pop('compute_budget')
    assert apply_compute_budget(cfg) is None and cfg.train_cfg.max_iters == 200


@pytest.mark.serial  # benchmark.py times steps: a busy machine distorts the measured cost
def test_train_py_trains_the_budget_that_benchmark_py_measured(tmp_path, cityscapes_root, r101_checkpoint):
    """benchmark.py --out on the CWD demo config, then tools/train.py with that record trains
    round(student_steps / measured cost) iterations, and logs and records the budget."""
    costs = tmp_path / 'costs.json'
    benchmark = run(PYTHON, 'tools/analysis/benchmark.py', CWD_DISTILL_CFG, '--batch-size', 2, '--iters', 3,
                    '--warmup', 1, '--device', 'cpu', '--out', costs)
    assert 'input size 64x128 (from train_dataloader.dataset.pipeline[3] (RandomCrop.crop_size))' in benchmark
    measured = json.loads(costs.read_text())
    assert measured['input_size'] == [64, 128]
    q1, q3 = measured['distill_cost_in_student_steps_quartiles']
    assert 1.0 < q1 <= measured['distill_cost_in_student_steps'] <= q3, measured
    config = tmp_path / 'distill.py'
    config.write_text(f"""_base_ = ['{CWD_DISTILL_CFG}']
model = dict(teacher=dict(checkpoint='{r101_checkpoint}'))
train_dataloader = dict(batch_size=2, dataset=dict(data_root='{cityscapes_root}'))
val_dataloader = dict(dataset=dict(data_root='{cityscapes_root}'))
test_dataloader = val_dataloader
default_hooks = dict(logger=dict(interval=1))
compute_budget = dict(student_steps=5, step_costs='{costs}')
""")
    output = run(PYTHON, 'tools/train.py', config, '--work-dir', tmp_path / 'run')
    iterations = round(5 / measured['distill_cost_in_student_steps'])
    assert f'Iter(train) [{iterations}/{iterations}]' in output
    assert not re.search(rf'Iter\(train\) \[{iterations + 1}/', output)
    assert (tmp_path / 'run' / f'iter_{iterations}.pth').is_file()
    recorded = json.loads((tmp_path / 'run' / RECORD_FILE).read_text())
    assert recorded['iterations'] == iterations and recorded['student_steps'] == 5
    assert 'compute budget: 5 student steps; one step of this config costs' in output
