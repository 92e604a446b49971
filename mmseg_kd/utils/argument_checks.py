"""Checks of constructor arguments, shared by every loss, layer, schedule and the distiller.

Each check returns the value (as ``float``/``int``/``bool`` where it converts) or raises ``ValueError`` with a
message of one form, ``"<owner>: <name> must be <what is allowed>, got <value>"``::

    tau = positive_number('ChannelWiseDivergence', 'tau', tau)
    # ValueError: ChannelWiseDivergence: tau must be a number > 0, got 0

A number is an ``int`` or ``float`` (numpy scalars included) that is finite; a ``bool`` is not a number, and an
integer argument does not take a float (``2.0``). A switch takes ``True`` or ``False`` only, not ``0``/``1`` or a
string. The distiller collects these messages under the name of the ``distill_losses`` entry they come from.
A temperature (:func:`temperature`) is also warned about when it is so small that its term vanishes.
"""
import math
import numbers
import warnings
from typing import Any, Optional, Sequence

from mmengine.registry import MODELS
from torch import nn
from torch.nn.modules.batchnorm import _NormBase

from mmseg_kd.utils.user_input_error import UserInputError

#: Below this a temperature saturates the softmax it divides: values that differ by 1 differ by more than 100 after
#: the division, and exp(-100) is below float32's smallest normal number (1.2e-38), so the distribution is one-hot, its
#: gradient zero, and a loss scaled by tau**2 is multiplied by less than 1e-4 on top.
SMALLEST_USEFUL_TEMPERATURE = 0.01

#: The base classes of the layers a ``norm_cfg`` may build (batch, sync-batch, instance, group and layer norms).
NORM_LAYERS = (_NormBase, nn.GroupNorm, nn.LayerNorm)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(float(value))


