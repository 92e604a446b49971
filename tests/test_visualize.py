"""visualize.py: teacher and student of a trained distillation on single images, drawn side by side.

A PSPNet-R18 teacher (a checkpoint the tests save) and a PSPNet-R18 student (demo configs, 64x128) on the
generated Cityscapes-layout dataset.
"""
import importlib.util
import shutil

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from conftest import CWD_DISTILL_CFG, REPO, STUDENT_CFG
from image_checks import assert_real_png
from mmseg_kd.analysis.teacher_student_figure import draw_teacher_student_figure
from mmseg_kd.analysis.teacher_student_inference import (
    dataset_meta,
    find_in_datasets,
    inference_pipeline,
    load_distiller,
    run_teacher_and_student,
)
from mmseg_kd.registry import MODELS

VAL_IMAGE = 'leftImg8bit/val/frankfurt/frankfurt_000000_000001_leftImg8bit.png'
VAL_LABEL = 'gtFine/val/frankfurt/frankfurt_000000_000001_gtFine_labelTrainIds.png'
PICTURE = (1200, 200)  # 4 panels of 300 px; a 64x128 image gives rows of 300·64/128 + 50 px
LEGEND = 100  # the class legend's row below the predictions: 50 px title band + 50 px


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name, REPO / 'tools' / 'analysis' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def setting(tmp_path_factory, cityscapes_root, r18_checkpoint):
    """A distillation config, and a checkpoint of it whose student differs from a fresh build."""
    folder = tmp_path_factory.mktemp('visualize')
    config = folder / 'distill.py'
    config.write_text(f"""
_base_ = ['{CWD_DISTILL_CFG}']
model = dict(teacher=dict(cfg_path='{STUDENT_CFG}', checkpoint='{r18_checkpoint}'))
val_dataloader = dict(dataset=dict(data_root='{cityscapes_root}'))
test_dataloader = dict(dataset=dict(data_root='{cityscapes_root}'))
train_dataloader = dict(dataset=dict(data_root='{cityscapes_root}'))
""")
    cfg = Config.fromfile(str(config))
    torch.manual_seed(1)
    trained = MODELS.build(cfg.model)
    checkpoint = folder / 'iter_4.pth'
    torch.save({'state_dict': trained.state_dict(), 'meta': {}}, checkpoint)
    return dict(config=str(config), cfg=cfg, checkpoint=str(checkpoint), root=cityscapes_root,
                student_state=trained.student.state_dict())


@pytest.fixture(scope='module')
def distiller(setting):
    torch.manual_seed(2)
    return load_distiller(setting['cfg'], setting['checkpoint'])


def test_the_student_comes_from_the_checkpoint_and_the_teacher_from_the_config(distiller, setting,
                                                                               r18_checkpoint):
    for key, value in distiller.student.state_dict().items():
        assert torch.equal(value, setting['student_state'][key]), key
    saved_teacher = torch.load(r18_checkpoint, weights_only=True)['state_dict']
    assert torch.equal(distiller.teacher.decode_head.conv_seg.weight,
                       saved_teacher['decode_head.conv_seg.weight'])
    assert not distiller.student.training


def test_a_dataset_image_gets_its_ground_truth_both_predictions_and_the_tapped_maps(distiller, setting):
    image = f"{setting['root']}/{VAL_IMAGE}"
    info = find_in_datasets(setting['cfg'], [image])[image]
    assert info['seg_map_path'].endswith(VAL_LABEL)
    outputs = run_teacher_and_student(distiller, inference_pipeline(setting['cfg'], with_labels=True), info,
                                      dataset_meta(setting['cfg'])['classes'])
    assert np.array_equal(outputs.gt, np.asarray(Image.open(f"{setting['root']}/{VAL_LABEL}")))
    assert outputs.image.shape == (64, 128, 3)
    assert np.array_equal(outputs.image, np.asarray(Image.open(image)))
    assert outputs.teacher_logits.shape == outputs.student_logits.shape == (19, 64, 128)
    assert np.array_equal(outputs.teacher_pred, outputs.teacher_logits.argmax(0).numpy())
    assert np.array_equal(outputs.student_pred, outputs.student_logits.argmax(0).numpy())
    assert not np.array_equal(outputs.teacher_pred, outputs.student_pred)  # different weights, different maps
    (maps,) = outputs.tap_maps
    assert maps.loss_name == 'loss_cwd' and maps.taps == ('decode_head.conv_seg', 'decode_head.conv_seg')
    assert maps.student.shape == maps.teacher.shape == (19, 8, 16)
    with torch.no_grad():  # the student's tapped logits are those of the image run through the student
        inputs = distiller.data_preprocessor(dict(inputs=[inference_pipeline(setting['cfg'], False)(
            dict(img_path=image))['inputs']]), False)['inputs']
        expected = distiller.student.decode_head(distiller.student.extract_feat(inputs))[0]
    assert torch.allclose(maps.student, expected, atol=1e-5)
    # what loss_cwd compares (tau 4): the spatial softmax of the class the teacher predicts most, by hand
    k = int(np.bincount(maps.teacher.argmax(0).flatten().numpy(), minlength=19).argmax())
    for network, logits in (('student', maps.student), ('teacher', maps.teacher)):
        exponentials = np.exp(logits[k].double().numpy() / 4.0 - logits[k].double().numpy().max() / 4.0)
        assert np.allclose(getattr(maps.compared, network), exponentials / exponentials.sum(), atol=1e-6)
    assert maps.compared.what.startswith(f"{dataset_meta(setting['cfg'])['classes'][k]}: softmax over the positions")


