"""Fail fast when mmcv's compiled ops are missing or were built for another torch or without CUDA.

A GPU machine without internet gets mmcv from a wheel carried to it (docs/gpu_report.md); a wheel built for another
Python, torch or CUDA, or mmcv-lite, imports but has no working ``mmcv._ext``. This check runs one op on the device
before minutes of measurements start, and names the fix.
"""
import torch

from mmseg_kd.utils.user_input_error import UserInputError

MMCV_VERSION = '2.1.0'
FIX = ('Install the mmcv 2.1.0 wheel built with ops for this Python, torch and CUDA: how to build and carry it is in '
       'docs/gpu_report.md ("mmcv on the GPU machine").')


def check_mmcv_ops(device: str) -> str:
    """Import ``mmcv.ops`` and run ``nms`` on ``device``; returns mmcv's CUDA build version ('not available' on CPU).

    Raises:
        UserInputError: mmcv is missing, is not 2.1.0, has no compiled ops, or (for a CUDA device) was built without
            CUDA or cannot run an op on the device.
    """
    try:
        import mmcv
        from mmcv.ops import get_compiling_cuda_version, nms
    except (ImportError, OSError) as error:
        raise UserInputError(f'mmcv with compiled ops is not importable here (torch {torch.__version__}): '
                             f'{type(error).__name__}: {error}. {FIX}') from error
    if mmcv.__version__ != MMCV_VERSION:
        raise UserInputError(f'mmcv {mmcv.__version__} is installed; mmsegmentation 1.2.2 needs {MMCV_VERSION}. {FIX}')
    cuda_version = get_compiling_cuda_version()
    if str(device).startswith('cuda') and cuda_version == 'not available':
        raise UserInputError(f'mmcv {mmcv.__version__} was built without CUDA ops (MMCV_WITH_OPS=1 on a machine '
                             f'without the CUDA toolkit, or FORCE_CUDA unset), and --device is {device}. {FIX}')
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.], [20., 20., 30., 30.]], device=device)
    try:
        _, kept = nms(boxes, torch.tensor([0.9, 0.8, 0.7], device=device), iou_threshold=0.5)
    except RuntimeError as error:
        raise UserInputError(f'mmcv.ops.nms fails on {device} (mmcv built for CUDA {cuda_version}, torch '
                             f'{torch.__version__}): {error}. {FIX}') from error
    if kept.tolist() != [0, 2]:
        raise UserInputError(f'mmcv.ops.nms on {device} kept boxes {kept.tolist()} instead of [0, 2]: the ops do '
                             f'not match this torch. {FIX}')
    return cuda_version
