"""One rule for the input size of the build-time dry run, list_taps.py and benchmark.py: the size the config trains
at (the training crop, else the data preprocessor's size, else the first training sample), which a config's
``tap_check_input_size`` overrides for the tap check."""
import pytest
from mmengine.config import Config

from conftest import CWD_DISTILL_CFG, STUDENT_CFG
from mmseg_kd.datasets.dataset_configs import training_input_size
from mmseg_kd.datasets.procedural_cityscapes import write_cityscapes_layout
from mmseg_kd.engine.input_sizes import dry_run_size, set_dry_run_input_size, training_size


def without_crop(cfg):
    cfg.train_dataloader.dataset.pipeline = [step for step in cfg.train_dataloader.dataset.pipeline
                                             if step['type'] != 'RandomCrop']
    return cfg


def test_the_training_crop_wins_over_a_crop_size_left_in_an_inherited_base():
    """The demo student inherits mmseg's 512x1024 Cityscapes base; its pipeline crops 64x128."""
    cfg = Config.fromfile(STUDENT_CFG)
    cfg.crop_size = (512, 512)
    cfg.model.data_preprocessor.size = (512, 1024)
    assert training_input_size(cfg) == ((64, 128), 'train_dataloader.dataset.pipeline[3] (RandomCrop.crop_size)')


def test_a_crop_inside_dataset_wrappers_is_found():
    cfg = Config.fromfile(STUDENT_CFG)
    inner = cfg.train_dataloader.dataset
    inner.pipeline[3].crop_size = (48, 96)
    cfg.train_dataloader.dataset = dict(type='RepeatDataset', times=2, dataset=dict(type='ConcatDataset',
                                                                                      datasets=[inner]))
    size, source = training_input_size(cfg)
    assert size == (48, 96) and source.startswith('train_dataloader.dataset.dataset.datasets[0].pipeline[3]')


def test_without_a_crop_the_preprocessor_size_counts():
    cfg = without_crop(Config.fromfile(STUDENT_CFG))
    cfg.model.data_preprocessor.size = (40, 72)
    assert training_input_size(cfg) == ((40, 72), 'the data preprocessor size')


def test_without_crop_and_preprocessor_size_the_first_training_sample_counts(tmp_path):
    root = write_cityscapes_layout(str(tmp_path / 'cityscapes'), num_train=1, num_val=0, size=(32, 64),
                                   progress=False)
    cfg = without_crop(Config.fromfile(STUDENT_CFG))
    cfg.model.data_preprocessor.pop('size')
    cfg.train_dataloader.dataset.data_root = root
    cfg.train_dataloader.dataset.pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                                             dict(type='PackSegInputs')]
    assert training_input_size(cfg) == ((32, 64), 'the first training sample through the training pipeline')
    cfg.train_dataloader.dataset.data_root = str(tmp_path / 'nowhere')
    with pytest.raises(ValueError, match=r'cannot tell the training input size.*--input-size H W'):
        training_input_size(cfg)


def test_a_distiller_without_its_own_preprocessor_uses_its_students():
    cfg = without_crop(Config.fromfile(CWD_DISTILL_CFG))
    assert cfg.model.get('data_preprocessor') is None
    assert training_size(cfg) == ((64, 128), 'the data preprocessor size')  # the student config's size=crop_size


def test_the_dry_run_checks_at_the_training_size_unless_the_config_says_otherwise():
    cfg = Config.fromfile(CWD_DISTILL_CFG)
    assert dry_run_size(cfg) == ((64, 128), 'train_dataloader.dataset.pipeline[3] (RandomCrop.crop_size)')
    set_dry_run_input_size(cfg)
    assert cfg.model.tap_check_input_size == (64, 128)
    cfg.model.tap_check_input_size = (96, 96)
    set_dry_run_input_size(cfg)
    assert dry_run_size(cfg) == ((96, 96), 'model.tap_check_input_size') and cfg.model.tap_check_input_size == (96, 96)
    student = Config.fromfile(STUDENT_CFG)
    set_dry_run_input_size(student)  # not a distiller: nothing to set
    assert 'tap_check_input_size' not in student.model
