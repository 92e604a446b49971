"""Taps: named places in a network whose tensors the distillation losses compare.

A tap names a module by its path in ``model.named_modules()`` and records the module's output (default),
its first positional input, or (for residual blocks) its pre-activation output. In a config a tap is a
string (the path, recording the output) or a dict::

    student='decode_head.conv_seg'                                  # output of the classifier
    student=dict(module='decode_head.conv_seg', record='input')     # the feature fed to the classifier
    student=dict(module='backbone.layer4', record='pre_activation') # stage output before its last ReLU
    student=dict(module='backbone', index=2)                        # 3rd map of the list a backbone returns
    student='backbone.layers.1'                                     # a MiT stage (a ModuleList), as a map

What is recorded from a call (one element of a tuple/list with ``index``, transformer tokens (B, N, C) as
maps (B, C, H, W) where the call carries their (H, W)) is :func:`~mmseg_kd.distillers.tap_values.tap_tensor`'s
business; both this recorder and ``tools/analysis/list_taps.py`` use it.

A ``ModuleList`` does not run itself (its parent runs its modules). A tap on one records the chain its modules
form when each takes the previous one's output (nested lists flattened): ``record='output'`` is the last
module's output, ``record='input'`` the first one's input, and tokens become maps with the (H, W) that the
chain carried. A MiT stage ``backbone.layers.i`` (patch embedding, blocks, norm) is such a chain, recorded
as the stage's normalised output map; a list whose modules take other inputs (a head's ``convs``, one per
backbone level) is refused when it runs.

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
from typing import Dict, Iterable, List, Optional, Set, Tuple, Type, Union

import torch
from torch import nn

from mmseg_kd.distillers.tap_values import TapValueError, spatial_sizes_in, tap_tensor, token_map_pairs
from mmseg_kd.utils.user_input_error import UserInputError

RECORD_CHOICES = ('output', 'input', 'pre_activation')
TAP_KEYS = ('module', 'record', 'index')


class UnknownTapError(UserInputError):
    """A tap names a module path that the network does not have."""


@dataclass(frozen=True)
class Tap:
    """A module path, which of its tensors to record (``'output'``, ``'input'`` or ``'pre_activation'``) and,
    for a module whose output (or input) is a tuple or list, which element (``index``)."""
    module: str
    record: str = 'output'
    index: Optional[int] = None

    def __str__(self) -> str:
        element = '' if self.index is None else f'[{self.index}]'
        if self.record == 'output':
            return self.module + element
        return f'{self.module} ({self.record}{element})'


def runs_only_its_modules(module: nn.Module) -> bool:
    """Whether ``module`` is a plain ``ModuleList``: it never runs itself, its parent runs its modules (a
    subclass with its own ``forward``, such as mmseg's ``PPM``, runs like any module)."""
    return isinstance(module, nn.ModuleList) and type(module).forward is nn.ModuleList.forward


def chain_modules(module_list: nn.ModuleList) -> List[nn.Module]:
    """The modules of a plain ``ModuleList`` in order, nested plain lists flattened (the modules that run)."""
    chain = []
    for child in module_list:
        chain += chain_modules(child) if runs_only_its_modules(child) else [child]
    return chain


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
    """Turn a config entry (path string or ``dict(module=..., record=..., index=...)``) into a :class:`Tap`."""
    if isinstance(spec, Tap):
        return spec
    if isinstance(spec, str) and spec:
        return Tap(spec)
    if not (isinstance(spec, dict) and set(spec) <= set(TAP_KEYS) and isinstance(spec.get('module'), str)
            and spec['module']):
        raise ValueError("a tap is a non-empty module path string or dict(module='path', record='output'|'input'|"
                         f"'pre_activation', index=None|int), got {spec!r}")
    tap = Tap(spec['module'], spec.get('record', 'output'), spec.get('index'))
    if tap.record not in RECORD_CHOICES:
        raise ValueError(f"tap {tap.module!r}: record must be one of {RECORD_CHOICES}, got {tap.record!r}")
    if tap.index is not None and (not isinstance(tap.index, int) or isinstance(tap.index, bool)):
        raise ValueError(f'tap {tap.module!r}: index must be an int (the element of the tuple or list the '
                         f'module gives), got {tap.index!r}')
    if tap.index is not None and tap.record == 'pre_activation':
        raise ValueError(f"tap {tap.module!r}: index does not go with record='pre_activation' (a residual block "
                         'gives one tensor); leave index out')
    return tap


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
    if runs_only_its_modules(modules[tap.module]) and not chain_modules(modules[tap.module]):
        return f'{network} tap {tap}: the ModuleList is empty, nothing runs in it', ValueError
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
        self._copied: Set[Tap] = set()
        self._records: Dict[Tap, torch.Tensor] = {}
        self._not_recordable: Dict[Tap, str] = {}  # why a call gave nothing a tap can record
        self._versions: Dict[Tap, int] = {}
        self._calls: Dict[Tap, int] = {}
        self._relu_calls: Dict[Tap, int] = {}  # calls of a block's shared relu per forward (dry run)
        self._active = False
        self._model = model
        self._hooked: Dict[Tap, Tuple[nn.Module, ...]] = {}
        self._handles: Dict[Tap, list] = {}
        for tap in self.taps:
            self._attach(tap)

    def _hooked_modules(self, tap: Tap) -> Tuple[nn.Module, ...]:
        """The modules whose calls record ``tap``: the module, or the chain of a ``ModuleList``."""
        module = self._model.get_submodule(tap.module)
        return tuple(chain_modules(module)) if runs_only_its_modules(module) else (module,)

    def _attach(self, tap: Tap) -> None:
        modules = self._hooked_modules(tap)
        module = self._model.get_submodule(tap.module)
        if tap.record == 'pre_activation':
            handles = self._hook_pre_activation(tap, block_with_final_relu(module, tap.module))
        elif runs_only_its_modules(module):
            handles = self._hook_chain(tap, modules)
        else:
            handles = [module.register_forward_hook(self._hook_for(tap))]
        self._hooked[tap], self._handles[tap] = modules, handles

    def _reattach_replaced_modules(self) -> None:
        """Hook again the taps whose module was replaced since they were hooked.

        mmengine replaces modules after the model is built (``revert_sync_batchnorm`` on every single-process
        run, ``convert_sync_batchnorm`` with ``sync_bn``); the hooks of the old module object would never fire.
        """
        for tap in self.taps:
            modules = self._hooked_modules(tap)
            if any(new is not old for new, old in zip(modules, self._hooked[tap])) or \
                    len(modules) != len(self._hooked[tap]):
                for handle in self._handles[tap]:
                    handle.remove()
                self._attach(tap)

    def _store(self, tap: Tap, value, call_sizes) -> None:
        """Record what ``tap`` takes from ``value`` (an output or first input), or why it cannot."""
        try:
            tensor = tap_tensor(value, tap.index, call_sizes)
        except TapValueError as error:
            self._not_recordable[tap] = str(error)
            return
        self._versions[tap] = tensor._version
        self._records[tap] = tensor.clone() if tap in self._copied else tensor

    def _hook_for(self, tap: Tap):
        def record(module, inputs, output):
            if not self._active:
                return
            self._calls[tap] = self._calls.get(tap, 0) + 1
            value = output if tap.record == 'output' else (inputs[0] if inputs else None)
            self._store(tap, value, spatial_sizes_in(inputs))
        return record

    def _hook_chain(self, tap: Tap, chain: Tuple[nn.Module, ...]) -> list:
        """Hooks on the modules of a ``ModuleList`` that record its chain's end (see the module docstring)."""
        names = {id(module): name for name, module in self._model.named_modules()}
        state = dict(previous=None, sizes=[])

        def hook_for(position: int):
            def on_call(module, inputs, output):
                if not self._active:
                    return
                first = inputs[0] if inputs else None
                if position == 0:
                    self._calls[tap] = self._calls.get(tap, 0) + 1
                    state['sizes'] = []
                    if tap.record == 'input':
                        self._store(tap, first, spatial_sizes_in(inputs))
                elif not _continues(first, state['previous']):
                    self._not_recordable.setdefault(tap, (
                        f'its modules do not run one after another: {names.get(id(module))!r} does not take the '
                        f'output of {names.get(id(chain[position - 1]))!r}, so the list has no single output; '
                        'tap one of its modules'))
                carried = spatial_sizes_in(inputs) + [size for _, size in token_map_pairs(output)]
                state['sizes'] = carried[::-1] + state['sizes']
                state['previous'] = output
                if position == len(chain) - 1:
                    if tap.record == 'output':
                        self._store(tap, output, state['sizes'])
                    state['previous'], state['sizes'] = None, []  # hold no tensor between forward passes
            return on_call

        return [module.register_forward_hook(hook_for(position)) for position, module in enumerate(chain)]

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

    def calls(self, tap: Tap) -> int:
        """How many times ``tap``'s module (or a ``ModuleList``'s chain) ran in the last :meth:`recording`."""
        return self._calls.get(tap, 0)

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
        if tap in self._not_recordable:
            raise TypeError(f'{self.network} tap {tap}: {self._not_recordable[tap]}.')
        if tap not in self._records:
            raise RuntimeError(f'{self.network} tap {tap} recorded nothing: the last module of the list did not run.')
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
        self._not_recordable.clear()

    def remove(self) -> None:
        """Remove the forward hooks from the network."""
        for handles in self._handles.values():
            for handle in handles:
                handle.remove()
        self._handles, self._hooked = {}, {}


def _continues(first_input, previous_output) -> bool:
    """Whether a module's first input is the previous module's output (or its first element, e.g. the tokens of
    a ``(tokens, (H, W))`` pair), the same tensor or a view of it."""
    candidates = [previous_output]
    if isinstance(previous_output, (tuple, list)) and previous_output:
        candidates.append(previous_output[0])
    return any(isinstance(candidate, torch.Tensor) and isinstance(first_input, torch.Tensor) and (
        candidate is first_input or candidate.untyped_storage().data_ptr() == first_input.untyped_storage().data_ptr())
        for candidate in candidates)
