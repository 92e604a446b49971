"""``make demo`` end to end at a tiny size: tools/demo.py in a copy of the repository, on 10 generated training
scenes (8 labeled, 2 unlabeled) and 2 validation scenes, a 1-iteration teacher and a budget of 3 student steps.

It must write the five rows of results.json (teacher, the two 8-label students, the two all-label students) with
the iterations the shipped step costs pay for at that budget, print the table and draw the picture; the shipped
step-cost records must match the demo's distillation configs (else every demo run would be refused)."""
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
BUDGET = 3


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


def test_the_demo_reports_five_rows_at_one_compute_budget(demo):
    rows = demo['results']['rows']
    assert [(row['labeled_images'], row['unlabeled_images']) for row in rows] == [(10, 0), (8, 0), (8, 2), (10, 0),
                                                                                  (10, 0)]
    assert rows[0]['iterations'] == 1
    costs = {config: json.loads((STEP_COSTS / (Path(config).stem + '.json')).read_text())
             ['distill_cost_in_student_steps'] for config in DISTILLATION}
    assert [row['iterations'] for row in rows[1:]] == [BUDGET, round(BUDGET / costs[DISTILLATION[0]]), BUDGET,
                                                       round(BUDGET / costs[DISTILLATION[1]])]
    assert all(0 <= row['val_miou'] <= 100 and row['train_seconds'] > 0 for row in rows)
    assert demo['results']['student_steps'] == BUDGET and demo['results']['seed'] == 0
    for row in rows:
        assert f"| {row['name']} | {row['labeled_images']} | {row['unlabeled_images']} | {row['iterations']} |" \
            in demo['output']


def test_the_demo_draws_every_model_on_the_validation_images(demo):
    # input, ground truth, teacher and four students; one 300x150 panel row (+ 50 px titles) per validation image,
    # and the class legend (50 px title band + 50 px)
    assert_real_png(demo['sandbox'] / 'work_dirs/demo/comparison.png', (7 * 300, 2 * 200 + 100))  # + class legend
