"""What the paper-checkpoint converters share: the result type, the refusal error, and renaming by rules.

A converter reads the authors' state dict, recognises the architecture from its keys and shapes, renames (and
where needed reshapes) every tensor onto the keys of an mmseg model, and says which of this repository's
configs the result loads into. A key that no rule covers is an error, never silently dropped: only the keys a
converter knows to be unused (listed in :attr:`ConvertedCheckpoint.dropped`) are left out.
"""
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch

from mmseg_kd.utils.user_input_error import UserInputError

StateDict = Dict[str, torch.Tensor]
# A rule: (regular expression matched against the whole key, replacement string or function of the match).
RenameRule = Tuple[str, Union[str, Callable[[re.Match], str]]]


class UnsupportedCheckpointError(UserInputError):
    """The file is not one the converter handles; the message says what it is and which converter fits."""


@dataclass
class ConvertedCheckpoint:
    """A converted state dict and what it is.

    Attributes:
        state_dict: the tensors under the mmseg model's keys (``backbone.*``, ``decode_head.*``, ...), or under the
            backbone's own keys when ``backbone_only``.
        architecture: what the source file holds, in words (e.g. ``'CIRKD v1 DeepLabV3-ResNet101, 19 classes'``).
        configs: repository configs the result loads into strictly (empty when there is none).
        backbone_only: an ImageNet backbone file: keys of ``model.backbone``, for ``init_cfg=dict(type='Pretrained')``.
        dropped: source keys left out on purpose (unused by the authors' forward, or duplicates).
        added: keys filled in that the source lacks (BN ``num_batches_tracked`` of files from torch < 0.4.1).
    """
    state_dict: StateDict
    architecture: str
    configs: List[str] = field(default_factory=list)
    backbone_only: bool = False
    dropped: List[str] = field(default_factory=list)
    added: List[str] = field(default_factory=list)


def rename_keys(state_dict: StateDict, rules: Sequence[RenameRule], *, what: str) -> StateDict:
    """Rename every key by the first rule whose pattern matches it in full.

    Raises:
        UnsupportedCheckpointError: keys that no rule matches (listed), or two keys renamed onto one.
    """
    renamed, unmatched = OrderedDict(), []
    for key, value in state_dict.items():
        for pattern, replacement in rules:
            match = re.fullmatch(pattern, key)
            if match:
                new_key = replacement(match) if callable(replacement) else match.expand(replacement)
                if new_key in renamed:
                    raise UnsupportedCheckpointError(f'{what}: two keys map onto {new_key!r} (one is {key!r})')
                renamed[new_key] = value
                break
        else:
            unmatched.append(key)
    if unmatched:
        shown = '\n'.join(f'    {key}' for key in unmatched[:12])
        more = f'\n    ... and {len(unmatched) - 12} more' if len(unmatched) > 12 else ''
        raise UnsupportedCheckpointError(
            f'{what}: {len(unmatched)} key(s) match no part of that architecture:\n{shown}{more}\n'
            'The file holds modules this converter does not know: is it a variant of the architecture '
            '(another backbone or head) or a file of another code base?')
    return renamed


def split_off(state_dict: StateDict, pattern: str) -> Tuple[StateDict, List[str]]:
    """The state dict without the keys matching ``pattern`` (regular expression, matched in full), and those keys."""
    kept = OrderedDict((k, v) for k, v in state_dict.items() if not re.fullmatch(pattern, k))
    return kept, [k for k in state_dict if k not in kept]


def add_missing_num_batches_tracked(state_dict: StateDict) -> Tuple[StateDict, List[str]]:
    """Add ``<bn>.num_batches_tracked = 0`` next to every ``<bn>.running_mean`` that lacks it.

    Files saved by torch < 0.4.1 (jfzhang95's teachers among them) have no such counter; it only matters for BN
    with ``momentum=None``, and torch itself fills it in with 0 when it loads such files.
    """
    added = []
    completed = OrderedDict()
    for key, value in state_dict.items():
        completed[key] = value
        if key.endswith('.running_mean'):
            counter = key[:-len('running_mean')] + 'num_batches_tracked'
            if counter not in state_dict:
                completed[counter] = torch.tensor(0, dtype=torch.long)
                added.append(counter)
    return completed, added


def linear_to_conv1x1(weight: torch.Tensor) -> torch.Tensor:
    """A Linear weight (C_out, C_in) as the weight of the equivalent 1x1 conv, (C_out, C_in, 1, 1)."""
    return weight.reshape(*weight.shape, 1, 1)


def classes_of(state_dict: StateDict, classifier_key: str) -> int:
    """The number of classes: the output channels of the classifier's weight."""
    return int(state_dict[classifier_key].shape[0])


def prefixed(state_dict: StateDict, prefix: str) -> List[str]:
    """The keys that start with ``prefix``."""
    return [key for key in state_dict if key.startswith(prefix)]


def block_count(state_dict: StateDict, stage_prefix: str) -> int:
    """The number of blocks ``<stage_prefix>.<i>.*`` in a stage (one more than the largest index i)."""
    pattern = re.compile(re.escape(stage_prefix) + r'\.(\d+)\.')
    indices = [int(m.group(1)) for m in map(pattern.match, state_dict) if m]
    return max(indices) + 1 if indices else 0


def config_for(table: Dict[Tuple[str, int], str], architecture: str, num_classes: int) -> Optional[str]:
    """The repository config of (architecture, number of classes), if there is one."""
    return table.get((architecture, num_classes))