def test_the_figure_gets_a_square_row_for_similarity_matrices(distiller, setting, tmp_path):
    """The drawing of (K, K) matrices; which matrices (AICSD's) is the --similarity option's business."""
    image = f"{setting['root']}/{VAL_IMAGE}"
    outputs = run_teacher_and_student(distiller, inference_pipeline(setting['cfg'], False), dict(img_path=image))
    assert outputs.gt is None
    matrices = tuple(torch.corrcoef(logits.flatten(1))
                     for logits in (outputs.teacher_logits, outputs.student_logits))
    meta = dataset_meta(setting['cfg'])
    size = draw_teacher_student_figure(outputs, meta['classes'], meta['palette'], str(tmp_path / 'x.png'),
                                       taps=True, similarity=matrices)
    assert size == (PICTURE[0], 2 * PICTURE[1] + LEGEND + 350)
    assert_real_png(tmp_path / 'x.png', size)


def test_the_palette_is_the_dataset_s(setting):
    meta = dataset_meta(setting['cfg'])
    assert meta['classes'][0] == 'road' and len(meta['classes']) == len(meta['palette']) == 19
    assert meta['palette'][0] == [128, 64, 128]


def test_the_tool_draws_one_picture_per_image(setting, tmp_path, capsys):
    outside = tmp_path / 'elsewhere.png'
    shutil.copy(f"{setting['root']}/{VAL_IMAGE}", outside)
    load_tool('visualize').main([setting['config'], setting['checkpoint'], f"{setting['root']}/{VAL_IMAGE}",
                                 str(outside), '--out-dir', str(tmp_path / 'pictures'), '--taps',
                                 '--tap-class', 'car'])
    captured = capsys.readouterr()
    output = captured.out
    assert (f"frankfurt_000000_000001_leftImg8bit.png  (ground truth from {setting['root']}/{VAL_LABEL})"
            in output)
    assert 'elsewhere.png  (no ground truth)' in output
    assert '2/2' in output  # the progress bar over the images
    assert "building the distiller, loading the teacher's weights" in captured.err  # what the slow steps do
    for name in ('frankfurt_000000_000001_leftImg8bit.png', 'elsewhere.png'):
        assert_real_png(tmp_path / 'pictures' / name, (PICTURE[0], 2 * PICTURE[1] + LEGEND))


def test_ground_truth_can_be_given_for_any_image(setting, tmp_path, capsys):
    outside = tmp_path / 'elsewhere.png'
    shutil.copy(f"{setting['root']}/{VAL_IMAGE}", outside)
    load_tool('visualize').main([setting['config'], setting['checkpoint'], str(outside), '--gt',
                                 f"{setting['root']}/{VAL_LABEL}", '--out-dir', str(tmp_path)])
    assert f"elsewhere.png  (ground truth from {setting['root']}/{VAL_LABEL})" in capsys.readouterr().out
    assert_real_png(tmp_path / 'elsewhere.png', (PICTURE[0], PICTURE[1] + LEGEND))


def test_bad_arguments_are_refused_with_the_reason(setting, tmp_path, capsys):
    tool = load_tool('visualize')
    image = f"{setting['root']}/{VAL_IMAGE}"
    with pytest.raises(SystemExit):
        tool.main([setting['config'], setting['checkpoint'], image, image, '--gt', image])
    assert '--gt needs one label file per image: 2 image(s), 1 label(s)' in capsys.readouterr().err
    with pytest.raises(ValueError, match='teacher.checkpoint is None.*model.teacher.checkpoint=PATH'):
        tool.main([setting['config'], setting['checkpoint'], image, '--out-dir', str(tmp_path),
                   '--cfg-options', 'model.teacher.checkpoint=None'])
    with pytest.raises(ValueError, match="--tap-class 'bus stop' is not a class of the config's dataset; its "
                                         'classes: road, sidewalk'):
        tool.main([setting['config'], setting['checkpoint'], image, '--tap-class', 'bus stop'])
    with pytest.raises(ValueError, match='not a SegDistiller'):
        tool.main([str(STUDENT_CFG), setting['checkpoint'], image, '--out-dir', str(tmp_path)])


def test_similarity_adds_the_teacher_and_student_matrices(setting, tmp_path):
    load_tool('visualize').main([setting['config'], setting['checkpoint'], f"{setting['root']}/{VAL_IMAGE}",
                                 '--similarity', '--out-dir', str(tmp_path)])
    assert_real_png(tmp_path / 'frankfurt_000000_000001_leftImg8bit.png', (PICTURE[0], PICTURE[1] + LEGEND + 350))
