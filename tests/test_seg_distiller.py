"""SegDistiller on real mmseg PSPNets (demo configs, 64x128): frozen teacher, losses, errors."""
import pickle

import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from conftest import STUDENT_CFG, TEACHER_CFG
from mmseg_kd.checkpoint.safe_loading import CheckpointMismatchError
from mmseg_kd.distillers import UnknownTapError

LOGITS = 'decode_head.conv_seg'


def distiller_cfg(checkpoint, teacher_cfg=STUDENT_CFG, teacher_options=None, losses=None):
    return dict(
        type='SegDistiller',
        student=dict(cfg_path=str(STUDENT_CFG)),
        teacher=dict(cfg_path=str(teacher_cfg), checkpoint=checkpoint, cfg_options=teacher_options or {}),
        distill_losses=losses or dict(
            loss_cwd=dict(type='ChannelWiseDivergence', tau=4.0, loss_weight=3.0, student=LOGITS,
                          teacher=LOGITS),
            loss_kd=dict(type='KLDivergence', tau=1.0, ignore_index=255, student=LOGITS, teacher=LOGITS)))


def batch(size=2, seed=0):
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(size, 3, 64, 128, generator=generator)
    samples = []
    for _ in range(size):
        labels = torch.randint(0, 19, (1, 64, 128), generator=generator)
        labels[:, :4] = 255
        sample = SegDataSample(gt_sem_seg=PixelData(data=labels))
        sample.set_metainfo(dict(img_shape=(64, 128), ori_shape=(64, 128), pad_shape=(64, 128)))
        samples.append(sample)
    return inputs, samples


@pytest.fixture(scope='module')
def distiller(r18_checkpoint):
    return MODELS.build(distiller_cfg(r18_checkpoint))


def test_teacher_is_loaded_frozen_and_kept_in_eval_mode(distiller, r18_checkpoint):
    saved = torch.load(r18_checkpoint, weights_only=True)['state_dict']
    for key, value in distiller.teacher.state_dict().items():
        assert torch.equal(value, saved[key]), key
    distiller.train()
    assert distiller.student.training
    assert not any(module.training for module in distiller.teacher.modules())
    assert not any(p.requires_grad for p in distiller.teacher.parameters())


def test_checkpoints_and_optimizer_see_the_student_but_not_the_teacher(distiller):
    keys = list(distiller.state_dict())
    assert keys and all(key.startswith(('student.', 'distill_losses.')) for key in keys)
    teacher_params = {id(p) for p in distiller.teacher.parameters()}
    assert not teacher_params & {id(p) for p in distiller.parameters()}


def test_teacher_follows_to(distiller):
    distiller.to(torch.float64)
    try:
        assert next(distiller.teacher.parameters()).dtype == torch.float64
    finally:
        distiller.to(torch.float32)


def test_loss_logs_every_term_and_only_the_student_learns(distiller):
    distiller.train()
    distiller.zero_grad()
    calls = []
    handle = distiller.teacher.auxiliary_head.register_forward_hook(lambda *args: calls.append(1))
    try:
        inputs, samples = batch()
        losses = distiller.loss(inputs, samples)
    finally:
        handle.remove()
    assert calls == [], 'the teacher ran its auxiliary head, which no tap needs'
    assert {'decode.loss_ce', 'aux.loss_ce', 'distill.loss_cwd', 'distill.loss_kd'} <= set(losses)
    for name in ('distill.loss_cwd', 'distill.loss_kd'):
        assert torch.isfinite(losses[name]) and losses[name] > 0
        assert losses[name].requires_grad
    sum(value for key, value in losses.items() if 'loss' in key).backward()
    assert distiller.student.decode_head.conv_seg.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in distiller.teacher.parameters())


def test_distillation_terms_are_the_losses_of_the_tapped_logits(distiller):
    distiller.eval()  # deterministic student forward (no dropout, running BN statistics)
    inputs, samples = batch(seed=1)
    losses = distiller.loss(inputs, samples)
    with torch.no_grad():
        teacher_logits = distiller.teacher.decode_head(distiller.teacher.extract_feat(inputs))
        student_logits = distiller.student.decode_head(distiller.student.extract_feat(inputs))
    labels = torch.stack([sample.gt_sem_seg.data[0] for sample in samples])
    expected_cwd = distiller.distill_losses['loss_cwd'](student_logits, teacher_logits)
    expected_kd = distiller.distill_losses['loss_kd'](student_logits, teacher_logits, gt_labels=labels)
    assert losses['distill.loss_cwd'].item() == pytest.approx(expected_cwd.item(), rel=1e-5)
    assert losses['distill.loss_kd'].item() == pytest.approx(expected_kd.item(), rel=1e-5)
    distiller.train()


def test_predict_is_the_students_prediction(distiller):
    distiller.eval()
    inputs, samples = batch(size=1, seed=2)
    with torch.no_grad():
        ours = distiller.predict(inputs, samples)[0].seg_logits.data
        theirs = distiller.student.predict(inputs, batch(size=1, seed=2)[1])[0].seg_logits.data
    assert torch.equal(ours, theirs)


def test_unknown_tap_names_the_closest_paths(r18_checkpoint):
    losses = dict(loss_cwd=dict(type='ChannelWiseDivergence', student='decode_head.conv_sge',
                                teacher=LOGITS))
    with pytest.raises(UnknownTapError, match=r"student has no module 'decode_head\.conv_sge'.*"
                                              r"'decode_head\.conv_seg'"):
        MODELS.build(distiller_cfg(r18_checkpoint, losses=losses))


