# CIRKD's Pascal VOC protocol with CIRKD's own networks (winycg/CIRKD at 2d8ad0f; configs/voc12aug/cirkd-*): teacher
# its DeepLabV3-R101, student its DeepLabV3-R18, VOC 2012 + SBD, 512x512 crops, 8 GPUs x 2 images, CIRKD's 40k
# schedule. The leaves add the losses (a method base under methods/).
# Teacher: the Pascal VOC DeepLabV3-ResNet101 of CIRKD's README (77.67 mIoU; the code saves it as
# deeplabv3_resnet101_voc_best_model.pth), converted with
#   python tools/model_converters/cirkd2mmseg.py deeplabv3_resnet101_voc_best_model.pth \
#       checkpoints/cirkd-deeplabv3_r101-d8_voc12aug-512x512.pth
# Student initialisation: CIRKD's resnet18-imagenet.pth, converted to checkpoints/cirkd-resnet18_imagenet.pth.
_base_ = [
    '../../configs/_base_/models/cirkd-deeplabv3_r18-d8.py',  # the student's data preprocessing (not its model)
    'mmseg::_base_/datasets/pascal_voc12_aug.py',
    './default_runtime.py',
    './schedules/cirkd_sgd_40k.py',
]
data_preprocessor = dict(size=_base_.crop_size)
model = dict(
    _delete_=True,
    type='SegDistiller',
    student=dict(cfg_path='{{fileDirname}}/../../configs/voc12aug/cirkd-deeplabv3_r18-d8_voc12aug-512x512.py'),
    teacher=dict(cfg_path='{{fileDirname}}/../../configs/voc12aug/cirkd-deeplabv3_r101-d8_voc12aug-512x512.py',
                 checkpoint='checkpoints/cirkd-deeplabv3_r101-d8_voc12aug-512x512.pth'),
    distill_losses=dict())
train_dataloader = dict(batch_size=2)  # per GPU
