"""Feature and relation losses against naive loop implementations written here, and tiny hand cases."""
import copy
import math
from statistics import NormalDist

import pytest
import torch
from torch import nn

from mmseg_kd.checkpoint.safe_loading import CheckpointMismatchError
from mmseg_kd.distillers import Tap
from mmseg_kd.layers import ChannelSpatialAttention, ParameterFreeChannelSpatialAttention
from mmseg_kd.losses import (
    AttentionGuidedFeatureDistillation,
    AttentionTransfer,
    FeatureMSE,
    IntraClassFeatureVariation,
    OverhaulFeatureDistillation,
    PairwiseSimilarityDistillation,
    teacher_bn_margin,
)


def random_maps(student_shape, teacher_shape=None, seed=0):
    generator = torch.Generator().manual_seed(seed)
    student = torch.randn(student_shape, generator=generator) * 2
    teacher = torch.randn(teacher_shape or student_shape, generator=generator) * 2
    return student, teacher


def value(tensor, *index):
    return float(tensor[index])


# ----------------------------------------------------------------------------- attention transfer
def naive_attention(features, normalize):
    """[b][h][w] of the normalised channel mean of squares, by loops."""
    B, C, H, W = features.shape
    maps = [[[sum(value(features, b, c, h, w) ** 2 for c in range(C)) / C for w in range(W)]
             for h in range(H)] for b in range(B)]
    for b in range(B):
        if normalize == 'image':
            norm = math.sqrt(sum(v ** 2 for row in maps[b] for v in row))
            maps[b] = [[v / max(norm, 1e-12) for v in row] for row in maps[b]]
        else:
            for w in range(W):
                norm = math.sqrt(sum(maps[b][h][w] ** 2 for h in range(H)))
                for h in range(H):
                    maps[b][h][w] /= max(norm, 1e-12)
    return maps


def naive_attention_transfer(student, teacher, normalize):
    a_s, a_t = naive_attention(student, normalize), naive_attention(teacher, normalize)
    B, _, H, W = teacher.shape
    return sum((a_s[b][h][w] - a_t[b][h][w]) ** 2
               for b in range(B) for h in range(H) for w in range(W)) / (B * H * W)


@pytest.mark.parametrize('normalize', ['image', 'column'])
def test_attention_transfer_matches_naive_loops(normalize):
    student, teacher = random_maps((2, 3, 4, 5), (2, 6, 4, 5))  # channel counts may differ
    loss = AttentionTransfer(normalize=normalize)(student, teacher)
    assert loss.item() == pytest.approx(naive_attention_transfer(student, teacher, normalize), rel=1e-5)


def test_attention_transfer_by_hand():
    # one channel, 1x2 map: student [1, 0] -> A = [1, 0] -> Â = [1, 0]; teacher [1, 1] -> Â = [1/√2, 1/√2]
    # (1 - 0.707107)² + (0 - 0.707107)² = 0.085786 + 0.5 = 0.585786; mean over 2 pixels = 0.292893
    student = torch.tensor([1.0, 0.0]).view(1, 1, 1, 2)
    teacher = torch.tensor([1.0, 1.0]).view(1, 1, 1, 2)
    assert AttentionTransfer()(student, teacher).item() == pytest.approx(0.292893, abs=1e-6)
    # per column (one row): every column is normalised alone -> both maps [1, 1] at the columns with
    # non-zero attention, student column 2 is 0/1e-12 = 0 -> (1 - 1)² + (0 - 1)² = 1, mean 0.5
    assert AttentionTransfer(normalize='column')(student, teacher).item() == pytest.approx(0.5, abs=1e-6)


# ----------------------------------------------------------------------------- pair-wise similarity
def naive_pooled_similarity(features, kernel):
    B, C, H, W = features.shape
    kh, kw = kernel
    matrices = []
    for b in range(B):
        nodes = []
        for top in range(0, H, kh):  # ceil mode: a last partial window where the map does not divide
            for left in range(0, W, kw):
                node = [max(value(features, b, c, h, w) for h in range(top, min(top + kh, H))
                            for w in range(left, min(left + kw, W))) for c in range(C)]
                norm = math.sqrt(sum(v ** 2 for v in node)) + 1e-8
                nodes.append([v / norm for v in node])
        matrices.append([[sum(x * y for x, y in zip(p, q)) for q in nodes] for p in nodes])
    return matrices


