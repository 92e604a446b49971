"""CIRKD losses against naive loop implementations written here, tiny cases computed by hand, the ring
buffer against a Python FIFO, a 2-process gloo run of the cross-process parts, and the memory bound of the
mini-batch loss at 512x1024."""
import math
import os
import socket
import subprocess
import sys
from collections import deque

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from conftest import REPO, STUDENT_CFG
from mmseg_kd.layers import ClassEmbeddingQueue
from mmseg_kd.losses import MemoryPixelRegionContrast, MiniBatchPixelRelation
from mmseg_kd.losses.memory_pixel_region_contrast import similarity_kl
from naive_reference import kl_list, softmax_list


# ----------------------------------------------------------------------------- naive helpers
def unit(vector):
    """L2-normalised; a zero vector stays zero (as F.normalize, which divides by max(norm, 1e-12))."""
    norm = max(math.sqrt(sum(v * v for v in vector)), 1e-12)
    return [v / norm for v in vector]


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def naive_pool(features, p):
    """p×p average pooling with stride p and partial windows at the border (ceil mode), by loops."""
    B, C, H, W = features.shape
    out_h, out_w = -(-H // p), -(-W // p)
    out = torch.zeros(B, C, out_h, out_w, dtype=torch.float64)
    for b in range(B):
        for c in range(C):
            for oy in range(out_h):
                for ox in range(out_w):
                    window = [float(features[b, c, y, x]) for y in range(oy * p, min(H, oy * p + p))
                              for x in range(ox * p, min(W, ox * p + p))]
                    out[b, c, oy, ox] = sum(window) / len(window)
    return out


def pixel_vectors(features):
    """(B, C, H, W) → per image, the list of unit pixel vectors in raster order."""
    B, C, H, W = features.shape
    return [[unit([float(features[b, c, y, x]) for c in range(C)]) for y in range(H) for x in range(W)]
            for b in range(B)]


def naive_mini_batch(student, teacher, tau, pool=None, rows=None):
    """Loops over image pairs (i in rows, j in all images), pixel rows n and columns m."""
    if pool:
        student, teacher = naive_pool(student, pool), naive_pool(teacher, pool)
    zs, zt = pixel_vectors(student), pixel_vectors(teacher)
    rows = range(len(zs)) if rows is None else rows
    total, pairs = 0.0, 0
    for i in rows:
        for j in range(len(zs)):
            pair = 0.0
            for n in range(len(zs[i])):
                p_t = softmax_list([dot(zt[i][n], zt[j][m]) / tau for m in range(len(zt[j]))])
                p_s = softmax_list([dot(zs[i][n], zs[j][m]) / tau for m in range(len(zs[j]))])
                pair += kl_list(p_t, p_s)
            total += pair / len(zs[i])
            pairs += 1
    return total / pairs


def relation_by_pairs(student_rows, student_cols, teacher_rows, teacher_cols, tau):
    """Differentiable reference: a loop over image pairs with F.kl_div('batchmean') over pixel rows."""
    def embed(features):
        return F.normalize(features.flatten(1).t(), dim=1)  # (C, H, W) -> (N, C)
    kls = [F.kl_div(F.log_softmax(embed(s_i) @ embed(s_j).t() / tau, dim=1),
                    F.softmax(embed(t_i) @ embed(t_j).t() / tau, dim=1), reduction='batchmean')
           for s_i, t_i in zip(student_rows, teacher_rows) for s_j, t_j in zip(student_cols, teacher_cols)]
    return sum(kls) / len(kls)


# ----------------------------------------------------------------------------- mini-batch relation
@pytest.mark.parametrize('pool', [None, 2])
def test_mini_batch_relation_matches_naive_loops(pool):
    generator = torch.Generator().manual_seed(0)
    student = torch.randn(3, 4, 3, 5, generator=generator)  # C_s = 4 ≠ C_t = 6, odd sizes: partial pools
    teacher = torch.randn(3, 6, 3, 5, generator=generator)
    loss = MiniBatchPixelRelation(tau=0.5, pool_size=pool)(student, teacher)
    assert loss.item() == pytest.approx(naive_mini_batch(student, teacher, 0.5, pool), rel=1e-5)


def test_mini_batch_relation_by_hand():
    # one image, two pixels. Teacher: both pixels (1, 0) -> S_t = [[1, 1], [1, 1]] -> rows (1/2, 1/2).
    # Student: (1, 0) and (0, 1) -> S_s / τ = [[10, 0], [0, 10]] (τ = 0.1) -> rows q = (σ, 1 − σ),
    # ln q = (−ln(1 + e⁻¹⁰), −10 − ln(1 + e⁻¹⁰)) = (−0.0000454, −10.0000454).
    # KL per row = ½(ln ½ + 0.0000454) + ½(ln ½ + 10.0000454) = ½(−1.3862944 + 10.0000908) = 4.3068982;
    # mean over rows and over the single pair (i = j): 4.3068982 (with a τ² factor it would be 0.0431)
    teacher = torch.tensor([[1.0, 1.0], [0.0, 0.0]]).view(1, 2, 1, 2)
    student = torch.tensor([[1.0, 0.0], [0.0, 1.0]]).view(1, 2, 1, 2)
    loss = MiniBatchPixelRelation(tau=0.1)(student, teacher)
    assert loss.item() == pytest.approx(4.3068982, abs=1e-5)


def test_mini_batch_relation_trains_the_student_only():
    generator = torch.Generator().manual_seed(1)
    student = torch.randn(2, 3, 4, 4, generator=generator, requires_grad=True)
    teacher = torch.randn(2, 5, 4, 4, generator=generator, requires_grad=True)
    MiniBatchPixelRelation(pool_size=2)(student, teacher).backward()
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert teacher.grad is None


def test_mini_batch_relation_resizes_the_student_and_rejects_vectors():
    generator = torch.Generator().manual_seed(2)
    student = torch.randn(2, 3, 2, 3, generator=generator)
    teacher = torch.randn(2, 4, 4, 6, generator=generator)
    resized = F.interpolate(student, size=(4, 6), mode='bilinear', align_corners=False)
    loss = MiniBatchPixelRelation(tau=0.5)
    assert loss(student, teacher).item() == pytest.approx(loss(resized, teacher).item(), rel=1e-6)
    with pytest.raises(ValueError, match=r'\(B, C, H, W\)'):
        loss.check_shapes((2, 19), (2, 19, 8, 8))


MEMORY_SCRIPT = """
import torch
from mmseg_kd.analysis.peak_memory import PeakMemory
from mmseg_kd.losses.mini_batch_pixel_relation import MiniBatchPixelRelation
torch.set_num_threads(1)
generator = torch.Generator().manual_seed(0)
student = torch.randn(1, 128, 64, 128, generator=generator, requires_grad=True)  # 1/8 of 512x1024
teacher = torch.randn(1, 512, 64, 128, generator=generator)
loss = MiniBatchPixelRelation(pool_size=2)
loss(torch.randn(1, 128, 8, 8, requires_grad=True), torch.randn(1, 512, 8, 8)).backward()  # warm-up
with PeakMemory('cpu') as peak:
    loss(student, teacher).backward()
print('PEAK_GROWTH_MB', peak.megabytes)
"""


def test_mini_batch_relation_memory_at_512x1024_with_pooling():
    """One image pair at 512x1024 (64x128 features), pool 2: N = 32·64 = 2048 pixels, one N×N map is
    2048² · 4 bytes = 16.8 MB; forward + backward must stay within 8 maps (134 MB) of peak growth."""
    result = subprocess.run([sys.executable, '-c', MEMORY_SCRIPT], capture_output=True, text=True,
                            cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    growth_bytes = float(result.stdout.split('PEAK_GROWTH_MB')[1]) * 2 ** 20
    one_map = 2048 ** 2 * 4
    assert one_map <= growth_bytes <= 8 * one_map, growth_bytes / 2 ** 20


# ----------------------------------------------------------------------------- ring buffer
def test_queue_ring_buffer_by_hand():
    # M = 3 slots of class 0. push a, b -> slots 0, 1, pointer 2; push c, d -> c at 2, d at 0 (the oldest, a),
    # pointer 1; push e, f, g, h (more than M): only the newest three survive, at slots (1+1)%3 = 2 (f),
    # 0 (g), 1 (h); pointer (1 + 4) % 3 = 2, which is f's slot: the oldest entry is overwritten next.
    queue = ClassEmbeddingQueue(num_classes=2, size=3, channels=1)
    initial_class_1 = queue.embeddings[1].clone()
    value = {name: float(i + 1) for i, name in enumerate('abcdefgh')}

    def push(names):
        queue.push(torch.tensor([[value[n]] for n in names]), torch.zeros(len(names), dtype=torch.long))

    push('ab')
    assert queue.pointers.tolist() == [2, 0]
    push('cd')
    assert queue.embeddings[0, :, 0].tolist() == [value['d'], value['b'], value['c']]
    assert queue.pointers.tolist() == [1, 0]
    push('efgh')
    assert queue.embeddings[0, :, 0].tolist() == [value['g'], value['h'], value['f']]
    assert queue.pointers.tolist() == [2, 0]
    assert torch.equal(queue.embeddings[1], initial_class_1)


def test_queue_matches_a_python_fifo_per_class():
    generator = torch.Generator().manual_seed(3)
    queue = ClassEmbeddingQueue(num_classes=3, size=5, channels=2)
    fifo = [deque(queue.embeddings[k].tolist(), maxlen=5) for k in range(3)]  # oldest first = slot order
    written = [0, 0, 0]
    for _ in range(12):
        count = int(torch.randint(0, 9, (1,), generator=generator))
        entries = torch.randn(count, 2, generator=generator)
        classes = torch.randint(0, 3, (count,), generator=generator)
        queue.push(entries, classes)
        for entry, k in zip(entries.tolist(), classes.tolist()):
            fifo[k].append(entry)
            written[k] += 1
    for k in range(3):
        # slot s holds the entry written at a time ≡ s (mod 5); rotate the FIFO to slot order
        oldest_slot = written[k] % 5
        in_slot_order = [None] * 5
        for age, entry in enumerate(fifo[k]):
            in_slot_order[(oldest_slot + age) % 5] = entry
        assert torch.allclose(queue.embeddings[k], torch.tensor(in_slot_order)), k
        assert int(queue.pointers[k]) == oldest_slot


def test_queue_starts_with_seeded_unit_vectors():
    first, second = ClassEmbeddingQueue(4, 6, 3, seed=7), ClassEmbeddingQueue(4, 6, 3, seed=7)
    assert torch.equal(first.embeddings, second.embeddings)
    assert torch.allclose(first.embeddings.norm(dim=2), torch.ones(4, 6))
    assert not torch.equal(first.embeddings, ClassEmbeddingQueue(4, 6, 3, seed=8).embeddings)


# ----------------------------------------------------------------------------- memory contrast
def test_similarity_kl_by_hand():
    # U = (1, 0), V = (0, 1), X = {(1, 0), (0, 1)}, τ = 0.5: a_s = (2, 0), a_t = (0, 2);
    # q = softmax(2, 0), p = softmax(0, 2) = reversed q;
    # KL(p‖q) = Σ p ln(p/q) = (p₂ − p₁)·ln(p₂/p₁) = tanh(1) · 2 = 0.7615942 · 2 = 1.5231884.
    # τ_kd = 2: logits halved -> (p₂ − p₁)·1 = tanh(½) = 0.4621172, times τ_kd² = 4 -> 1.8484687
    u, v, x = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]]), torch.eye(2)
    assert similarity_kl(u, v, x, tau=0.5, kd_tau=1.0).item() == pytest.approx(1.5231884, abs=1e-6)
    assert similarity_kl(u, v, x, tau=0.5, kd_tau=2.0).item() == pytest.approx(1.8484687, abs=1e-6)