def _is_integer(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _refuse(owner: str, name: str, allowed: str, value: Any, allow_none: bool) -> UserInputError:
    allowed = f'None or {allowed}' if allow_none else allowed
    return UserInputError(f'{owner}: {name} must be {allowed}, got {value!r}')


def number_in_range(owner: str, name: str, value: Any, low: Optional[float] = None, high: Optional[float] = None,
                    low_inclusive: bool = True, high_inclusive: bool = True,
                    allow_none: bool = False) -> Optional[float]:
    """A finite number within [low, high] (each end open or closed, ``None`` for no bound), as a float.

    Args:
        owner: the class (or config entry) the argument belongs to, first in the message.
        name: the argument's name.
        value: what was given.
        low, high: the bounds (``None``: unbounded on that side).
        low_inclusive, high_inclusive: whether the bound itself is allowed.
        allow_none: ``None`` is also allowed (and returned).
    """
    if value is None and allow_none:
        return None
    if low is not None and high is not None:
        allowed = (f"a number in {'[' if low_inclusive else '('}{low:g}, "
                   f"{high:g}{']' if high_inclusive else ')'}")
    elif low is not None:
        allowed = f"a number {'>=' if low_inclusive else '>'} {low:g}"
    elif high is not None:
        allowed = f"a number {'<=' if high_inclusive else '<'} {high:g}"
    else:
        allowed = 'a finite number'
    if not _is_number(value):
        raise _refuse(owner, name, allowed, value, allow_none)
    number = float(value)
    below = low is not None and (number < low if low_inclusive else number <= low)
    above = high is not None and (number > high if high_inclusive else number >= high)
    if below or above:
        raise _refuse(owner, name, allowed, value, allow_none)
    return number


def positive_number(owner: str, name: str, value: Any, allow_none: bool = False) -> Optional[float]:
    """A finite number > 0 (a temperature, a divisor), as a float."""
    return number_in_range(owner, name, value, low=0, low_inclusive=False, allow_none=allow_none)


class VanishingTemperatureWarning(UserWarning):
    """A temperature so small that the term it belongs to (nearly) vanishes."""


def temperature(owner: str, name: str, value: Any) -> float:
    """A softmax temperature: a finite number > 0, as a float, with a :class:`VanishingTemperatureWarning` when it
    is below :data:`SMALLEST_USEFUL_TEMPERATURE` (the softmax is one-hot, the term and its gradient vanish).

    Every loss takes its temperature arguments through this check, so the warning covers them all.
    """
    value = positive_number(owner, name, value)
    if value < SMALLEST_USEFUL_TEMPERATURE:
        warnings.warn(
            f'{owner}: {name}={value:g} is so small that the term vanishes: the softmax of (values / {name}) is '
            f'one-hot for any two values that differ by more than {100 * value:g}, so the distribution and its '
            f'gradient carry nothing (and a loss scaled by {name}**2 is multiplied by {value ** 2:g}). '
            f'Temperatures below {SMALLEST_USEFUL_TEMPERATURE:g} are almost certainly a typo: logit distillation uses '
            f'1 to 10, contrastive losses 0.05 to 0.5.', VanishingTemperatureWarning, stacklevel=2)
    return value


def non_negative_number(owner: str, name: str, value: Any, allow_none: bool = False) -> Optional[float]:
    """A finite number >= 0 (a weight), as a float."""
    return number_in_range(owner, name, value, low=0, allow_none=allow_none)


def integer_at_least(owner: str, name: str, value: Any, minimum: int, allow_none: bool = False) -> Optional[int]:
    """An integer >= ``minimum`` (a count, a size, a seed), as an int."""
    if value is None and allow_none:
        return None
    if not _is_integer(value) or value < minimum:
        raise _refuse(owner, name, f'an integer >= {minimum}', value, allow_none)
    return int(value)


def integer(owner: str, name: str, value: Any, allow_none: bool = False) -> Optional[int]:
    """Any integer (a label value such as an ignore index), as an int."""
    if value is None and allow_none:
        return None
    if not _is_integer(value):
        raise _refuse(owner, name, 'an integer', value, allow_none)
    return int(value)


def boolean(owner: str, name: str, value: Any) -> bool:
    """``True`` or ``False`` (not 0/1, not a string)."""
    if not isinstance(value, bool):
        raise _refuse(owner, name, 'True or False', value, allow_none=False)
    return value


def one_of(owner: str, name: str, value: Any, choices: Sequence[Any]) -> Any:
    """One of ``choices``."""
    if isinstance(value, bool) or value not in choices:
        raise _refuse(owner, name, f'one of {tuple(choices)}', value, allow_none=False)
    return value


def text(owner: str, name: str, value: Any, allow_none: bool = False, allow_empty: bool = True) -> Optional[str]:
    """A string (a path, a key prefix); ``allow_empty=False`` refuses ``''``."""
    if value is None and allow_none:
        return None
    if not isinstance(value, str) or (not allow_empty and not value):
        raise _refuse(owner, name, 'a string' if allow_empty else 'a non-empty string', value, allow_none)
    return value


def type_config(owner: str, name: str, value: Any, allow_none: bool = False) -> Optional[dict]:
    """A config dict with a ``type`` key (a norm layer, an optimizer, a schedule), as a plain dict."""
    if value is None and allow_none:
        return None
    if not isinstance(value, dict) or 'type' not in value:
        raise _refuse(owner, name, "a dict with a 'type' key", value, allow_none)
    return dict(value)


def norm_config(owner: str, name: str, value: Any, allow_none: bool = False) -> Optional[dict]:
    """An mmcv norm-layer config, ``dict(type='BN'|'SyncBN'|'GN'|..., ...)``, whose type is a registered norm
    layer, as a plain dict."""
    config = type_config(owner, name, value, allow_none)
    if config is None:
        return None
    layer_type = config['type']
    if not isinstance(layer_type, type):
        with MODELS.switch_scope_and_registry(None) as registry:
            layer_type = registry.get(layer_type) if isinstance(layer_type, str) else None
    if not (isinstance(layer_type, type) and issubclass(layer_type, NORM_LAYERS)):
        raise ValueError(f"{owner}: {name} must be a norm layer config such as dict(type='BN') or "
                         f"dict(type='SyncBN'), got {value!r}: its type is not a registered norm layer")
    return config