def naive_pairwise(student, teacher, kernel):
    s, t = naive_pooled_similarity(student, kernel), naive_pooled_similarity(teacher, kernel)
    total = sum((s[b][i][j] - t[b][i][j]) ** 2
                for b in range(len(s)) for i in range(len(s[b])) for j in range(len(s[b])))
    return total / (len(s) * len(s[0]) ** 2)


@pytest.mark.parametrize('kwargs, kernel', [(dict(pool_kernel=2), (2, 2)),
                                            (dict(pool_kernel=(2, 3)), (2, 3)),
                                            (dict(pool_scale=0.5), (2, 3))])
def test_pairwise_similarity_matches_naive_loops(kwargs, kernel):
    student, teacher = random_maps((2, 3, 5, 7), (2, 4, 5, 7), seed=1)  # 5x7 -> a ceil-mode grid
    loss = PairwiseSimilarityDistillation(**kwargs)(student, teacher)
    assert loss.item() == pytest.approx(naive_pairwise(student, teacher, kernel), rel=1e-5)


def test_pairwise_pool_scale_gives_a_3x3_grid_on_33x33_maps():
    assert PairwiseSimilarityDistillation(pool_scale=0.5).kernel_for((33, 33)) == (16, 16)  # ⌈33/16⌉ = 3


def test_pairwise_similarity_by_hand():
    # one image, 1x2 map, 2 channels, kernel 1: student nodes (1,0), (0,1) -> S_s = identity;
    # teacher nodes (1,0), (2,0) -> S_t = all ones; squared differences 0+1+1+0 = 2, mean over N'² = 4: 0.5
    student = torch.tensor([[1.0, 0.0], [0.0, 1.0]]).view(1, 2, 1, 2)
    teacher = torch.tensor([[1.0, 2.0], [0.0, 0.0]]).view(1, 2, 1, 2)
    loss = PairwiseSimilarityDistillation(pool_kernel=1)(student, teacher)
    assert loss.item() == pytest.approx(0.5, abs=1e-6)


def test_pairwise_detached_norm_changes_the_gradient_not_the_value():
    student, teacher = random_maps((1, 3, 4, 4), seed=2)
    values, grads = [], []
    for detach in (False, True):
        leaf = student.clone().requires_grad_(True)
        loss = PairwiseSimilarityDistillation(pool_kernel=2, detach_norm=detach)(leaf, teacher)
        loss.backward()
        values.append(loss.item())
        grads.append(leaf.grad)
    assert values[0] == pytest.approx(values[1], rel=1e-6)
    assert not torch.allclose(grads[0], grads[1])


def test_pairwise_needs_exactly_one_pooling_argument():
    with pytest.raises(ValueError, match='exactly one of pool_kernel'):
        PairwiseSimilarityDistillation()
    with pytest.raises(ValueError, match='exactly one of pool_kernel'):
        PairwiseSimilarityDistillation(pool_kernel=2, pool_scale=0.5)


# ----------------------------------------------------------------------------- Overhaul
def naive_margin(gamma, beta):
    sigma, mean = abs(gamma), beta
    unit = NormalDist()
    if unit.cdf(-mean / sigma) > 0.001:
        return mean - sigma * unit.pdf(mean / sigma) / unit.cdf(-mean / sigma)
    return -3 * sigma


def naive_overhaul(student, teacher, margins, divisor):
    B, C, H, W = teacher.shape
    total = 0.0
    for b in range(B):
        for c in range(C):
            for h in range(H):
                for w in range(W):
                    s = value(student, b, c, h, w)
                    t = max(value(teacher, b, c, h, w), margins[c])
                    if s > t or t > 0:
                        total += (s - t) ** 2
    return total / (B * divisor)


