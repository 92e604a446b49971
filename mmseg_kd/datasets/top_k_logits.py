"""Top-k storage of a logit map: per pixel the K largest logits, their classes and the log-sum-exp of the others.

For one pixel's logits z (C,) and S the classes of its K largest logits (ties: the lower class index first)::

    values     z_S, largest first                      (K,)  float16
    indices    S                                       (K,)  uint8 when C <= 256, else uint16
    remainder  r = log sum_{c not in S} exp(z_c)       ()    float16

so a pixel costs K * (2 + index bytes) + 2 bytes instead of 2 C. The dense map read back is::

    z'_c = z_c                  for c in S
    z'_c = r - log(C - K)       for the other C - K classes (the remainder's mass spread evenly over them)

hence logsumexp_c z'_c = logsumexp_c z_c: the softmax probabilities (temperature 1) of the K stored classes, the
total probability of the others and the argmax are those of the full map, up to the float16 rounding of the stored
values. Each other class gets the mean of their probabilities: at a temperature other than 1, and for losses that
compare one class across pixels (CWD normalises each channel over space), those classes are approximate.
"""
from typing import Dict

import numpy as np

from mmseg_kd.utils.user_input_error import UserInputError


def index_dtype(num_classes: int) -> type:
    """The dtype of the stored class indices: uint8 for up to 256 classes, uint16 above."""
    return np.uint8 if num_classes <= 256 else np.uint16


def check_top_k(top_k: int, num_classes: int) -> None:
    """Refuse a K that keeps no logit or every logit (1 <= K < C).

    Raises:
        UserInputError: naming K, C and the fix.
    """
    if top_k < 1:
        raise UserInputError(f'--top-k {top_k}: the top-k storage keeps the K largest logits of each pixel and needs '
                             f'K >= 1 (the teacher has {num_classes} classes). Give 1 <= K < {num_classes}.')
    if top_k >= num_classes:
        raise UserInputError(f'--top-k {top_k}: the teacher has {num_classes} classes, so K >= C keeps every logit; '
                             f'for all of them use the dense storage (leave out --top-k), else give K < '
                             f'{num_classes}.')


def top_k_split(logits: np.ndarray, top_k: int) -> Dict[str, np.ndarray]:
    """The top-k storage of a logit map.

    Args:
        logits: (C, h, w) float logits.
        top_k: K, 1 <= K < C.

    Returns:
        ``values`` (K, h, w) float16, largest first; ``indices`` (K, h, w) their classes (:func:`index_dtype`);
        ``remainder`` (h, w) float16, the log-sum-exp of the other C - K logits (computed in float64).
    """
    num_classes = logits.shape[0]
    check_top_k(top_k, num_classes)
    order = np.argsort(-logits, axis=0, kind='stable')  # (C, h, w), largest first, ties by class index
    values = np.take_along_axis(logits, order[:top_k], axis=0)
    others = np.take_along_axis(logits, order[top_k:], axis=0).astype(np.float64)
    peak = others.max(axis=0)
    remainder = peak + np.log(np.exp(others - peak).sum(axis=0))
    return dict(values=values.astype(np.float16), indices=order[:top_k].astype(index_dtype(num_classes)),
                remainder=remainder.astype(np.float16))


def top_k_dense(values: np.ndarray, indices: np.ndarray, remainder: np.ndarray, num_classes: int) -> np.ndarray:
    """The dense map of a top-k storage (the module docstring's z').

    Args:
        values: (K, h, w) the stored logits.
        indices: (K, h, w) their classes.
        remainder: (h, w) the log-sum-exp of the other classes' logits.
        num_classes: C.

    Returns:
        (C, h, w) float32.

    Raises:
        ValueError: the arrays' shapes disagree, or an index is not a class (>= C).
    """
    top_k = values.shape[0]
    if values.ndim != 3 or indices.shape != values.shape or remainder.shape != values.shape[1:] or \
            not 1 <= top_k < num_classes:
        raise ValueError(f'a top-k map needs values and indices (K, h, w) with 1 <= K < C = {num_classes} and a '
                         f'remainder (h, w); got values {list(values.shape)}, indices {list(indices.shape)}, '
                         f'remainder {list(remainder.shape)}')
    if indices.size and int(indices.max()) >= num_classes:
        raise ValueError(f'a top-k map names class {int(indices.max())}, the cache has {num_classes} classes')
    spread = remainder.astype(np.float32) - np.float32(np.log(num_classes - top_k))
    dense = np.repeat(spread[None], num_classes, axis=0)
    np.put_along_axis(dense, indices.astype(np.int64), values.astype(np.float32), axis=0)
    return dense
