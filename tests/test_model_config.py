"""student=/teacher= entries name mmseg's own configs with 'mmseg::' references, as the README shows."""
import pytest

from mmseg_kd.distillers.model_config import resolve_model_config


def test_mmseg_reference_gives_that_config_s_model_with_options_applied():
    model = resolve_model_config(dict(cfg_path='mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py',
                                      cfg_options={'model.pretrained': None}), 'student')
    assert model.type == 'EncoderDecoder'
    assert model.backbone.depth == 18 and model.decode_head.in_channels == 512
    assert model.pretrained is None


def test_unknown_mmseg_reference_names_the_entry():
    with pytest.raises(FileNotFoundError, match=r"teacher\.cfg_path 'mmseg::pspnet/nope\.py' was not found"):
        resolve_model_config(dict(cfg_path='mmseg::pspnet/nope.py'), 'teacher')


STUDENT_REF = 'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py'


@pytest.mark.parametrize('role, entry, message', [
    ('student', dict(cfg_path=STUDENT_REF, bn_train=True), r'student\.bn_train is a setting of the teacher entry'),
    ('student', dict(cfg_path=STUDENT_REF, checkpoint='x.pth'), r'student\.checkpoint is a setting of the teacher'),
    ('student', dict(cfg_path=STUDENT_REF, autocast_dtype='bfloat16'), r'student\.autocast_dtype is a setting of'),
    ('teacher', dict(cfg_path=STUDENT_REF, loss_weight_schedule=dict(type='TrainingProgress')),
     r'teacher\.loss_weight_schedule is a setting of the student entry, and the teacher would ignore it'),
    ('student', dict(type='EncoderDecoder', backbone=dict(type='ResNetV1c'), channels_last=True),
     r'student\.channels_last is a setting of the teacher entry'),
    ('student', dict(cfg_path=STUDENT_REF, checkpoint_sha='ab'), r"student has an unknown key 'checkpoint_sha'"),
])
def test_each_role_takes_only_its_own_entry_keys(role, entry, message):
    with pytest.raises(ValueError, match=message):
        resolve_model_config(entry, role)


def test_each_role_accepts_its_own_keys():
    student = resolve_model_config(dict(cfg_path=STUDENT_REF, loss_weight_schedule=dict(type='TrainingProgress')),
                                   'student')
    teacher = resolve_model_config(dict(cfg_path=STUDENT_REF, checkpoint=None, bn_train=True, channels_last=False,
                                        autocast_dtype='bfloat16', allow_unsafe_checkpoint=False), 'teacher')
    assert student.backbone.depth == teacher.backbone.depth == 18
    inline = resolve_model_config(dict(type='EncoderDecoder', backbone=dict(type='ResNetV1c'), bn_train=True),
                                  'teacher')
    assert 'bn_train' not in inline and inline.backbone.type == 'ResNetV1c'
