# The AICSD/AttnFD code base's Cityscapes protocol (AmirMansurian/AICSD; the AttnFD and Overhaul Cityscapes numbers of
# that code base): teacher DeepLabV3+-R101, student DeepLabV3+-R18, 6 images per step on one GPU, its 200-epoch schedule
# (99,200 iterations). The reference trains on square 513x513 crops; this protocol keeps mmseg's 512x1024 Cityscapes
# crops (the AttnFD paper's size). The leaves add a method base (methods/).
_base_ = [
    '../../configs/_base_/models/deeplabv3plus_r18-d8.py',  # the student's data preprocessing (not its model)
    'mmseg::_base_/datasets/cityscapes.py',
    './default_runtime.py',
    './schedules/aicsd_sgd_99k.py',
]
custom_imports = dict(imports=['mmseg_kd'], allow_failed_imports=False)  # SegDistiller, the losses
data_preprocessor = dict(size=_base_.crop_size)
model = dict(
    _delete_=True,
    type='SegDistiller',
    student=dict(cfg_path='{{fileDirname}}/../../configs/cityscapes/deeplabv3plus_r18-d8_cityscapes-512x1024.py'),
    teacher=dict(cfg_path='{{fileDirname}}/../../configs/cityscapes/deeplabv3plus_r101-d8_cityscapes-512x1024.py',
                 # mmseg model zoo: deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024, 80.97 mIoU (docs/teachers.md)
                 checkpoint='https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3plus/'
                            'deeplabv3plus_r101-d8_512x1024_80k_cityscapes/'
                            'deeplabv3plus_r101-d8_512x1024_80k_cityscapes_20200606_114143-068fcfe9.pth',
                 checkpoint_sha256='068fcfe9'),
    distill_losses=dict())
train_dataloader = dict(batch_size=6)  # one GPU