def test_teacher_bn_margin_matches_the_normal_distribution():
    gamma = torch.tensor([1.0, -2.0, 0.5, 1.0, 3.0])
    beta = torch.tensor([0.0, 1.0, -1.0, 4.0, -0.2])
    margin = teacher_bn_margin(gamma, beta)
    for c in range(5):
        assert margin[c].item() == pytest.approx(naive_margin(gamma[c].item(), beta[c].item()), rel=1e-5)
    # by hand: γ=1, β=0 -> E[x | x<0] of N(0,1) = -φ(0)/Φ(0) = -0.398942/0.5 = -0.797885
    assert margin[0].item() == pytest.approx(-0.797885, abs=1e-6)
    # γ=1, β=4: Φ(-4) = 3.2e-5 <= 0.001 -> the fallback -3σ = -3
    assert margin[3].item() == -3.0


class OneNorm(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels)


def prepared_overhaul(gamma, beta, **kwargs):
    teacher = OneNorm(len(gamma))
    teacher.bn.weight.data = torch.tensor(gamma)
    teacher.bn.bias.data = torch.tensor(beta)
    loss = OverhaulFeatureDistillation(**kwargs)
    loss.prepare((2, len(gamma), 1, 1), (2, len(gamma), 1, 1), teacher, Tap('bn'))
    return loss


def test_overhaul_matches_naive_loops():
    gamma, beta = [1.0, 0.5, 2.0], [0.0, -1.0, 0.5]
    student, teacher = random_maps((2, 3, 3, 4), seed=3)
    loss = prepared_overhaul(gamma, beta, divisor=4)
    margins = [naive_margin(g, b) for g, b in zip(gamma, beta)]
    assert loss(student, teacher).item() == pytest.approx(naive_overhaul(student, teacher, margins, 4),
                                                          rel=1e-5)
    assert torch.equal(loss.state_dict()['margin'].flatten(), teacher_bn_margin(torch.tensor(gamma),
                                                                                torch.tensor(beta)))


def test_overhaul_by_hand():
    # γ=1, β=0 -> margin m = -0.797885. Teacher [-2, 0.5, -0.1] -> target [-0.797885, 0.5, -0.1].
    # student -0.5 > -0.797885: (0.297885)² = 0.088735; target 0.5 > 0: (0.2 - 0.5)² = 0.09;
    # student -0.5 < target -0.1 <= 0: 0. Sum 0.178735, B = 1, divisor 2 -> 0.0893677
    teacher = torch.tensor([-2.0, 0.5, -0.1]).view(1, 1, 1, 3)
    student = torch.tensor([-0.5, 0.2, -0.5]).view(1, 1, 1, 3)
    loss = prepared_overhaul([1.0], [0.0], divisor=2)(student, teacher)
    assert loss.item() == pytest.approx(0.0893677, abs=1e-6)


def test_overhaul_finds_the_norm_of_a_resnet_stage():
    from mmseg.models.backbones import ResNet
    resnet = ResNet(depth=50, num_stages=2, out_indices=(0, 1), strides=(1, 2), dilations=(1, 1))
    loss = OverhaulFeatureDistillation()
    loss.prepare((1, 512, 2, 2), (1, 512, 2, 2), resnet, Tap('layer2', 'pre_activation'))
    last_norm = resnet.layer2[-1].norm3
    assert torch.equal(loss.margin.flatten(), teacher_bn_margin(last_norm.weight, last_norm.bias))
    with pytest.raises(ValueError, match="after its ReLU.*record='pre_activation'"):
        OverhaulFeatureDistillation().prepare((1, 512, 2, 2), (1, 512, 2, 2), resnet, Tap('layer2'))
    with pytest.raises(ValueError, match='cannot tell which batch norm'):
        OverhaulFeatureDistillation().prepare((1, 64, 2, 2), (1, 64, 2, 2), resnet, Tap('maxpool'))


# ----------------------------------------------------------------------------- IFVD
def naive_ifvd(student, teacher, labels, ignore_index=255, count_ignored=False):
    def cosine_map(features):
        B, C, H, W = features.shape
        result = {}
        for b in range(B):
            for k in {int(v) for v in labels[b].flatten()} - {ignore_index}:
                pixels = [(h, w) for h in range(H) for w in range(W) if int(labels[b, h, w]) == k]
                proto = [sum(value(features, b, c, h, w) for h, w in pixels) / (len(pixels) + 1e-6)
                         for c in range(C)]
                for h, w in pixels:
                    f = [value(features, b, c, h, w) for c in range(C)]
                    dot = sum(x * y for x, y in zip(f, proto))
                    norm_f = max(math.sqrt(sum(x * x for x in f)), 1e-8)
                    norm_p = max(math.sqrt(sum(x * x for x in proto)), 1e-8)
                    result[b, h, w] = dot / (norm_f * norm_p)
        return result

    m_s, m_t = cosine_map(student), cosine_map(teacher)
    total = sum((m_s[key] - m_t[key]) ** 2 for key in m_s)
    return total / (labels.numel() if count_ignored else len(m_s))


