"""A label map must be one channel of its image's size, and an image must decode to the data its file holds: the same
check functions run in the training pipeline's loading steps and in the dataset scan (``check_dataset.py``)."""
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from conftest import STUDENT_CFG
from mmseg_kd.datasets import BadDataError, CheckedLoadAnnotations, CheckedLoadImageFromFile
from mmseg_kd.datasets.procedural_cityscapes import write_cityscapes_layout
from mmseg_kd.engine.dataset_scan import scan_dataloader
from test_data_checks import run_tool, train


def load_image_then_label(image_path, label_path):
    results = CheckedLoadImageFromFile()(dict(img_path=str(image_path)))
    return CheckedLoadAnnotations(num_classes=19)(dict(results, seg_map_path=str(label_path), reduce_zero_label=False,
                                                       seg_fields=[]))


def write_image(path, shape=(4, 6, 3)):
    cv2.imwrite(str(path), (np.arange(np.prod(shape)) % 200).reshape(shape).astype(np.uint8))
    return path


@pytest.mark.parametrize('label, expected', [
    (np.tile(np.array([1, 2, 3], np.uint8), (4, 6, 1)), "has shape (4, 6, 3), not (H, W)"),  # colour-coded
    (np.ones((4, 6, 3), np.uint8), "has shape (4, 6, 3), not (H, W)"),                # grayscale saved as RGB
    (np.ones((4, 6, 4), np.uint8), "has shape (4, 6, 4), not (H, W)"),                # RGBA
    (np.ones((6, 4), np.uint8), 'is 6x4 (HxW), its image 4x6'),                       # transposed
    (np.ones((8, 12), np.uint8), 'is 8x12 (HxW), its image 4x6'),                     # another resolution
])
def test_a_label_map_that_is_not_one_channel_of_its_images_size_is_refused_naming_the_file(tmp_path, label, expected):
    image = write_image(tmp_path / 'image.png')
    label_path = tmp_path / 'label.png'
    Image.fromarray(label).save(label_path)
    with pytest.raises(BadDataError) as error:
        load_image_then_label(image, label_path)
    assert f"label map '{label_path}' {expected}" in str(error.value)


def test_a_matching_label_map_loads(tmp_path):
    image = write_image(tmp_path / 'image.png')
    Image.fromarray(np.full((4, 6), 3, np.uint8)).save(tmp_path / 'label.png')
    assert load_image_then_label(image, tmp_path / 'label.png')['gt_seg_map'].shape == (4, 6)


@pytest.mark.parametrize('values, dtype', [(np.arange(24) * 10, np.uint16),   # 16-bit, all below 256: black
                                           (np.arange(24) * 40, np.uint16),   # 16-bit, below 1024: 0..3
                                           ])
def test_an_image_that_decodes_to_nearly_nothing_while_its_file_holds_data_is_refused(tmp_path, values, dtype):
    path = tmp_path / 'deep.png'
    cv2.imwrite(str(path), values.reshape(4, 6).astype(dtype))
    with pytest.raises(BadDataError) as error:
        CheckedLoadImageFromFile()(dict(img_path=str(path)))
    assert str(error.value).startswith(f"image '{path}' decodes to values 0..")
    assert f'while the file holds values 0..{values.max()} (uint16' in str(error.value)


@pytest.mark.parametrize('image', [np.zeros((4, 6, 3), np.uint8),                # black in its file too
                                   np.full((4, 6), 255, np.uint16),              # 16-bit, constant
                                   np.arange(24, dtype=np.uint16).reshape(4, 6) * 2000])  # 16-bit, full range
def test_an_image_whose_file_holds_no_more_than_it_decodes_to_loads(tmp_path, image):
    path = tmp_path / 'image.png'
    cv2.imwrite(str(path), image)
    assert CheckedLoadImageFromFile()(dict(img_path=str(path)))['img'].dtype == np.uint8


@pytest.fixture(scope='module')
def broken_root(tmp_path_factory):
    """A generated dataset with a 16-bit image, an RGB label map and a label map of another size in training."""
    root = Path(write_cityscapes_layout(str(tmp_path_factory.mktemp('data') / 'cityscapes'), num_train=4,
                                        num_val=1, size=(64, 128), seed=1, progress=False))
    images = sorted((root / 'leftImg8bit' / 'train').rglob('*.png'))
    labels = sorted((root / 'gtFine' / 'train').rglob('*_labelTrainIds.png'))
    cv2.imwrite(str(images[0]), cv2.imread(str(images[0])).astype(np.uint16))  # 0..255 stored as 16 bits
    gray = np.asarray(Image.open(labels[1]))
    Image.fromarray(np.stack([gray] * 3, axis=-1)).save(labels[1])
    Image.fromarray(gray[:32, :64]).save(labels[2])
    return root, [images[0], labels[1], labels[2]]


def test_the_scan_and_training_report_the_same_files(broken_root, tmp_path):
    root, bad_files = broken_root
    cfg = Config.fromfile(str(STUDENT_CFG))
    cfg.train_dataloader.dataset.data_root = str(root)
    problems = scan_dataloader(cfg, 'train_dataloader', progress=False).problems
    assert [problem.split("'")[1] for problem in problems] == [str(path) for path in bad_files]
    assert 'decodes to values 0..' in problems[0] and 'has shape (64, 128, 3)' in problems[1]
    assert 'is 32x64 (HxW), its image 64x128' in problems[2]
    result = run_tool('tools/analysis/check_dataset.py', STUDENT_CFG, '--loaders', 'train_dataloader',
                      '--cfg-options', f'train_dataloader.dataset.data_root={root}')
    assert result.returncode == 1 and 'train_dataloader: 4 samples loaded, 3 bad file(s)' in result.stdout
    result = train(root, tmp_path)  # stops at the first bad file it loads, with the scan's message for it
    assert result.returncode == 1
    block = result.stderr[result.stderr.index('==== train.py stopped: BadDataError ====\n'):].splitlines()[1]
    assert block in problems, (block, problems)
