"""The teacher's and the distiller's preprocessing are compared on their effective values, defaults filled in."""
import pytest
from mmengine.config import Config

from conftest import CWD_DISTILL_CFG, STUDENT_CFG
from mmseg_kd.distillers.distill_term import DistillConfigError
from mmseg_kd.distillers.model_config import resolve_model_config
from mmseg_kd.distillers.preprocessing_agreement import effective_preprocessing, preprocessing_problem
from mmseg_kd.registry import MODELS

MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
IMAGENET = dict(type='SegDataPreProcessor', mean=MEAN, std=STD, bgr_to_rgb=True, pad_val=0, seg_pad_val=255)


def without(config: dict, *keys) -> dict:
    return {key: value for key, value in config.items() if key not in keys}


@pytest.mark.parametrize('teacher, expected', [
    (None, 'mean: teacher none (no normalisation), distiller [123.675, 116.28, 103.53]; std: teacher none '
           '(no normalisation), distiller [58.395, 57.12, 57.375]; swaps_channels: teacher keeps the channel order, '
           'distiller swaps BGR/RGB; its config has no data_preprocessor'),
    (without(IMAGENET, 'bgr_to_rgb'), 'swaps_channels: teacher keeps the channel order, distiller swaps BGR/RGB; '
                                      'defaults filled in on both sides'),
    (without(IMAGENET, 'mean', 'std'), 'mean: teacher none (no normalisation), distiller [123.675'),
    (dict(IMAGENET, std=[1.0, 1.0, 1.0]), 'std: teacher [1.0, 1.0, 1.0], distiller [58.395'),
    (dict(IMAGENET, bgr_to_rgb=False, rgb_to_bgr=False), 'swaps_channels: teacher keeps the channel order'),
    (dict(type='BaseDataPreprocessor'), 'mean: teacher none (no normalisation)'),
])
def test_a_teacher_that_sees_other_pixels_than_it_was_trained_on_is_named(teacher, expected):
    problem = preprocessing_problem(IMAGENET, teacher)
    assert problem.startswith('teacher and student preprocess images differently (')
    assert expected in problem


@pytest.mark.parametrize('ours, teacher', [
    (IMAGENET, dict(IMAGENET, size=(512, 1024), pad_val=0)),                      # padding and size do not matter
    (IMAGENET, dict(without(IMAGENET, 'bgr_to_rgb'), rgb_to_bgr=True)),           # either flag swaps the channels
    (dict(IMAGENET, mean=tuple(MEAN)), dict(IMAGENET, mean=[float(v) for v in MEAN])),      # tuple or list
    (None, None),                                                                 # neither normalises
    (dict(type='SegDataPreProcessor'), None),                                     # the class's defaults: none
    (dict(type='SegDataPreProcessor', bgr_to_rgb=False), dict(type='BaseDataPreprocessor')),
])
def test_equal_effective_values_pass(ours, teacher):
    assert preprocessing_problem(ours, teacher) == ''


def test_the_defaults_come_from_the_preprocessor_class():
    assert effective_preprocessing(dict(type='SegDataPreProcessor')) == dict(mean=None, std=None,
                                                                           swaps_channels=False)
    assert effective_preprocessing(None) == effective_preprocessing(dict(type='BaseDataPreprocessor'))


def test_a_teacher_config_without_data_preprocessor_stops_the_distiller_build():
    cfg = Config.fromfile(str(CWD_DISTILL_CFG))
    student = resolve_model_config(dict(cfg_path=str(STUDENT_CFG)), 'student').to_dict()
    teacher_model = without(student, 'data_preprocessor')
    distiller = dict(cfg.model.to_dict(), student=dict(model=student),
                     teacher=dict(model=teacher_model, checkpoint=None))
    with pytest.raises(DistillConfigError) as error:
        MODELS.build(distiller)
    assert 'teacher and student preprocess images differently (mean: teacher none (no normalisation)' in \
        str(error.value)
    assert 'its config has no data_preprocessor' in str(error.value)