@pytest.mark.parametrize('count_ignored', [False, True])
def test_ifvd_matches_naive_loops(count_ignored):
    student, teacher = random_maps((2, 3, 4, 4), (2, 5, 4, 4), seed=4)
    labels = torch.randint(0, 3, (2, 8, 8), generator=torch.Generator().manual_seed(0))
    labels[0, :2] = 255
    labels[1, 6:, 6:] = 255
    small = labels[:, ::2, ::2]  # nearest resize from 8x8 to 4x4
    loss = IntraClassFeatureVariation(ignored_pixels_in_mean=count_ignored)
    loss = loss(student, teacher, gt_labels=labels)
    assert loss.item() == pytest.approx(naive_ifvd(student, teacher, small, count_ignored=count_ignored),
                                        rel=1e-5)


def test_ifvd_by_hand():
    # one image, two pixels of class 0. Student (1,0), (0,1): prototype ≈ (0.5, 0.5), cos = 0.5/0.707107
    # = 0.707107 at both; teacher (1,0), (1,0): cos = 1. Mean of (0.707107 - 1)² = 0.085786
    student = torch.tensor([[1.0, 0.0], [0.0, 1.0]]).view(1, 2, 1, 2)
    teacher = torch.tensor([[1.0, 1.0], [0.0, 0.0]]).view(1, 2, 1, 2)
    labels = torch.zeros(1, 1, 2, dtype=torch.long)
    loss = IntraClassFeatureVariation()(student, teacher, gt_labels=labels)
    assert loss.item() == pytest.approx(0.085786, abs=1e-5)


def test_ifvd_counting_ignored_pixels_by_hand():
    # the two class-0 pixels of test_ifvd_by_hand and a third, ignored pixel: CIRKD's and the IFVD authors' code
    # divide the sum of squared differences, 2 x 0.085786, by all 3 pixels: 0.057191; the default by the 2 labelled
    student = torch.tensor([[1.0, 0.0, 3.0], [0.0, 1.0, 1.0]]).view(1, 2, 1, 3)
    teacher = torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 2.0]]).view(1, 2, 1, 3)
    labels = torch.tensor([[[0, 0, 255]]])
    counted = IntraClassFeatureVariation(ignored_pixels_in_mean=True)(student, teacher, gt_labels=labels)
    assert counted.item() == pytest.approx(0.057191, abs=1e-5)
    assert IntraClassFeatureVariation()(student, teacher, gt_labels=labels).item() == pytest.approx(0.085786, abs=1e-5)


def test_ifvd_with_only_ignored_pixels_is_zero_with_a_graph():
    student, teacher = random_maps((1, 2, 2, 2), seed=5)
    student.requires_grad_(True)
    loss = IntraClassFeatureVariation()(student, teacher, gt_labels=torch.full((1, 2, 2), 255))
    assert loss.item() == 0.0 and loss.requires_grad


# ----------------------------------------------------------------------------- FitNet
def test_feature_mse_matches_naive_loops():
    student, teacher = random_maps((2, 3, 2, 3), seed=6)
    expected = sum((value(student, *i) - value(teacher, *i)) ** 2
                   for i in torch.cartesian_prod(*[torch.arange(n) for n in student.shape]).tolist())
    assert FeatureMSE()(student, teacher).item() == pytest.approx(expected / student.numel(), rel=1e-5)


