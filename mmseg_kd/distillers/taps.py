"""Taps: named places in a network whose tensors the distillation losses compare.

A tap names a module by its path in ``model.named_modules()`` and records the module's output (default),
its first positional input, or (for residual blocks) its pre-activation output. In a config a tap is a
string (the path, recording the output) or a dict::

    student='decode_head.conv_seg'                                  # output of the classifier
    student=dict(module='decode_head.conv_seg', record='input')     # the feature fed to the classifier
    student=dict(module='backbone.layer4', record='pre_activation') # stage output before its last ReLU

Pre-activation values survive in-place activations:

* Norm-layer taps: when a recorded tensor is later modified in place (a BN followed by
  ``ReLU(inplace=True)`` in mmcv's ``ConvModule``), the recorder keeps a copy taken at the tap. Which
  taps need a copy is found once, when the distiller is built (see
  :meth:`TapRecorder.taps_modified_in_place`), so other taps cost nothing.
* ``record='pre_activation'`` on a residual block (mmseg ``BasicBlock``/``Bottleneck``) or a stage of
  them (``ResLayer``, i.e. its last block): these blocks apply ONE shared in-place ``self.relu`` two or
  three times per forward, the last time to the residual sum. The recorder hooks that ``relu`` and keeps
  a copy of the input of its last call in the block's forward (found by counting the calls in the
  build-time dry run, where it also checks that this call produced the block's output).
"""
import difflib
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Dict, Iterable, Set, Tuple, Type, Union

import torch
from torch import nn

from mmseg_kd.utils.user_input_error import UserInputError

RECORD_CHOICES = ('output', 'input', 'pre_activation')


class UnknownTapError(UserInputError):
    """A tap names a module path that the network does not have."""


@dataclass(frozen=True)
class Tap:
    """A module path and which of its tensors to record (``'output'``, ``'input'`` or
    ``'pre_activation'``)."""
    module: str
    record: str = 'output'

    def __str__(self) -> str:
        return self.module if self.record == 'output' else f'{self.module} ({self.record})'


def block_with_final_relu(module: nn.Module, path: str) -> nn.Module:
    """The residual block whose shared ``relu`` produces ``module``'s output (the module or its last child).

    Raises:
        ValueError: ``module`` is neither such a block nor a sequence ending in one.
    """
    block = module
    if isinstance(module, nn.Sequential) and len(module) > 0:
        block = module[-1]
    if not isinstance(getattr(block, 'relu', None), nn.Module):
        raise ValueError(
            f"tap {path!r} (record='pre_activation'): {type(module).__name__} is not a residual block "
            'whose forward ends with its shared `relu` (mmseg BasicBlock/Bottleneck) nor a stage '
            "(ResLayer) of them. For an mmcv ConvModule tap its norm layer instead, e.g. "
            f"'{path}.bn' (the recorder keeps the values from before the in-place activation).")
    return block


def parse_tap(spec: Union[str, dict, Tap]) -> Tap:
    """Turn a config entry (path string or ``dict(module=..., record=...)``) into a :class:`Tap`."""
    if isinstance(spec, Tap):
        return spec
    if isinstance(spec, str) and spec:
        return Tap(spec)
    if isinstance(spec, dict) and set(spec) <= {'module', 'record'} and isinstance(spec.get('module'), str) \
            and spec['module']:
        tap = Tap(spec['module'], spec.get('record', 'output'))
        if tap.record not in RECORD_CHOICES:
            raise ValueError(f"tap {tap.module!r}: record must be one of {RECORD_CHOICES}, "
                             f'got {tap.record!r}')
        return tap
    raise ValueError("a tap is a non-empty module path string or dict(module='path', "
                     f"record='output'|'input'|'pre_activation'), got {spec!r}")


def closest_module_paths(model: nn.Module, path: str, count: int = 5) -> list:
    """The module paths of ``model`` that look most like ``path``."""
    names = [name for name, _ in model.named_modules() if name]
    close = difflib.get_close_matches(path, names, n=count, cutoff=0.5)
    if len(close) < count:
        parent = path.rsplit('.', 1)[0]
        close += [n for n in names if n.startswith(parent + '.') and n not in close][:count - len(close)]
    return close


def tap_problem(model: nn.Module, tap: Tap, network: str) -> Tuple[str, Type[Exception]]:
    """Why ``tap`` cannot be hooked on ``model`` (``('', None)`` when it can): an unknown module path (with the
    closest valid paths) or a ``pre_activation`` tap on a module that is not a residual block."""
    modules = dict(model.named_modules())
    if tap.module not in modules:
        close = closest_module_paths(model, tap.module)
        hint = ('closest: ' + ', '.join(repr(c) for c in close) + '. ') if close else ''
        return (f'{network} has no module {tap.module!r}; {hint}Tap paths are names from model.named_modules() '
                '(tools/analysis/list_taps.py CONFIG lists them).', UnknownTapError)
    if tap.record == 'pre_activation':
        try:
            block_with_final_relu(modules[tap.module], tap.module)
        except ValueError as error:
            return str(error), ValueError
    return '', None