def memory_loss(**overrides):
    settings = dict(num_classes=3, pixel_memory_size=8, region_memory_size=4, pixel_contrast_size=21,
                    region_contrast_size=9, pixels_per_class_per_image=100, tau=0.5, kd_tau=2.0,
                    norm_cfg=dict(type='BN'), student_channels=3, teacher_channels=4, loss_weight=0.1)
    settings.update(overrides)
    return MemoryPixelRegionContrast(**settings)


def naive_memory_terms(loss, student, teacher, labels, pixel_enqueue='class_pixels'):
    """Enqueue by loops (every valid pixel, per image and class; the class-k mean as region entry), then
    the KL of each anchor's similarities to every queue slot (all slots are contrasted).

    ``pixel_enqueue='raster_prefix'``: CIRKD's released code, which for class k with n_k pixels enqueues
    ``this_feat[:, perm[:K]]`` with ``perm`` a permutation of range(n_k) over the image's pixels in raster
    order: with K >= n_k, the features at raster positions 0 .. n_k - 1, whatever their label."""
    K, ignore = loss.num_classes, loss.ignore_index
    pixel_q = [[list(map(float, row)) for row in loss.pixel_queue.embeddings[k]] for k in range(K)]
    region_q = [[list(map(float, row)) for row in loss.region_queue.embeddings[k]] for k in range(K)]
    pixel_ptr, region_ptr = loss.pixel_queue.pointers.tolist(), loss.region_queue.pointers.tolist()
    with torch.no_grad():
        projected = loss.projection(student)  # the projection head is a network, not part of the math
    v, u = pixel_vectors(teacher), pixel_vectors(projected)
    flat_labels = [[int(l) for l in labels[b].flatten()] for b in range(labels.shape[0])]
    for b, image_labels in enumerate(flat_labels):
        for k in range(K):
            members = [v[b][n] for n, label in enumerate(image_labels) if label == k]
            if not members:
                continue
            region_q[k][region_ptr[k]] = unit([sum(c) / len(members) for c in zip(*members)])
            region_ptr[k] = (region_ptr[k] + 1) % len(region_q[k])
            pixel_entries = members if pixel_enqueue == 'class_pixels' else v[b][:len(members)]
            for member in pixel_entries:
                pixel_q[k][pixel_ptr[k]] = member
                pixel_ptr[k] = (pixel_ptr[k] + 1) % len(pixel_q[k])
    terms = {}
    for term, queue in (('pixel', pixel_q), ('region', region_q)):
        contrast = [entry for k in range(K) for entry in queue[k]]
        kls = []
        for b, image_labels in enumerate(flat_labels):
            for n, label in enumerate(image_labels):
                if label == ignore:
                    continue
                p = softmax_list([dot(v[b][n], x) / (loss.tau * loss.kd_tau) for x in contrast])
                q = softmax_list([dot(u[b][n], x) / (loss.tau * loss.kd_tau) for x in contrast])
                kls.append(kl_list(p, q))
        terms[term] = loss.loss_weight * loss.kd_tau ** 2 * sum(kls) / len(kls)
    return terms, region_q, region_ptr, pixel_ptr