# ----------------------------------------------------------------------------- CBAM and AttnFD
def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def naive_cbam(features, attention, batch_statistics=False):
    """CBAM by loops with the module's own weights: its BN in eval mode (running statistics), or in train mode
    (``batch_statistics``: the mean and biased variance of the conv output over the batch)."""
    B, C, H, W = features.shape
    first, second = attention.channel_mlp[0], attention.channel_mlp[2]

    def mlp(vector):
        hidden = [max(sum(value(first.weight, j, i) * vector[i] for i in range(C)) + value(first.bias, j), 0)
                  for j in range(first.out_features)]
        return [sum(value(second.weight, c, j) * hidden[j] for j in range(len(hidden)))
                + value(second.bias, c) for c in range(C)]

    bn = attention.spatial_bn
    refined_maps, conv_maps = [], []
    for b in range(B):
        avg = [sum(value(features, b, c, h, w) for h in range(H) for w in range(W)) / (H * W)
               for c in range(C)]
        top = [max(value(features, b, c, h, w) for h in range(H) for w in range(W)) for c in range(C)]
        gate = [sigmoid(x + y) for x, y in zip(mlp(avg), mlp(top))]
        refined = [[[value(features, b, c, h, w) * gate[c] for w in range(W)] for h in range(H)]
                   for c in range(C)]
        pooled = [[[max(refined[c][h][w] for c in range(C)) for w in range(W)] for h in range(H)],
                  [[sum(refined[c][h][w] for c in range(C)) / C for w in range(W)] for h in range(H)]]
        refined_maps.append(refined)
        conv_maps.append([[sum(value(attention.spatial_conv.weight, 0, q, i, j) * pooled[q][h + i - 3][w + j - 3]
                               for q in range(2) for i in range(7) for j in range(7)
                               if 0 <= h + i - 3 < H and 0 <= w + j - 3 < W) for w in range(W)] for h in range(H)])
    convs = [conv for conv_map in conv_maps for row in conv_map for conv in row]
    if batch_statistics:
        mean = sum(convs) / len(convs)
        variance = sum((conv - mean) ** 2 for conv in convs) / len(convs)
    else:
        mean, variance = value(bn.running_mean, 0), value(bn.running_var, 0)
    out = torch.zeros(B, C, H, W)
    for b in range(B):
        for h in range(H):
            for w in range(W):
                normed = ((conv_maps[b][h][w] - mean) / math.sqrt(variance + bn.eps) * value(bn.weight, 0)
                          + value(bn.bias, 0))
                for c in range(C):
                    out[b, c, h, w] = refined_maps[b][c][h][w] * sigmoid(normed)
    return out


def test_cbam_matches_naive_loops():
    torch.manual_seed(0)
    attention = ChannelSpatialAttention(4, reduction_ratio=2).eval()
    attention.spatial_bn.running_mean.fill_(0.1)
    attention.spatial_bn.running_var.fill_(2.0)
    features, _ = random_maps((2, 4, 3, 5), seed=7)
    assert torch.allclose(attention(features), naive_cbam(features, attention), atol=1e-5)


def test_parameter_free_cbam_matches_naive_loops():
    features, _ = random_maps((1, 3, 2, 3), seed=8)
    B, C, H, W = features.shape
    expected = torch.zeros_like(features)
    cells = [(h, w) for h in range(H) for w in range(W)]
    gate = [sigmoid(sum(value(features, 0, c, h, w) for h, w in cells) / len(cells)
                    + max(value(features, 0, c, h, w) for h, w in cells)) for c in range(C)]
    for h, w in cells:
        refined = [value(features, 0, c, h, w) * gate[c] for c in range(C)]
        spatial = sigmoid(max(refined) + sum(refined) / C)
        for c in range(C):
            expected[0, c, h, w] = refined[c] * spatial
    assert torch.allclose(ParameterFreeChannelSpatialAttention()(features), expected, atol=1e-6)


def naive_batch_normalised_distance(student, teacher):
    indices = torch.cartesian_prod(*[torch.arange(n) for n in student.shape]).tolist()
    norm_s = math.sqrt(sum(value(student, *i) ** 2 for i in indices))
    norm_t = math.sqrt(sum(value(teacher, *i) ** 2 for i in indices))
    return sum((value(student, *i) / norm_s - value(teacher, *i) / norm_t) ** 2 for i in indices)


