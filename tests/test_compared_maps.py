"""The visualizer draws what each loss family compares: the values in the drawn panels against plain-Python
computations of the losses' formulas (naive loops over positions and channels), the class legend and the class
names of the similarity matrices."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from mmseg_kd.analysis.compared_maps import compared_maps, most_predicted_class
from mmseg_kd.analysis.teacher_student_figure import legend_classes, teacher_student_figure
from mmseg_kd.analysis.teacher_student_inference import TapMaps, TeacherStudentOutputs
from mmseg_kd.distillers.taps import Tap
from mmseg_kd.registry import MODELS
from naive_reference import softmax_list

CLASSES = ('road', 'car', 'tree', 'sky')
PALETTE = ((128, 64, 128), (0, 0, 142), (107, 142, 35), (70, 130, 180))
K, H, W = 4, 3, 5


def random_logits(seed, shape=(K, H, W)):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)) * 2


def value(tensor, *index):
    return float(tensor[index])


def positions(height=H, width=W):
    return [(h, w) for h in range(height) for w in range(width)]


def naive_class_probability(logits, tau, k):
    picture = np.zeros(logits.shape[1:])
    for h, w in positions(*logits.shape[1:]):
        picture[h, w] = softmax_list([value(logits, j, h, w) / tau for j in range(logits.shape[0])])[k]
    return picture


def naive_distribution_over(logits, tau, channels, k):
    """Channel k's share of the softmax over every (channel, h, w) entry of ``channels``."""
    entries = [(c, h, w) for c in channels for h, w in positions(*logits.shape[1:])]
    probabilities = softmax_list([value(logits, *entry) / tau for entry in entries])
    picture = np.zeros(logits.shape[1:])
    for (c, h, w), p in zip(entries, probabilities):
        if c == k:
            picture[h, w] = p
    return picture


def naive_attention(features):
    attention = np.zeros(features.shape[1:])
    for h, w in positions(*features.shape[1:]):
        attention[h, w] = sum(value(features, c, h, w) ** 2 for c in range(features.shape[0])) / features.shape[0]
    return attention / math.sqrt((attention ** 2).sum())


def naive_channel_norm(features):
    norm = np.zeros(features.shape[1:])
    for h, w in positions(*features.shape[1:]):
        norm[h, w] = math.sqrt(sum(value(features, c, h, w) ** 2 for c in range(features.shape[0])))
    return norm