def memory_batch(seed):
    generator = torch.Generator().manual_seed(seed)
    student = torch.randn(2, 3, 2, 3, generator=generator)
    teacher = torch.randn(2, 4, 2, 3, generator=generator)
    labels = torch.randint(0, 3, (2, 2, 3), generator=generator)
    labels[0, 0, 0] = labels[1, 1, 2] = 255
    return student, teacher, labels


@pytest.mark.parametrize('pixel_enqueue', ['class_pixels', 'raster_prefix'])
def test_memory_contrast_matches_naive_loops_over_two_steps(pixel_enqueue):
    loss = memory_loss(pixel_enqueue=pixel_enqueue)
    for step in range(2):
        student, teacher, labels = memory_batch(step)
        # precondition of the naive FIFO: no class gets more new pixel entries than slots in one step
        assert max(int((labels == k).sum()) for k in range(3)) <= loss.pixel_memory_size
        expected, region_q, region_ptr, pixel_ptr = naive_memory_terms(loss, student, teacher, labels,
                                                                       pixel_enqueue)
        terms = loss(student, teacher, iteration=step, gt_labels=labels)
        assert set(terms) == {'pixel', 'region'}
        for term in terms:
            assert terms[term].item() == pytest.approx(expected[term], rel=1e-5), (step, term)
        assert torch.allclose(loss.region_queue.embeddings, torch.tensor(region_q), atol=1e-6)
        assert loss.region_queue.pointers.tolist() == region_ptr
        assert loss.pixel_queue.pointers.tolist() == pixel_ptr


