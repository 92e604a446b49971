"""The top-k storage of a teacher's logit map (mmseg_kd/datasets/top_k_logits.py) against a naive per-pixel
computation in plain Python: the kept classes, their logits, the remainder's log-sum-exp and the dense map read back;
what it preserves (each pixel's log-sum-exp, the kept classes' softmax, the argmax); the index dtype; the refusals."""
import math

import numpy as np
import pytest

from mmseg_kd.datasets.top_k_logits import check_top_k, index_dtype, top_k_dense, top_k_split
from mmseg_kd.utils.user_input_error import UserInputError

FLOAT16 = dict(rtol=1e-3, atol=1e-3)  # float16 keeps 11 significant bits: relative error below 2 ** -11


def random_logits(num_classes, height=3, width=4, seed=0):
    return (np.random.default_rng(seed).normal(size=(num_classes, height, width)) * 4).astype(np.float32)


def naive_top_k(pixel, top_k):
    """(kept classes, their logits, log-sum-exp of the others, the dense logits read back) of one pixel (C,)."""
    pixel = [float(value) for value in pixel]
    order = sorted(range(len(pixel)), key=lambda c: (-pixel[c], c))  # largest first, ties: lower class first
    kept, others = order[:top_k], order[top_k:]
    remainder = math.log(sum(math.exp(pixel[c]) for c in others))
    spread = remainder - math.log(len(others))
    dense = [pixel[c] if c in kept else spread for c in range(len(pixel))]
    return kept, [pixel[c] for c in kept], remainder, dense


def log_sum_exp(logits):
    """(C, h, w) -> (h, w), in float64."""
    logits = logits.astype(np.float64)
    peak = logits.max(axis=0)
    return peak + np.log(np.exp(logits - peak).sum(axis=0))


def test_the_stored_arrays_and_the_dense_map_read_back_are_the_naive_per_pixel_ones():
    num_classes, top_k = 19, 5
    logits = random_logits(num_classes)
    logits[:, 0, 0] = 1.5  # a pixel of ties: the lower classes are kept
    logits[:, 1, 2] = np.arange(num_classes)[::-1]  # class 0 largest
    stored = top_k_split(logits, top_k)
    assert stored['values'].dtype == np.float16 and stored['remainder'].dtype == np.float16
    assert stored['indices'].dtype == np.uint8 and stored['values'].shape == stored['indices'].shape == (5, 3, 4)
    assert stored['remainder'].shape == (3, 4)
    dense = top_k_dense(stored['values'], stored['indices'], stored['remainder'], num_classes)
    assert dense.dtype == np.float32 and dense.shape == logits.shape
    for row in range(3):
        for column in range(4):
            kept, values, remainder, expected = naive_top_k(logits[:, row, column], top_k)
            assert stored['indices'][:, row, column].tolist() == kept, (row, column)
            np.testing.assert_allclose(stored['values'][:, row, column], values, **FLOAT16)
            np.testing.assert_allclose(stored['remainder'][row, column], remainder, **FLOAT16)
            np.testing.assert_allclose(dense[:, row, column], expected, **FLOAT16)
    assert stored['indices'][:, 0, 0].tolist() == [0, 1, 2, 3, 4]
    assert stored['indices'][:, 1, 2].tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize('num_classes, top_k', [(19, 1), (19, 5), (150, 10), (150, 149)])
def test_each_pixels_log_sum_exp_the_kept_classes_softmax_and_the_argmax_are_those_of_the_full_map(num_classes,
                                                                                                   top_k):
    logits = random_logits(num_classes, 16, 16, seed=num_classes + top_k)
    stored = top_k_split(logits, top_k)
    dense = top_k_dense(stored['values'], stored['indices'], stored['remainder'], num_classes)
    np.testing.assert_allclose(log_sum_exp(dense), log_sum_exp(logits), atol=1e-2)  # float16 rounding of ~|10|
    full = np.exp(logits.astype(np.float64) - log_sum_exp(logits))
    read_back = np.exp(dense.astype(np.float64) - log_sum_exp(dense))
    kept = stored['indices'].astype(np.int64)
    np.testing.assert_allclose(np.take_along_axis(read_back, kept, 0), np.take_along_axis(full, kept, 0), atol=2e-3)
    np.testing.assert_array_equal(dense.argmax(axis=0), logits.argmax(axis=0))
    # the other classes share the rest of the probability evenly
    others_mass = 1 - np.take_along_axis(full, kept, 0).sum(axis=0)
    mask = np.ones_like(full, dtype=bool)
    np.put_along_axis(mask, kept, False, axis=0)
    np.testing.assert_allclose(np.where(mask, read_back, 0).sum(axis=0), others_mass, atol=2e-3)
    np.testing.assert_allclose(np.where(mask, read_back, 0).max(axis=0), others_mass / (num_classes - top_k),
                               atol=2e-3)


def test_more_than_256_classes_are_indexed_in_uint16():
    assert index_dtype(256) == np.uint8 and index_dtype(257) == np.uint16
    logits = random_logits(300, 2, 3)
    logits[299, 0, 0] = 100.0
    logits[256, 1, 2] = 100.0
    stored = top_k_split(logits, 4)
    assert stored['indices'].dtype == np.uint16
    assert stored['indices'][0, 0, 0] == 299 and stored['indices'][0, 1, 2] == 256
    dense = top_k_dense(stored['values'], stored['indices'], stored['remainder'], 300)
    for row in range(2):
        for column in range(3):
            np.testing.assert_allclose(dense[:, row, column], naive_top_k(logits[:, row, column], 4)[3], **FLOAT16)


@pytest.mark.parametrize('top_k, message', [
    (0, r'--top-k 0: the top-k storage keeps the K largest logits of each pixel and needs K >= 1 \(the teacher has '
        r'19 classes\). Give 1 <= K < 19'),
    (-3, r'--top-k -3: .* needs K >= 1'),
    (19, r'--top-k 19: the teacher has 19 classes, so K >= C keeps every logit; for all of them use the dense '
         r'storage \(leave out --top-k\)'),
    (25, r'--top-k 25: the teacher has 19 classes, so K >= C'),
])
def test_a_k_that_keeps_no_logit_or_every_logit_is_refused(top_k, message):
    with pytest.raises(UserInputError, match=message):
        check_top_k(top_k, 19)
    with pytest.raises(UserInputError, match=message):
        top_k_split(random_logits(19), top_k)


def test_arrays_that_do_not_form_a_top_k_map_are_refused():
    stored = top_k_split(random_logits(19), 5)
    with pytest.raises(ValueError, match=r'names class 19, the cache has 19 classes'):
        top_k_dense(stored['values'], np.full_like(stored['indices'], 19), stored['remainder'], 19)
    with pytest.raises(ValueError, match=r'got values \[5, 3, 4\], indices \[5, 3, 4\], remainder \[3, 3\]'):
        top_k_dense(stored['values'], stored['indices'], stored['remainder'][:3, :3], 19)
    with pytest.raises(ValueError, match=r'1 <= K < C = 5'):
        top_k_dense(stored['values'], stored['indices'], stored['remainder'], 5)
