"""How far a cached teacher map, resampled onto an augmented crop, is from the teacher's own output on that crop.

For the teacher's logits ``z_online`` on the augmented crop and the cache's ``z_cached`` resampled onto it, both
(B, C, h, w), per pixel::

    KL(p_online || p_cached) = sum_c p_online,c (log p_online,c - log p_cached,c),   p = softmax(z) over C

and the argmax agreement ``mean[argmax_c z_online == argmax_c z_cached]``.
"""
from typing import Dict

import torch
import torch.nn.functional as F


def cached_map_fidelity(online: torch.Tensor, cached: torch.Tensor) -> Dict[str, torch.Tensor]:
    """Per-pixel KL divergence and argmax agreement of the cached map against the online one.

    Args:
        online: (B, C, h, w) the teacher's logits on the augmented crops.
        cached: (B, C, h, w) the cached logits resampled onto the same crops.

    Returns:
        ``kl``: (B * h * w,) KL(p_online || p_cached) per pixel, in nats; ``agree``: (B * h * w,) bool.
    """
    if online.shape != cached.shape:
        raise ValueError(f'online {tuple(online.shape)} and cached {tuple(cached.shape)} maps differ in shape')
    log_online = F.log_softmax(online.float(), dim=1)
    log_cached = F.log_softmax(cached.float(), dim=1)
    kl = (log_online.exp() * (log_online - log_cached)).sum(dim=1)
    agree = online.argmax(dim=1) == cached.argmax(dim=1)
    return dict(kl=kl.flatten(), agree=agree.flatten())
