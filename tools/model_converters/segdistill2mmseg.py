"""Convert a SegDistill teacher (mmseg 0.x code bases) to an mmseg 1.x checkpoint.

    python tools/model_converters/segdistill2mmseg.py SRC DST [--config CONFIG]

SRC: SegFormer in the NVlabs/SegFormer layout with its own head (DST loads into
configs/ade20k/nvlabs-segformer_mit-b3_ade20k-512x512.py for B3), or Swin UPerNet in the official
Swin-Transformer-Semantic-Segmentation layout (DST loads into configs/ade20k/upernet_swin-b_ade20k-512x512.py for
Swin-B). PSPNet-R101 of mmseg's v0.x zoo needs no conversion: it loads as it is into
configs/ade20k/pspnet_r101-d8_ade20k-512x512.py, and this tool refuses it with that advice (docs/model_converters.md).
"""
import sys

import mmseg_kd  # noqa: F401  (registers the models the check builds)
from mmseg_kd.models.converters import convert_segdistill_checkpoint
from mmseg_kd.models.converters.command_line import run_converter

if __name__ == '__main__':
    sys.exit(run_converter('segdistill2mmseg', convert_segdistill_checkpoint, __doc__.splitlines()[0]))
