"""``make demo`` end to end at a tiny size: tools/demo.py in a copy of the repository, on 10 generated training
scenes (8 labeled, 2 unlabeled) and 2 validation scenes, a 1-iteration teacher, its cache, and a budget of 30
student steps (enough to pay for the cache of 10 scenes).

It must write the six rows of results.json (teacher, the three 8-label students, the two all-label students) with
the iterations the shipped step costs pay for at that budget (the cached run after paying for its cache), print the
table and draw the picture; the shipped step-cost records must match the demo's distillation configs (else every
demo run would be refused)."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from mmengine.config import Config

from conftest import PYTHON, REPO
from image_checks import assert_real_png
from mmseg_kd.engine.compute_budget import model_fingerprint
from mmseg_kd.engine.input_sizes import training_size

STEP_COSTS = REPO / 'configs/demo/step_costs'
DISTILLATION = ('distillation_configs/kd/kd_pspnet-r101_pspnet-r18_demo-8labeled-unlabeled_cityscapes.py',
                'distillation_configs/cwd/cwd_pspnet-r101_pspnet-r18_demo_cityscapes.py')
CACHED = 'distillation_configs/kd/kd_pspnet-r101_pspnet-r18_demo-8labeled-unlabeled-cached_cityscapes.py'
BUDGET = 30


@pytest.mark.parametrize('config', DISTILLATION)
def test_the_shipped_step_costs_belong_to_the_demo_configs(config):
    cfg = Config.fromfile(REPO / config)
    record = json.loads((STEP_COSTS / (Path(config).stem + '.json')).read_text())
    assert record['model_fingerprint'] == model_fingerprint(cfg.model)
    assert record['batch_size'] == cfg.train_dataloader.batch_size
    assert record['input_size'] == list(training_size(cfg)[0])
    assert record['device'] == 'cpu'
    q1, q3 = record['distill_cost_in_student_steps_quartiles']
    assert 1.0 < q1 <= record['distill_cost_in_student_steps'] <= q3


def test_the_cached_demo_config_is_budgeted_by_its_online_twins_record():
    """The KD record, measured with benchmark.py --cached, holds the cached step's cost too; the cached config
    (its online twin plus a cache) has the twin's fingerprint."""
    cfg = Config.fromfile(REPO / CACHED)
    record = json.loads((STEP_COSTS / (Path(DISTILLATION[0]).stem + '.json')).read_text())
    assert cfg.model.teacher.cache and record['model_fingerprint'] == model_fingerprint(cfg.model)
    q1, q3 = record['cached_cost_in_student_steps_quartiles']
    assert q1 <= record['cached_cost_in_student_steps'] <= q3 < record['distill_cost_in_student_steps']


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    sandbox = tmp_path_factory.mktemp('demo_sandbox')
    for folder in ('configs', 'distillation_configs', 'tools', 'mmseg_kd'):
        shutil.copytree(REPO / folder, sandbox / folder, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
    result = subprocess.run(
        [PYTHON, 'tools/demo.py', '--num-train', '10', '--num-val', '2', '--teacher-iters', '1',
         '--student-steps', str(BUDGET)], cwd=sandbox, capture_output=True, text=True, timeout=1800,
        env=dict(os.environ, PYTHONPATH=str(sandbox), MPLBACKEND='Agg'))
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    return dict(sandbox=sandbox, output=result.stdout,
                results=json.loads((sandbox / 'work_dirs/demo/results.json').read_text()))


def test_the_demo_reports_six_rows_at_one_compute_budget(demo):
    rows = demo['results']['rows']
    assert [(row['labeled_images'], row['unlabeled_images']) for row in rows] == [(10, 0), (8, 0), (8, 2), (8, 2),
                                                                                  (10, 0), (10, 0)]
    assert rows[0]['iterations'] == 1
    records = {config: json.loads((STEP_COSTS / (Path(config).stem + '.json')).read_text())
               for config in DISTILLATION}
    costs = {config: record['distill_cost_in_student_steps'] for config, record in records.items()}
    kd_record = records[DISTILLATION[0]]
    cache = demo['results']['teacher_cache']
    assert cache['images'] == 10 and cache['seconds'] > 0
    cache_steps = cache['seconds'] / kd_record['seconds']['student']
    cached_iterations = round((BUDGET - cache_steps) / kd_record['cached_cost_in_student_steps'])
    kd_iterations, cwd_iterations = (round(BUDGET / costs[config]) for config in DISTILLATION)
    assert [row['iterations'] for row in rows[1:]] == [BUDGET, kd_iterations, cached_iterations, BUDGET,
                                                       cwd_iterations]
    assert 0 < cached_iterations < BUDGET
    assert f'{cache_steps:.0f} student steps of the budget' in rows[3]['note']
    assert all(0 <= row['val_miou'] <= 100 and row['train_seconds'] > 0 for row in rows)
    assert demo['results']['student_steps'] == BUDGET and demo['results']['seed'] == 0
    for row in rows:
        assert f"| {row['name']} | {row['labeled_images']} | {row['unlabeled_images']} | {row['iterations']} |" \
            in demo['output']


def test_the_demo_draws_every_model_on_the_validation_images(demo):
    # input, ground truth, teacher and five students; one 300x150 panel row (+ 50 px titles) per validation image,
    # and the class legend (50 px title band + 50 px)
    assert_real_png(demo['sandbox'] / 'work_dirs/demo/comparison.png', (8 * 300, 2 * 200 + 100))  # + class legend
