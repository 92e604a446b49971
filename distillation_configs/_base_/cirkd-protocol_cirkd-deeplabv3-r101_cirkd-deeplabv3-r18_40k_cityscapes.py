# CIRKD's Cityscapes protocol with CIRKD's own networks (winycg/CIRKD at 2d8ad0f; configs/cityscapes/cirkd-*): teacher
# its DeepLabV3-R101, student its DeepLabV3-R18, 512x1024 crops, 8 GPUs x 2 images, CIRKD's 40k schedule. The leaves
# add the losses (a method base under methods/).
# Teacher: CIRKD's released deeplabv3_resnet101_citys_best_model.pth (78.07 mIoU in CIRKD's README), converted with
#   python tools/model_converters/cirkd2mmseg.py deeplabv3_resnet101_citys_best_model.pth \
#       checkpoints/cirkd-deeplabv3_r101-d8_cityscapes-512x1024.pth
# Student initialisation: CIRKD's resnet18-imagenet.pth, converted to checkpoints/cirkd-resnet18_imagenet.pth
# (docs/model_converters.md).
_base_ = [
    '../../configs/_base_/models/cirkd-deeplabv3_r18-d8.py',  # the student's data preprocessing (not its model)
    'mmseg::_base_/datasets/cityscapes.py',
    './default_runtime.py',
    './schedules/cirkd_sgd_40k.py',
]
data_preprocessor = dict(size=_base_.crop_size)
model = dict(
    _delete_=True,
    type='SegDistiller',
    student=dict(cfg_path='{{fileDirname}}/../../configs/cityscapes/cirkd-deeplabv3_r18-d8_cityscapes-512x1024.py'),
    teacher=dict(cfg_path='{{fileDirname}}/../../configs/cityscapes/cirkd-deeplabv3_r101-d8_cityscapes-512x1024.py',
                 checkpoint='checkpoints/cirkd-deeplabv3_r101-d8_cityscapes-512x1024.pth'),
    distill_losses=dict())
train_dataloader = dict(batch_size=2)  # per GPU
