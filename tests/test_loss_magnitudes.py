"""loss_magnitudes.py: every loss term of a distillation next to the student's CE, on real training batches.

The tool's numbers are checked against the same batches run through the student and teacher by hand: mmseg's
cross-entropy written out with ``F.cross_entropy``, CWD written out as spatial softmaxes and KL divergences.
"""
import importlib.util
import re

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.runner import Runner, set_random_seed

from conftest import CWD_DISTILL_CFG, REPO, STUDENT_CFG
from mmseg_kd.analysis.teacher_student_inference import load_distiller

BATCHES = 2


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name, REPO / 'tools' / 'analysis' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cwd_by_hand(student, teacher, tau):
    """τ² · mean over (image, class) of KL(softmax_HW(z_t / τ) ‖ softmax_HW(z_s / τ))."""
    log_q = torch.log_softmax(student.flatten(2) / tau, dim=2)
    log_p = torch.log_softmax(teacher.flatten(2) / tau, dim=2)
    return tau ** 2 * (log_p.exp() * (log_p - log_q)).sum(2).mean()


def cross_entropy_by_hand(logits, labels):
    """mmseg's decode CE: logits resized to the labels, mean over ALL pixels (ignored ones add 0)."""
    logits = F.interpolate(logits, size=labels.shape[-2:], mode='bilinear', align_corners=False)
    return F.cross_entropy(logits, labels, ignore_index=255, reduction='none').sum() / labels.numel()


@pytest.fixture(scope='module')
def config(tmp_path_factory, cityscapes_root, r18_checkpoint):
    path = tmp_path_factory.mktemp('magnitudes') / 'distill.py'
    path.write_text(f"""
_base_ = ['{CWD_DISTILL_CFG}']
model = dict(teacher=dict(cfg_path='{STUDENT_CFG}', checkpoint='{r18_checkpoint}'),
             student=dict(cfg_options={{'model.decode_head.dropout_ratio': 0.0,
                                        'model.auxiliary_head.dropout_ratio': 0.0}}))
train_dataloader = dict(dataset=dict(data_root='{cityscapes_root}'))
val_dataloader = dict(dataset=dict(data_root='{cityscapes_root}'))
test_dataloader = dict(dataset=dict(data_root='{cityscapes_root}'))
""")
    return str(path)


def test_the_tool_reports_each_term_next_to_the_ce_as_computed_by_hand(config, capsys):
    assert load_tool('loss_magnitudes').main([config, '--batches', str(BATCHES)]) == 0
    captured = capsys.readouterr()
    rows = {line.split()[0]: line.split()[1:] for line in captured.out.splitlines()
            if re.match(r'  (decode|aux|distill)\.', line)}
    assert set(rows) == {'decode.loss_ce', 'aux.loss_ce', 'distill.loss_cwd'}
    assert 'over 2 training batch(es) of 4 image(s)' in captured.out
    assert "building the distiller, loading the teacher's weights" in captured.err

    cfg = Config.fromfile(config)  # the same seed, student initialisation and batches as the tool
    set_random_seed(0)
    distiller = load_distiller(cfg, None).train()
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    ce, cwd = [], []
    with torch.no_grad():
        for _, batch in zip(range(BATCHES), loader):
            data = distiller.data_preprocessor(batch, True)
            inputs, samples = data['inputs'], data['data_samples']
            labels = torch.stack([sample.gt_sem_seg.data[0] for sample in samples]).long()
            student_logits = distiller.student.decode_head(distiller.student.extract_feat(inputs))
            teacher_logits = distiller.teacher.decode_head(distiller.teacher.extract_feat(inputs))
            ce.append(float(cross_entropy_by_hand(student_logits, labels)))
            cwd.append(3.0 * float(cwd_by_hand(student_logits, teacher_logits, tau=4.0)))
    mean_ce, mean_cwd = sum(ce) / BATCHES, sum(cwd) / BATCHES
    mean, low, high, ratio = (float(text) for text in rows['decode.loss_ce'])
    assert (mean, low, high, ratio) == pytest.approx((mean_ce, min(ce), max(ce), 1.0), rel=1e-3)
    mean, low, high, ratio = (float(text) for text in rows['distill.loss_cwd'])
    assert (mean, low, high) == pytest.approx((mean_cwd, min(cwd), max(cwd)), rel=1e-3)
    assert ratio == pytest.approx(mean_cwd / mean_ce, rel=2e-3)


def test_a_random_teacher_is_refused(config):
    with pytest.raises(ValueError, match='teacher.checkpoint is None'):
        load_tool('loss_magnitudes').main([config, '--cfg-options', 'model.teacher.checkpoint=None'])