def test_released_code_pixel_enqueue_draws_from_the_raster_prefix_whatever_the_labels():
    """CIRKD's code: class k's at most 16 entries of an image come from its first n_k raster positions."""
    loss = memory_loss(pixel_enqueue='raster_prefix', pixels_per_class_per_image=2, pixel_memory_size=40,
                       pixel_contrast_size=3, teacher_channels=12)
    teacher = torch.eye(12).t().reshape(1, 12, 3, 4)  # one-hot: the teacher vector tells the raster position
    labels = torch.tensor([[[255, 1, 1, 1], [1, 0, 0, 255], [2, 1, 0, 0]]])  # n_0 = 4, n_1 = 5, n_2 = 1
    positions = {0: set(), 1: set(), 2: set()}
    for step in range(30):
        loss(torch.randn(1, 3, 3, 4), teacher, iteration=step, gt_labels=labels)
    embeddings, unit_teacher = loss.pixel_queue.embeddings, F.normalize(teacher[0].flatten(1).t(), dim=1)
    for k in positions:
        for slot in range(min(30 * min(2, (4, 5, 1)[k]), 40)):
            matches = [p for p in range(12) if torch.allclose(embeddings[k, slot], unit_teacher[p], atol=1e-6)]
            assert len(matches) == 1, (k, slot)
            positions[k] |= set(matches)
    # drawn among the first n_k positions only: position 0 (ignored) and position 4 (class 1) enter
    # class 0's queue; class 2's one entry is always position 0
    assert positions == {0: {0, 1, 2, 3}, 1: {0, 1, 2, 3, 4}, 2: {0}}
    assert loss.pixel_queue.pointers.tolist() == [60 % 40, 60 % 40, 30]