def cosine(a, b):
    return sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def naive_pooled_cosine_to_centre(features, kernel):
    """Max-pool kernel×kernel (ceil mode), then the cosine of every node to the centre node."""
    channels, height, width = features.shape
    grid = (math.ceil(height / kernel), math.ceil(width / kernel))
    nodes = {}
    for i, j in positions(*grid):
        nodes[i, j] = [max(value(features, c, h, w) for h in range(i * kernel, min((i + 1) * kernel, height))
                           for w in range(j * kernel, min((j + 1) * kernel, width))) for c in range(channels)]
    centre = (grid[0] // 2, grid[1] // 2)
    picture = np.zeros(grid)
    for i, j in positions(*grid):
        picture[i, j] = cosine(nodes[i, j], nodes[centre])
    return picture, centre


def naive_relation_to_centre(features, tau):
    """softmax over the positions m of cos(f_centre, f_m) / τ."""
    channels, height, width = features.shape
    vectors = {(h, w): [value(features, c, h, w) for c in range(channels)] for h, w in positions(height, width)}
    centre = (height // 2, width // 2)
    picture = np.array(softmax_list([cosine(vectors[centre], vectors[p]) / tau for p in positions(height, width)]))
    return picture.reshape(height, width), centre


def build(cfg):
    loss = MODELS.build(cfg)
    loss.eval()
    return loss


def naive_cases():
    """(loss, student tensor, teacher tensor, expected student picture, expected teacher picture, marker)."""
    student, teacher = random_logits(1), random_logits(2)
    small_student = random_logits(3, (K, 2, 3))  # logit losses resize the student to the teacher's size
    resized = nn.functional.interpolate(small_student[None], size=(H, W), mode='bilinear', align_corners=False)[0]
    k = most_predicted_class(teacher)
    cases = {
        'kd': (build(dict(type='KLDivergence', tau=2.0)), small_student, teacher,
               naive_class_probability(resized, 2.0, k), naive_class_probability(teacher, 2.0, k), None),
        'cwd': (build(dict(type='ChannelWiseDivergence', tau=4.0)), student, teacher,
                naive_distribution_over(student, 4.0, [k], k), naive_distribution_over(teacher, 4.0, [k], k), None),
    }
    cgd = build(dict(type='ChannelGroupDivergence', tau=2.0, group_size=2, shuffle_seed=3))
    cgd.prepare((1, K, H, W), (1, K, H, W), None, None)  # draws the channel permutation, as at build time
    order = cgd.channel_permutation.tolist()
    position = order.index(k)
    group = order[position // 2 * 2:position // 2 * 2 + 2]
    cases['cgd'] = (cgd, student, teacher, naive_distribution_over(student, 2.0, group, k),
                    naive_distribution_over(teacher, 2.0, group, k), None)
    cases['dist'] = (build(dict(type='InterIntraClassCorrelation', tau=3.0)), student, teacher,
                     naive_class_probability(student, 3.0, k), naive_class_probability(teacher, 3.0, k), None)
    cases['icsd'] = (build(dict(type='InterClassSimilarityDistillation', tau=1.5)), student, teacher,
                     naive_distribution_over(student, 1.5, [k], k), naive_distribution_over(teacher, 1.5, [k], k),
                     None)
    features_s, features_t = random_logits(4, (6, 4, 5)), random_logits(5, (9, 4, 5))
    cases['at'] = (build(dict(type='AttentionTransfer')), features_s, features_t, naive_attention(features_s),
                   naive_attention(features_t), None)
    skd_s, skd_t = (naive_pooled_cosine_to_centre(f, 2) for f in (features_s, features_t))
    cases['skd'] = (build(dict(type='PairwiseSimilarityDistillation', pool_kernel=2)), features_s, features_t,
                    skd_s[0], skd_t[0], skd_s[1])
    relation_s, relation_t = (naive_relation_to_centre(f, 0.1) for f in (features_s, features_t))
    cases['minibatch'] = (build(dict(type='MiniBatchPixelRelation', tau=0.1)), features_s, features_t,
                          relation_s[0], relation_t[0], relation_s[1])
    connected = random_logits(6, (9, 4, 5))  # what a FitNet student gives after its connector
    cases['fitnet'] = (build(dict(type='FeatureMSE')), connected, features_t, naive_channel_norm(connected),
                       naive_channel_norm(features_t), None)
    overhaul = build(dict(type='OverhaulFeatureDistillation'))
    overhaul.margin = -torch.rand(1, 9, 1, 1, generator=torch.Generator().manual_seed(7))
    clipped = torch.max(features_t, overhaul.margin[0])
    cases['overhaul'] = (overhaul, connected, features_t, naive_channel_norm(connected), naive_channel_norm(clipped),
                         None)
    return cases


CASES = naive_cases()


@pytest.mark.parametrize('name', sorted(CASES))
def test_each_loss_family_is_drawn_as_what_it_compares(name):
    loss, student, teacher, expected_student, expected_teacher, marker = CASES[name]
    maps = TapMaps(f'loss_{name}', ('s.tap', 't.tap'), student, teacher, compared_maps(loss, student, teacher, CLASSES))
    outputs = TeacherStudentOutputs(
        image=np.zeros((H, W, 3), np.uint8), gt=None, teacher_pred=np.zeros((H, W), np.int64),
        student_pred=np.zeros((H, W), np.int64), teacher_logits=teacher, student_logits=student, tap_maps=[maps])
    figure = teacher_student_figure(outputs, CLASSES, PALETTE, taps=True)
    panels = {axis.get_title().split(':')[0]: axis for axis in figure.axes if axis.get_title().startswith('loss_')}
    drawn_student = panels[f'loss_{name} student'].images[0]
    drawn_teacher = panels[f'loss_{name} teacher'].images[0]
    assert np.allclose(drawn_student.get_array(), expected_student, atol=1e-5)
    assert np.allclose(drawn_teacher.get_array(), expected_teacher, atol=1e-5)
    assert drawn_student.get_clim() == drawn_teacher.get_clim()  # one colour scale for the pair
    assert drawn_student.get_clim() == pytest.approx(
        (min(expected_student.min(), expected_teacher.min()), max(expected_student.max(), expected_teacher.max())),
        abs=1e-5)
    assert maps.compared.marker == marker


def test_the_class_pictures_name_their_class_and_temperature():
    loss, student, teacher = CASES['cwd'][:3]
    k = most_predicted_class(teacher)
    assert np.bincount(teacher.argmax(0).flatten(), minlength=K).argmax() == k  # hand count of argmax labels
    assert compared_maps(loss, student, teacher, CLASSES).what == \
        f'{CLASSES[k]}: softmax over the positions of logits / τ, τ = 4'
    chosen = compared_maps(loss, student, teacher, CLASSES, class_index=3)
    assert chosen.what.startswith('sky:')
    assert np.allclose(chosen.teacher, naive_distribution_over(teacher, 4.0, [3], 3), atol=1e-6)
    assert compared_maps(CASES['kd'][0], student, teacher, CLASSES, class_index=1).what == \
        'p(car): softmax over the classes of logits / τ, τ = 2'


def test_attnfd_is_drawn_after_both_cbams_and_the_frobenius_normalisation():
    loss = build(dict(type='AttentionGuidedFeatureDistillation'))
    connected, teacher = random_logits(8, (5, 3, 4)), random_logits(9, (5, 3, 4))
    loss.prepare((1, 5, 3, 4), (1, 5, 3, 4), nn.Identity(), Tap('x'))
    compared = compared_maps(loss, connected, teacher, CLASSES)
    refined = loss.teacher_attention(teacher[None])[0]
    frobenius = math.sqrt(sum(value(refined, *i) ** 2 for i in np.ndindex(*refined.shape)))
    assert np.allclose(compared.teacher, naive_channel_norm(refined) / frobenius, atol=1e-6)
    frobenius = math.sqrt(sum(value(connected, *i) ** 2 for i in np.ndindex(*connected.shape)))
    assert np.allclose(compared.student, naive_channel_norm(connected) / frobenius, atol=1e-6)


def test_the_legend_lists_the_classes_shown_most_pixels_first_and_the_matrices_name_theirs():
    gt = np.array([[0, 0, 255, 3, 3], [0, 0, 0, 3, 3], [1, 1, 1, 1, 255]])
    teacher_pred = np.array([[0, 0, 0, 3, 3], [0, 0, 0, 3, 3], [1, 1, 1, 1, 1]])
    student_pred = np.full((H, W), 3)
    # pixels: road 5 + 6 + 0 = 11, car 4 + 5 + 0 = 9, sky 4 + 4 + 15 = 23, tree none; 255 is ignored
    assert legend_classes([gt, teacher_pred, student_pred], K) == [(3, 23), (0, 11), (1, 9)]
    outputs = TeacherStudentOutputs(
        image=np.zeros((H, W, 3), np.uint8), gt=gt, teacher_pred=teacher_pred, student_pred=student_pred,
        teacher_logits=random_logits(1), student_logits=random_logits(2))
    matrix = torch.rand(K, K)
    figure = teacher_student_figure(outputs, CLASSES, PALETTE, similarity=(matrix, matrix.t()))
    legend = next(axis for axis in figure.axes if axis.get_title(loc='left').startswith('classes in'))
    assert [text.get_text() for text in legend.texts] == ['sky', 'road', 'car']
    matrices = [axis for axis in figure.axes if 'similarity' in axis.get_title()]
    assert len(matrices) == 2
    for axis in matrices:
        assert [label.get_text() for label in axis.get_xticklabels()] == list(CLASSES)
        assert [label.get_text() for label in axis.get_yticklabels()] == list(CLASSES)
    assert np.allclose(matrices[1].images[0].get_array(), matrix.t().numpy())
