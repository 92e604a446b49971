"""MobileNetV2 as the papers' segmentation codes dilate it: every block of a dilated stage, and (optionally)
padding each block's input before its expansion conv.

mmseg's ``MobileNetV2`` gives a stage's dilation to its first block only (the others have dilation 1).
Two options reproduce the papers:

* ``dilate_every_block=True`` (CIRKD, output stride 8): every block of a stage gets the stage dilation d,
  except the first block of a stage whose dilation grows over the previous stage's, which gets d // 2 (it
  replaces the stride-2 conv, as CIRKD's ``_nostride_dilate``). With ``strides=(1, 2, 2, 1, 1, 1, 1)`` and
  ``dilations=(1, 1, 1, 2, 2, 4, 4)`` the blocks of the 64-, 96-, 160- and 320-channel stages have
  dilations (1, 2, 2, 2), (2, 2, 2), (2, 4, 4) and (4,).
* ``pad_before_expansion=True`` (the DeepLabV3+ lineage, output stride 16): blocks are
  :class:`InputPaddedInvertedResidual` (see there). Its dilations are mmseg's: ``strides=(1, 2, 2, 2, 1, 1, 1)``,
  ``dilations=(1, 1, 1, 1, 1, 1, 2)``.

With both options off it is mmseg's ``MobileNetV2``. State-dict keys are mmseg's in every case.
"""
from typing import List

from mmseg.models.backbones import MobileNetV2
from mmseg.models.utils import InvertedResidual
from torch import nn

from mmseg_kd.models.backbones.input_padded_inverted_residual import InputPaddedInvertedResidual
from mmseg_kd.registry import MODELS


@MODELS.register_module()
class DilatedMobileNetV2(MobileNetV2):
    """mmseg's ``MobileNetV2`` with the papers' per-block dilation and input padding (module docstring).

    Args:
        dilate_every_block: dilate every block of a stage (CIRKD), not only the first (mmseg).
        pad_before_expansion: pad the block input before the expansion conv (the DeepLabV3+ lineage).
        **kwargs: mmseg ``MobileNetV2`` arguments (``strides``, ``dilations``, ``out_indices``, ...).

    Raises:
        TypeError: an option that is not a bool.
        ValueError: ``with_cp=True`` with ``pad_before_expansion=True``.

    Shapes: (B, 3, H, W) → the outputs of the stages in ``out_indices``, as mmseg's ``MobileNetV2``.
    """

    def __init__(self, dilate_every_block: bool = False, pad_before_expansion: bool = False, **kwargs):
        for name, value in (('dilate_every_block', dilate_every_block),
                            ('pad_before_expansion', pad_before_expansion)):
            if not isinstance(value, bool):
                raise TypeError(f'DilatedMobileNetV2: {name} must be True or False, got {value!r}')
        if pad_before_expansion and kwargs.get('with_cp', False):
            raise ValueError('DilatedMobileNetV2: with_cp=True is not supported with pad_before_expansion=True; '
                             'set with_cp=False.')
        # make_layer() reads these while MobileNetV2.__init__ builds the stages.
        self.dilate_every_block = dilate_every_block
        self.pad_before_expansion = pad_before_expansion
        self._built_stage_dilations: List[int] = []
        super().__init__(**kwargs)

    def block_dilations(self, num_blocks: int, dilation: int) -> List[int]:
        """The depthwise-conv dilation of each block of the stage being built."""
        if not self.dilate_every_block:
            return [dilation] + [1] * (num_blocks - 1)
        previous = self._built_stage_dilations[-1] if self._built_stage_dilations else 1
        first = dilation // 2 if dilation > previous else dilation
        return [first] + [dilation] * (num_blocks - 1)

    def make_layer(self, out_channels: int, num_blocks: int, stride: int, dilation: int,
                   expand_ratio: int) -> nn.Sequential:
        """A stage of ``num_blocks`` blocks; the first has the stage stride."""
        block_type = InputPaddedInvertedResidual if self.pad_before_expansion else InvertedResidual
        extra = {} if self.pad_before_expansion else dict(with_cp=self.with_cp)
        layers = []
        for index, block_dilation in enumerate(self.block_dilations(num_blocks, dilation)):
            layers.append(block_type(self.in_channels, out_channels, stride if index == 0 else 1,
                                     expand_ratio=expand_ratio, dilation=block_dilation, conv_cfg=self.conv_cfg,
                                     norm_cfg=self.norm_cfg, act_cfg=self.act_cfg, **extra))
            self.in_channels = out_channels
        self._built_stage_dilations.append(dilation)
        return nn.Sequential(*layers)
