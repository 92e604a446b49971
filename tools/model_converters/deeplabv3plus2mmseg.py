"""Convert a DeepLabV3+ checkpoint of the jfzhang95/pytorch-deeplab-xception lineage to an mmseg checkpoint.

    python tools/model_converters/deeplabv3plus2mmseg.py SRC DST [--config CONFIG]

SRC: a ``.pth.tar`` of jfzhang95/pytorch-deeplab-xception, clovaai/overhaul-distillation, AICSD or AttnFD
(DeepLabV3+ with ResNet-101, ResNet-18 or MobileNetV2, output stride 16), or the lineage's ImageNet MobileNetV2.
DST loads strictly into the matching configs/*/jfzhang95-*.py. AttnFD's unused CBAM modules and MobileNetV2's
duplicate low/high_level_features entries are dropped (docs/model_converters.md).
"""
import sys

import mmseg_kd  # noqa: F401  (registers the models the check builds)
from mmseg_kd.models.converters import convert_deeplabv3plus_checkpoint
from mmseg_kd.models.converters.command_line import run_converter

if __name__ == '__main__':
    sys.exit(run_converter('deeplabv3plus2mmseg', convert_deeplabv3plus_checkpoint, __doc__.splitlines()[0]))