def test_memory_contrast_rejects_an_unknown_pixel_enqueue_rule():
    with pytest.raises(ValueError, match=r"pixel_enqueue must be one of \('class_pixels', 'raster_prefix'\)"):
        memory_loss(pixel_enqueue='first_pixels')


def test_memory_contrast_labels_at_image_resolution_are_resized_nearest():
    loss, reference = memory_loss(), memory_loss()
    reference.load_state_dict(loss.state_dict())
    student, teacher, labels = memory_batch(4)
    large = labels.repeat_interleave(4, dim=1).repeat_interleave(4, dim=2)  # (2, 8, 12): nearest -> labels
    terms = loss(student, teacher, gt_labels=large)
    expected = reference(student, teacher, gt_labels=labels)
    for term in terms:
        assert terms[term].item() == pytest.approx(expected[term].item(), rel=1e-6)


def test_ignored_pixels_are_never_enqueued_nor_anchors():
    loss = memory_loss()
    student, teacher, labels = memory_batch(5)
    labels[:] = 255
    labels[0, 0, 0], labels[1, 0, 1] = 1, 1
    teacher[:, :, 1] = 1e3  # ignored pixels: huge, recognisable features
    before = {name: buffer.clone() for name, buffer in loss.named_buffers() if 'queue' in name}
    loss(student, teacher, gt_labels=labels)
    pixel, region = loss.pixel_queue, loss.region_queue
    assert pixel.pointers.tolist() == [0, 2, 0] and region.pointers.tolist() == [0, 2, 0]
    expected = torch.stack([F.normalize(teacher[0, :, 0, 0], dim=0), F.normalize(teacher[1, :, 0, 1], dim=0)])
    assert torch.allclose(pixel.embeddings[1, :2], expected, atol=1e-6)
    assert torch.allclose(region.embeddings[1, :2], expected, atol=1e-6)
    for k in (0, 2):  # classes without labelled pixels are untouched
        assert torch.equal(pixel.embeddings[k], before['pixel_queue.embeddings'][k])
    # the anchors are the two labelled pixels only: the loss equals a batch reduced to them
    reference = memory_loss()
    reference.load_state_dict(loss.state_dict())
    reference.eval()  # no enqueue, and the projection's BN must see the same statistics: compare in eval
    loss.eval()
    terms = loss(student, teacher, gt_labels=labels)
    with torch.no_grad():
        u = F.normalize(reference.projection(student), dim=1)
    v = F.normalize(teacher, dim=1)
    anchors_u = torch.stack([u[0, :, 0, 0], u[1, :, 0, 1]])
    anchors_v = torch.stack([v[0, :, 0, 0], v[1, :, 0, 1]])
    expected_pixel = 0.1 * similarity_kl(anchors_u, anchors_v, pixel.embeddings.reshape(-1, 4), 0.5, 2.0)
    assert terms['pixel'].item() == pytest.approx(expected_pixel.item(), rel=1e-5)