class TapRecorder:
    """Records the tensors at a set of taps of one network while :meth:`recording` is active.

    Args:
        model: the network (student or teacher segmentor).
        taps: the taps to hook.
        network: how error messages name the network (``'student'`` / ``'teacher'``).
    """

    def __init__(self, model: nn.Module, taps: Iterable[Tap], network: str):
        self.network = network
        self.taps = sorted(set(taps), key=str)
        for tap in self.taps:
            problem, error_type = tap_problem(model, tap, network)
            if problem:
                raise error_type(problem)
        modules = dict(model.named_modules())
        self._copied: Set[Tap] = set()
        self._records: Dict[Tap, torch.Tensor] = {}
        self._not_tensors: Dict[Tap, str] = {}  # taps whose module gave something else than a tensor
        self._versions: Dict[Tap, int] = {}
        self._calls: Dict[Tap, int] = {}
        self._relu_calls: Dict[Tap, int] = {}  # calls of a block's shared relu per forward (dry run)
        self._active = False
        self._model = model
        self._hooked: Dict[Tap, nn.Module] = {}
        self._handles: Dict[Tap, list] = {}
        for tap in self.taps:
            self._attach(tap, modules[tap.module])

    def _attach(self, tap: Tap, module: nn.Module) -> None:
        if tap.record == 'pre_activation':
            handles = self._hook_pre_activation(tap, block_with_final_relu(module, tap.module))
        else:
            handles = [module.register_forward_hook(self._hook_for(tap))]
        self._hooked[tap], self._handles[tap] = module, handles

    def _reattach_replaced_modules(self) -> None:
        """Hook again the taps whose module was replaced since they were hooked.

        mmengine replaces modules after the model is built (``revert_sync_batchnorm`` on every single-process
        run, ``convert_sync_batchnorm`` with ``sync_bn``); the hooks of the old module object would never fire.
        """
        for tap in self.taps:
            module = self._model.get_submodule(tap.module)
            if module is not self._hooked[tap]:
                for handle in self._handles[tap]:
                    handle.remove()
                self._attach(tap, module)

    def _hook_for(self, tap: Tap):
        def record(module, inputs, output):
            if not self._active:
                return
            value = output if tap.record == 'output' else (inputs[0] if inputs else None)
            self._calls[tap] = self._calls.get(tap, 0) + 1
            if not isinstance(value, torch.Tensor):
                self._not_tensors[tap] = type(value).__name__
                return
            self._versions[tap] = value._version
            self._records[tap] = value.clone() if tap in self._copied else value
        return record

    def _hook_pre_activation(self, tap: Tap, block: nn.Module) -> list:
        """Hooks that record the input of the last call of ``block.relu`` in each forward of ``block``."""
        calls_in_block = [0]

        def start(module, inputs):
            calls_in_block[0] = 0

        def on_relu(module, inputs):
            if not self._active:
                return
            calls_in_block[0] += 1
            expected = self._relu_calls.get(tap)
            if expected is None or calls_in_block[0] == expected:  # copy: the relu is in place
                self._records[tap] = inputs[0].clone()

        def finish(module, inputs, output):
            if not self._active:
                return
            if tap not in self._relu_calls:  # the dry run: learn the count, check the last call
                self._check_last_relu_made_output(tap, block, output)
                self._relu_calls[tap] = calls_in_block[0]
            self._calls[tap] = self._calls.get(tap, 0) + 1

        return [block.register_forward_pre_hook(start), block.relu.register_forward_pre_hook(on_relu),
                block.register_forward_hook(finish)]

    def _check_last_relu_made_output(self, tap: Tap, block: nn.Module, output) -> None:
        recorded = self._records.get(tap)
        if (recorded is None or not isinstance(output, torch.Tensor) or recorded.shape != output.shape
                or not torch.allclose(block.relu.forward(recorded.clone()), output)):
            raise ValueError(
                f"{self.network} tap {tap}: the block's output is not its `relu` applied to the input of "
                "the relu's last call, so record='pre_activation' cannot recover the pre-activation "
                f'values of this {type(block).__name__}. Tap a norm layer before the activation instead.')

    @contextmanager
    def recording(self):
        """Record the taps during the forward passes run inside this context (old records dropped)."""
        self._reattach_replaced_modules()
        self.clear()
        self._active = True
        try:
            yield self
        finally:
            self._active = False

    def get(self, tap: Tap) -> torch.Tensor:
        """The tensor recorded at ``tap`` in the last :meth:`recording` context."""
        calls = self._calls.get(tap, 0)
        if calls == 0:
            raise RuntimeError(
                f'{self.network} tap {tap} recorded nothing: the module did not run in the forward pass '
                '(for the teacher only the backbone, neck and the heads that contain a tap are run).')
        if calls > 1:
            raise RuntimeError(
                f'{self.network} tap {tap} ran {calls} times in one forward pass (a shared module); '
                'tap a module that runs once, e.g. the block or norm layer before it.')
        if tap in self._not_tensors:
            raise TypeError(
                f'{self.network} tap {tap}: the module does not return a single tensor (it gives a '
                f'{self._not_tensors[tap]}); tap a submodule that produces one tensor (e.g. one stage instead of the '
                'backbone).')
        return self._records[tap]

    def taps_modified_in_place(self) -> Set[Tap]:
        """Taps whose recorded tensor was modified in place after it was recorded (inplace ReLU)."""
        return {tap for tap, value in self._records.items()
                if tap in self._versions and tap not in self._copied
                and value._version != self._versions[tap]}

    def copy_at_record_time(self, taps: Iterable[Tap]) -> None:
        """Record copies for ``taps`` so later in-place operations cannot change the recorded values."""
        self._copied.update(taps)

    def clear(self) -> None:
        """Drop the recorded tensors (and with them any memory they hold)."""
        self._records.clear()
        self._versions.clear()
        self._calls.clear()
        self._not_tensors.clear()

    def remove(self) -> None:
        """Remove the forward hooks from the network."""
        for handles in self._handles.values():
            for handle in handles:
                handle.remove()
        self._handles, self._hooked = {}, {}
