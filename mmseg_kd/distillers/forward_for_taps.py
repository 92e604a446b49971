"""Run only the parts of an mmseg segmentor that the taps need (no losses, no unused heads)."""
from typing import Iterable

import torch
from torch import nn

HEAD_NAMES = ('decode_head', 'auxiliary_head')


def heads_needed(module_paths: Iterable[str]) -> list:
    """The segmentor heads (``decode_head``, ``auxiliary_head``) that contain at least one tap."""
    paths = list(module_paths)
    return [head for head in HEAD_NAMES
            if any(path == head or path.startswith(head + '.') for path in paths)]


def _run_head(head: nn.Module, features, head_name: str) -> None:
    if not isinstance(head, nn.ModuleList):
        head(features)
    elif head_name == 'decode_head':  # cascade decode heads (OCRNet): each refines the previous output
        previous = head[0](features)
        for stage in head[1:]:
            previous = stage(features, previous)
    else:
        for auxiliary in head:
            auxiliary(features)


def forward_for_taps(segmentor: nn.Module, inputs: torch.Tensor, module_paths: Iterable[str]) -> None:
    """Backbone (and neck), then only the heads that contain a tap; outputs reach the taps' recorders.

    Args:
        segmentor: an mmseg ``EncoderDecoder``-style segmentor (``extract_feat`` + heads).
        inputs: preprocessed images, (B, 3, H, W).
        module_paths: the tapped module paths of this segmentor.
    """
    features = segmentor.extract_feat(inputs)
    for head_name in heads_needed(module_paths):
        _run_head(getattr(segmentor, head_name), features, head_name)