def test_no_labelled_pixel_gives_zero_with_gradients_reaching_the_projection_head():
    loss = memory_loss()
    student, teacher, labels = memory_batch(6)
    student.requires_grad_(True)
    labels[:] = 255
    terms = loss(student, teacher, gt_labels=labels)
    assert all(value.item() == 0 for value in terms.values())
    sum(terms.values()).backward()
    assert all(p.grad is not None for p in loss.projection.parameters())


def test_memory_contrast_trains_student_and_head_not_teacher():
    loss = memory_loss()
    student, teacher, labels = memory_batch(7)
    student.requires_grad_(True)
    teacher.requires_grad_(True)
    sum(loss(student, teacher, gt_labels=labels).values()).backward()
    assert student.grad.abs().sum() > 0
    assert all(p.grad.abs().sum() > 0 for p in loss.projection.parameters())
    assert teacher.grad is None


def test_memory_contrast_keeps_filling_while_its_weight_is_zero():
    loss = memory_loss(weight_schedule=dict(type='LinearWarmupDecay', warmup_iters=10))
    student, teacher, labels = memory_batch(8)
    terms = loss(student, teacher, gt_labels=labels)  # iteration 0: factor 0
    assert all(value.item() == 0 for value in terms.values())
    assert loss.region_queue.pointers.sum() > 0


def test_memory_contrast_slots_follow_seed_and_iteration():
    loss = memory_loss(pixel_memory_size=50, pixel_contrast_size=6)
    first = loss._contrast_slots(50, 3, stream=1, iteration=0, device='cpu')
    assert torch.equal(first, loss._contrast_slots(50, 3, stream=1, iteration=0, device='cpu'))
    assert not torch.equal(first, loss._contrast_slots(50, 3, stream=1, iteration=1, device='cpu'))


