"""``torch.compile`` of a distiller's teacher, with the time its first call takes (tracing and code generation).

The distiller runs the teacher through :func:`mmseg_kd.distillers.forward_for_taps.forward_for_taps`, which calls
``extract_feat`` and the tapped heads rather than the segmentor's ``forward``; so the modules compiled are the
backbone, the neck and the heads (``nn.Module.compile``, in place: tap hooks and parameters stay where they are).
"""
import time

import torch
from torch import nn

COMPILED_PARTS = ('backbone', 'neck', 'decode_head', 'auxiliary_head')


def compile_teacher(distiller: nn.Module, inputs: torch.Tensor, backend: str = 'inductor') -> float:
    """Compile the teacher's parts in place and run one teacher forward; the seconds that first call took.

    Args:
        distiller: a built ``SegDistiller`` on its device.
        inputs: the batch the benchmark times, (B, 3, H, W); the first call compiles for its shape.
        backend: a ``torch.compile`` backend (``'inductor'``; ``'eager'`` traces without generating code).

    Returns:
        Wall seconds of the first compiled teacher forward (compilation included, device synchronized).
    """
    if not hasattr(nn.Module, 'compile'):
        raise RuntimeError(f'torch {torch.__version__} has no nn.Module.compile (torch >= 2.2): run the benchmark '
                           'without --compile-teacher')
    for name in COMPILED_PARTS:
        part = getattr(distiller.teacher, name, None)
        if isinstance(part, nn.Module):
            part.compile(backend=backend)
    device = inputs.device
    if device.type == 'cuda':
        torch.cuda.synchronize()
    start = time.perf_counter()
    distiller.teacher_forward(inputs)
    if device.type == 'cuda':
        torch.cuda.synchronize()
    distiller.teacher_recorder.clear()
    return time.perf_counter() - start
