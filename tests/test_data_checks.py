"""Bad data is reported with the file, the value found and the classes expected.

The checked loading steps against the stock ones on hand-made files, the pipeline rewriting the tools apply, and
``tools/train.py``/``tools/test.py`` on a generated Cityscapes-layout dataset with one bad file each.
"""
import re
import shutil
import subprocess

import numpy as np
import pytest
from mmcv.transforms import LoadImageFromFile
from mmengine.config import Config
from mmseg.datasets.transforms import LoadAnnotations
from PIL import Image

from conftest import PYTHON, REPO, STUDENT_CFG
from mmseg_kd.datasets import BadDataError, CheckedLoadAnnotations, CheckedLoadImageFromFile
from mmseg_kd.datasets.procedural_cityscapes import write_cityscapes_layout
from mmseg_kd.engine.data_checks import add_data_checks
from mmseg_kd.engine.dataset_scan import scan_dataloader
from mmseg_kd.engine.runner_setup import DatasetPathError, check_dataset_paths

ADE20K_CFG = REPO / 'configs/ade20k/pspnet_r18-d8_ade20k-512x512.py'


def write_label(path, values) -> str:
    Image.fromarray(np.asarray(values, np.uint8)).save(path)
    return str(path)


def load_label(step, path, reduce_zero_label=False):
    return step(dict(seg_map_path=str(path), reduce_zero_label=reduce_zero_label, seg_fields=[]))


# ---------------------------------------------------------------------------------------------- the loading steps
def test_label_values_outside_the_classes_name_the_file_the_values_and_the_classes(tmp_path):
    label = np.zeros((4, 6), np.uint8)
    label[0, :5] = 40
    label[1, :2] = 19  # one past the last class
    label[2, :] = 255  # ignored: fine
    path = write_label(tmp_path / 'bad.png', label)
    with pytest.raises(BadDataError) as error:
        load_label(CheckedLoadAnnotations(num_classes=19), path)
    assert str(error.value).startswith(
        f"label map '{path}' holds value(s) 19 (2 pixels), 40 (5 pixels), which are neither one of the 19 classes "
        '0..18 nor the ignore index 255.')


def test_a_valid_label_map_loads_exactly_as_mmseg_loads_it(tmp_path):
    label = np.arange(24, dtype=np.uint8).reshape(4, 6) % 19
    label[3, 3:] = 255
    path = write_label(tmp_path / 'good.png', label)
    ours = load_label(CheckedLoadAnnotations(num_classes=19), path)
    theirs = load_label(LoadAnnotations(), path)
    assert np.array_equal(ours['gt_seg_map'], label)
    assert np.array_equal(ours['gt_seg_map'], theirs['gt_seg_map']) and ours['seg_fields'] == theirs['seg_fields']


def test_values_are_checked_as_the_dataset_maps_them(tmp_path):
    """ADE20K-style labels: with reduce_zero_label, file value v is class v - 1 and 0 is ignored, so of 0..151 in
    the file only 151 (class 150 of 150) is out of range."""
    label = np.arange(152, dtype=np.uint8).reshape(8, 19)
    path = write_label(tmp_path / 'ade.png', label)
    with pytest.raises(BadDataError, match=r"holds value\(s\) 150 \(1 pixels\) as the dataset maps them "
                                           r'\(reduce_zero_label .*\), which are neither one of the 150 classes '
                                           r'0\.\.149 nor the ignore index 255'):
        load_label(CheckedLoadAnnotations(num_classes=150), path, reduce_zero_label=True)
    label[label == 151] = 0
    write_label(path, label)
    assert load_label(CheckedLoadAnnotations(num_classes=150), path, reduce_zero_label=True)['gt_seg_map'].max() == 255


@pytest.mark.parametrize('content, problem', [
    (b'', 'is empty (0 bytes: an interrupted copy or download?)'),
    (b'<html>404</html>', 'cannot be decoded as an image'),
    (None, 'does not exist'),
])
def test_unreadable_images_and_labels_name_the_file(tmp_path, content, problem):
    path = tmp_path / 'file.png'
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(BadDataError, match=re.escape(f"image '{path}' {problem}")):
        CheckedLoadImageFromFile()(dict(img_path=str(path)))
    with pytest.raises(BadDataError, match=re.escape(f"label map '{path}' {problem}")):
        load_label(CheckedLoadAnnotations(num_classes=19), path)