def test_memory_contrast_checkpoint_round_trip_and_shape_checks():
    loss = memory_loss()
    student, teacher, labels = memory_batch(9)
    loss(student, teacher, gt_labels=labels)
    restored = memory_loss(seed=1)
    assert not torch.equal(restored.pixel_queue.embeddings, loss.pixel_queue.embeddings)
    restored.load_state_dict(loss.state_dict())
    for name, buffer in loss.named_buffers():
        assert torch.equal(buffer, dict(restored.named_buffers())[name]), name
    with pytest.raises(ValueError, match='built for'):
        restored.check_shapes((2, 5, 8, 8), (2, 4, 8, 8))
    lazy = memory_loss(student_channels=None, teacher_channels=None)
    with pytest.raises(RuntimeError, match='not built'):
        lazy(student, teacher, gt_labels=labels)
    lazy.prepare((2, 3, 8, 8), (2, 4, 8, 8), None, None)
    assert lazy.projection[0].weight.shape == (4, 3, 1, 1)
    assert lazy.pixel_queue.embeddings.shape == (3, 8, 4)


def test_memory_contrast_rejects_labels_outside_the_classes_and_bad_sizes():
    loss = memory_loss()
    student, teacher, labels = memory_batch(10)
    labels[0, 0, 1] = 7
    with pytest.raises(ValueError, match=r'labels \[7\].*num_classes'):
        loss(student, teacher, gt_labels=labels)
    with pytest.raises(ValueError, match='exceed pixel_memory_size'):
        memory_loss(pixel_memory_size=4, pixel_contrast_size=30)
    with pytest.raises(ValueError, match='both 0'):
        memory_loss(pixel_weight=0, region_weight=0)


# ----------------------------------------------------------------------------- two processes (gloo)
def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def shared_inputs():
    generator = torch.Generator().manual_seed(11)
    student = torch.randn(4, 3, 2, 3, generator=generator)
    teacher = torch.randn(4, 4, 2, 3, generator=generator)
    labels = torch.randint(0, 2, (4, 2, 3), generator=generator)
    labels[2:] += 2  # rank 0 (images 0, 1) sees classes 0, 1; rank 1 (images 2, 3) classes 2, 3
    labels[0, 0, 0] = 255
    return student, teacher, labels


def two_process_worker(rank, port, out_dir):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=2)
    torch.set_num_threads(1)
    student, teacher, labels = shared_inputs()
    local = slice(2 * rank, 2 * rank + 2)
    features = student[local].clone().requires_grad_(True)
    relation = MiniBatchPixelRelation(tau=0.5, gather_across_gpus=True)(features, teacher[local])
    relation.backward()
    memory = memory_loss(num_classes=4, pixels_per_class_per_image=2, pixel_contrast_size=7,
                         region_contrast_size=3)
    for step in range(2):
        memory(student[local], teacher[local] * (1 + step), iteration=step, gt_labels=labels[local])
    torch.save({'relation': relation.detach(), 'grad': features.grad,
                'queues': {k: v for k, v in memory.state_dict().items() if 'queue' in k}},
               os.path.join(out_dir, f'rank{rank}.pt'))
    dist.destroy_process_group()


@pytest.fixture(scope='module')
def two_process_results(tmp_path_factory):
    out_dir = str(tmp_path_factory.mktemp('gloo'))
    mp.spawn(two_process_worker, args=(free_port(), out_dir), nprocs=2, join=True)
    return [torch.load(os.path.join(out_dir, f'rank{r}.pt'), weights_only=True) for r in range(2)]


def test_mini_batch_relation_gathered_across_processes(two_process_results):
    student, teacher, _ = shared_inputs()
    for rank, result in enumerate(two_process_results):  # local rows against all four images
        expected = naive_mini_batch(student, teacher, 0.5, rows=[2 * rank, 2 * rank + 1])
        assert result['relation'].item() == pytest.approx(expected, rel=1e-5)
    # gradients: each process's features get the gradient of the sum of both processes' losses
    features = student.clone().requires_grad_(True)
    total = sum(relation_by_pairs(features[2 * r:2 * r + 2], features, teacher[2 * r:2 * r + 2], teacher, 0.5)
                for r in range(2))
    total.backward()
    for rank, result in enumerate(two_process_results):
        assert torch.allclose(result['grad'], features.grad[2 * rank:2 * rank + 2], atol=1e-6)


