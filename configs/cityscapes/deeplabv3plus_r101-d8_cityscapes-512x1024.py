# DeepLabV3+-R101-D8 (mmseg) on Cityscapes, 512x1024 crops: the teacher of the Overhaul/AICSD/AttnFD
# lineage (which uses its own OS16 DeepLabV3+; see /work/shared/methods/SPEC.md §0.3 for the differences).
_base_ = ['mmseg::deeplabv3plus/deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py']
