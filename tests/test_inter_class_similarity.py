"""AICSD's inter-class similarity distillation against naive loops over classes and pixels, and by hand."""
import math

import pytest
import torch

from mmseg_kd.losses import InterClassSimilarityDistillation, inter_class_similarity_matrix
from mmseg_kd.losses.inter_class_similarity import reference_code_similarity_matrix
from naive_reference import softmax_list


def random_logits(shape, seed=0):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed)) * 3


def naive_matrix(logits, tau=1.0, symmetric=True):
    """M[i][j] = mean over images of KL(P_j ‖ P_i), P_k = softmax over all H·W positions (loops)."""
    B, K, H, W = logits.shape
    dists = [[softmax_list([float(logits[b, k, h, w]) / tau for h in range(H) for w in range(W)])
              for k in range(K)] for b in range(B)]
    kl = [[sum(sum(pj * (math.log(pj) - math.log(pi)) for pj, pi in zip(dists[b][j], dists[b][i]))
               for b in range(B)) / B for j in range(K)] for i in range(K)]
    if symmetric:
        kl = [[kl[min(i, j)][max(i, j)] for j in range(K)] for i in range(K)]
    return kl


def naive_reference_code_matrix(logits, tau=1.0):
    """The released code: softmax over H per column, kl_div(input=P_i (not log), target=P_j), batchmean."""
    B, K, H, W = logits.shape
    p = torch.zeros(B, K, H, W, dtype=torch.float64)
    for b in range(B):
        for k in range(K):
            for w in range(W):
                column = softmax_list([float(logits[b, k, h, w]) / tau for h in range(H)])
                for h in range(H):
                    p[b, k, h, w] = column[h]
    entry = [[sum(float(p[b, j, h, w]) * (math.log(float(p[b, j, h, w])) - float(p[b, i, h, w]))
                  for b in range(B) for h in range(H) for w in range(W)) / B for j in range(K)]
             for i in range(K)]
    return [[entry[min(i, j)][max(i, j)] for j in range(K)] for i in range(K)]


def row_normalised(matrix):
    rows = []
    for row in matrix:
        norm = max(math.sqrt(sum(v * v for v in row)), 1e-12)
        rows.append([v / norm for v in row])
    return rows


def naive_icsd(student, teacher, matrix_fn, batch_average=False):
    m_s, m_t = row_normalised(matrix_fn(student)), row_normalised(matrix_fn(teacher))
    K = len(m_s)
    loss = sum((m_s[i][j] - m_t[i][j]) ** 2 for i in range(K) for j in range(K)) / K ** 2
    return loss / student.shape[0] if batch_average else loss


@pytest.mark.parametrize('tau, symmetric', [(1.0, True), (2.0, True), (1.0, False)])
def test_similarity_matrix_matches_naive_loops(tau, symmetric):
    logits = random_logits((2, 4, 3, 5))
    matrix = inter_class_similarity_matrix(logits, tau=tau, symmetric=symmetric)
    assert matrix.shape == (4, 4)
    assert torch.allclose(matrix, torch.tensor(naive_matrix(logits, tau, symmetric)), atol=1e-5)


def test_similarity_matrix_by_hand():
    # one image, two positions: class 0 logits [ln 3, 0] -> P_0 = (3/4, 1/4); class 1 [0, 0] -> (1/2, 1/2).
    # KL(P_1 ‖ P_0) = 0.5·ln(0.5/0.75) + 0.5·ln(0.5/0.25) = -0.202733 + 0.346574 = 0.143841 = M[0, 1]
    # KL(P_0 ‖ P_1) = 0.75·ln(1.5) + 0.25·ln(0.5) = 0.304099 - 0.173287 = 0.130812 = M[1, 0] (asymmetric)
    logits = torch.tensor([[math.log(3.0), 0.0], [0.0, 0.0]]).view(1, 2, 1, 2)
    assert torch.allclose(inter_class_similarity_matrix(logits),
                          torch.tensor([[0.0, 0.143841], [0.143841, 0.0]]), atol=1e-6)
    assert torch.allclose(inter_class_similarity_matrix(logits, symmetric=False),
                          torch.tensor([[0.0, 0.143841], [0.130812, 0.0]]), atol=1e-6)


def test_icsd_loss_matches_naive_loops():
    student, teacher = random_logits((2, 5, 3, 4), seed=1), random_logits((2, 5, 3, 4), seed=2)
    for batch_average in (False, True):
        loss = InterClassSimilarityDistillation(batch_average=batch_average)(student, teacher)
        expected = naive_icsd(student, teacher, naive_matrix, batch_average)
        assert loss.item() == pytest.approx(expected, rel=1e-4)


def test_icsd_loss_by_hand():
    # teacher as in the matrix case: M_t = [[0, a], [a, 0]] -> rows normalised [[0, 1], [1, 0]];
    # student with two identical classes: M_s = 0 -> M̂_s = 0. Loss = (1 + 1) / K² = 0.5; weight 3 -> 1.5
    teacher = torch.tensor([[math.log(3.0), 0.0], [0.0, 0.0]]).view(1, 2, 1, 2)
    student = torch.zeros(1, 2, 1, 2)
    assert InterClassSimilarityDistillation(loss_weight=3.0)(student, teacher).item() == pytest.approx(1.5,
                                                                                                     abs=1e-6)


def test_reference_code_variant_matches_a_naive_loop_of_the_released_code():
    logits = random_logits((2, 3, 4, 3), seed=3)
    matrix = reference_code_similarity_matrix(logits)
    assert torch.allclose(matrix, torch.tensor(naive_reference_code_matrix(logits), dtype=torch.float32),
                          atol=1e-5)
    assert matrix.diagonal().abs().min() > 0  # probabilities as log-probabilities: diagonal not 0
    student, teacher = random_logits((2, 3, 4, 3), seed=4), logits
    loss = InterClassSimilarityDistillation(reference_code=True)(student, teacher)
    assert loss.item() == pytest.approx(naive_icsd(student, teacher, naive_reference_code_matrix), rel=1e-4)


def test_icsd_gradients_reach_the_student_only_and_identical_logits_give_zero():
    student, teacher = random_logits((2, 4, 3, 3), seed=5), random_logits((2, 4, 3, 3), seed=6)
    student.requires_grad_(True)
    teacher.requires_grad_(True)
    InterClassSimilarityDistillation()(student, teacher).backward()
    assert student.grad.abs().sum() > 0 and teacher.grad is None
    identical = InterClassSimilarityDistillation()(teacher.detach().clone(), teacher)
    assert identical.item() == pytest.approx(0, abs=1e-7)


def test_icsd_resizes_the_student_and_checks_the_class_count():
    loss = InterClassSimilarityDistillation()
    loss.check_shapes((2, 21, 16, 16), (2, 21, 64, 64))
    with pytest.raises(ValueError, match='same number of channels'):
        loss.check_shapes((2, 19, 16, 16), (2, 21, 16, 16))
    assert torch.isfinite(loss(random_logits((1, 3, 2, 2)), random_logits((1, 3, 4, 4))))
