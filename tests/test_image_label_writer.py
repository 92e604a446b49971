"""The dataset writer shared by the demo-data generator and converters: files, checks, progress bar."""
import numpy as np
import pytest
from PIL import Image

from mmseg_kd.datasets.image_label_writer import ImageLabelPair, write_image_label_pairs
from mmseg_kd.datasets.procedural_cityscapes import write_cityscapes_layout


def test_generated_scenes_are_written_with_a_progress_bar(tmp_path, capsys):
    root = write_cityscapes_layout(str(tmp_path / 'scenes'), num_train=2, num_val=1, size=(32, 64), seed=3)
    output = capsys.readouterr().out
    assert f'writing 2 + 1 generated street scenes (32x64) to {root}' in output
    assert '3/3' in output and 'task/s' in output
    labels = sorted((tmp_path / 'scenes' / 'gtFine').rglob('*_gtFine_labelTrainIds.png'))
    images = sorted((tmp_path / 'scenes' / 'leftImg8bit').rglob('*_leftImg8bit.png'))
    assert len(labels) == len(images) == 3
    assert np.asarray(Image.open(images[0])).shape == (32, 64, 3)


def test_the_same_arguments_write_the_same_files_and_progress_can_be_off(tmp_path, capsys):
    for name in ('a', 'b'):
        write_cityscapes_layout(str(tmp_path / name), num_train=1, num_val=1, size=(32, 32), seed=5,
                                progress=False)
    assert capsys.readouterr().out == ''
    for path in (tmp_path / 'a').rglob('*.png'):
        twin = tmp_path / 'b' / path.relative_to(tmp_path / 'a')
        assert np.array_equal(np.asarray(Image.open(path)), np.asarray(Image.open(twin)))


def test_a_label_map_of_another_size_is_refused(tmp_path):
    pair = ImageLabelPair(str(tmp_path / 'i.png'), np.zeros((4, 6, 3), np.uint8), str(tmp_path / 'l.png'),
                          np.zeros((4, 5), np.uint8))
    with pytest.raises(ValueError, match=r'l\.png: label map \(4, 5\) does not match its image \(4, 6\)'):
        write_image_label_pairs([pair], total=1, description='x', progress=False)
