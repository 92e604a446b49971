"""The pictures' layout: colour bars stay beside their own panels, titles do not run into each other, and the
demo's comparison grid has a class legend. Synthetic label maps and compared maps (no model): the layout is what
is checked."""
import numpy as np
import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg

from image_checks import assert_real_png
from mmseg_kd.analysis.compared_maps import ComparedMaps
from mmseg_kd.analysis.prediction_comparison import (
    comparison_size_px,
    draw_prediction_comparison,
    prediction_comparison_figure,
)
from mmseg_kd.analysis.teacher_student_figure import teacher_student_figure
from mmseg_kd.analysis.teacher_student_inference import TapMaps, TeacherStudentOutputs

CLASSES = [f'class{k}' for k in range(19)]
PALETTE = [[(37 * k) % 256, (91 * k) % 256, (53 * k) % 256] for k in range(19)]
HW = (64, 128)


def label_map(seed, classes):
    return np.random.default_rng(seed).choice(classes, size=HW)


def tap_maps(index):
    rng = np.random.default_rng(index)
    tensor = torch.zeros(19, 8, 16)
    # values with long tick labels (0.012345...), the case where labels reached into the next panel
    compared = ComparedMaps('p(motorcycle): softmax over the classes of logits / τ, τ = 1',
                            0.0123 + 1e-4 * rng.random((8, 16)),
                            0.0123 + 1e-4 * rng.random((8, 16)))
    return TapMaps(f'loss_{index}', ('decode_head.conv_seg', 'decode_head.conv_seg'), tensor, tensor, compared)


@pytest.mark.parametrize('num_losses', [2, 3])
def test_colour_bars_cover_no_panel_and_stay_inside_the_picture(num_losses):
    image = np.random.default_rng(0).integers(0, 256, HW + (3,), dtype=np.uint8)
    outputs = TeacherStudentOutputs(image, label_map(1, [0, 1]), label_map(2, [0, 2]), label_map(3, [1, 2]),
                                    torch.zeros(19, *HW), torch.zeros(19, *HW),
                                    [tap_maps(i) for i in range(num_losses)])
    figure = teacher_student_figure(outputs, CLASSES, PALETTE, taps=True)
    renderer = FigureCanvasAgg(figure).get_renderer()
    bars = [axis for axis in figure.axes if hasattr(axis, '_colorbar')]
    panels = [axis for axis in figure.axes if axis.images and axis not in bars]
    assert len(bars) == num_losses and len(panels) == 4 + 2 * num_losses
    whole = figure.bbox
    for bar in bars:
        drawn = bar.get_tightbbox(renderer)  # the bar with its ticks and tick labels
        assert whole.x0 <= drawn.x0 and drawn.x1 <= whole.x1 and whole.y0 <= drawn.y0 and drawn.y1 <= whole.y1
        for panel in panels:
            assert not drawn.overlaps(panel.get_window_extent(renderer)), (bar, panel.get_title())
    titles = [axis.title.get_window_extent(renderer) for axis in panels]
    for first in range(len(titles)):
        for second in range(first + 1, len(titles)):
            assert not titles[first].overlaps(titles[second]), (panels[first].get_title(), panels[second].get_title())


def test_the_comparison_grid_has_a_legend_of_the_classes_it_shows(tmp_path):
    images = [np.random.default_rng(seed).integers(0, 256, HW + (3,), dtype=np.uint8) for seed in (0, 1)]
    truths = [label_map(1, [0, 1]), label_map(2, [0, 255])]  # 255: ignored, not a class
    predictions = {'teacher': [label_map(3, [1, 5]), label_map(4, [0])],
                   'student': [label_map(5, [13]), label_map(6, [0, 1])]}
    out = tmp_path / 'comparison.png'
    draw_prediction_comparison(images, truths, predictions, CLASSES, PALETTE, str(out))
    size = comparison_size_px(HW, 2, 2)
    assert size == (4 * 300, 2 * 200 + 100)  # 4 columns of 300 px; rows of 300·64/128 + 50 px; the legend's 100
    assert_real_png(out, size)
    legend = prediction_comparison_figure(images, truths, predictions, CLASSES, PALETTE).axes[-1]
    assert legend.get_title(loc='left').startswith('classes in the ground truths and the predictions')
    # most pixels first, of 8192-pixel maps: class0 about 2.5 maps, class1 about 1.5, class13 one, class5 about half
    assert [text.get_text() for text in legend.texts] == ['class0', 'class1', 'class13', 'class5']