def test_a_valid_image_loads_exactly_as_mmcv_loads_it(tmp_path):
    image = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    Image.fromarray(image).save(tmp_path / 'image.png')
    ours = CheckedLoadImageFromFile(to_float32=True)(dict(img_path=str(tmp_path / 'image.png')))
    theirs = LoadImageFromFile(to_float32=True)(dict(img_path=str(tmp_path / 'image.png')))
    assert np.array_equal(ours['img'], image[..., ::-1]) and np.array_equal(ours['img'], theirs['img'])
    assert ours['img_shape'] == theirs['img_shape'] == (5, 7)


# ---------------------------------------------------------------------------------------------- the pipelines
def test_every_pipeline_gets_the_checked_steps_with_its_datasets_classes():
    cfg = Config.fromfile(str(ADE20K_CFG))
    cfg.val_dataloader.dataset = dict(type='ConcatDataset', datasets=[
        cfg.val_dataloader.dataset, dict(cfg.val_dataloader.dataset, metainfo=dict(classes=('a', 'b')),
                                         ignore_index=254)])
    cfg.test_dataloader.dataset.pipeline = [dict(type='LoadImageFromFile'), dict(type='TestTimeAug', transforms=[
        [dict(type='LoadAnnotations', reduce_zero_label=True)], [dict(type='PackSegInputs')]])]
    add_data_checks(cfg)
    train = cfg.train_dataloader.dataset.pipeline
    assert train[0] == dict(type='CheckedLoadImageFromFile')
    assert train[1] == dict(type='CheckedLoadAnnotations', reduce_zero_label=True, num_classes=150, ignore_index=255)
    ade, custom = cfg.val_dataloader.dataset.datasets
    assert [step['type'] for step in ade.pipeline] == [
        'CheckedLoadImageFromFile', 'Resize', 'CheckedLoadAnnotations', 'PackSegInputs']
    assert custom.pipeline[2] == dict(type='CheckedLoadAnnotations', reduce_zero_label=True, num_classes=2,
                                      ignore_index=254)
    assert cfg.test_dataloader.dataset.pipeline[1]['transforms'][0] == [
        dict(type='CheckedLoadAnnotations', reduce_zero_label=True, num_classes=150, ignore_index=255)]


def test_a_config_can_set_the_checked_steps_or_turn_the_checks_off():
    cfg = Config.fromfile(str(STUDENT_CFG))
    own = dict(type='CheckedLoadAnnotations', num_classes=20, ignore_index=19)
    cfg.train_dataloader.dataset.pipeline[1] = own
    add_data_checks(cfg)
    assert cfg.train_dataloader.dataset.pipeline[1] == own
    stock = Config.fromfile(str(STUDENT_CFG))
    unchecked = Config.fromfile(str(STUDENT_CFG))
    unchecked.check_data = False
    add_data_checks(unchecked)
    assert unchecked.train_dataloader.dataset.pipeline == stock.train_dataloader.dataset.pipeline
    unchecked.check_data = 'no'
    with pytest.raises(ValueError, match="check_data must be True or False, got 'no'"):
        add_data_checks(unchecked)


def test_an_image_folder_without_images_is_refused_before_the_build(tmp_path):
    cfg = Config.fromfile(str(STUDENT_CFG))
    cfg.train_dataloader.dataset.data_root = str(tmp_path)
    images = tmp_path / 'leftImg8bit' / 'train'
    (images / 'aachen').mkdir(parents=True)
    (images / 'bochum').mkdir()
    (images / 'bochum' / 'b_000000_000000_leftImg8bit.jpg').write_bytes(b'')  # not the dataset's suffix
    with pytest.raises(DatasetPathError, match=f"train_dataloader: image folder '{images}' holds no image ending in "
                                               "'_leftImg8bit.png', in none of its subfolders either"):
        check_dataset_paths(cfg, ('train_dataloader',))
    (images / 'bochum' / 'b_000000_000000_leftImg8bit.png').write_bytes(b'')
    check_dataset_paths(cfg, ('train_dataloader',))


# ---------------------------------------------------------------------------------------------- through the tools
@pytest.fixture(scope='module')
def pristine_root(tmp_path_factory):
    return write_cityscapes_layout(str(tmp_path_factory.mktemp('data') / 'cityscapes'), num_train=2, num_val=2,
                                   size=(64, 128), seed=1, progress=False)


def corrupted_copy(pristine_root, tmp_path, folder, split):
    """A copy of the dataset and the path of the first file of ``folder`` ('leftImg8bit'/'gtFine') in ``split``."""
    root = tmp_path / 'cityscapes'
    shutil.copytree(pristine_root, root)
    return root, sorted((root / folder / split).rglob('*.png'))[0]


