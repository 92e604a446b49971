# DeepLabV3+-R101-D8 (mmseg) on Pascal VOC 2012 + SBD (voc12aug), 512x512 crops: the teacher of the
# Overhaul/AICSD/AttnFD lineage (which uses its own OS16 DeepLabV3+; see SPEC.md §0.3).
_base_ = ['mmseg::deeplabv3plus/deeplabv3plus_r101-d8_4xb4-40k_voc12aug-512x512.py']
