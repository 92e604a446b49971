"""Convert a CIRKD v1 checkpoint (winycg/CIRKD at 2d8ad0f) to an mmseg checkpoint.

    python tools/model_converters/cirkd2mmseg.py SRC DST [--config CONFIG]

SRC: a released CIRKD segmentation model (DeepLabV3-ResNet101 teacher; DeepLabV3-ResNet18/MobileNetV2 and
PSPNet-ResNet18 students) or an ImageNet backbone of CIRKD's README (resnet101/resnet18/mobilenetv2-imagenet.pth).
DST loads strictly into the matching configs/*/cirkd-*.py (an ImageNet backbone into its ``model.backbone``).
CIRKD v2 files and other code bases' files are refused (docs/model_converters.md).
"""
import sys

import mmseg_kd  # noqa: F401  (registers the models the check builds)
from mmseg_kd.models.converters import convert_cirkd_checkpoint
from mmseg_kd.models.converters.command_line import run_converter

if __name__ == '__main__':
    sys.exit(run_converter('cirkd2mmseg', convert_cirkd_checkpoint, __doc__.splitlines()[0]))