@pytest.mark.parametrize('batch_average', [False, True])
def test_attnfd_matches_naive_loops(batch_average):
    student, teacher = random_maps((2, 3, 3, 4), (2, 5, 3, 4), seed=9)
    loss = AttentionGuidedFeatureDistillation(batch_average=batch_average, loss_weight=2.0)
    loss.prepare(student.shape, teacher.shape, nn.Identity(), Tap('x'))
    loss.eval()
    connector = nn.Conv2d(3, 5, 1, bias=False)  # stands in for the distiller's connector
    refined_student = connector(loss.refine_student(student))
    expected = naive_batch_normalised_distance(refined_student.detach(),
                                               ParameterFreeChannelSpatialAttention()(teacher))
    expected = 2.0 * expected / (2 if batch_average else 1)
    assert loss(refined_student, teacher).item() == pytest.approx(expected, rel=1e-5)
    assert torch.allclose(loss.refine_student(student), naive_cbam(student, loss.student_attention),
                          atol=1e-5)


def test_attnfd_by_hand():
    # student (1, 0) vs teacher refined to a multiple of (1, 1): ‖(1,0) - (1,1)/√2‖² = 2 - 2·cos = 2 - √2
    loss = AttentionGuidedFeatureDistillation()
    loss.prepare((1, 2, 1, 1), (1, 2, 1, 1), nn.Identity(), Tap('x'))
    student = torch.tensor([1.0, 0.0]).view(1, 2, 1, 1)
    teacher = torch.tensor([1.0, 1.0]).view(1, 2, 1, 1)  # equal channels: the parameter-free CBAM scales both
    assert loss(student, teacher).item() == pytest.approx(2 - math.sqrt(2), abs=1e-6)


def test_attnfd_teacher_refinement_modes(tmp_path):
    shapes = ((1, 4, 3, 3), (1, 8, 3, 3))
    random_one, random_two = (AttentionGuidedFeatureDistillation(teacher_refinement='frozen_random',
                                                                 reduction_ratio=2) for _ in range(2))
    for loss in (random_one, random_two):
        loss.prepare(*shapes, nn.Identity(), Tap('x'))
    for a, b in zip(random_one.teacher_attention.parameters(), random_two.teacher_attention.parameters()):
        assert torch.equal(a, b) and not a.requires_grad  # seeded: the same on every process
    random_one.train()
    assert random_one.student_attention.training and random_one.teacher_attention.training  # batch statistics
    random_one.eval()
    assert not random_one.student_attention.training and not random_one.teacher_attention.training
    assert 'teacher_attention.channel_mlp.0.weight' in random_one.state_dict()

    state = {'attention.' + key: tensor * 2
             for key, tensor in random_one.teacher_attention.state_dict().items()}
    torch.save({'state_dict': state}, tmp_path / 'cbam.pth')
    pretrained = AttentionGuidedFeatureDistillation(
        teacher_refinement='pretrained', teacher_refinement_checkpoint=str(tmp_path / 'cbam.pth'),
        teacher_refinement_prefix='attention.', reduction_ratio=2)
    pretrained.prepare(*shapes, nn.Identity(), Tap('x'))
    assert torch.equal(pretrained.teacher_attention.channel_mlp[0].weight,
                       random_one.teacher_attention.channel_mlp[0].weight * 2)
    assert pretrained.train().student_attention.training and not pretrained.teacher_attention.training
    wrong_prefix = AttentionGuidedFeatureDistillation(
        teacher_refinement='pretrained', teacher_refinement_checkpoint=str(tmp_path / 'cbam.pth'),
        teacher_refinement_prefix='cbam.', reduction_ratio=2)
    with pytest.raises(CheckpointMismatchError, match='missing from the checkpoint'):
        wrong_prefix.prepare(*shapes, nn.Identity(), Tap('x'))
    with pytest.raises(ValueError, match='needs teacher_refinement_checkpoint'):
        AttentionGuidedFeatureDistillation(teacher_refinement='pretrained')


