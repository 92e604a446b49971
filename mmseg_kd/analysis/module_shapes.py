"""What every module of a segmentor outputs for one input size: the menu of tappable module paths.

One eval-mode forward pass (backbone, neck and every head, as :func:`forward_for_taps` runs them) on a
random input, with a forward hook on every module recording what went in and what came out. Weights
play no part: random weights give the same shapes as trained ones.
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import torch
from torch import nn

from mmseg_kd.distillers.forward_for_taps import HEAD_NAMES, forward_for_taps


def describe_value(value) -> str:
    """A short description of a module's input or output: a shape, or what else it is."""
    if isinstance(value, torch.Tensor):
        return str(tuple(value.shape))
    if isinstance(value, (tuple, list)):
        shapes = [str(tuple(v.shape)) if isinstance(v, torch.Tensor) else type(v).__name__ for v in value]
        return f'{type(value).__name__} of {len(value)}: ' + ', '.join(shapes)
    return type(value).__name__


@dataclass
class ModuleShape:
    """What one module did in the forward pass.

    Attributes:
        path: the module's path in ``named_modules()`` (what a tap names).
        type_name: the module's class name.
        calls: how many times it ran (0: not part of a forward pass, e.g. a loss module).
        output_shape / input_shape: the output / first input shape when it is a single tensor, else None.
        output / input: descriptions of the output and the first positional input (last call).
    """
    path: str
    type_name: str
    calls: int = 0
    output_shape: Optional[Tuple[int, ...]] = None
    input_shape: Optional[Tuple[int, ...]] = None
    output: str = '-'
    input: str = '-'

    @property
    def tappable(self) -> bool:
        """A tap can record this module's output: it runs once and returns a single tensor."""
        return self.calls == 1 and self.output_shape is not None

    @property
    def why_not_tappable(self) -> str:
        """Why a tap cannot record this module's output ('' when it can)."""
        if self.calls == 0:
            return 'does not run in a forward pass'
        if self.calls > 1:
            return f'runs {self.calls} times per forward pass'
        if self.output_shape is None:
            return 'does not return a single tensor'
        return ''


def segmentor_heads(segmentor: nn.Module) -> List[str]:
    """The heads (``decode_head``, ``auxiliary_head``) that this segmentor has."""
    return [name for name in HEAD_NAMES if getattr(segmentor, name, None) is not None]


@torch.no_grad()
def module_shapes(segmentor: nn.Module, input_size: Sequence[int]) -> List[ModuleShape]:
    """Run ``segmentor`` once on a random (1, 3, H, W) input and describe every module, in model order.

    The segmentor is put in eval mode for the pass (no dropout, running BN statistics) and returned to
    its previous mode afterwards.
    """
    records = [ModuleShape(path, type(module).__name__) for path, module in segmentor.named_modules()
               if path]

    def hook_for(record: ModuleShape):
        def describe(module, inputs, output):
            record.calls += 1
            first_input = inputs[0] if inputs else None
            record.output, record.input = describe_value(output), describe_value(first_input)
            record.output_shape = tuple(output.shape) if isinstance(output, torch.Tensor) else None
            record.input_shape = tuple(first_input.shape) if isinstance(first_input, torch.Tensor) else None
        return describe

    modules = dict(segmentor.named_modules())
    handles = [modules[record.path].register_forward_hook(hook_for(record)) for record in records]
    was_training = segmentor.training
    segmentor.eval()
    try:
        forward_for_taps(segmentor, torch.randn(1, 3, *input_size), segmentor_heads(segmentor))
    finally:
        segmentor.train(was_training)
        for handle in handles:
            handle.remove()
    return records