def run_tool(*args):
    return subprocess.run([PYTHON, *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=600)


def stopped_with(result, tool, error, message):
    """Whether the tool stopped with its one-block error: the header naming the error, then the message."""
    return f'==== {tool} stopped: {error} ====\n{message}' in result.stderr


def train(root, tmp_path):
    return run_tool('tools/train.py', STUDENT_CFG, '--work-dir', tmp_path / 'run', '--cfg-options',
                    f'train_dataloader.dataset.data_root={root}', f'val_dataloader.dataset.data_root={root}',
                    'train_dataloader.batch_size=2', 'train_cfg.max_iters=1')


def evaluate(root, tmp_path, checkpoint):
    return run_tool('tools/test.py', STUDENT_CFG, checkpoint, '--work-dir', tmp_path / 'run', '--cfg-options',
                    f'test_dataloader.dataset.data_root={root}')


def test_a_training_label_outside_the_classes_stops_train_py_naming_the_file(pristine_root, tmp_path):
    root, label = corrupted_copy(pristine_root, tmp_path, 'gtFine', 'train')
    values = np.asarray(Image.open(label)).copy()
    values[:2, :3] = 40
    write_label(label, values)
    result = train(root, tmp_path)
    assert result.returncode != 0
    assert stopped_with(result, 'train.py', 'BadDataError',
                        f"label map '{label}' holds value(s) 40 (6 pixels), which are neither one of the 19 "
                        'classes 0..18 nor the ignore index 255')
    assert 'IndexError' not in result.stderr


def test_a_validation_label_outside_the_classes_stops_test_py_naming_the_file(pristine_root, tmp_path,
                                                                              r18_checkpoint):
    root, label = corrupted_copy(pristine_root, tmp_path, 'gtFine', 'val')
    values = np.asarray(Image.open(label)).copy()
    values[-1, -4:] = 40
    write_label(label, values)
    result = evaluate(root, tmp_path, r18_checkpoint)
    assert result.returncode != 0
    assert stopped_with(result, 'test.py', 'BadDataError',
                        f"label map '{label}' holds value(s) 40 (4 pixels), which are neither one of the 19 "
                        'classes 0..18 nor the ignore index 255')
    assert not re.search(r'mIoU: \d', result.stdout + result.stderr)  # no evaluation printed


def test_an_empty_image_stops_test_py_naming_the_file(pristine_root, tmp_path, r18_checkpoint):
    root, image = corrupted_copy(pristine_root, tmp_path, 'leftImg8bit', 'val')
    image.write_bytes(b'')
    result = evaluate(root, tmp_path, r18_checkpoint)
    assert result.returncode != 0
    assert stopped_with(result, 'test.py', 'BadDataError',
                        f"image '{image}' is empty (0 bytes: an interrupted copy or download?)")


def test_image_folders_with_only_empty_city_folders_stop_train_py_before_the_build(pristine_root, tmp_path):
    root = tmp_path / 'cityscapes'
    shutil.copytree(pristine_root, root)
    for image in (root / 'leftImg8bit' / 'train').rglob('*.png'):
        image.unlink()
    result = train(root, tmp_path)
    assert result.returncode != 0
    assert (f"train_dataloader: image folder '{root}/leftImg8bit/train' holds no image ending in "
            "'_leftImg8bit.png'") in result.stderr
    assert 'need at least one array to concatenate' not in result.stderr
    assert not (tmp_path / 'run').exists()  # stopped before the runner was built


def test_a_full_scan_lists_every_bad_file_of_the_dataset(pristine_root, tmp_path):
    root = tmp_path / 'cityscapes'
    shutil.copytree(pristine_root, root)
    empty_image = sorted((root / 'leftImg8bit' / 'train').rglob('*.png'))[0]
    empty_image.write_bytes(b'')
    bad_labels = sorted((root / 'gtFine' / 'train').rglob('*.png'))
    for label in bad_labels:
        write_label(label, np.full((2, 3), 19))
    cfg = Config.fromfile(str(STUDENT_CFG))
    cfg.train_dataloader.dataset.data_root = str(root)
    result = scan_dataloader(cfg, 'train_dataloader', progress=False)
    assert result.samples == 2
    label_problem = ("label map '{}' holds value(s) 19 (6 pixels), which are neither one of the 19 classes 0..18 "
                     'nor the ignore index 255. Such labels stop training (a cross-entropy target out of bounds) and '
                     'silently change the mIoU of an evaluation. Fix the file, or, if the dataset has these labels, '
                     'give the dataset config its classes (metainfo=dict(classes=...)) or its ignore_index.')
    assert result.problems == [
        f"image '{empty_image}' is empty (0 bytes: an interrupted copy or download?). Replace the file, or remove it "
        'and its partner from the dataset.',
        label_problem.format(bad_labels[0]), label_problem.format(bad_labels[1])]