def test_teacher_checkpoint_of_another_architecture_lists_the_keys(r18_checkpoint):
    with pytest.raises(CheckpointMismatchError) as error:
        MODELS.build(distiller_cfg(r18_checkpoint, teacher_cfg=TEACHER_CFG))
    message = str(error.value)
    assert 'missing from the checkpoint' in message
    assert 'backbone.layer1.0.conv3.weight' in message  # R101 bottleneck keys absent from an R18 file
    assert 'different shape' in message
    assert 'auxiliary_head.conv_seg.weight: checkpoint (19, 64, 1, 1) vs model (19, 256, 1, 1)' in message


def test_missing_teacher_checkpoint_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='teacher checkpoint .*does not exist.*teacher.checkpoint'):
        MODELS.build(distiller_cfg(str(tmp_path / 'nope.pth')))


def test_prefixed_and_plain_teacher_checkpoints_load(tmp_path, distiller):
    for name, payload in (('module', {'state_dict': {'module.' + k: v for k, v in
                                                     distiller.teacher.state_dict().items()}}),
                          ('plain', distiller.teacher.state_dict())):
        path = tmp_path / f'{name}.pth'
        torch.save(payload, path)
        built = MODELS.build(distiller_cfg(str(path)))
        assert torch.equal(built.teacher.decode_head.conv_seg.weight,
                           distiller.teacher.decode_head.conv_seg.weight)


class NotATensor:
    pass


def test_checkpoint_that_needs_code_is_refused_with_the_opt_in(tmp_path):
    path = tmp_path / 'unsafe.pth'
    torch.save({'state_dict': {}, 'meta': NotATensor()}, path, pickle_module=pickle)
    with pytest.raises(RuntimeError, match='arbitrary code.*allow_unsafe_checkpoint=True'):
        MODELS.build(distiller_cfg(str(path)))


def test_unknown_loss_type_lists_the_registered_losses(r18_checkpoint):
    losses = dict(loss_x=dict(type='ChannelWiseDivergance', student=LOGITS, teacher=LOGITS))
    with pytest.raises(ValueError, match='unknown distillation loss type.*ChannelWiseDivergence.*'
                                         'KLDivergence'):
        MODELS.build(distiller_cfg(r18_checkpoint, losses=losses))


def test_loss_names_must_start_with_loss(r18_checkpoint):
    losses = dict(cwd=dict(type='ChannelWiseDivergence', student=LOGITS, teacher=LOGITS))
    with pytest.raises(ValueError, match="must start with 'loss_'.*'loss_cwd'"):
        MODELS.build(distiller_cfg(r18_checkpoint, losses=losses))


def test_class_count_mismatch_fails_at_build_naming_the_taps():
    with pytest.warns(UserWarning, match='RANDOMLY INITIALISED'):
        with pytest.raises(ValueError, match=r'loss_cwd: student tap .decode_head\.conv_seg. gives '
                                             r'\(1, 19, 8, 8\).*\(1, 150, 8, 8\).*same classes'):
            MODELS.build(distiller_cfg(None, teacher_options={'model.decode_head.num_classes': 150},
                                       losses=dict(loss_cwd=dict(type='ChannelWiseDivergence',
                                                                 student=LOGITS, teacher=LOGITS))))


def test_student_and_teacher_from_mmseg_references():
    """cfg_path accepts mmseg's own configs by reference (``mmseg::``), as in the README's example."""
    reference = 'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py'
    options = {'model.pretrained': None, 'model.data_preprocessor.size': (64, 64)}
    with pytest.warns(UserWarning, match='RANDOMLY INITIALISED'):
        model = MODELS.build(dict(
            type='SegDistiller', student=dict(cfg_path=reference, cfg_options=options),
            teacher=dict(cfg_path=reference, cfg_options=options, checkpoint=None),
            distill_losses=dict(loss_kd=dict(type='KLDivergence', student=LOGITS, teacher=LOGITS))))
    assert model.student.backbone.depth == 18 and model.teacher.backbone.depth == 18


@pytest.mark.parametrize('losses, message', [
    ({}, r'distill_losses is empty: nothing to distil .*student would train alone while the teacher still runs'),
    ([dict(type='KLDivergence', student=LOGITS, teacher=LOGITS)],
     r"distill_losses must be a dict \{name: dict\(type=\.\.\., student=TAP, teacher=TAP, \.\.\.\)\}, got a list"),
])
def test_empty_or_listed_distill_losses_stop_the_build(r18_checkpoint, losses, message):
    """Training runs the check list_taps.py runs: an empty distill_losses does not train the student alone."""
    cfg = distiller_cfg(r18_checkpoint)
    cfg['distill_losses'] = losses
    with pytest.raises(ValueError, match=message):
        MODELS.build(cfg)


def test_every_problem_of_every_entry_is_reported_at_once(r18_checkpoint):
    losses = dict(loss_typo=dict(type='ChannelWiseDivergence', student='decode_head.conv_sge', teacher=LOGITS),
                  loss_unknown=dict(type='KLDivergance', student=LOGITS, teacher=LOGITS),
                  loss_record=dict(type='KLDivergence', student=dict(module=LOGITS, record='outptu'), teacher=LOGITS))
    with pytest.raises(UnknownTapError) as error:
        MODELS.build(distiller_cfg(r18_checkpoint, losses=losses))
    message = str(error.value)
    assert message.startswith('3 problem(s) in the distillation config:')
    assert "distill_losses.loss_typo: student has no module 'decode_head.conv_sge'; closest: 'decode_head.conv_seg'" \
        in message
    assert "distill_losses.loss_unknown: unknown distillation loss type 'KLDivergance'" in message
    assert "distill_losses.loss_record: student tap: tap 'decode_head.conv_seg': record must be one of" in message
