"""What every module of a segmentor takes and gives for one input size: the menu of tappable module paths.

One eval-mode forward pass (backbone, neck and every head, as :func:`forward_for_taps` runs them) on a
random input, with a forward hook on every module describing its first input and its output, and what a
tap on it records (the distiller's own :func:`~mmseg_kd.distillers.tap_values.tap_tensor`: transformer tokens
as maps where the call carries their (H, W)). ``ModuleList`` paths, which never run themselves, are recorded
by the distiller's :class:`~mmseg_kd.distillers.taps.TapRecorder` (the end of the chain their modules form).
Weights play no part: random weights give the same shapes as trained ones.
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import torch
from torch import nn

from mmseg_kd.distillers.forward_for_taps import HEAD_NAMES, forward_for_taps
from mmseg_kd.distillers.tap_values import (
    TapValueError,
    describe_value,
    is_token_sequence,
    spatial_sizes_in,
    tap_tensor,
    token_map_pairs,
)
from mmseg_kd.distillers.taps import Tap, TapRecorder, chain_modules, runs_only_its_modules


@dataclass
class ModuleShape:
    """What one module did in the forward pass.

    Attributes:
        path: the module's path in ``named_modules()`` (what a tap names).
        type_name: the module's class name.
        calls: how many times it ran (0: not part of a forward pass, e.g. a loss module).
        output_shape: the shape a tap on the module records (``record='output'``, no index), None when it
            records nothing.
        input_shape: the shape ``record='input'`` records, None when the first input is not a tensor.
        output / input: descriptions of the output and of the first positional input (last call), tuple and
            list elements with their indices, and the (H, W) the call carries.
        converted_from: how the recorded tensor came about when it is not the output itself ('from tokens
            (1, 256, 32) of 16x16', 'the end of the chain of its 4 modules' for a ``ModuleList``), or that it
            is a token sequence without its (H, W); else ''.
        problem: why a tap records nothing from the module's output although it runs ('' when it records).
    """
    path: str
    type_name: str
    calls: int = 0
    output_shape: Optional[Tuple[int, ...]] = None
    input_shape: Optional[Tuple[int, ...]] = None
    output: str = '-'
    input: str = '-'
    converted_from: str = ''
    problem: str = ''

    @property
    def tappable(self) -> bool:
        """A tap (without ``index``) can record this module's output: it runs once and gives one tensor."""
        return self.calls == 1 and self.output_shape is not None

    @property
    def gives_several(self) -> bool:
        """The module runs once and gives a tuple or list, whose elements a tap picks with ``index``."""
        return self.calls == 1 and self.output_shape is None and self.output.startswith(('tuple of', 'list of'))

    @property
    def why_not_tappable(self) -> str:
        """Why a tap cannot record this module's output ('' when it can)."""
        if self.calls == 0:
            return 'does not run in a forward pass'
        if self.calls > 1:
            return f'runs {self.calls} times per forward pass'
        return self.problem


def segmentor_heads(segmentor: nn.Module) -> List[str]:
    """The heads (``decode_head``, ``auxiliary_head``) that this segmentor has."""
    return [name for name in HEAD_NAMES if getattr(segmentor, name, None) is not None]


def _hw(size: Sequence[int]) -> str:
    return f'{size[0]}x{size[1]}'


def _describe_call(record: ModuleShape, inputs: tuple, output) -> None:
    """Fill ``record`` from one call of its module."""
    sizes = spatial_sizes_in(inputs)
    first = inputs[0] if inputs else None
    record.input = describe_value(first) + (f' with (H, W) = {sizes[0]}' if sizes else '')
    record.output = describe_value(output)
    try:
        record.input_shape = tuple(tap_tensor(first, None, sizes).shape)
    except TapValueError:
        record.input_shape = None
    try:
        recorded = tap_tensor(output, None, sizes)
    except TapValueError as error:
        record.output_shape, record.converted_from = None, ''
        record.problem = (f'gives a {type(output).__name__} of {len(output)}: tap one element with index=i'
                          if isinstance(output, (tuple, list)) else str(error))
        return
    record.output_shape, record.problem = tuple(recorded.shape), ''
    pairs = token_map_pairs(output)
    if pairs:
        tokens, size = pairs[-1]
        record.converted_from = f'from tokens {tuple(tokens.shape)} of {_hw(size)} (element [{2 * len(pairs) - 2}])'
    elif is_token_sequence(output) and recorded.dim() == 4:
        record.converted_from = f'from tokens {tuple(output.shape)} of {_hw(recorded.shape[2:])}'
    elif is_token_sequence(output):
        record.converted_from = 'tokens without their (H, W): not a map'
    else:
        record.converted_from = ''


@torch.no_grad()
def module_shapes(segmentor: nn.Module, input_size: Sequence[int]) -> List[ModuleShape]:
    """Run ``segmentor`` once on a random (1, 3, H, W) input and describe every module, in model order.

    The segmentor is put in eval mode for the pass (no dropout, running BN statistics) and returned to
    its previous mode afterwards.
    """
    records = [ModuleShape(path, type(module).__name__) for path, module in segmentor.named_modules()
               if path]
    modules = dict(segmentor.named_modules())

    def hook_for(record: ModuleShape):
        def describe(module, inputs, output):
            record.calls += 1
            _describe_call(record, inputs, output)
        return describe

    lists = {record.path: Tap(record.path) for record in records
             if runs_only_its_modules(modules[record.path]) and chain_modules(modules[record.path])}
    handles = [modules[record.path].register_forward_hook(hook_for(record)) for record in records
               if record.path not in lists]
    recorder = TapRecorder(segmentor, lists.values(), 'model')
    was_training = segmentor.training
    segmentor.eval()
    try:
        with recorder.recording():
            forward_for_taps(segmentor, torch.randn(1, 3, *input_size), segmentor_heads(segmentor))
            for record in records:
                if record.path in lists:
                    _describe_list(record, recorder, lists[record.path], len(chain_modules(modules[record.path])))
    finally:
        segmentor.train(was_training)
        recorder.remove()
        for handle in handles:
            handle.remove()
    return records


def _describe_list(record: ModuleShape, recorder: TapRecorder, tap: Tap, length: int) -> None:
    """Fill the record of a ``ModuleList`` from what the recorder made of its chain."""
    record.calls = recorder.calls(tap)
    if record.calls != 1:
        return
    try:
        recorded = recorder.get(tap)
    except (RuntimeError, TypeError) as error:
        record.problem = str(error).split(': ', 1)[-1].rstrip('.')
        return
    record.output_shape = tuple(recorded.shape)
    record.output = describe_value(recorded)
    record.converted_from = f'the end of the chain of its {length} modules'