def test_memory_queues_identical_on_both_processes_and_filled_by_both(two_process_results):
    first, second = (result['queues'] for result in two_process_results)
    for name in first:
        assert torch.equal(first[name], second[name]), name
    _, teacher, labels = shared_inputs()
    # region entries, in rank order then image order then class: step 0 then step 1 (teacher × 2: the
    # same directions, so the second step's entries equal the first's, one slot further)
    region_pointers = first['region_queue.pointers'].tolist()
    counts = [sum(int((labels[b] == k).any()) for b in range(4)) for k in range(4)]
    assert region_pointers == [(2 * c) % 4 for c in counts]
    pixel_counts = [sum(min(int((labels[b] == k).sum()), 2) for b in range(4)) for k in range(4)]
    assert first['pixel_queue.pointers'].tolist() == [(2 * c) % 8 for c in pixel_counts]
    for k in (0, 3):  # class 0 only on rank 0, class 3 only on rank 1
        images = [b for b in range(4) if (labels[b] == k).any()]
        expected = [F.normalize(F.normalize(teacher[b], dim=0)[:, labels[b] == k].mean(dim=1), dim=0)
                    for b in images]
        written = first['region_queue.embeddings'][k][:len(images)]
        assert torch.allclose(written, torch.stack(expected), atol=1e-6), k


# ----------------------------------------------------------------------------- inside SegDistiller
def test_seg_distiller_logs_each_memory_term_and_trains_the_projection_head():
    feature = 'decode_head.bottleneck'
    distiller = MODELS.build(dict(
        type='SegDistiller',
        student=dict(cfg_path=str(STUDENT_CFG)),
        teacher=dict(cfg_path=str(STUDENT_CFG), checkpoint=None,
                     cfg_options={'model.decode_head.channels': 256}),  # C_t = 256 ≠ C_s = 128
        distill_losses=dict(
            loss_minibatch=dict(type='MiniBatchPixelRelation', student=feature, teacher=feature),
            loss_memory=dict(type='MemoryPixelRegionContrast', num_classes=19, norm_cfg=dict(type='BN'),
                             pixel_memory_size=300, loss_weight=0.1, student=feature, teacher=feature))))
    memory = distiller.distill_losses['loss_memory']
    assert memory.projection[0].weight.shape == (256, 128, 1, 1)  # built from the dry run's shapes
    assert memory.pixel_queue.embeddings.shape == (19, 300, 256)
    generator = torch.Generator().manual_seed(12)
    samples = []
    for _ in range(2):
        sample = SegDataSample(gt_sem_seg=PixelData(data=torch.randint(0, 19, (1, 64, 128),
                                                                       generator=generator)))
        sample.set_metainfo(dict(img_shape=(64, 128), ori_shape=(64, 128), pad_shape=(64, 128)))
        samples.append(sample)
    distiller.train()
    losses = distiller.loss(torch.randn(2, 3, 64, 128, generator=generator), samples)
    assert {'distill.loss_minibatch', 'distill.loss_memory_pixel', 'distill.loss_memory_region'} <= set(losses)
    sum(value for key, value in losses.items() if 'loss' in key).backward()
    assert all(p.grad is not None for p in memory.projection.parameters())
    assert all(p.grad is None for p in distiller.teacher.parameters())
    assert memory.region_queue.pointers.sum() > 0
    keys = distiller.state_dict().keys()
    assert {'distill_losses.loss_memory.pixel_queue.embeddings',
            'distill_losses.loss_memory.region_queue.pointers'} <= set(keys)
