# The AICSD/AttnFD code base's Pascal VOC protocol with the lineage's own networks (the jfzhang95 DeepLabV3+, output
# stride 16; configs/voc12aug/jfzhang95-*): teacher DeepLabV3+-R101, student DeepLabV3+-R18, 513x513 crops of images
# resized to a shorter side of 256 to 1026, 6 images per step on one GPU, its 120-epoch schedule (29,280 iterations).
# The reference trains on VOC train only (1,464 images: its --use-sbd flag is broken); this protocol trains the same
# number of steps on VOC 2012 + SBD. The leaves add a method base (methods/) and the teacher file of their paper.
# Evaluation at a shorter side of 513, against the full-resolution labels; the papers' numbers resize the labels too:
# MMSEG_KD_LINEAGE_EVALUATION=shorter_side_513 (../../configs/_base_/datasets/jfzhang95_pascal_voc12_aug-513x513.py).
# Teacher: the DeepLabV3+-ResNet101 of jfzhang95/pytorch-deeplab-xception that Overhaul's README links
# (deeplab-resnet.pth.tar, 77.89 mIoU there), converted with
#   python tools/model_converters/deeplabv3plus2mmseg.py deeplab-resnet.pth.tar \
#       checkpoints/jfzhang95-deeplabv3plus_r101-d16-mg124_voc12aug-513x513.pth
# The ResNet-18 student starts from torchvision's ImageNet weights, as in the papers' code.
_base_ = [
    '../../configs/_base_/models/jfzhang95-deeplabv3plus_r18-d16.py',  # the student's preprocessing (not its model)
    '../../configs/_base_/datasets/jfzhang95_pascal_voc12_aug-513x513.py',
    './default_runtime.py',
    './schedules/aicsd_sgd_29k.py',
]
data_preprocessor = dict(size=_base_.crop_size)
model = dict(
    _delete_=True,
    type='SegDistiller',
    student=dict(
        cfg_path='{{fileDirname}}/../../configs/voc12aug/jfzhang95-deeplabv3plus_r18-d16_voc12aug-513x513.py'),
    teacher=dict(
        cfg_path='{{fileDirname}}/../../configs/voc12aug/jfzhang95-deeplabv3plus_r101-d16-mg124_voc12aug-513x513.py',
        checkpoint='checkpoints/jfzhang95-deeplabv3plus_r101-d16-mg124_voc12aug-513x513.pth'),
    distill_losses=dict())
train_dataloader = dict(batch_size=6)  # one GPU
