# Pixel-wise + pair-wise distillation of "An Efficient Knowledge Distillation Architecture for Real-time
# Semantic Segmentation" (Mansourian et al., AUT journal; AmirMansurian/KD, code in the AICSD repository
# history): DeepLabV3+-R101 -> DeepLabV3+-R18 on Pascal VOC 2012. No published number recoverable from the
# repositories (the KD README is a copy of Overhaul's table). Losses, taps and weights:
# ../_base_/methods/efficientkd.py. Recipe: that of the code base's AICSD runs (120 epochs of VOC train at 6 images
# per step = 29,280 iterations, SGD lr 0.007, momentum 0.9, wd 5e-4, poly 0.9, decoder at lr x10), here on voc12aug.
# Teacher: mmseg's model zoo, deeplabv3plus_r101-d8_4xb4-40k_voc12aug-512x512 (78.62 mIoU; URL and hash in the
# protocol base). The same setting with the paper's networks and teacher:
# efficientkd_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-r18_29k_voc12aug.py.
_base_ = ['../_base_/aicsd-protocol_deeplabv3plus-r101_deeplabv3plus-r18_29k_voc12aug.py',
          '../_base_/methods/efficientkd.py']

model = dict(distill_losses=_base_.efficientkd_losses)
