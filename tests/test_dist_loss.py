"""DIST (inter- and intra-class Pearson correlation) against naive loops and a case computed by hand."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmseg_kd.losses import InterIntraClassCorrelation, KLDivergence
from naive_reference import softmax_list


def pearson_list(a, b, eps=1e-8):
    mean_a, mean_b = sum(a) / len(a), sum(b) / len(b)
    da, db = [x - mean_a for x in a], [x - mean_b for x in b]
    norm_a, norm_b = math.sqrt(sum(x * x for x in da)), math.sqrt(sum(x * x for x in db))
    return sum(x * y for x, y in zip(da, db)) / (norm_a * norm_b + eps)


def naive_dist(student, teacher, tau, beta, gamma):
    """Loops: probabilities per pixel, 1 − ρ over classes per pixel, 1 − ρ over all pixels per class."""
    B, K, H, W = teacher.shape
    pixels = [(b, h, w) for b in range(B) for h in range(H) for w in range(W)]
    y_s = [softmax_list([float(student[b, k, h, w]) / tau for k in range(K)]) for b, h, w in pixels]
    y_t = [softmax_list([float(teacher[b, k, h, w]) / tau for k in range(K)]) for b, h, w in pixels]
    inter = sum(1 - pearson_list(s, t) for s, t in zip(y_s, y_t)) / len(pixels)
    intra = sum(1 - pearson_list([s[k] for s in y_s], [t[k] for t in y_t]) for k in range(K)) / K
    return tau ** 2 * (beta * inter + gamma * intra)


@pytest.mark.parametrize('tau, beta, gamma', [(1.0, 1.0, 1.0), (2.0, 1.0, 1.0), (4.0, 2.0, 0.5)])
def test_dist_matches_naive_loops(tau, beta, gamma):
    generator = torch.Generator().manual_seed(0)
    student = torch.randn(2, 5, 3, 4, generator=generator) * 2
    teacher = torch.randn(2, 5, 3, 4, generator=generator) * 2
    loss = InterIntraClassCorrelation(tau=tau, beta=beta, gamma=gamma)(student, teacher)
    assert loss.item() == pytest.approx(naive_dist(student, teacher, tau, beta, gamma), rel=1e-5)


def test_dist_by_hand():
    # Pixel 1: teacher logits ln(1, 2, 5) -> p_t = (1, 2, 5)/8; student ln(5, 2, 1) -> p_s = (5, 2, 1)/8.
    #   Centred (mean 1/3): t = (−5, −2, 7)/24, s = (7, −2, −5)/24;
    #   Σ t·s = (−35 + 4 − 35)/576 = −66/576,
    #   ‖t‖·‖s‖ = 78/576 -> ρ = −66/78 = −0.8461538, 1 − ρ = 1.8461538.
    # Pixel 2: both ln(1, 1, 2) -> (1, 1, 2)/4: ρ = 1, 1 − ρ = 0.  Inter = (1.8461538 + 0)/2 = 0.9230769.
    # Intra (over the 2 pixels): class 0: t (1/8, 1/4) rises, s (5/8, 1/4) falls: ρ = −1 -> 2;
    #   class 1: t = s = (1/4, 1/4) constant: ρ = 0/(0 + ε) = 0 -> 1; class 2: t (5/8, 1/2) falls,
    #   s (1/8, 1/2) rises: -> 2. Intra = 5/3 = 1.6666667.
    # β = γ = 1: 0.9230769 + 1.6666667 = 2.5897436;  β = 2, γ = 0.5: 1.8461538 + 0.8333333 = 2.6794872
    teacher = torch.log(torch.tensor([[1.0, 1.0], [2.0, 1.0], [5.0, 2.0]])).view(1, 3, 1, 2)
    student = torch.log(torch.tensor([[5.0, 1.0], [2.0, 1.0], [1.0, 2.0]])).view(1, 3, 1, 2)
    assert InterIntraClassCorrelation()(student, teacher).item() == pytest.approx(2.5897436, abs=1e-5)
    assert InterIntraClassCorrelation(beta=2.0, gamma=0.5)(student, teacher).item() == \
        pytest.approx(2.6794872, abs=1e-5)


def test_dist_is_zero_for_an_affine_copy_of_the_teachers_probabilities():
    # y_s = a·y_t + (1 − a)/K is a distribution at every pixel and an affine map of y_t both along the
    # classes and along the pixels: every ρ is 1, so DIST is 0 although the probabilities differ (KL > 0)
    generator = torch.Generator().manual_seed(1)
    teacher = torch.randn(2, 4, 3, 3, generator=generator) * 3
    student = torch.log(0.5 * F.softmax(teacher, dim=1) + 0.5 / 4)
    assert InterIntraClassCorrelation()(student, teacher).item() == pytest.approx(0.0, abs=1e-5)
    assert KLDivergence()(student, teacher).item() > 0.01


def test_dist_resizes_the_student_and_trains_it_only():
    generator = torch.Generator().manual_seed(2)
    student = torch.randn(2, 4, 2, 3, generator=generator, requires_grad=True)
    teacher = torch.randn(2, 4, 4, 6, generator=generator, requires_grad=True)
    loss = InterIntraClassCorrelation(loss_weight=0.4)(student, teacher)
    resized = F.interpolate(student.detach(), size=(4, 6), mode='bilinear', align_corners=False)
    assert loss.item() == pytest.approx(0.4 * naive_dist(resized, teacher.detach(), 1.0, 1.0, 1.0), rel=1e-5)
    loss.backward()
    assert student.grad.abs().sum() > 0 and teacher.grad is None


def test_dist_needs_the_same_classes():
    with pytest.raises(ValueError, match='same number of channels'):
        InterIntraClassCorrelation().check_shapes((2, 19, 8, 8), (2, 21, 8, 8))