def test_attnfd_frozen_random_teacher_cbam_uses_batch_statistics_while_training_as_the_released_code():
    """The released code runs its teacher, CBAMs included, in train mode: the spatial gate's BN normalises with
    the batch's mean and variance, not with its (never trained) running statistics."""
    student, teacher = random_maps((2, 3, 3, 4), (2, 4, 3, 4), seed=10)
    loss = AttentionGuidedFeatureDistillation(teacher_refinement='frozen_random', reduction_ratio=2)
    loss.prepare(student.shape, teacher.shape, nn.Identity(), Tap('x'))
    loss.teacher_attention.spatial_bn.running_mean.fill_(5.0)  # far from the batch's statistics
    loss.teacher_attention.spatial_bn.running_var.fill_(9.0)
    frozen = copy.deepcopy(loss.teacher_attention)
    connected = torch.randn(2, 4, 3, 4, generator=torch.Generator().manual_seed(11))  # a connected student map
    loss.train()
    expected = naive_batch_normalised_distance(connected, naive_cbam(teacher, frozen, batch_statistics=True))
    assert loss(connected, teacher).item() == pytest.approx(expected, rel=1e-5)
    loss.eval()
    expected = naive_batch_normalised_distance(connected, naive_cbam(teacher, frozen))
    assert loss(connected, teacher).item() == pytest.approx(expected, rel=1e-5)
    assert all(not p.requires_grad for p in loss.teacher_attention.parameters())


def test_attnfd_reference_quirk_freezes_the_student_channel_mlp():
    loss = AttentionGuidedFeatureDistillation(train_student_channel_mlp=False)
    loss.prepare((1, 32, 2, 2), (1, 64, 2, 2), nn.Identity(), Tap('x'))
    assert not any(p.requires_grad for p in loss.student_attention.channel_mlp.parameters())
    assert all(p.requires_grad for p in loss.student_attention.spatial_conv.parameters())


# ----------------------------------------------------------------------------- common behaviour
def prepared(loss, student_shape, teacher_shape):
    loss.prepare(student_shape, teacher_shape, OneNorm(teacher_shape[1]), Tap('bn'))
    return loss


FEATURE_LOSSES = [
    lambda: AttentionTransfer(),
    lambda: AttentionTransfer(normalize='column'),
    lambda: PairwiseSimilarityDistillation(pool_kernel=2),
    lambda: PairwiseSimilarityDistillation(pool_scale=0.5, detach_norm=True),
    lambda: prepared(OverhaulFeatureDistillation(), (2, 4, 4, 4), (2, 4, 4, 4)),
    lambda: IntraClassFeatureVariation(),
    lambda: FeatureMSE(),
    lambda: prepared(AttentionGuidedFeatureDistillation(reduction_ratio=2), (2, 4, 4, 4), (2, 4, 4, 4)),
]


@pytest.mark.parametrize('make_loss', FEATURE_LOSSES)
def test_gradients_reach_the_student_and_never_the_teacher(make_loss):
    loss = make_loss()
    student, teacher = random_maps((2, 4, 4, 4), seed=10)
    student.requires_grad_(True)
    teacher.requires_grad_(True)
    extra = {'gt_labels': torch.randint(0, 3, (2, 8, 8))} if loss.uses_labels else {}
    loss(loss.refine_student(student), teacher, **extra).backward()
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert teacher.grad is None


@pytest.mark.parametrize('make_loss', FEATURE_LOSSES)
def test_identical_maps_give_zero_loss(make_loss):
    loss = make_loss()
    _, teacher = random_maps((2, 4, 4, 4), seed=11)
    teacher = teacher.abs() + 0.1  # above the Overhaul margin and positive: every position penalised
    extra = {'gt_labels': torch.randint(0, 3, (2, 4, 4))} if loss.uses_labels else {}
    student = teacher.clone()
    if isinstance(loss, AttentionGuidedFeatureDistillation):
        loss.student_attention = ParameterFreeChannelSpatialAttention()  # the same refinement on both sides
        student = loss.refine_student(student)
    assert loss(student, teacher, **extra).item() == pytest.approx(0.0, abs=1e-6)


def test_shape_errors_name_the_connector_to_add():
    with pytest.raises(ValueError,
                       match=r"student 64 and teacher 256.*connector=dict\(type='ConvBNConnector'\)"):
        FeatureMSE().check_shapes((2, 64, 8, 8), (2, 256, 8, 8))
    with pytest.raises(ValueError, match=r"same spatial size.*connector=dict\(type='ResizeConnector'\)"):
        AttentionTransfer().check_shapes((2, 64, 16, 16), (2, 256, 8, 8))
    AttentionTransfer().check_shapes((2, 64, 8, 8), (2, 256, 8, 8))  # channels may differ
