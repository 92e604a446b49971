"""A ResNet whose BasicBlocks dilate their second 3x3 conv too, as CIRKD and the DeepLabV3+ lineage build
ResNet-18.

mmseg's ``BasicBlock`` dilates only ``conv1``; ``conv2`` always has dilation 1. The papers' dilated
ResNet-18 gives ``conv2`` the dilation of its stage in every block, while ``conv1`` keeps the block's own
dilation (the stage dilation, or half of it in the first block with ``contract_dilation=True``):

=============================  ===========================  ==========================
stage dilation d (stride 1)    conv1 of block 0 / others     conv2 of every block
=============================  ===========================  ==========================
CIRKD (``contract_dilation``)  d // 2 / d                    d
lineage (no contraction)       d / d                         d
mmseg ``BasicBlock``           d // 2 or d / d               1
=============================  ===========================  ==========================

Padding equals the dilation, so the spatial size is that of mmseg's block. Bottleneck depths (50, 101, 152)
already match the papers with mmseg's ``ResNet``/``ResNetV1c`` and are refused here.
"""
from mmcv.cnn import build_conv_layer
from mmseg.models.backbones.resnet import BasicBlock, ResNet
from mmseg.models.utils import ResLayer

from mmseg_kd.registry import MODELS


class BasicBlockWithDilatedConv2(BasicBlock):
    """mmseg's ``BasicBlock`` with ``conv2`` dilated by ``conv2_dilation`` (padding = dilation).

    Args:
        conv2_dilation: dilation of the second 3x3 conv (the stage dilation).
        **kwargs: ``BasicBlock`` arguments; ``dilation`` is that of ``conv1``.

    Shapes: (B, inplanes, H, W) → (B, planes, H / stride, W / stride).
    """

    def __init__(self, *args, conv2_dilation: int = 1, conv_cfg=None, **kwargs):
        super().__init__(*args, conv_cfg=conv_cfg, **kwargs)
        self.conv2_dilation = conv2_dilation
        planes = self.conv2.out_channels
        self.conv2 = build_conv_layer(conv_cfg, planes, planes, 3, padding=conv2_dilation,
                                      dilation=conv2_dilation, bias=False)


@MODELS.register_module()
class ResNetWithDilatedConv2(ResNet):
    """ResNet-18/34 whose BasicBlocks dilate ``conv2`` with the stage dilation (see the module docstring).

    Takes every argument of mmseg's ``ResNet``; ``deep_stem=True, avg_down=False`` makes it a ``ResNetV1c``
    (CIRKD's deep stem, with ``stem_channels=128``), the defaults a plain 7x7-stem ResNet (the lineage's).
    State-dict keys are those of mmseg's ``ResNet``, so mmseg's ImageNet weights and converted paper weights
    load as they are.

    Raises:
        ValueError: a depth with Bottleneck blocks, or ``multi_grid`` (which would leave the dilation of
            ``conv2`` undefined).
    """

    def __init__(self, depth: int, multi_grid=None, **kwargs):
        if depth not in (18, 34):
            raise ValueError(
                f'ResNetWithDilatedConv2: depth {depth} has Bottleneck blocks, whose only 3x3 conv mmseg '
                "already dilates; use type='ResNetV1c' (deep stem) or type='ResNet' for it.")
        if multi_grid is not None:
            raise ValueError(
                f'ResNetWithDilatedConv2: multi_grid={multi_grid!r} is not supported (conv2 takes the stage '
                'dilation); set per-stage dilations with `dilations` instead.')
        super().__init__(depth=depth, **kwargs)

    def make_res_layer(self, **kwargs) -> ResLayer:
        """A stage of :class:`BasicBlockWithDilatedConv2` whose ``conv2`` has the stage dilation."""
        return ResLayer(**dict(kwargs, block=BasicBlockWithDilatedConv2, conv2_dilation=kwargs['dilation']))
