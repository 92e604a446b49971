"""Logit losses against naive loop implementations written here, and tiny cases computed by hand."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmseg_kd.losses import ChannelGroupDivergence, ChannelWiseDivergence, KLDivergence
from naive_reference import kl_list, softmax_list


def naive_pixel_kd(student, teacher, tau, labels=None, ignore_index=None):
    """Loop over pixels: τ² · mean over valid pixels of KL(softmax_K(t/τ) ‖ softmax_K(s/τ))."""
    B, K, H, W = teacher.shape
    total, count = 0.0, 0
    for b in range(B):
        for h in range(H):
            for w in range(W):
                if labels is not None and int(labels[b, h, w]) == ignore_index:
                    continue
                p = softmax_list([float(teacher[b, k, h, w]) / tau for k in range(K)])
                q = softmax_list([float(student[b, k, h, w]) / tau for k in range(K)])
                total += kl_list(p, q)
                count += 1
    return tau ** 2 * total / count


def naive_channel_groups(student, teacher, tau, group_size, permutation=None):
    """Loop over images and groups: τ² · mean over (b, group) of KL over the group's g·H·W entries."""
    B, C, H, W = teacher.shape
    order = list(range(C)) if permutation is None else [int(c) for c in permutation]
    groups = [order[start:start + group_size] for start in range(0, C, group_size)]
    total = 0.0
    for b in range(B):
        for group in groups:
            t = [float(teacher[b, c, h, w]) / tau for c in group for h in range(H) for w in range(W)]
            s = [float(student[b, c, h, w]) / tau for c in group for h in range(H) for w in range(W)]
            total += kl_list(softmax_list(t), softmax_list(s))
    return tau ** 2 * total / (B * len(groups))


def random_pair(shape, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=generator) * 2, torch.randn(shape, generator=generator) * 2)


# ----------------------------------------------------------------------------- pixel-wise KD
@pytest.mark.parametrize('tau', [1.0, 2.0, 4.0])
def test_kl_divergence_matches_naive_loops(tau):
    student, teacher = random_pair((2, 5, 3, 4))
    loss = KLDivergence(tau=tau, loss_weight=1.0)(student, teacher)
    assert loss.item() == pytest.approx(naive_pixel_kd(student, teacher, tau), rel=1e-5)


def test_kl_divergence_by_hand():
    # one pixel, K=2: p_t = softmax([ln 3, 0]) = (3/4, 1/4), student uniform (1/2, 1/2)
    # KL = 3/4·ln(3/2) + 1/4·ln(1/2) = 0.304099 - 0.173287 = 0.130812; loss_weight 2 -> 0.261624
    teacher = torch.tensor([math.log(3.0), 0.0]).view(1, 2, 1, 1)
    student = torch.zeros(1, 2, 1, 1)
    assert KLDivergence(tau=1.0, loss_weight=2.0)(student, teacher).item() == pytest.approx(0.261624,
                                                                                           abs=1e-5)
    # tau=2: p_t = softmax([ln 3 / 2, 0]) = (√3/(1+√3), 1/(1+√3)) = (0.6339746, 0.3660254);
    # KL = 0.6339746·ln(1.2679492) + 0.3660254·ln(0.7320508) = 0.1505060 - 0.1141650 = 0.0363410;
    # ×τ² = 4 -> 0.145364
    assert KLDivergence(tau=2.0)(student, teacher).item() == pytest.approx(0.145364, abs=1e-5)


def test_kl_divergence_ignore_mask_leaves_out_ignored_pixels():
    student, teacher = random_pair((2, 4, 3, 3), seed=1)
    labels = torch.randint(0, 4, (2, 3, 3))
    labels[0, 0, :] = 255
    labels[1, 2, 1] = 255
    loss = KLDivergence(tau=2.0, ignore_index=255)(student, teacher, gt_labels=labels)
    expected = naive_pixel_kd(student, teacher, 2.0, labels, 255)
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert loss.item() != pytest.approx(naive_pixel_kd(student, teacher, 2.0), rel=1e-3)


def test_kl_divergence_ignore_mask_resizes_labels_to_the_logits():
    student, teacher = random_pair((1, 3, 2, 2), seed=2)
    labels = torch.tensor([[[0, 0, 255, 255], [0, 0, 255, 255], [1, 1, 2, 2], [1, 1, 2, 2]]])
    loss = KLDivergence(ignore_index=255)(student, teacher, gt_labels=labels)
    small = torch.tensor([[[0, 255], [1, 2]]])
    assert loss.item() == pytest.approx(naive_pixel_kd(student, teacher, 1.0, small, 255), rel=1e-5)


def test_kl_divergence_resizes_the_student_to_the_teacher():
    student, _ = random_pair((2, 3, 2, 3), seed=3)
    _, teacher = random_pair((2, 3, 4, 6), seed=4)
    resized = F.interpolate(student, size=(4, 6), mode='bilinear', align_corners=False)
    loss = KLDivergence(tau=2.0)(student, teacher)
    assert loss.item() == pytest.approx(naive_pixel_kd(resized, teacher, 2.0), rel=1e-5)


