# The AICSD/AttnFD code base's Cityscapes protocol with the lineage's own networks (the jfzhang95 DeepLabV3+, output
# stride 16; configs/cityscapes/jfzhang95-*): teacher DeepLabV3+-R101, student DeepLabV3+-R18, square 513x513 crops of
# images resized to a shorter side of 256 to 1026 (the reference's), 6 images per step on one GPU, its 200-epoch
# schedule (99,200 iterations). The leaves add a method base (methods/).
# Evaluation at a shorter side of 513 (513x1026), against the full-resolution labels; the papers' numbers resize the
# labels too: MMSEG_KD_LINEAGE_EVALUATION=shorter_side_513
# (../../configs/_base_/datasets/jfzhang95_cityscapes-513x513.py).
# Teacher: none released for Cityscapes (the AICSD and AttnFD READMEs link Pascal VOC teachers only; their Cityscapes
# teacher has 77.66 mIoU): train configs/cityscapes/jfzhang95-deeplabv3plus_r101-d16-mg124_cityscapes-513x513.py
# and save its checkpoint as checkpoints/jfzhang95-deeplabv3plus_r101-d16-mg124_cityscapes-513x513.pth.
# The ResNet-18 student starts from torchvision's ImageNet weights, as in the papers' code.
_base_ = [
    '../../configs/_base_/models/jfzhang95-deeplabv3plus_r18-d16.py',  # the student's preprocessing (not its model)
    '../../configs/_base_/datasets/jfzhang95_cityscapes-513x513.py',
    './default_runtime.py',
    './schedules/aicsd_sgd_99k.py',
]
data_preprocessor = dict(size=_base_.crop_size)
model = dict(
    _delete_=True,
    type='SegDistiller',
    student=dict(
        cfg_path='{{fileDirname}}/../../configs/cityscapes/jfzhang95-deeplabv3plus_r18-d16_cityscapes-513x513.py'),
    teacher=dict(
        cfg_path='{{fileDirname}}/../../configs/cityscapes/'
                 'jfzhang95-deeplabv3plus_r101-d16-mg124_cityscapes-513x513.py',
        checkpoint='checkpoints/jfzhang95-deeplabv3plus_r101-d16-mg124_cityscapes-513x513.pth'),
    distill_losses=dict())
train_dataloader = dict(batch_size=6)  # one GPU
