"""What a tap takes from one module call: one element of a tuple/list, and token sequences as maps.

A module's output (or first input) is recorded as one tensor:

* ``index=i`` picks element ``i`` of a tuple or list: ``dict(module='backbone', index=2)`` is the third
  feature map of a backbone that returns a list of maps (MiT, Swin, ResNet with several ``out_indices``).
  An index on a single tensor, or out of range, is refused (the batch dimension is never indexed).
* Without ``index`` a tuple or list is refused with its elements listed, except a tuple of
  ``(tokens, (H, W))`` pairs, which is recorded as the map of its LAST pair: mmseg's ``PatchEmbed`` and
  ``PatchMerging`` return one pair; a Swin stage (``SwinBlockSequence``) returns
  ``(merged tokens, their (H, W), the stage's tokens, their (H, W))``, so a tap on ``backbone.stages.1``
  records the stage's own output, before the patch merging that mmseg places at the end of the stage.
* Token sequences (B, N, C) (mmseg's transformers keep tokens as (batch, length, channels)) become maps
  (B, C, H, W) (mmseg's ``nlc_to_nchw``) when the call carries their (H, W) with H·W = N: the element after
  them in a tuple (``(tokens, (H, W))``), or a positional argument of the module (MiT's and Swin's
  transformer blocks and attention layers are called as ``block(tokens, (H, W))``). Tokens whose (H, W) the
  call does not carry (a ``LayerNorm`` on tokens) stay (B, N, C); the distiller's check says what to tap
  instead.
"""
from typing import List, Optional, Sequence, Tuple

import torch
from mmseg.models.utils import nlc_to_nchw


class TapValueError(ValueError):
    """A module call gives no single tensor that the tap can record (the message says what it gives)."""


def is_spatial_size(value) -> bool:
    """Whether ``value`` is an (H, W) pair of positive ints, as mmseg's transformers pass them along."""
    return (isinstance(value, (tuple, list)) and len(value) == 2
            and all(isinstance(size, int) and not isinstance(size, bool) and size > 0 for size in value))


def is_token_sequence(value) -> bool:
    """Whether ``value`` is a (B, N, C) tensor, the layout of mmseg's transformer tokens."""
    return isinstance(value, torch.Tensor) and value.dim() == 3


def spatial_sizes_in(values: Sequence) -> List[Tuple[int, int]]:
    """The (H, W) pairs among ``values`` (a module call's positional arguments), in order."""
    return [tuple(value) for value in values if is_spatial_size(value)]


def token_map_pairs(value) -> List[Tuple[torch.Tensor, Tuple[int, int]]]:
    """``[(tokens, (H, W)), ...]`` when ``value`` is a tuple/list made only of such pairs with H·W = N, else
    ``[]``."""
    if not isinstance(value, (tuple, list)) or not value or len(value) % 2:
        return []
    pairs = [(value[i], value[i + 1]) for i in range(0, len(value), 2)]
    if all(is_token_sequence(tokens) and is_spatial_size(size) and tokens.shape[1] == size[0] * size[1]
           for tokens, size in pairs):
        return [(tokens, tuple(size)) for tokens, size in pairs]
    return []


def describe_value(value) -> str:
    """A short description of a module's input or output: a shape, the elements of a tuple/list (with their
    indices), or the type of anything else."""
    if isinstance(value, torch.Tensor):
        return str(tuple(value.shape))
    if is_spatial_size(value):
        return f'({value[0]}, {value[1]})'
    if isinstance(value, (tuple, list)):
        elements = [f'[{i}] ' + (str(tuple(v.shape)) if isinstance(v, torch.Tensor) else
                                 f'({v[0]}, {v[1]})' if is_spatial_size(v) else type(v).__name__)
                    for i, v in enumerate(value)]
        return f'{type(value).__name__} of {len(value)}: ' + ', '.join(elements)
    return type(value).__name__


def _as_map(tokens: torch.Tensor, sizes: Sequence[Tuple[int, int]]) -> torch.Tensor:
    """``tokens`` (B, N, C) as a (B, C, H, W) map with the first of ``sizes`` whose H·W = N; other tensors, and
    tokens without such a size, unchanged."""
    if is_token_sequence(tokens):
        for size in sizes:
            if size[0] * size[1] == tokens.shape[1]:
                return nlc_to_nchw(tokens, size)
    return tokens


def tap_tensor(value, index: Optional[int], call_sizes: Sequence[Tuple[int, int]] = ()) -> torch.Tensor:
    """The tensor a tap records from a module's output (or first input) ``value``.

    Args:
        value: what the module returned (or its first positional argument).
        index: the tap's ``index`` (element of a tuple/list), or None.
        call_sizes: the (H, W) pairs among the call's positional arguments (:func:`spatial_sizes_in`).

    Returns:
        A tensor; token sequences (B, N, C) whose (H, W) the call carries as (B, C, H, W) maps.

    Raises:
        TapValueError: ``value`` is not a tensor and ``index`` does not pick one (the message lists what the
            call gives and how to pick an element).
    """
    if index is not None:
        if not isinstance(value, (tuple, list)):
            raise TapValueError(f'index={index} picks an element of a tuple or list, but the module gives '
                                f'{describe_value(value)}; leave index out')
        if not -len(value) <= index < len(value):
            raise TapValueError(f'index={index} is out of range: the module gives a {describe_value(value)} '
                                f'(index 0 to {len(value) - 1})')
        position = index % len(value)
        following = value[position + 1] if position + 1 < len(value) else None
        sizes = ([tuple(following)] if is_spatial_size(following) else []) + list(call_sizes)
        element = value[position]
        if not isinstance(element, torch.Tensor):
            raise TapValueError(f'element index={index} of the module\'s {describe_value(value)} is not a tensor')
        return _as_map(element, sizes)
    if isinstance(value, (tuple, list)):
        pairs = token_map_pairs(value)
        if pairs:
            tokens, size = pairs[-1]
            return nlc_to_nchw(tokens, size)
        raise TapValueError(f'the module gives a {describe_value(value)}, not a single tensor; pick one element '
                            "with dict(module=..., index=i) or tap a submodule that gives one tensor")
    if not isinstance(value, torch.Tensor):
        raise TapValueError(f'the module gives a {describe_value(value)}, not a tensor')
    return _as_map(value, call_sizes)
