"""Key layouts of the torchvision-style backbones that several papers' codes share: MobileNetV2 as
``features.N`` and ResNet stages as ``layerN.B``.
"""
import re
from typing import List, Tuple

from mmseg_kd.models.converters.key_mapping import RenameRule, StateDict, UnsupportedCheckpointError, block_count

# Inverted residual blocks per stage of MobileNetV2: features.1 .. features.17 → layer1 .. layer7 of mmseg.
MOBILENETV2_STAGE_BLOCKS = (1, 2, 3, 4, 3, 3, 1)
RESNET_DEPTHS = {(True, (3, 4, 23, 3)): 101, (True, (3, 4, 6, 3)): 50, (True, (3, 8, 36, 3)): 152,
                 (False, (2, 2, 2, 2)): 18, (False, (3, 4, 6, 3)): 34}


def mobilenetv2_block(index: int) -> Tuple[int, int]:
    """(stage, block) in mmseg's MobileNetV2 (1-based ``layer``, 0-based block) of ``features.<index>``."""
    start = 1
    for stage, blocks in enumerate(MOBILENETV2_STAGE_BLOCKS, 1):
        if index < start + blocks:
            return stage, index - start
        start += blocks
    raise UnsupportedCheckpointError(f'MobileNetV2 feature index {index} is past the 17 inverted residual blocks')


def mobilenetv2_rules(source: str, target: str) -> List[RenameRule]:
    """MobileNetV2 ``<source>features.*`` → mmseg ``<target>conv1.conv|bn`` and ``<target>layerS.B.conv.J.conv|bn``.

    In a block's ``conv`` Sequential the convs sit at positions 0, 3, 6 and their BNs at 1, 4, 7 (ReLU6 between);
    mmseg's block has one ConvModule per conv, so position p becomes ConvModule p // 3, conv or bn by p % 3.
    """
    def block(match: re.Match) -> str:
        stage, index = mobilenetv2_block(int(match.group(1)))
        position = int(match.group(2))
        kind = 'conv' if position % 3 == 0 else 'bn'
        return f'{target}layer{stage}.{index}.conv.{position // 3}.{kind}.{match.group(3)}'
    escaped = re.escape(source)
    return [(escaped + r'features\.0\.0\.(.*)', target + r'conv1.conv.\1'),
            (escaped + r'features\.0\.1\.(.*)', target + r'conv1.bn.\1'),
            (escaped + r'features\.(\d+)\.conv\.([013467])\.(.*)', block)]


def resnet_depth(state_dict: StateDict, prefix: str) -> int:
    """The depth of the ResNet under ``prefix`` from its block type and the block counts of its four stages.

    Raises:
        UnsupportedCheckpointError: counts of no standard depth.
    """
    counts = tuple(block_count(state_dict, f'{prefix}layer{i}') for i in range(1, 5))
    bottleneck = f'{prefix}layer1.0.conv3.weight' in state_dict
    if (bottleneck, counts) not in RESNET_DEPTHS:
        raise UnsupportedCheckpointError(f'a ResNet with stage block counts {counts} is of no standard depth')
    return RESNET_DEPTHS[(bottleneck, counts)]