# ----------------------------------------------------------------------------- CWD and CGD
@pytest.mark.parametrize('tau', [1.0, 4.0])
def test_channel_wise_divergence_matches_naive_loops(tau):
    student, teacher = random_pair((2, 3, 3, 4), seed=5)
    loss = ChannelWiseDivergence(tau=tau)(student, teacher)
    assert loss.item() == pytest.approx(naive_channel_groups(student, teacher, tau, 1), rel=1e-5)


def test_channel_wise_divergence_by_hand():
    # one channel over two positions: teacher [ln 3, 0] -> (3/4, 1/4), student uniform -> KL 0.130812;
    # B·C = 1, τ = 1, loss_weight 3 -> 0.392436
    teacher = torch.tensor([math.log(3.0), 0.0]).view(1, 1, 1, 2)
    student = torch.zeros(1, 1, 1, 2)
    assert ChannelWiseDivergence(loss_weight=3.0)(student, teacher).item() == pytest.approx(0.392436,
                                                                                           abs=1e-5)


@pytest.mark.parametrize('group_size', [1, 2, 3, 5, 6])
def test_channel_group_divergence_matches_naive_loops(group_size):
    student, teacher = random_pair((2, 6, 3, 3), seed=6)
    loss = ChannelGroupDivergence(tau=2.0, group_size=group_size)(student, teacher)
    assert loss.item() == pytest.approx(naive_channel_groups(student, teacher, 2.0, group_size), rel=1e-5)


def test_channel_group_divergence_with_an_incomplete_last_group():
    student, teacher = random_pair((2, 5, 2, 3), seed=7)  # groups {0,1}, {2,3}, {4}
    loss = ChannelGroupDivergence(tau=1.5, group_size=2)(student, teacher)
    assert loss.item() == pytest.approx(naive_channel_groups(student, teacher, 1.5, 2), rel=1e-5)


def test_channel_group_divergence_with_group_size_one_is_exactly_cwd():
    student, teacher = random_pair((3, 7, 5, 4), seed=8)
    cgd = ChannelGroupDivergence(tau=4.0, group_size=1, loss_weight=3.0)(student, teacher)
    cwd = ChannelWiseDivergence(tau=4.0, loss_weight=3.0)(student, teacher)
    assert torch.equal(cgd, cwd)


def test_channel_group_divergence_by_hand():
    # two channels in one group, one position each: the group is one distribution over 2 entries,
    # teacher [ln 3, 0] -> (3/4, 1/4), student uniform -> KL 0.130812 (B·G = 1)
    teacher = torch.tensor([math.log(3.0), 0.0]).view(1, 2, 1, 1)
    student = torch.zeros(1, 2, 1, 1)
    assert ChannelGroupDivergence(group_size=2)(student, teacher).item() == pytest.approx(0.130812,
                                                                                         abs=1e-5)


def test_channel_shuffle_is_seeded_stored_and_used():
    student, teacher = random_pair((2, 6, 2, 2), seed=9)
    loss = ChannelGroupDivergence(tau=2.0, group_size=2, shuffle_seed=3)
    loss.prepare(student.shape, teacher.shape, None, None)
    permutation = loss.channel_permutation
    assert sorted(permutation.tolist()) == list(range(6))
    assert permutation.tolist() != list(range(6))
    assert torch.equal(loss.state_dict()['channel_permutation'], permutation)
    again = ChannelGroupDivergence(tau=2.0, group_size=2, shuffle_seed=3)
    again.prepare(student.shape, teacher.shape, None, None)
    assert torch.equal(again.channel_permutation, permutation)
    expected = naive_channel_groups(student, teacher, 2.0, 2, permutation)
    assert loss(student, teacher).item() == pytest.approx(expected, rel=1e-5)
    assert expected != pytest.approx(naive_channel_groups(student, teacher, 2.0, 2), rel=1e-3)


# ----------------------------------------------------------------------------- common behaviour
@pytest.mark.parametrize('loss', [KLDivergence(tau=2.0), ChannelWiseDivergence(tau=4.0),
                                  ChannelGroupDivergence(tau=2.0, group_size=2)])
def test_gradients_reach_the_student_and_never_the_teacher(loss):
    student, teacher = random_pair((2, 4, 3, 3), seed=10)
    student.requires_grad_(True)
    teacher.requires_grad_(True)
    loss(student, teacher).backward()
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert teacher.grad is None


@pytest.mark.parametrize('loss', [KLDivergence(), ChannelWiseDivergence(),
                                  ChannelGroupDivergence(group_size=2)])
def test_identical_maps_give_zero_loss(loss):
    _, teacher = random_pair((2, 4, 3, 3), seed=11)
    assert loss(teacher.clone(), teacher).item() == pytest.approx(0.0, abs=1e-6)


def test_channel_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match='same number of channels.*19 and teacher 150'):
        ChannelWiseDivergence().check_shapes((2, 19, 8, 8), (2, 150, 8, 8))
